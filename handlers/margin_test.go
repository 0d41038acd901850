package handlers

import (
	"testing"

	"pbxbill/rating"
)

// GET /api/v1/margins: each sell row against the cheapest active carrier,
// negative margins first, rows no carrier takes last; paged by a count.
func TestMargins(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("Sell", rating.Outbound, "EUR"), row(t, "44", "0.05"), row(t, "447", "0.04"), row(t, "1", "0.01"))
	ts.mustTable(rating.NewTable("Buy A", rating.Outbound, "EUR"), row(t, "44", "0.02"), row(t, "447", "0.06"))
	ts.mustTable(rating.NewTable("Buy B", rating.Outbound, "EUR"), row(t, "4", "0.03"))
	for _, p := range []rating.Provider{{Name: "A", Status: rating.Active, OutboundTable: "Buy A"},
		{Name: "B", Status: rating.Active, OutboundTable: "Buy B"}} {
		if _, err := ts.Store.CreateProvider(p); err != nil {
			t.Fatal(err)
		}
	}
	items := ts.admin("GET", "/api/v1/margins?table=Sell", "").want(200).items()
	want := []struct{ prefix, buy, provider, margin, pct any }{
		{"447", "0.03", "B", "0.01", 25.0}, // B's 4 is cheaper than A's 447
		{"44", "0.02", "A", "0.03", 60.0},
		{"1", nil, nil, nil, nil},
	}
	if len(items) != len(want) {
		t.Fatalf("margins: %v", items)
	}
	for i, w := range want {
		it := items[i]
		if it["prefix"] != w.prefix || it["buy_rate"] != w.buy || it["provider"] != w.provider || it["margin"] != w.margin || it["margin_pct"] != w.pct {
			t.Errorf("item %d: %v, want %v", i, it, w)
		}
	}
	r := ts.admin("GET", "/api/v1/margins?table=Sell&limit=2", "").want(200)
	var page struct {
		Items []map[string]any
		Next  string
	}
	r.decode(&page)
	if len(page.Items) != 2 || page.Next != "2" {
		t.Fatalf("first page: %+v", page)
	}
	if rest := ts.admin("GET", "/api/v1/margins?table=Sell&limit=2&after=2", "").want(200).items(); len(rest) != 1 || rest[0]["prefix"] != "1" {
		t.Fatalf("second page: %v", rest)
	}
	ts.admin("GET", "/api/v1/margins", "").wantError(400, rating.EInvalid, "table")
	ts.admin("GET", "/api/v1/margins?table=Nope", "").wantError(404, rating.ENotFound, "Nope")
	ts.admin("GET", "/api/v1/margins?table=Sell&after=x", "").wantError(400, rating.EInvalid, "after")
}
