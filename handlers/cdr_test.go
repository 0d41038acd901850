package handlers

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"pbxbill/rating"
)

// batch1000 is 1000 valid CDRs of acme with bad, if not "", as record 999.
func batch1000(bad string) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		if i == 999 && bad != "" {
			b.WriteString(bad)
			continue
		}
		fmt.Fprintf(&b, `{"id":"c%d","tenant":"acme","number":"4479111%05d","provider":"carrierA","start":"2026-03-10T09:%02d:00Z","duration":%d}`,
			i, i, i%60, i%200)
	}
	b.WriteString("]")
	return b.String()
}

// wantNothingStored checks that no CDR is stored and no balance moved
// from usageFixture's.
func (ts *testServer) wantNothingStored() {
	ts.tb.Helper()
	if items := ts.admin("GET", "/api/v1/cdrs", "").want(200).items(); len(items) != 0 {
		ts.tb.Errorf("%d CDRs stored, want none", len(items))
	}
	ts.wantBalance("tenant", "acme", "10")
	ts.wantBalance("provider", "carrierA", "100")
	ts.wantLedger("tenant", "acme", ledgerEntry{rating.Topup, "10", "", "10"})
}

// TestCDRBatchMalformed puts one malformed record last in a batch of 1000:
// the whole batch is refused, naming the record, and nothing is stored.
func TestCDRBatchMalformed(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	for _, c := range []struct {
		name, record string
		parts        []string
	}{
		{"bad start", `{"id":"c999","tenant":"acme","number":"447911","start":"2026-03-10 09:00","duration":5}`, []string{"cdrs[999]", "c999", "start"}},
		{"negative duration", `{"id":"c999","tenant":"acme","number":"447911","start":"2026-03-10T09:00:00Z","duration":-5}`, []string{"c999", "duration -5"}},
		{"missing id", `{"tenant":"acme","number":"447911","start":"2026-03-10T09:00:00Z","duration":5}`, []string{"cdrs[999]", "id"}},
		{"unknown provider", `{"id":"c999","tenant":"acme","number":"447911","provider":"nosuch","start":"2026-03-10T09:00:00Z","duration":5}`, []string{"nosuch"}},
		{"fractional duration", `{"id":"c999","tenant":"acme","number":"447911","start":"2026-03-10T09:00:00Z","duration":5.5}`, []string{"cdrs[999]", "c999", "duration 5.5"}},
		{"unknown field", `{"id":"c999","tenant":"acme","number":"447911","start":"2026-03-10T09:00:00Z","duration":5,"colour":"red"}`, []string{"cdrs[999]", `"colour"`}},
		{"not an object", `"c999"`, []string{"cdrs[999]", "object"}},
	} {
		t.Log(c.name)
		ts.post(testToken, "/api/v1/cdrs", batch1000(c.record), "application/json").wantError(400, rating.EInvalid, c.parts...)
		ts.wantNothingStored()
	}
	// The same batch without the bad record goes through whole.
	var p posted
	ts.post(testToken, "/api/v1/cdrs", batch1000(""), "application/json").want(200).decode(&p)
	if p.Rated != 1000 || len(p.Results) != 1000 || p.Results[999].ID != "c999" {
		t.Errorf("good batch: rated %d, %d results", p.Rated, len(p.Results))
	}
}

