package handlers

import (
	"encoding/csv"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// dangerous are the first characters that make a spreadsheet read a cell
// as a formula (OWASP, CSV injection).
var dangerous = []string{"=", "+", "-", "@", "\t", "\r"}

// readCSV parses an export, failing the test on a malformed one.
func readCSV(tb testing.TB, body []byte) [][]string {
	tb.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		tb.Fatalf("export does not parse: %v\n%s", err, body)
	}
	return recs
}

// column returns the cells of the named column, the header left out.
func column(tb testing.TB, recs [][]string, name string) []string {
	tb.Helper()
	for i, h := range recs[0] {
		if h == name {
			var out []string
			for _, r := range recs[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	tb.Fatalf("no column %q in %q", name, recs[0])
	return nil
}

// TestExportsNeutraliseFormulas exports rates and CDRs whose text starts
// with each character that a spreadsheet reads as a formula, through the
// API and the admin, and checks that every such cell is written with a
// quote in front, that plain numbers and money stay numbers, and that the
// rate deck imports back to the same rows.
func TestExportsNeutraliseFormulas(t *testing.T) {
	ts := mustServeUI(t, nil)
	var rows []rating.Row
	for i, d := range dangerous {
		r := row(t, "44"+itoa(i), "0.05")
		r.Destination = d + `HYPERLINK("http://evil.example","x")`
		if d == "\t" || d == "\r" {
			r.Destination = d + "=1+2" // not a deck's trimmed cell, but a row of the API
		}
		rows = append(rows, r)
	}
	quoted := row(t, "3399", "0.05")
	quoted.Destination = "'=already quoted"
	plain := row(t, "3398", "0.05")
	plain.Destination = "-5"
	ts.mustTable(rating.NewTable("=Evil Table", rating.Outbound, "EUR"), append(rows, quoted, plain)...)

	for _, path := range []string{"/api/v1/rate-tables/" + url.PathEscape("=Evil Table") + "/rates?format=csv",
		"/rates/outbound/" + url.PathEscape("=Evil Table") + "/download"} {
		var body []byte
		if strings.HasPrefix(path, "/api/") {
			body = ts.do(req{method: "GET", path: path, token: testToken}).want(200).body
		} else {
			b := newBrowser(ts)
			b.login()
			body = []byte(b.get(path).want(200).body)
		}
		dests := column(t, readCSV(t, body), "destination")
		want := map[string]bool{}
		for _, r := range rows {
			want["'"+r.Destination] = true
		}
		want["''=already quoted"], want["-5"] = true, true
		for _, d := range dests {
			if !want[d] {
				t.Errorf("%s: destination cell %q is not neutralised", path, d)
			}
		}
		// The deck imports back to the rows it was written from.
		res := ts.do(req{method: "PUT", path: "/api/v1/rate-tables/" + url.PathEscape("=Evil Table") + "/rates?mode=replace",
			token: testToken, body: string(body), ctype: "text/csv"})
		res.want(200)
		again, _, err := ts.Store.Rates("=Evil Table", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range again {
			got[r.Destination] = true
		}
		for _, r := range append(rows, quoted, plain) {
			if !got[r.Destination] {
				t.Errorf("%s: destination %q did not come back from the export, got %v", path, r.Destination, got)
			}
		}
	}

	// CDRs: every text cell a PBX or a client controls.
	if _, err := ts.Store.CreateProvider(rating.Provider{Name: "@Carrier", Trunk: "carrier-x", Status: rating.Active}); err != nil {
		t.Fatal(err)
	}
	var cdrs []rating.CDR
	for i, d := range dangerous {
		cdrs = append(cdrs, rating.CDR{ID: d + "cmd|' /C calc'!A0 " + itoa(i), Tenant: d + "Tenant", Kind: rating.Outbound,
			Number: d + "1+1", Provider: "carrier-x", Start: time.Now().Add(-time.Hour), Duration: 30})
	}
	cdrs = append(cdrs, rating.CDR{ID: "plain", Tenant: "Docs Demo Nobody", Kind: rating.Outbound, Number: "+442079460000",
		Start: time.Now().Add(-time.Hour), Duration: 30})
	if _, err := ts.Store.PostCDRs("-node", cdrs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	for _, body := range [][]byte{ts.do(req{method: "GET", path: "/api/v1/cdrs?format=csv", token: testToken}).want(200).body,
		[]byte(b.get("/usage/export").want(200).body)} {
		recs := readCSV(t, body)
		if len(recs) != len(cdrs)+1 {
			t.Fatalf("%d records, want %d", len(recs)-1, len(cdrs))
		}
		for _, col := range []string{"id", "node", "tenant", "number", "provider"} {
			for _, c := range column(t, recs, col) {
				for _, d := range dangerous {
					if strings.HasPrefix(c, d) && c != "+442079460000" {
						t.Errorf("CDR export: %s cell %q starts with %q", col, c, d)
					}
				}
			}
		}
		if n := column(t, recs, "number"); !slices.Contains(n, "+442079460000") || !slices.Contains(n, "'=1+1") {
			t.Errorf("numbers %q: want +442079460000 as it is, and '=1+1", n)
		}
		if c := column(t, recs, "tenant"); !slices.Contains(c, "'@Tenant") {
			t.Errorf("tenants %q: want '@Tenant", c)
		}
	}
}

// TestUIRowKeepsAQuotedDestination saves a destination that starts with a
// quote before a formula character through the admin's row form, which
// reads its fields as a one-line deck: it is kept as typed.
func TestUIRowKeepsAQuotedDestination(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"))
	b := newBrowser(ts)
	b.login()
	for i, d := range []string{"'=typed", "=typed", "''@x", "'x"} {
		b.post("/rates/outbound/"+url.PathEscape("Docs Demo Retail")+"/rows",
			url.Values{"prefix": {"44" + itoa(i)}, "destination": {d}, "rate": {"0.1"}}).want(303)
		rs, _, err := ts.Store.Rates("Docs Demo Retail", "44"+itoa(i), "", 1)
		if err != nil || len(rs) != 1 || rs[0].Destination != d {
			t.Errorf("destination %q saved as %+v, %v", d, rs, err)
		}
	}
}

// TestUIExportLinkKeepsTheFilter follows the "Export CSV" and "Older
// CDRs" links of a filtered CDR browser as a browser would: they export
// and page what the page shows, not every CDR.
func TestUIExportLinkKeepsTheFilter(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	p := b.get("/usage?status=unrated&provider=").want(200)
	href := func(text string) string {
		t.Helper()
		m := regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>` + regexp.QuoteMeta(text)).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no link %q in the page:\n%s", text, p.body)
		}
		return html.UnescapeString(m[1])
	}
	recs := readCSV(t, []byte(b.get(href("Export CSV")).want(200).body))
	if ids := column(t, recs, "id"); len(ids) != 1 || ids[0] != "docs-demo-3" {
		t.Errorf("the export of a filtered view (%s) holds %q, want docs-demo-3 only", href("Export CSV"), ids)
	}

	// The next page keeps the filter too.
	for i := range cdrsPerPage + 1 {
		if _, err := ts.Store.PostCDRs("", []rating.CDR{{ID: "older-" + itoa(i), Tenant: "Docs Demo Nobody", Kind: rating.Outbound,
			Number: "1555", Start: time.Now().Add(-time.Duration(4+i) * time.Hour), Duration: 30}}); err != nil {
			t.Fatal(err)
		}
	}
	// By call start, newest first: docs-demo-3 (3 h ago), then older-0
	// (4 h) to older-50 (54 h); the second page holds the last two.
	p = b.get("/usage?status=unrated&provider=").want(200)
	b.get(href("Older CDRs")).want(200).has("older-49", "older-50").hasNot("older-0<", "docs-demo-3", "docs-demo-1")
}
