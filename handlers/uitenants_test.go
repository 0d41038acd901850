package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// The Tenants Dashboard shows only meaningful totals, a runway past a year
// as such, a small debt's utilisation as more than nothing, and every
// sparkline on one scale.
func TestUITenantsDashboardFigures(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.06"))
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Post", BillingMode: rating.Postpaid, CreditLimit: mustMoney(t, "1000"),
		OutboundTable: "Docs Demo Retail"}, "")
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Pre", OutboundTable: "Docs Demo Retail"}, "50")
	// A week of small calls: 60 s a day for Post (0.06), 600 s for Pre (0.60).
	var cdrs []rating.CDR
	for d := 1; d <= 7; d++ {
		at := c.t.AddDate(0, 0, -d)
		cdrs = append(cdrs, rating.CDR{ID: "p" + itoa(d), Tenant: "Docs Demo Post", Number: "441", Start: at, Duration: 60},
			rating.CDR{ID: "q" + itoa(d), Tenant: "Docs Demo Pre", Number: "441", Start: at, Duration: 600})
	}
	if _, err := ts.Store.PostCDRs("", cdrs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	p := b.get("/tenants").want(http.StatusOK)
	// Post owes 0.42 of 1000: 0.04 %, not 0.0 %; its runway is
	// (1000 − 0.42) / 0.06 days.
	p.has("&lt; 0.1%", "&gt; 1 year", "Prepaid credit, postpaid debt and credit limits do not add up")
	if strings.Count(p.body, "every row's line is drawn to the same scale") != 2 {
		t.Errorf("sparkline titles: %s", p.body)
	}
	// Both lines are drawn to Pre's 0.60: Post's 0.06 a day sits near the bottom.
	if !strings.Contains(p.body, "up to 0.60 EUR") || !strings.Contains(p.body, "up to 0.06 EUR") {
		t.Errorf("sparkline maxima: %s", p.body)
	}
}