// TestCDRBodyRejected sends bodies that are not a CDR batch.
func TestCDRBodyRejected(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	good := `"id":"x1","tenant":"acme","number":"447911","start":"2026-03-10T09:00:00Z"`
	for _, c := range []struct {
		query, ctype, body string
		parts              []string
	}{
		{"", "", "", []string{"empty"}},
		{"", "", "42", []string{"object"}},
		{"", "", `{` + good + `}`, []string{"duration", "required"}},
		{"", "", `{` + good + `,"duration":"ten"}`, []string{"duration", "ten"}},
		{"", "", `{` + good + `,"duration":1e2}`, []string{"duration 1e2"}},
		{"", "", `{` + good + `,"duration":5,"kind":"sideways"}`, []string{"sideways"}},
		{"", "", `{` + good + `,"duration":5}{}`, []string{"more than one"}},
		{"", "", `[{` + good + `,"duration":5}`, []string{"malformed JSON"}},
		{"", "", `{"id":7,"tenant":"acme"}`, []string{`"id"`, "string"}},
		{"", "", `{` + good + `,"duration":5,"node":"pbx9"}`, []string{`unknown field "node"`}},
		{"", "text/csv", "a,b,c\n", []string{"format=asterisk"}},
		{"?format=xml", "", "<cdr/>", []string{"xml"}},
	} {
		ts.post(testToken, "/api/v1/cdrs"+c.query, c.body, c.ctype).wantError(400, rating.EInvalid, c.parts...)
	}
	ts.wantNothingStored()

	// One object, and a string duration, are accepted.
	p := ts.postCDRs(`{` + good + `,"duration":"60"}`)
	p.wantResult(t, 0, "x1", rating.Rated, "0.10", "")
	// An empty array is nothing to do.
	if p := ts.postCDRs(" [ ] "); len(p.Results) != 0 || p.Results == nil {
		t.Errorf("empty batch: %+v", p)
	}
}

// TestCDRTooLarge posts a million CDRs in one request: refused as too
// large before anything is read or stored. A body without a length is cut
// off at the limit while it is decoded.
func TestCDRTooLarge(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	// Fixed-width records, so that the length is known without making them.
	rec := func(b []byte, i int) []byte {
		return fmt.Appendf(b, `{"id":"c%07d","tenant":"acme","number":"447911%06d","start":"2026-03-10T09:00:00Z","duration":60}`, i, i%1_000_000)
	}
	const n = 1_000_000
	hr, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/cdrs", newCDRStream(n, rec))
	if err != nil {
		t.Fatal(err)
	}
	length := func(n int) int64 { return int64(n*(len(rec(nil, 0))+1) + 1) } // a separator before each, and ]
	if got := newCDRStream(10, rec).size(); got != length(10) {
		t.Fatalf("stream of 10: %d bytes, want %d", got, length(10))
	}
	hr.ContentLength = length(n)
	hr.Header.Set("Authorization", "Bearer "+testToken)
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	response{tb: t, status: res.StatusCode, body: b}.wantError(413, rating.ETooLarge, "64 MiB")
	ts.wantNothingStored()

	// Chunked: decodeCDRs meets the limit in the middle of the array.
	body := http.MaxBytesReader(nil, io.NopCloser(newCDRStream(1000, rec)), 4096)
	_, err = decodeCDRs(body, -1, 4096)
	if rating.ErrorCode(err) != rating.ETooLarge || !strings.Contains(err.Error(), "4096 bytes") {
		t.Errorf("chunked oversized batch: %v", err)
	}
}

