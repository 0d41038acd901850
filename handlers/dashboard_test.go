package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"pbxbill/rating"
)

// The scenarios post CDRs through the HTTP API and compare what moved
// with figures worked out by hand from usageFixture's tables, where every
// table bills 60/60: d = 95 and d = 61 both bill 120 s.

// providerDay reads the providers dashboard of usageNow's day.
func (ts *testServer) providerDay() (provider map[string]any, totals map[string]any) {
	ts.tb.Helper()
	m := ts.admin("GET", "/api/v1/dashboard/providers?from=2026-03-10&to=2026-03-10", "").want(200).objN()
	if m["from"] != "2026-03-10" || m["to"] != "2026-03-10" {
		ts.tb.Errorf("range %v..%v", m["from"], m["to"])
	}
	list, _ := m["providers"].([]any)
	if len(list) != 1 {
		ts.tb.Fatalf("providers %v, want carrierA alone", m["providers"])
	}
	provider, _ = list[0].(map[string]any)
	totals, _ = m["totals"].(map[string]any)
	return provider, totals
}

// tenantFigures reads one tenant's row of the tenants dashboard.
func (ts *testServer) tenantFigures(name string) map[string]any {
	ts.tb.Helper()
	m := ts.admin("GET", "/api/v1/dashboard/tenants", "").want(200).objN()
	list, _ := m["tenants"].([]any)
	for _, v := range list {
		if f, _ := v.(map[string]any); f["name"] == name {
			return f
		}
	}
	ts.tb.Fatalf("tenant %s not on the dashboard: %v", name, m)
	return nil
}

func TestOutboundScenario(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	// The tenant by name or accountcode, the provider by name or trunk.
	p := ts.postCDRs(`[
		{"id":"o1","tenant":"acme","number":"447911123456","provider":"carrierA","start":"2026-03-10T09:00:00Z","duration":95},
		{"id":"o2","tenant":"acme-pbx","kind":"outbound","number":"+44 7911 000000","provider":"carrier-a","start":"2026-03-10T09:05:00Z","duration":0},
		{"id":"o3","tenant":"acme","number":"447700900123","provider":"carrier-a","start":"2026-03-10T09:10:00Z","duration":"61"},
		{"id":"o4","tenant":"acme","number":"33612345678","start":"2026-03-10T09:20:00Z","duration":30}]`)
	// o1, o3: 2 min × 0.10 sell, 2 min × 0.06 buy; o2 unanswered: 0;
	// o4: 0.05 + 1 min × 0.20, no provider.
	p.wantResult(t, 0, "o1", rating.Rated, "0.20", "0.12")
	p.wantResult(t, 1, "o2", rating.Rated, "0", "0")
	p.wantResult(t, 2, "o3", rating.Rated, "0.20", "0.12")
	p.wantResult(t, 3, "o4", rating.Rated, "0.25", "")
	if p.Rated != 4 || p.Duplicate != 0 || p.Unrated != 0 || p.Skipped != nil {
		t.Errorf("counts %+v", p)
	}

	ts.wantBalance("tenant", "acme", "9.35")
	// A zero cost writes no entry.
	ts.wantLedger("tenant", "acme",
		ledgerEntry{rating.Charge, "-0.25", "o4", "9.35"},
		ledgerEntry{rating.Charge, "-0.20", "o3", "9.60"},
		ledgerEntry{rating.Charge, "-0.20", "o1", "9.80"},
		ledgerEntry{rating.Topup, "10", "", "10"})
	ts.wantBalance("provider", "carrierA", "99.76")
	ts.wantLedger("provider", "carrierA",
		ledgerEntry{rating.Charge, "-0.12", "o3", "99.76"},
		ledgerEntry{rating.Charge, "-0.12", "o1", "99.88"},
		ledgerEntry{rating.Topup, "100", "", "100"})

	// carrierA carried o1 o2 o3: 2 of 3 answered, 95 + 61 = 156 s, ACD 78 s;
	// revenue 0.40 on a cost of 0.24.
	want := map[string]any{"balance": "99.76", "attempts": "3", "answered": "2", "asr": "0.6667",
		"acd_seconds": "78", "acd": "1:18", "minutes": "2.60", "cost": "0.24", "revenue": "0.40",
		"margin": "0.16", "margin_pct": "40.00"}
	prov, totals := ts.providerDay()
	want["name"] = "carrierA"
	wantFields(t, "carrierA", prov, want)
	delete(want, "name")
	wantFields(t, "totals", totals, want)

	wantFields(t, "acme", ts.tenantFigures("acme"), map[string]any{"billing_mode": "prepaid", "balance": "9.35",
		"credit_limit": "0", "available": "9.35", "state": "ok", "exposure": "0", "utilisation": nil,
		"spend_today": "0.65", "spend_month": "0.65", "avg_daily_spend": "0", "runway_days": nil, "calls_today": "4"})
}

