package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// The Providers Dashboard's charts: a one-day range draws dots with their
// values, a longer one labels several days, and the legend gives the
// table's figures.
func TestUIProviderCharts(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	seedUI(t, ts)
	if _, err := ts.Store.PostCDRs("", []rating.CDR{
		{ID: "today-1", Tenant: "Docs Demo Acme", Number: "442079460001", Provider: "carrier-a", Start: c.t.Add(-time.Hour), Duration: 95},
	}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	p := b.get("/providers?from=2026-11-29&to=2026-11-29").want(http.StatusOK)
	// Today: the seed's 45 s and this 95 s, 2.33 minutes; 0.02 + 0.04 at
	// 0.02 a minute on the buy table's 60/60. The legend gives the table's
	// figures, to its decimals.
	p.has(`<circle class="dot s0"`, "<title>Docs Demo Carrier, Nov 29: 2.3 min</title>", "<title>Docs Demo Carrier, Nov 29: 0.06</title>",
		`<td class="num">2.33</td>`, "Docs Demo Carrier: 2.33 min", `<td class="num" data-sort="0.06">0.0600</td>`, "Docs Demo Carrier: 0.0600<")
	if n := strings.Count(p.body, `<circle class="dot`); n != 2 {
		t.Errorf("%d dots on a one-day range, want one per chart", n)
	}
	p = b.get("/providers?from=2026-11-16&to=2026-11-29").want(http.StatusOK)
	labels := regexp.MustCompile(`>Nov \d+</text>`).FindAllString(p.body, -1)
	if len(labels) < 2*4 {
		t.Errorf("day labels on a 14-day range: %v", labels)
	}
}