// TestCDRList lists, pages, filters and exports the stored CDRs.
func TestCDRList(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	ts.postCDRs(`[
		{"id":"l1","tenant":"acme","number":"447911123456","provider":"carrierA","start":"2026-03-08T09:00:00Z","duration":95},
		{"id":"l2","tenant":"acme","number":"447911123456","start":"2026-03-09T09:00:00Z","duration":60},
		{"id":"l3","tenant":"acme","number":"390612345678","start":"2026-03-10T09:00:00Z","duration":60},
		{"id":"l4","tenant":"beta","kind":"conference","number":"8100","start":"2026-03-10T10:00:00Z","duration":60}]`)

	ids := func(items []map[string]any) string {
		var s []string
		for _, it := range items {
			s = append(s, it["id"].(string))
		}
		return strings.Join(s, " ")
	}
	for query, want := range map[string]string{
		"":                                 "l4 l3 l2 l1",
		"tenant=acme":                      "l3 l2 l1",
		"provider=carrierA":                "l1",
		"status=unrated":                   "l3",
		"status=rated&tenant=acme":         "l2 l1",
		"from=2026-03-09&to=2026-03-09":    "l2",
		"from=2026-03-09":                  "l4 l3 l2",
		"to=2026-03-09T09:00:00Z":          "l2 l1",
		"from=2026-03-10T09:30:00%2B00:00": "l4",
		"tenant=acme&from=2026-03-10&to=2026-03-10": "l3",
	} {
		if got := ids(ts.admin("GET", "/api/v1/cdrs?"+query, "").want(200).items()); got != want {
			t.Errorf("?%s: %q, want %q", query, got, want)
		}
	}
	// Paging: two by two, following next.
	var seen []string
	next := ""
	for range 3 {
		var page struct {
			Items []rating.CDR `json:"items"`
			Next  string       `json:"next"`
		}
		ts.admin("GET", "/api/v1/cdrs?limit=2&after="+next, "").want(200).decode(&page)
		for _, c := range page.Items {
			seen = append(seen, c.ID)
		}
		if next = page.Next; next == "" {
			break
		}
	}
	if got := strings.Join(seen, " "); got != "l4 l3 l2 l1" {
		t.Errorf("pages: %q", got)
	}
	for _, q := range []string{"status=duplicate", "from=yesterday", "from=2026-03-10&to=2026-03-09", "limit=0", "format=xml"} {
		ts.admin("GET", "/api/v1/cdrs?"+q, "").wantError(400, rating.EInvalid)
	}

	// CSV: a header and one row per CDR, read back by a CSV reader.
	res := ts.do(req{method: "GET", path: "/api/v1/cdrs?format=csv&tenant=acme", token: testToken}).want(200)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(cdrColumns, ",") {
		t.Fatalf("CSV export: %q", rows)
	}
	// l1, oldest: id … start, duration, billed, status, reason, cost, provider_cost.
	if l1 := rows[3]; l1[0] != "l1" || l1[2] != "acme" || l1[3] != "outbound" || l1[5] != "carrierA" ||
		l1[6] != "2026-03-08T09:00:00Z" || l1[7] != "95" || l1[8] != "120" || l1[9] != "rated" ||
		amt(t, l1[11]) != amt(t, "0.20") || amt(t, l1[12]) != amt(t, "0.12") || l1[13] != "44" || l1[14] != "retail" {
		t.Errorf("l1 row: %q", l1)
	}
	if l3 := rows[1]; l3[0] != "l3" || l3[9] != "unrated" || l3[10] != rating.UnratedNoRate || l3[11] != "" {
		t.Errorf("l3 row: %q", l3)
	}
	csvAccept := ts.do(req{method: "GET", path: "/api/v1/cdrs?tenant=acme", token: testToken,
		header: map[string]string{"Accept": "text/csv"}}).want(200)
	if string(csvAccept.body) != string(res.body) {
		t.Errorf("Accept: text/csv gave %q", csvAccept.body)
	}
}

