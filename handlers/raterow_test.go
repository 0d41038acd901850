package handlers

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// deck is a valid five-line rate deck: a header and four rows.
const deck = `prefix,destination,rate,connect_fee,initial_increment,increment,effective_from
44,United Kingdom,0.02,,,,
447,United Kingdom Mobile,0.08,0.01,30,6,
447,United Kingdom Mobile,0.07,0.01,30,6,2030-01-01
*,Anywhere,0.5,,,,
`

func (ts *testServer) putRates(table, query, body string) response {
	ts.tb.Helper()
	return ts.do(req{method: "PUT", path: "/api/v1/rate-tables/" + table + "/rates" + query,
		token: testToken, body: body, ctype: "text/csv"})
}

// allRates reads every row of a table as JSON.
func (ts *testServer) allRates(table string) string {
	ts.tb.Helper()
	return string(ts.admin("GET", "/api/v1/rate-tables/"+table+"/rates?limit=1000", "").want(200).body)
}

func TestRatesImportAndList(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail"}`).want(201)

	var got importOut
	ts.putRates("retail", "", deck).want(200).decode(&got)
	if got != (importOut{Mode: "replace", Rows: 4, Added: 4}) {
		t.Errorf("import answered %+v", got)
	}
	items := ts.admin("GET", "/api/v1/rate-tables/retail/rates", "").want(200).items()
	if len(items) != 4 {
		t.Fatalf("rows %v", items)
	}
	// Rows sort by prefix; the wildcard first.
	first := items[0]
	if first["prefix"] != "*" || first["rate"] != "0.5" || first["connect_fee"] != nil ||
		first["initial_increment"] != nil || first["effective_from"] != nil {
		t.Errorf("wildcard row %v: unset fields should be null", first)
	}
	var mobile map[string]any
	for _, it := range items {
		if it["prefix"] == "447" && it["effective_from"] != nil {
			mobile = it
		}
	}
	if mobile == nil || mobile["effective_from"] != "2030-01-01T00:00:00Z" || mobile["rate"] != "0.07" ||
		mobile["connect_fee"] != "0.01" || mobile["initial_increment"] != 30.0 || mobile["increment"] != 6.0 {
		t.Errorf("dated 447 row %v", mobile)
	}
	if m := ts.admin("GET", "/api/v1/rate-tables/retail", "").want(200).obj(); m["rows"] != 4.0 {
		t.Errorf("table rows %v, want 4", m["rows"])
	}

	// ?prefix= narrows, ?limit= pages and next continues.
	if items := ts.admin("GET", "/api/v1/rate-tables/retail/rates?prefix=447", "").want(200).items(); len(items) != 2 {
		t.Errorf("prefix=447: %v", items)
	}
	var prefixes []string
	after := ""
	for page := 0; page < 10; page++ {
		var l struct {
			Items []rowOut `json:"items"`
			Next  string   `json:"next"`
		}
		ts.admin("GET", "/api/v1/rate-tables/retail/rates?limit=3&after="+after, "").want(200).decode(&l)
		if len(l.Items) > 3 {
			t.Fatalf("limit=3 gave %d rows", len(l.Items))
		}
		for _, r := range l.Items {
			prefixes = append(prefixes, r.Prefix)
		}
		if after = l.Next; after == "" {
			break
		}
	}
	if strings.Join(prefixes, " ") != "* 44 447 447" {
		t.Errorf("paged prefixes %v", prefixes)
	}

	// Merge upserts by (prefix, effective_from).
	ts.putRates("retail", "?mode=merge", "prefix,rate\n44,0.025\n33,0.03\n").want(200).decode(&got)
	if got != (importOut{Mode: "merge", Rows: 2, Added: 1, Replaced: 1}) {
		t.Errorf("merge answered %+v", got)
	}
	items = ts.admin("GET", "/api/v1/rate-tables/retail/rates?prefix=44", "").want(200).items()
	if len(items) != 3 || items[0]["rate"] != "0.025" {
		t.Errorf("after merge, prefix 44: %v", items)
	}
	if items := ts.admin("GET", "/api/v1/rate-tables/retail/rates", "").want(200).items(); len(items) != 5 {
		t.Errorf("after merge: %d rows, want 5", len(items))
	}

	// Replace drops what the file leaves out.
	ts.putRates("retail", "?mode=replace", "prefix,rate\n1,0.01\n").want(200).decode(&got)
	if items := ts.admin("GET", "/api/v1/rate-tables/retail/rates", "").want(200).items(); len(items) != 1 || items[0]["prefix"] != "1" {
		t.Errorf("after replace: %v", items)
	}
}

