package handlers

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"pbxbill/rating"
)

// The admin sets the three limits and sees a tenant's calls in progress,
// its free credit, and the holds that expired without a CDR.
func TestUITenantHolds(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	acme := "/tenants/" + url.PathEscape("Docs Demo Acme")
	form := url.Values{"name": {"Docs Demo Acme"}, "accountcode": {"Docs Demo Acme"}, "billing_mode": {"prepaid"},
		"status": {"active"}, "outbound_rate_table": {"Docs Demo Retail"}, "inbound_rate_table": {"Docs Demo DID"},
		"conference_rate_table": {"Docs Demo Rooms"}, "max_calls": {"two"}, "daily_spend_limit": {"-1"}}
	// A bad limit has its message next to its field.
	b.post(acme, form).want(http.StatusBadRequest).has(`value="two"`, "max_calls: want a whole number")
	form.Set("max_calls", "2")
	b.post(acme, form).want(http.StatusBadRequest).has("daily_spend_limit -1: must not be negative")
	form.Set("daily_spend_limit", "20")
	form.Set("max_call_duration", "600")
	b.follow(b.post(acme, form)).want(http.StatusOK).has("Saved tenant", `name="max_calls" inputmode="numeric" value="2"`,
		`name="daily_spend_limit" inputmode="decimal" value="20"`, `name="max_call_duration" inputmode="numeric" value="600"`)
	tn, err := ts.Store.Tenant("Docs Demo Acme")
	if err != nil || tn.MaxCalls != 2 || tn.MaxCallDuration != 600 || tn.DailySpendLimit.Cmp(mustMoney(t, "20")) != 0 {
		t.Fatalf("tenant %+v, %v", tn, err)
	}

	// A call in progress: 600 s at 0.05 a minute on 30/6 holds 0.50.
	m := ts.local("/api/v1/authorize?tenant=Docs+Demo+Acme&number=4420&call=docs-demo-call-1").want(200).obj()
	if m["max_duration"] != float64(600) {
		t.Fatalf("authorize: %v", m)
	}
	b.get(acme).has("Calls in progress", "<code>docs-demo-call-1</code>", "1 of 2", "0.5000 EUR").
		hasNot("Expired without a CDR")
	b.get("/tenants").has(">Calls in progress</th>")

	// Its grant and the slack run out, and no CDR came.
	c.Add(600*time.Second + rating.DefaultHoldSlack)
	if gone, err := ts.Store.ExpireHolds(); err != nil || len(gone) != 1 {
		t.Fatalf("expired %v, %v", gone, err)
	}
	b.get(acme).has("No call holds credit now.", "Expired without a CDR", "<code>docs-demo-call-1</code>")
}