// TestRerate prices an unrated CDR once its rate exists, then corrects a
// rated one whose rate changed, and shows that running again does nothing.
func TestRerate(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	p := ts.postCDRs(`[
		{"id":"r1","tenant":"acme","number":"390612345678","start":"2026-03-10T09:00:00Z","duration":60},
		{"id":"r2","tenant":"acme","number":"447911123456","start":"2026-03-10T09:05:00Z","duration":60}]`)
	p.wantResult(t, 0, "r1", rating.Unrated, "", "*")
	p.wantResult(t, 1, "r2", rating.Rated, "0.10", "")
	rerate := func(query string, rated, corrected, unchanged int) {
		t.Helper()
		var got struct{ Rated, Corrected, Unchanged int }
		ts.admin("POST", "/api/v1/cdrs/rerate?"+query, "").want(200).decode(&got)
		if got.Rated != rated || got.Corrected != corrected || (unchanged >= 0 && got.Unchanged != unchanged) {
			t.Errorf("rerate?%s = %+v, want rated %d corrected %d unchanged %d", query, got, rated, corrected, unchanged)
		}
	}
	ts.admin("POST", "/api/v1/cdrs/rerate", "").wantError(400, rating.EInvalid, "status=unrated")
	ts.admin("POST", "/api/v1/cdrs/rerate?tenant=acme", "").wantError(400, rating.EInvalid, "from/to")
	ts.admin("POST", "/api/v1/cdrs/rerate?status=bogus", "").wantError(400, rating.EInvalid, "bogus")
	rerate("status=unrated", 0, 0, -1) // no rate for 39 yet
	ts.wantBalance("tenant", "acme", "9.90")

	rates := func(csv string) {
		t.Helper()
		ts.do(req{method: "PUT", path: "/api/v1/rate-tables/retail/rates?mode=merge", token: testToken,
			body: csv, ctype: "text/csv"}).want(200)
	}
	rates("prefix,rate\n39,0.30\n")
	rerate("status=unrated", 1, 0, 0)
	rerate("status=unrated", 0, 0, 0)
	rerate("from=2026-03-10&to=2026-03-10", 0, 0, 2)
	ts.wantBalance("tenant", "acme", "9.60")

	// A changed price is corrected by the difference, never rewritten.
	rates("prefix,rate\n44,0.15\n")
	rerate("from=2026-03-10&to=2026-03-10&tenant=acme", 0, 1, 1)
	rerate("from=2026-03-10&to=2026-03-10", 0, 0, 2)
	ts.wantLedger("tenant", "acme",
		ledgerEntry{rating.Correction, "-0.05", "r2", "9.55"},
		ledgerEntry{rating.Charge, "-0.30", "r1", "9.60"},
		ledgerEntry{rating.Charge, "-0.10", "r2", "9.90"},
		ledgerEntry{rating.Topup, "10", "", "10"})
	items := ts.admin("GET", "/api/v1/cdrs", "").want(200).items()
	if len(items) != 2 || items[0]["id"] != "r2" || amt(t, items[0]["cost"].(string)) != amt(t, "0.15") ||
		items[1]["status"] != rating.Rated || amt(t, items[1]["cost"].(string)) != amt(t, "0.30") {
		t.Errorf("CDRs after re-rating: %v", items)
	}
	// Spend counts corrections, on the CDR's day.
	wantFields(t, "acme", ts.tenantFigures("acme"), map[string]any{"spend_today": "0.45", "calls_today": "2"})

	var node createdNode
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).want(201).decode(&node)
	ts.do(req{method: "POST", path: "/api/v1/cdrs/rerate?status=unrated", token: node.Token}).wantError(403, rating.EForbidden)
	ts.do(req{method: "GET", path: "/api/v1/cdrs", token: node.Token}).wantError(403, rating.EForbidden)
}

// TestPostedOutEncoding checks the hand-written answer of POST /cdrs
// against encoding/json's encoding of the same value.
func TestPostedOutEncoding(t *testing.T) {
	skipped := 3
	out := postedOut{Rated: 2, Duplicate: 1, Unrated: 1, Skipped: &skipped, Results: []cdrResult{
		{ID: `q"uote\back`, Status: rating.Rated, Cost: mustMoney(t, "0.0125"), ProviderCost: rating.NoMoney},
		{ID: "é<tag>&\x01\t", Status: rating.Unrated, Cost: rating.NoMoney, ProviderCost: rating.NoMoney, Reason: rating.UnratedNoRate},
		{ID: "1773134102.1", Status: rating.Duplicate, Cost: mustMoney(t, "-3"), ProviderCost: rating.Money{}},
	}}
	for _, o := range []postedOut{out, {Results: []cdrResult{}}} {
		rec := httptest.NewRecorder()
		if err := o.write(rec); err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v", rec.Body, err)
		}
		_ = json.Unmarshal(want, &exp)
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("hand-written %s\nencoding/json %s", rec.Body, want)
		}
	}
}