// TestRatesRejected: a bad deck is refused with its lines, and the table
// keeps its old rows.
func TestRatesRejected(t *testing.T) {
	ts := mustServe(t, func(s *server) { s.csvLimit = 4 << 10 })
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail","decimals":2}`).want(201)
	ts.putRates("retail", "", deck).want(200)
	before := ts.allRates("retail")

	badLine3 := strings.Replace(deck, "447,United Kingdom Mobile,0.08", "447,United Kingdom Mobile,0.0x8", 1)
	for _, tc := range []struct {
		name, query, body string
		status            int
		code              string
		line              int
		parts             []string
	}{
		{"bad cell on line 3 of 5", "", badLine3, 400, rating.EInvalid, 3, []string{"0.0x8"}},
		{"negative rate", "", "prefix,rate\n44,0.02\n33,-0.01\n", 400, rating.EInvalid, 3, []string{"negative"}},
		{"min_cost beyond the table's decimals", "", "prefix,rate,min_cost\n44,0.02,0.001\n", 400, rating.EInvalid, 2, []string{"min_cost"}},
		{"increment out of range", "", "prefix,rate,increment\n44,0.02,0\n", 400, rating.EInvalid, 2, []string{"increment"}},
		{"more than 8 decimals", "", "prefix,rate\n44,0.123456789\n", 400, rating.EInvalid, 2, []string{"8 decimal"}},
		{"duplicate prefix", "", "prefix,rate\n44,0.02\n44,0.03\n", 400, rating.EInvalid, 0, nil},
		{"no rate column", "", "prefix,destination\n44,UK\n", 400, rating.EInvalid, 1, []string{"rate"}},
		{"empty body", "", "", 400, rating.EInvalid, 0, []string{"header"}},
		{"bad mode", "?mode=append", deck, 400, rating.EInvalid, 0, []string{"append"}},
		{"over the limit", "", "prefix,rate\n" + strings.Repeat("44,0.02\n", 1000), 413, rating.ETooLarge, 0, []string{"limit"}},
	} {
		e := ts.putRates("retail", tc.query, tc.body).wantError(tc.status, tc.code, tc.parts...)
		if tc.line > 0 {
			found := false
			for _, l := range e.Lines {
				found = found || l.Line == tc.line
			}
			if !found && !strings.Contains(e.Message, fmt.Sprint(tc.line)) {
				t.Errorf("%s: the error names no line %d: %+v", tc.name, tc.line, e)
			}
		}
		if after := ts.allRates("retail"); after != before {
			t.Fatalf("%s changed the rows:\n%s\nto\n%s", tc.name, before, after)
		}
	}
	ts.putRates("ghost", "", deck).wantError(404, rating.ENotFound, "ghost")
	ts.admin("GET", "/api/v1/rate-tables/ghost/rates", "").wantError(404, rating.ENotFound, "ghost")
	ts.admin("GET", "/api/v1/rate-tables/ghost/rates?format=csv", "").wantError(404, rating.ENotFound, "ghost")
	ts.admin("GET", "/api/v1/rate-tables/retail/rates?format=xml", "").wantError(400, rating.EInvalid, "xml")
	ts.admin("GET", "/api/v1/rate-tables/retail/rates?prefix=44a", "").wantError(400, rating.EInvalid, "44a")
	ts.admin("GET", "/api/v1/rate-tables/retail/rates?after=bogus", "").wantError(400, rating.EInvalid, "bogus")
	ts.admin("GET", "/api/v1/rate-tables/retail/rates?limit=1001", "").wantError(400, rating.EInvalid, "limit")
}

