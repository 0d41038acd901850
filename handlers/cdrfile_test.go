package handlers

import (
	"os"
	"strings"
	"testing"

	"pbxbill/rating"
)

func readTestdata(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func (ts *testServer) postFile(query, body string) posted {
	ts.tb.Helper()
	var p posted
	ts.post(testToken, "/api/v1/cdrs?"+query, body, "text/csv").want(200).decode(&p)
	return p
}

// TestAsteriskFile imports testdata/Master.csv: quoted fields with ""
// and commas, an unanswered call, an inbound call from a carrier trunk, a
// conference, a line without uniqueid, and an internal call.
func TestAsteriskFile(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	file := readTestdata(t, "Master.csv")
	p := ts.postFile("format=asterisk", file)
	if p.Skipped == nil || *p.Skipped != 1 || p.Rated != 6 || p.Unrated != 0 || p.Duplicate != 0 || len(p.Results) != 6 {
		t.Fatalf("first upload: %+v", p)
	}
	// Line by line, the internal call on line 4 left out: the outbound
	// trunk carrier-a in dstchannel; unanswered; the inbound trunk in
	// channel, billed from the DID tables; two conference legs by room;
	// a 121 s call to 33, billed 180 s with the connect fee, which the
	// carrier has no buy rate for.
	p.wantResult(t, 0, "1773134102.1", rating.Rated, "0.20", "0.12")
	p.wantResult(t, 1, "1773134400.3", rating.Rated, "0", "0")
	p.wantResult(t, 2, "1773136800.5", rating.Rated, "0.05", "0.025")
	p.wantResult(t, 3, "1773140400.9", rating.Rated, "0.60", "")
	p.wantResult(t, 5, "1773144004.11", rating.Rated, "0.65", "")
	hashID := p.Results[4].ID
	if !strings.HasPrefix(hashID, "ast-") {
		t.Errorf("line 6 without uniqueid has id %q", hashID)
	}
	p.wantResult(t, 4, hashID, rating.Rated, "0.36", "")

	balances := func() {
		t.Helper()
		ts.wantBalance("tenant", "acme", "9.10")
		ts.wantBalance("tenant", "beta", "-0.96")
		ts.wantBalance("provider", "carrierA", "99.855")
	}
	balances()
	kinds := map[string]string{}
	for _, c := range ts.admin("GET", "/api/v1/cdrs", "").want(200).items() {
		kinds[c["id"].(string)] = c["kind"].(string) + " " + c["provider"].(string) + " " + c["start"].(string)
	}
	for id, want := range map[string]string{
		"1773134102.1": "outbound carrierA 2026-03-10T09:15:09Z", // the answer time
		"1773134400.3": "outbound carrierA 2026-03-10T09:20:00Z", // no answer: the start
		"1773136800.5": "inbound carrierA 2026-03-10T10:00:03Z",
		"1773140400.9": "conference  2026-03-10T11:00:00Z",
		hashID:         "conference  2026-03-10T11:02:00Z",
	} {
		if kinds[id] != want {
			t.Errorf("CDR %s: %q, want %q", id, kinds[id], want)
		}
	}

	// The same file again changes nothing, the hashed id included.
	p = ts.postFile("format=asterisk", file)
	if p.Skipped == nil || *p.Skipped != 1 || p.Rated != 0 || p.Duplicate != 6 {
		t.Errorf("second upload: %+v", p)
	}
	balances()
	if items := ts.admin("GET", "/api/v1/cdrs", "").want(200).items(); len(items) != 6 {
		t.Errorf("%d CDRs after two uploads, want 6", len(items))
	}
}

// TestFreeSWITCHFile imports testdata/freeswitch.csv with its stamps in
// Berlin time: a rated call, an unanswered one, an internal one, and one
// for a tenant without an outbound table (no trunk says otherwise).
func TestFreeSWITCHFile(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	file := readTestdata(t, "freeswitch.csv")
	p := ts.postFile("format=freeswitch&tz=Europe/Berlin", file)
	if p.Skipped == nil || *p.Skipped != 1 || p.Rated != 2 || p.Unrated != 1 || len(p.Results) != 3 {
		t.Fatalf("upload: %+v", p)
	}
	p.wantResult(t, 0, "a1b2c3d4-0000-4000-8000-000000000001", rating.Rated, "0.10", "")
	p.wantResult(t, 1, "a1b2c3d4-0000-4000-8000-000000000002", rating.Rated, "0", "")
	p.wantResult(t, 2, "a1b2c3d4-0000-4000-8000-000000000004", rating.Unrated, "", "*")
	if r := p.Results[2].Reason; r == nil || *r != rating.UnratedNoTable {
		t.Errorf("beta's call: reason %v, want %s", r, rating.UnratedNoTable)
	}
	ts.wantBalance("tenant", "acme", "9.90")
	items := ts.admin("GET", "/api/v1/cdrs?tenant=acme", "").want(200).items()
	// 12:00:05 in Berlin, an hour ahead of UTC in March before summer time.
	if len(items) != 2 || items[1]["start"] != "2026-03-10T11:00:05Z" {
		t.Errorf("acme's CDRs: %v", items)
	}
	// Posted again with another kind, every line is still a duplicate:
	// the id is the key.
	p = ts.postFile("format=freeswitch&tz=Europe/Berlin&kind=conference", file)
	if p.Duplicate != 3 {
		t.Errorf("second upload: %+v", p)
	}
	ts.wantBalance("tenant", "beta", "0")
}

// TestPBXFileRejected checks that a bad file, a bad zone or a bad kind
// changes nothing, and that each bad line is reported by its number.
func TestPBXFileRejected(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	lines := strings.Split(strings.TrimSpace(readTestdata(t, "Master.csv")), "\n")
	bad := append([]string{}, lines...)
	bad[1] = strings.Replace(bad[1], `,21,0,`, `,21,zero,`, 1)
	bad[4] = strings.Replace(bad[4], `"2026-03-10 11:00:00","2026-03-10 11:00:00"`, `"2026-03-10 11:00:00","10/03/2026 11:00"`, 1)
	e := ts.post(testToken, "/api/v1/cdrs?format=asterisk", strings.Join(bad, "\n"), "text/csv").wantError(400, rating.EInvalid, "line 2")
	if len(e.Lines) != 2 || e.Lines[0].Line != 2 || !strings.Contains(e.Lines[0].Message, "billsec") ||
		e.Lines[1].Line != 5 || !strings.Contains(e.Lines[1].Message, "answer") {
		t.Errorf("lines: %+v", e.Lines)
	}
	file := strings.Join(lines, "\n")
	ts.post(testToken, "/api/v1/cdrs?format=asterisk&tz=Mars/Olympus", file, "text/csv").wantError(400, rating.EInvalid, "Mars/Olympus")
	ts.post(testToken, "/api/v1/cdrs?format=asterisk&kind=sideways", file, "text/csv").wantError(400, rating.EInvalid, "sideways")
	long := strings.Replace(lines[0], "1773134102.1", strings.Repeat("9", 201), 1)
	e = ts.post(testToken, "/api/v1/cdrs?format=asterisk", lines[2]+"\n"+long, "text/csv").wantError(400, rating.EInvalid, "line 2")
	if len(e.Lines) != 1 || e.Lines[0].Line != 2 {
		t.Errorf("over-long id: %+v", e.Lines)
	}
	ts.wantNothingStored()

	// Only internal calls: nothing to store, one skipped.
	p := ts.postFile("format=asterisk", lines[3])
	if p.Skipped == nil || *p.Skipped != 1 || len(p.Results) != 0 {
		t.Errorf("internal calls only: %+v", p)
	}
}
