package handlers

import (
	"fmt"
	"testing"

	"pbxbill/rating"
)

// DOMAIN.md "Magnitudes" through the API: an installation that bills in a
// currency with small units takes a tenant past 10^8, and to 10^15, and
// every answer shows the exact amount.
func TestLargeAmountsThroughTheAPI(t *testing.T) {
	ts := usageServer(t)
	tbl := rating.NewTable("idr", rating.Outbound, "EUR")
	tbl.Decimals = 0
	ts.mustTable(tbl, row(t, "62", "1000000"))
	m := ts.admin("POST", "/api/v1/tenants", `{"name":"jakarta","billing_mode":"postpaid","credit_limit":"500000000000000",
		"low_balance_threshold":"1000000000","outbound_rate_table":"idr"}`).want(201).obj()
	if m["credit_limit"] != "500000000000000" || m["low_balance_threshold"] != "1000000000" {
		t.Errorf("created %v", m)
	}
	m = ts.admin("POST", "/api/v1/tenants/jakarta/credits", `{"amount":"1000000000000000"}`).want(201).obj()
	if m["balance"] != "1000000000000000" {
		t.Errorf("topup answered %v", m)
	}

	// A batch of a three-hour call and a week's call at 10^6 a minute.
	body := `[{"id":"a","tenant":"jakarta","number":"6221555","start":"2026-03-10T10:00:00Z","duration":10800},
		{"id":"b","tenant":"jakarta","number":"6221555","start":"2026-03-10T10:00:00Z","duration":604800}]`
	res := ts.post(testToken, "/api/v1/cdrs", body, "application/json").want(200).obj()
	results := res["results"].([]any)
	for i, want := range []string{"180000000", "10080000000"} {
		if r := results[i].(map[string]any); r["status"] != rating.Rated || r["cost"] != want {
			t.Errorf("result %d: %v, want cost %q", i, r, want)
		}
	}
	m = ts.admin("GET", "/api/v1/tenants/jakarta", "").want(200).obj()
	if m["balance"] != "999989740000000" || m["available"] != "1499989740000000" || m["state"] != "ok" {
		t.Errorf("tenant %v", m)
	}
	items := ts.admin("GET", "/api/v1/tenants/jakarta/ledger", "").want(200).items()
	if len(items) != 3 || items[0]["amount"] != "-10080000000" || items[0]["balance"] != "999989740000000" {
		t.Errorf("ledger %v", items)
	}
	d := ts.admin("GET", "/api/v1/dashboard/tenants", "").want(200).obj()
	if f := d["tenants"].([]any)[0].(map[string]any); f["spend_today"] != "10260000000" || f["balance"] != "999989740000000" {
		t.Errorf("dashboard %v", f)
	}
	p := ts.local("/api/v1/price?tenant=jakarta&number=6221555&duration=604800").want(200).obj()
	if p["cost"] != "10080000000" {
		t.Errorf("price %v", p)
	}
	a := ts.local("/api/v1/authorize?tenant=jakarta&number=6221555").want(200).obj()
	if a["allowed"] != true || a["max_duration"] != float64(10800) || a["available"] != "1499989740000000" {
		t.Errorf("authorize %v", a)
	}
}

// A value beyond the supported range is an invalid request that names it,
// and it changes nothing; nor does a batch that would take a balance there.
func TestAmountsBeyondTheRange(t *testing.T) {
	ts := usageServer(t)
	tbl := rating.NewTable("idr", rating.Outbound, "EUR")
	tbl.Decimals = 0
	ts.mustTable(tbl, row(t, "62", "1000000"))
	ts.admin("POST", "/api/v1/tenants", `{"name":"jakarta","outbound_rate_table":"idr"}`).want(201)
	ts.admin("POST", "/api/v1/tenants", `{"name":"deep","outbound_rate_table":"idr"}`).want(201)
	ts.admin("POST", "/api/v1/tenants/jakarta/credits", `{"amount":"1000000000000000"}`).want(201)
	ts.admin("POST", "/api/v1/tenants/deep/credits", `{"amount":"-999999999900000000","kind":"adjustment","note":"deep"}`).want(201)

	before := func() string {
		return fmt.Sprint(string(ts.admin("GET", "/api/v1/tenants", "").want(200).body),
			string(ts.admin("GET", "/api/v1/tenants/jakarta/ledger", "").want(200).body),
			string(ts.admin("GET", "/api/v1/cdrs", "").want(200).body))
	}
	was := before()
	for _, tc := range []struct {
		method, path, body string
		parts              []string
	}{
		{"POST", "/api/v1/tenants/jakarta/credits", `{"amount":"1000000000000000000.00000001"}`, []string{"amount", "1000000000000000000.00000001"}},
		{"POST", "/api/v1/tenants/jakarta/credits", `{"amount":"99999999999999999999999999999999999999999"}`, []string{"amount"}},
		{"POST", "/api/v1/tenants/jakarta/credits", `{"amount":"999999999999999999"}`, []string{"balance", `"jakarta"`}},
		{"PUT", "/api/v1/tenants/jakarta", `{"credit_limit":"1000000000000000001"}`, []string{"credit_limit", "1000000000000000001"}},
		{"PUT", "/api/v1/tenants/jakarta", `{"low_balance_threshold":"-1"}`, []string{"low_balance_threshold"}},
		{"POST", "/api/v1/cdrs", `[{"id":"fine","tenant":"jakarta","number":"6221555","start":"2026-03-10T10:00:00Z","duration":60},
			{"id":"too-deep","tenant":"deep","number":"6221555","start":"2026-03-10T10:00:00Z","duration":10800}]`,
			[]string{`"too-deep"`, `"deep"`, "-1000000000080000000"}},
	} {
		ts.admin(tc.method, tc.path, tc.body).wantError(400, rating.EInvalid, tc.parts...)
		if now := before(); now != was {
			t.Fatalf("%s %s %.60s changed the books:\n%s\nto\n%s", tc.method, tc.path, tc.body, was, now)
		}
	}
}