func TestInboundScenario(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	// i1 came in from carrier-a on a DID: 5 min × 0.01 sell, × 0.005 buy.
	// i2 is beta's, which has no inbound table: stored unrated, no charge.
	p := ts.postCDRs(`[
		{"id":"i1","tenant":"acme","kind":"inbound","number":"442079460958","provider":"carrier-a","start":"2026-03-10T10:00:03Z","duration":300},
		{"id":"i2","tenant":"beta","kind":"inbound","number":"442079460000","start":"2026-03-10T10:01:00Z","duration":60}]`)
	p.wantResult(t, 0, "i1", rating.Rated, "0.05", "0.025")
	p.wantResult(t, 1, "i2", rating.Unrated, "", "*")
	if r := p.Results[1].Reason; r == nil || *r != rating.UnratedNoTable {
		t.Errorf("i2 reason %v, want %s", r, rating.UnratedNoTable)
	}
	if p.Rated != 1 || p.Unrated != 1 {
		t.Errorf("counts %+v", p)
	}
	ts.wantBalance("tenant", "acme", "9.95")
	ts.wantLedger("tenant", "acme", ledgerEntry{rating.Charge, "-0.05", "i1", "9.95"}, ledgerEntry{rating.Topup, "10", "", "10"})
	ts.wantBalance("tenant", "beta", "0")
	ts.wantLedger("tenant", "beta")
	ts.wantBalance("provider", "carrierA", "99.975")

	prov, totals := ts.providerDay()
	want := map[string]any{"balance": "99.975", "attempts": "1", "answered": "1", "asr": "1.0000",
		"acd_seconds": "300", "acd": "5:00", "minutes": "5.00", "cost": "0.025", "revenue": "0.05",
		"margin": "0.025", "margin_pct": "50.00"}
	wantFields(t, "carrierA", prov, want)
	wantFields(t, "totals", totals, want)

	items := ts.admin("GET", "/api/v1/cdrs?status=unrated", "").want(200).items()
	if len(items) != 1 || items[0]["id"] != "i2" || items[0]["reason"] != rating.UnratedNoTable {
		t.Errorf("unrated CDRs: %v", items)
	}
}

func TestConferenceScenario(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	// Every participant is a leg, charged from beta's conference table by
	// the room number: 30 min, 18 min, and 45 s billed as 1 min, at 0.02.
	// A leg two days ago (10 min) counts in the month and the 7-day average.
	p := ts.postCDRs(`[
		{"id":"m0","tenant":"beta","kind":"conference","number":"8100","start":"2026-03-08T11:00:00Z","duration":600},
		{"id":"m1","tenant":"beta","kind":"conference","number":"8100","start":"2026-03-10T11:00:00Z","duration":1800},
		{"id":"m2","tenant":"beta","kind":"conference","number":"8100","start":"2026-03-10T11:02:00Z","duration":1080},
		{"id":"m3","tenant":"beta","kind":"conference","number":"8100","start":"2026-03-10T11:05:00Z","duration":45}]`)
	for i, c := range [][3]string{{"m0", "0.20"}, {"m1", "0.60"}, {"m2", "0.36"}, {"m3", "0.02"}} {
		p.wantResult(t, i, c[0], rating.Rated, c[1], "")
	}
	// Postpaid: the balance goes below zero, within the credit limit.
	ts.wantLedger("tenant", "beta",
		ledgerEntry{rating.Charge, "-0.02", "m3", "-1.18"},
		ledgerEntry{rating.Charge, "-0.36", "m2", "-1.16"},
		ledgerEntry{rating.Charge, "-0.60", "m1", "-0.80"},
		ledgerEntry{rating.Charge, "-0.20", "m0", "-0.20"})
	wantFields(t, "beta", ts.account("tenant", "beta"), map[string]any{"balance": "-1.18", "available": "48.82",
		"exposure": "1.18", "utilisation": "0.0236", "state": "ok"})

	// The 7 complete days before the 10th hold 0.20: 0.20 / 7 a day, and
	// 48.82 of credit last 1708.69… days, rounded down.
	wantFields(t, "beta", ts.tenantFigures("beta"), map[string]any{"billing_mode": "postpaid", "balance": "-1.18",
		"credit_limit": "50", "available": "48.82", "state": "ok", "exposure": "1.18", "utilisation": "0.0236",
		"spend_today": "0.98", "spend_month": "1.18", "avg_daily_spend": "0.02857143", "runway_days": "1708.6",
		"calls_today": "3"})
	// No provider carried a conference leg.
	m := ts.admin("GET", "/api/v1/dashboard/providers?from=2026-03-04&to=2026-03-10", "").want(200).objN()
	wantFields(t, "totals", m["totals"].(map[string]any), map[string]any{"attempts": "0", "cost": "0", "revenue": "0"})
}

// TestProviderDashboardRange checks the range rules: the default week
// ending today, and the refusals.
func TestProviderDashboardRange(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	var out struct {
		From, To  string
		Providers []json.RawMessage
	}
	ts.admin("GET", "/api/v1/dashboard/providers", "").want(200).decode(&out)
	// Today is the installation's clock's, the store's (usageNow), which the
	// handlers read too.
	today := usageNow.UTC().Format(time.DateOnly)
	weekAgo := usageNow.UTC().AddDate(0, 0, -6).Format(time.DateOnly)
	if out.To != today || out.From != weekAgo {
		t.Errorf("default range %s..%s, want %s..%s", out.From, out.To, weekAgo, today)
	}
	if len(out.Providers) != 1 {
		t.Errorf("providers %d, want 1", len(out.Providers))
	}
	ts.admin("GET", "/api/v1/dashboard/providers?from=2026-01-01&to=2026-12-31", "").want(200)
	ts.admin("GET", "/api/v1/dashboard/providers?to=2026-03-10", "").want(200)
	for _, c := range []struct{ query, part string }{
		{"from=2026-03-11&to=2026-03-10", "after"},
		{"from=2025-01-01&to=2026-01-02", "367 days"},
		{"from=10/03/2026", "from"},
		{"to=2026-02-30", "to"},
	} {
		ts.admin("GET", "/api/v1/dashboard/providers?"+c.query, "").wantError(400, rating.EInvalid, c.part)
	}
	// The dashboards are the operator's: a node token may not read them.
	var node createdNode
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).want(201).decode(&node)
	ts.do(req{method: "GET", path: "/api/v1/dashboard/tenants", token: node.Token}).wantError(403, rating.EForbidden)
	ts.do(req{method: "GET", path: "/api/v1/dashboard/tenants"}).wantError(401, rating.EUnauthorized)
}
