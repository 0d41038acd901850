package handlers

import (
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// The handlers read the store's clock, the one clock of the installation:
// the rates in force without ?at=, the dashboards' today and the ledger's
// times all follow it, whatever the wall clock says.
func TestOneClock(t *testing.T) {
	now := time.Date(2031, 6, 15, 12, 0, 0, 0, time.UTC)
	ts := mustServeWith(t, store.Options{TZ: "UTC", Currency: "EUR", Now: func() time.Time { return now }})
	later := row(t, "44", "0.07")
	later.EffectiveFrom = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"), row(t, "44", "0.08"), later)
	ts.mustTenant(rating.Tenant{Name: "acme", OutboundTable: "retail"}, "10")

	// In 2031 the 2030 row is in force; by the wall clock it is not yet.
	if m := ts.local("/api/v1/rate?tenant=acme&number=441").want(200).obj(); m["rate"] != "0.07" {
		t.Errorf("rate without at: %v, want the 2030 row", m["rate"])
	}
	if m := ts.local("/api/v1/authorize?tenant=acme&number=441").want(200).obj(); m["rate"] != "0.07" {
		t.Errorf("authorize without at: %v, want the 2030 row", m["rate"])
	}
	var dash struct{ From, To string }
	ts.admin("GET", "/api/v1/dashboard/providers", "").want(200).decode(&dash)
	if dash.From != "2031-06-09" || dash.To != "2031-06-15" {
		t.Errorf("providers dashboard's default range %s to %s, want the 7 days to 2031-06-15", dash.From, dash.To)
	}
	entries := ts.admin("GET", "/api/v1/tenants/acme/ledger", "").want(200).items()
	if len(entries) != 1 || entries[0]["time"] != "2031-06-15T12:00:00Z" {
		t.Errorf("ledger: %v", entries)
	}
}