// TestRatesDeleteRow: DELETE .../rates/{prefix}?effective_from= deletes
// one row, and rating sees it at once.
func TestRatesDeleteRow(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail"}`).want(201)
	ts.putRates("retail", "", deck).want(200)
	del := func(path string) response {
		t.Helper()
		return ts.admin("DELETE", "/api/v1/rate-tables/retail/rates/"+path, "")
	}
	in2031 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	if r, _ := ts.Store.Book().Get("retail").Lookup("4471", in2031); r.Rate != amt(t, "0.07") {
		t.Fatalf("before the delete 4471 costs %s in 2031", r.Rate)
	}

	// The dated 447 row, by its date as a deck writes it; then by an
	// RFC 3339 instant with an offset whose "+" was not escaped.
	if res := del("447?effective_from=2030-01-01").want(204); len(res.body) != 0 {
		t.Errorf("204 with a body: %s", res.body)
	}
	if r, _ := ts.Store.Book().Get("retail").Lookup("4471", in2031); r.Rate != amt(t, "0.08") {
		t.Errorf("after the delete 4471 costs %s in 2031, want the undated row's 0.08", r.Rate)
	}
	del("447?effective_from=2030-01-01").wantError(404, rating.ENotFound, "447", "2030-01-01T00:00:00Z")
	ts.putRates("retail", "?mode=merge", "prefix,rate,effective_from\n447,0.06,2030-01-01T02:00:00+02:00\n").want(200)
	del("447?effective_from=2030-01-01T02:00:00+02:00").want(204)

	// The undated row, and the wildcard, escaped or not.
	del("447?effective_from=").want(204)
	del("%2A").want(204)
	items := ts.admin("GET", "/api/v1/rate-tables/retail/rates", "").want(200).items()
	if len(items) != 1 || items[0]["prefix"] != "44" {
		t.Errorf("rows left: %v", items)
	}
	if m := ts.admin("GET", "/api/v1/rate-tables/retail", "").want(200).obj(); m["rows"] != 1.0 {
		t.Errorf("table rows %v, want 1", m["rows"])
	}
	if r, ok := ts.Store.Book().Get("retail").Lookup("99", in2031); ok {
		t.Errorf("the deleted wildcard still prices 99: %+v", r)
	}

	// No row of 44 has these times of the week.
	del("44?days=mon-fri").wantError(404, rating.ENotFound, "mon-fri")
	del("44?hours=08:00-18:00").wantError(404, rating.ENotFound, "08:00-18:00")
	del("*").wantError(404, rating.ENotFound, "no row *")
	del("44?effective_from=July").wantError(400, rating.EInvalid, "effective_from", "July")
	del("4a").wantError(400, rating.EInvalid, "4a")
	ts.admin("DELETE", "/api/v1/rate-tables/ghost/rates/44", "").wantError(404, rating.ENotFound, "ghost")
	ts.do(req{method: "DELETE", path: "/api/v1/rate-tables/retail/rates/44"}).want(401)
	del("44").want(204)
}

// TestRatesExportCSV: the CSV export reads back to the same rows.
func TestRatesExportCSV(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"Retail 2024"}`).want(201)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"copy"}`).want(201)
	ts.putRates("Retail%202024", "", deck).want(200)

	byAccept := ts.do(req{method: "GET", path: "/api/v1/rate-tables/Retail%202024/rates", token: testToken,
		header: map[string]string{"Accept": "text/csv"}}).want(200)
	byFormat := ts.admin("GET", "/api/v1/rate-tables/Retail%202024/rates?format=csv", "").want(200)
	if string(byAccept.body) != string(byFormat.body) {
		t.Errorf("Accept: text/csv and ?format=csv differ:\n%s\n%s", byAccept.body, byFormat.body)
	}
	if ct := byFormat.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	_, params, err := mime.ParseMediaType(byFormat.header.Get("Content-Disposition"))
	if err != nil || params["filename"] != "Retail 2024.csv" {
		t.Errorf("Content-Disposition %q: %v %v", byFormat.header.Get("Content-Disposition"), params, err)
	}
	if n := strings.Count(string(byFormat.body), "\n"); n != 5 {
		t.Errorf("export has %d lines, want a header and 4 rows:\n%s", n, byFormat.body)
	}

	ts.putRates("copy", "", string(byFormat.body)).want(200)
	var a, b struct{ Items []rowOut }
	if err := json.Unmarshal([]byte(ts.allRates("Retail%202024")), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(ts.allRates("copy")), &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a.Items)
	jb, _ := json.Marshal(b.Items)
	if string(ja) != string(jb) {
		t.Errorf("re-imported export differs:\n%s\n%s", ja, jb)
	}

	// An empty table exports its header alone.
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"empty"}`).want(201)
	e := ts.admin("GET", "/api/v1/rate-tables/empty/rates?format=csv", "").want(http.StatusOK)
	if n := strings.Count(string(e.body), "\n"); n != 1 {
		t.Errorf("empty table export %q", e.body)
	}
}
