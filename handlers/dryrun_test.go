package handlers

import (
	"testing"

	"pbxbill/rating"
)

// PUT .../rates?dry_run=1 answers what a deck would change and stores
// nothing; a bad deck is refused as an import is.
func TestImportDryRun(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"), row(t, "447", "0.10"), row(t, "49", "0.03"))
	put := func(query, deck string) response {
		return ts.do(req{method: "PUT", path: "/api/v1/rate-tables/Docs%20Demo%20Retail/rates?" + query, token: testToken, body: deck, ctype: "text/csv"})
	}
	var d rating.DeckDiff
	put("dry_run=1", "prefix,destination,rate\n44,United Kingdom,0.05\n447,UK Mobile,0.20\n1,USA,0.01\n").want(200).decode(&d)
	if d.Added != 1 || d.Removed != 1 || d.Up != 1 || d.Down != 0 || d.Unchanged != 1 || len(d.Changes) != 3 ||
		d.Changes[0].Prefix != "447" || d.Changes[0].OldRate != amt(t, "0.10") || d.Changes[0].NewRate != amt(t, "0.20") ||
		d.Changes[1].Prefix != "49" || d.Changes[1].NewRate != rating.NoAmount {
		t.Fatalf("dry run: %+v", d)
	}
	m := put("dry_run=1&mode=merge", "prefix,rate\n447,0.20\n").want(200).obj()
	if m["removed"] != float64(0) || m["up"] != float64(1) {
		t.Fatalf("merge dry run: %v", m)
	}
	if rows, _, _ := ts.Store.Rates("Docs Demo Retail", "", "", 10); len(rows) != 3 || rows[1].Rate != amt(t, "0.10") {
		t.Fatalf("the dry run changed the table: %+v", rows)
	}
	put("dry_run=1", "prefix,rate\n44,cheap\n").wantError(400, rating.EInvalid, "line 2")
	put("dry_run=maybe", "prefix,rate\n44,0.05\n").wantError(400, rating.EInvalid, "dry_run")
}
