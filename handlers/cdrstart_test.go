package handlers

import (
	"fmt"
	"strings"
	"testing"

	"pbxbill/rating"
)

// startEdges are CDR starts at the edges of the accepted range,
// 2000-01-01 ≤ start < 2200-01-01 UTC, with whether each is accepted.
var startEdges = []struct {
	rfc3339, local string // the same instant, RFC 3339 and as a PBX writes it in UTC
	ok             bool
}{
	{"1000-01-01T00:00:00Z", "1000-01-01 00:00:00", false},
	{"1677-09-21T00:12:43Z", "1677-09-21 00:12:43", false},
	{"1999-12-31T23:59:59Z", "1999-12-31 23:59:59", false},
	{"2000-01-01T00:00:00Z", "2000-01-01 00:00:00", true},
	{"2199-12-31T23:59:59Z", "2199-12-31 23:59:59", true},
	{"2200-01-01T00:00:00Z", "2200-01-01 00:00:00", false},
	{"2262-04-12T00:00:00Z", "2262-04-12 00:00:00", false},
	{"2300-01-01T00:00:00Z", "2300-01-01 00:00:00", false},
}

// TestCDRStartRange posts each edge through every intake path: a start
// outside the range is malformed, and nothing is stored; one inside is
// stored as it was posted. The store's check runs at the end.
func TestCDRStartRange(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	asterisk := `"acme-pbx","1001","447911123456","from-internal","","PJSIP/1001-00000001","PJSIP/carrier-a-00000002",` +
		`"Dial","","%[1]s","%[1]s","%[1]s",102,95,"ANSWERED","DOCUMENTATION","%[2]s",""`
	freeswitch := `"Alice","1001","447911123456","default","%[1]s","%[1]s","%[1]s","65","60","NORMAL_CLEARING","%[2]s","","acme-pbx","PCMA","PCMA"`
	stored := func() int {
		t.Helper()
		return len(ts.admin("GET", "/api/v1/cdrs", "").want(200).items())
	}
	for i, e := range startEdges {
		json := fmt.Sprintf(`{"id":"j%d","tenant":"acme","number":"447911123456","start":%q,"duration":60}`, i, e.rfc3339)
		ast := fmt.Sprintf(asterisk, e.local, fmt.Sprint("a", i))
		fs := fmt.Sprintf(freeswitch, e.local, fmt.Sprint("f", i))
		if !e.ok {
			before := stored()
			ts.post(testToken, "/api/v1/cdrs", json, "application/json").wantError(400, rating.EInvalid, "start", e.rfc3339)
			ts.post(testToken, "/api/v1/cdrs", "["+json+"]", "application/json").wantError(400, rating.EInvalid, "cdrs[0]", "start")
			ts.post(testToken, "/api/v1/cdrs?format=asterisk", ast, "text/csv").wantError(400, rating.EInvalid, "line 1", "start", e.local)
			ts.post(testToken, "/api/v1/cdrs?format=freeswitch", fs, "text/csv").wantError(400, rating.EInvalid, "line 1", "start_stamp", e.local)
			if n := stored(); n != before {
				t.Errorf("%s: %d CDRs stored, want %d", e.rfc3339, n, before)
			}
			continue
		}
		for _, p := range []posted{ts.postCDRs(json), ts.postFile("format=asterisk", ast), ts.postFile("format=freeswitch", fs)} {
			if p.Rated != 1 {
				t.Errorf("%s: %+v", e.rfc3339, p)
			}
		}
	}
	var list struct {
		Items []rating.CDR `json:"items"`
	}
	ts.admin("GET", "/api/v1/cdrs", "").want(200).decode(&list)
	if len(list.Items) != 6 {
		t.Fatalf("stored %d CDRs, want 6", len(list.Items))
	}
	for _, c := range list.Items {
		if got := c.Start.UTC().Format("2006-01-02T15:04:05Z"); got != "2000-01-01T00:00:00Z" && got != "2199-12-31T23:59:59Z" {
			t.Errorf("cdr %s: stored start %s", c.ID, got)
		}
	}
}

// TestCDRFilterBounds lists and re-rates with bounds of any year: a from
// before the range means from the first CDR, a to after it up to the last,
// and a bound beyond the other end selects nothing.
func TestCDRFilterBounds(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	ts.postCDRs(`[
		{"id":"early","tenant":"acme","number":"447911123456","start":"2000-01-01T00:00:00Z","duration":60},
		{"id":"now","tenant":"acme","number":"447911123456","start":"2026-03-10T09:00:00Z","duration":60},
		{"id":"late","tenant":"acme","number":"447911123456","start":"2199-12-31T23:59:59Z","duration":60}]`)
	for query, want := range map[string]int{
		"from=1000-01-01":                         3,
		"from=0001-01-01":                         3,
		"to=9999-12-31":                           3,
		"from=1000-01-01&to=9999-12-31":           3,
		"from=1677-01-01T00:00:00Z&to=2263-01-01": 3,
		"from=1000-01-01&to=2026-03-10":           2,
		"from=2026-03-11&to=9999-12-31":           1,
		"from=2300-01-01":                         0,
		"to=1999-12-31":                           0,
		"to=1000-01-01":                           0,
		"from=1000-01-01&to=1000-01-02":           0,
		"from=2300-01-01&to=2300-01-02":           0,
	} {
		if got := len(ts.admin("GET", "/api/v1/cdrs?"+query, "").want(200).items()); got != want {
			t.Errorf("?%s: %d CDRs, want %d", query, got, want)
		}
		var done rating.Rerated
		ts.admin("POST", "/api/v1/cdrs/rerate?"+query, "").want(200).decode(&done)
		if done.Unchanged != want || done.Rated+done.Corrected != 0 {
			t.Errorf("re-rate ?%s: %+v, want %d unchanged", query, done, want)
		}
	}
	if n := strings.Count(string(ts.admin("GET", "/api/v1/cdrs?format=csv&from=1000-01-01", "").want(200).body), "\n"); n != 4 {
		t.Errorf("export from=1000-01-01: %d lines, want a header and 3", n)
	}
}
