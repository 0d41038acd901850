package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// usageNow is the fixed clock of the usage tests, so that "today" on the
// dashboards is the day their CDRs start on, whenever the tests run.
var usageNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// usageServer is mustServe with the store's clock fixed at usageNow, and
// the consistency check run when the test ends: every balance equals its
// ledger and every roll-up its CDRs, whatever the scenario did.
func usageServer(tb testing.TB) *testServer {
	tb.Helper()
	return mustServeWith(tb, store.Options{TZ: "UTC", Currency: "EUR", Now: func() time.Time { return usageNow }})
}

// usageFixture creates what the scenarios bill against:
//
//	retail (outbound sell): 44 at 0.10/min; 33 at 0.20/min plus 0.05 connect fee
//	dids (inbound sell): 4420 at 0.01/min
//	conf (conference sell): 81 at 0.02/min
//	buy-out (outbound buy): 44 at 0.06/min;  buy-in (inbound buy): 4420 at 0.005/min
//
// every table at the default increments 60/60 and 4 decimals;
// tenant acme (accountcode acme-pbx), prepaid, topped up with 10, with all
// three tables; tenant beta, postpaid with a credit limit of 50, with the
// conference table only; provider carrierA (trunk carrier-a) with both buy
// tables, topped up with 100.
func usageFixture(ts *testServer) {
	tb := ts.tb
	tb.Helper()
	fee := row(tb, "33", "0.20")
	fee.ConnectFee = amt(tb, "0.05")
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"), row(tb, "44", "0.10"), fee)
	ts.mustTable(rating.NewTable("dids", rating.Inbound, "EUR"), row(tb, "4420", "0.01"))
	ts.mustTable(rating.NewTable("conf", rating.Conference, "EUR"), row(tb, "81", "0.02"))
	ts.mustTable(rating.NewTable("buy-out", rating.Outbound, "EUR"), row(tb, "44", "0.06"))
	ts.mustTable(rating.NewTable("buy-in", rating.Inbound, "EUR"), row(tb, "4420", "0.005"))
	ts.mustTenant(rating.Tenant{Name: "acme", AccountCode: "acme-pbx", OutboundTable: "retail",
		InboundTable: "dids", ConferenceTable: "conf"}, "10")
	ts.mustTenant(rating.Tenant{Name: "beta", BillingMode: rating.Postpaid, CreditLimit: mustMoney(tb, "50"),
		ConferenceTable: "conf"}, "")
	if _, err := ts.Store.CreateProvider(rating.Provider{Name: "carrierA", Trunk: "carrier-a", Status: rating.Active,
		OutboundTable: "buy-out", InboundTable: "buy-in"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := ts.Store.Credit(rating.ProviderAccount, "carrierA", mustMoney(tb, "100"), rating.Topup, ""); err != nil {
		tb.Fatal(err)
	}
}

// post sends a CDR body with token.
func (ts *testServer) post(token, path, body, ctype string) response {
	ts.tb.Helper()
	return ts.do(req{method: http.MethodPost, path: path, token: token, body: body, ctype: ctype})
}

// posted is the answer to POST /cdrs.
type posted struct {
	Results []struct {
		ID           string        `json:"id"`
		Status       string        `json:"status"`
		Cost         *rating.Money `json:"cost"`
		ProviderCost *rating.Money `json:"provider_cost"`
		Reason       *string       `json:"reason"`
	} `json:"results"`
	Rated     int  `json:"rated"`
	Duplicate int  `json:"duplicate"`
	Unrated   int  `json:"unrated"`
	Skipped   *int `json:"skipped"`
}

func (ts *testServer) postCDRs(body string) posted {
	ts.tb.Helper()
	var p posted
	ts.post(testToken, "/api/v1/cdrs", body, "application/json").want(200).decode(&p)
	return p
}

// wantResult checks one result: its status, and its costs ("" for null,
// "*" for anything).
func (p posted) wantResult(tb testing.TB, i int, id, status, cost, providerCost string) {
	tb.Helper()
	r := p.Results[i]
	if r.ID != id || r.Status != status || r.Reason == nil {
		tb.Errorf("result %d = %+v, want id %s status %s", i, r, id, status)
	}
	for _, c := range []struct {
		field string
		got   *rating.Money
		want  string
	}{{"cost", r.Cost, cost}, {"provider_cost", r.ProviderCost, providerCost}} {
		switch {
		case c.want == "*":
		case c.want == "" && (c.got == nil || !c.got.Set()):
		case c.want == "" || c.got == nil || *c.got != mustMoney(tb, c.want):
			tb.Errorf("result %d (%s) %s = %v, want %q", i, id, c.field, c.got, c.want)
		}
	}
}

// objN returns the body as a JSON object whose numbers are json.Number,
// so that a ratio is compared as the digits the server wrote.
func (r response) objN() map[string]any {
	r.tb.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		r.tb.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

// wantFields compares fields of m with want. A want string that parses as
// money is compared as an amount, since "0.2" and "0.20" are one amount;
// json.Number values are compared as written.
func wantFields(tb testing.TB, what string, m map[string]any, want map[string]any) {
	tb.Helper()
	for k, w := range want {
		got := m[k]
		if ws, ok := w.(string); ok {
			if gs, ok := got.(string); ok && ws != "" && gs != "" {
				if a, err := rating.ParseAmount(ws); err == nil {
					if b, err := rating.ParseAmount(gs); err == nil && a == b {
						continue
					}
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(w) || (w == nil) != (got == nil) {
			tb.Errorf("%s: %s = %#v, want %#v", what, k, got, w)
		}
	}
}

// account reads a tenant's or a provider's record over HTTP.
func (ts *testServer) account(accountType, name string) map[string]any {
	ts.tb.Helper()
	return ts.admin("GET", "/api/v1/"+accountType+"s/"+name, "").want(200).obj()
}

// wantBalance checks an account's balance.
func (ts *testServer) wantBalance(accountType, name, want string) {
	ts.tb.Helper()
	got, _ := ts.account(accountType, name)["balance"].(string)
	if amt(ts.tb, got) != amt(ts.tb, want) {
		ts.tb.Errorf("%s %s balance %s, want %s", accountType, name, got, want)
	}
}

// ledgerEntry is what a test compares of an entry.
type ledgerEntry struct{ kind, amount, ref, balance string }

// wantLedger checks an account's whole ledger, newest first.
func (ts *testServer) wantLedger(accountType, name string, want ...ledgerEntry) {
	ts.tb.Helper()
	items := ts.admin("GET", "/api/v1/"+accountType+"s/"+name+"/ledger?limit=1000", "").want(200).items()
	if len(items) != len(want) {
		ts.tb.Errorf("%s %s ledger has %d entries, want %d: %v", accountType, name, len(items), len(want), items)
		return
	}
	for i, w := range want {
		e := items[i]
		if e["kind"] != w.kind || e["ref"] != w.ref ||
			amt(ts.tb, e["amount"].(string)) != amt(ts.tb, w.amount) || amt(ts.tb, e["balance"].(string)) != amt(ts.tb, w.balance) {
			ts.tb.Errorf("%s %s ledger[%d] = %v, want %+v", accountType, name, i, e, w)
		}
	}
}

// postAsync posts body from a goroutine, where t.Fatal may not be called.
func postAsync(url, token, body string) (posted, error) {
	hr, err := http.NewRequest(http.MethodPost, url+"/api/v1/cdrs", strings.NewReader(body))
	if err != nil {
		return posted{}, err
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return posted{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return posted{}, fmt.Errorf("status %d: %s %v", res.StatusCode, b, err)
	}
	var p posted
	return p, json.Unmarshal(b, &p)
}

// TestCDRIdempotency posts the same CDRs again in every way a PBX might:
// the batch twice, an id twice in one batch, one id from 8 channels at
// once. Each id is charged once per node; the same id from another node
// is another leg.
func TestCDRIdempotency(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	batch := `[{"id":"a1","tenant":"acme","number":"447911123456","provider":"carrierA","start":"2026-03-10T09:00:00Z","duration":95},
		{"id":"a2","tenant":"acme","number":"447911123457","start":"2026-03-10T09:01:00Z","duration":30}]`
	p := ts.postCDRs(batch)
	p.wantResult(t, 0, "a1", rating.Rated, "0.20", "0.12")
	p.wantResult(t, 1, "a2", rating.Rated, "0.10", "")
	tenantBefore := ts.account("tenant", "acme")
	dashBefore := ts.admin("GET", "/api/v1/dashboard/providers?from=2026-03-10&to=2026-03-10", "").want(200).body

	// The same batch again, with a changed duration: still duplicates.
	p = ts.postCDRs(strings.Replace(batch, `"duration":95`, `"duration":600`, 1))
	if p.Duplicate != 2 || p.Rated != 0 || p.Unrated != 0 || p.Results[0].Status != rating.Duplicate || p.Results[1].Status != rating.Duplicate {
		t.Errorf("second post: %+v", p)
	}
	if after := ts.account("tenant", "acme"); fmt.Sprint(after) != fmt.Sprint(tenantBefore) {
		t.Errorf("tenant changed by duplicates: %v, was %v", after, tenantBefore)
	}
	if dash := ts.admin("GET", "/api/v1/dashboard/providers?from=2026-03-10&to=2026-03-10", "").want(200).body; !bytes.Equal(dash, dashBefore) {
		t.Errorf("dashboard changed by duplicates:\n%s\nwas\n%s", dash, dashBefore)
	}

	// One id twice inside one batch: the first counts.
	p = ts.postCDRs(`[{"id":"b1","tenant":"acme","number":"447911123456","start":"2026-03-10T10:00:00Z","duration":60},
		{"id":"b1","tenant":"acme","number":"447911123456","start":"2026-03-10T10:00:00Z","duration":60}]`)
	p.wantResult(t, 0, "b1", rating.Rated, "0.10", "")
	p.wantResult(t, 1, "b1", rating.Duplicate, "*", "*")
	if p.Rated != 1 || p.Duplicate != 1 {
		t.Errorf("id twice in a batch: %+v", p)
	}

	// 8 channels post one id at once.
	const clients = 8
	results := make([]posted, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = postAsync(ts.URL, testToken,
				`{"id":"c1","tenant":"acme","number":"447911123456","start":"2026-03-10T11:00:00Z","duration":120}`)
		}()
	}
	wg.Wait()
	rated := 0
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if s := results[i].Results[0].Status; s == rating.Rated {
			rated++
		} else if s != rating.Duplicate {
			t.Errorf("client %d: status %s", i, s)
		}
	}
	if rated != 1 {
		t.Errorf("%d of %d concurrent posts of one id were rated, want 1", rated, clients)
	}

	// The same id from two PBX nodes is two legs: the key is (node, id).
	var tokens []string
	for _, n := range []string{"pbx1", "pbx2"} {
		var node createdNode
		ts.admin("POST", "/api/v1/nodes", `{"name":"`+n+`"}`).want(201).decode(&node)
		tokens = append(tokens, node.Token)
	}
	for _, tok := range tokens {
		for range 2 {
			ts.post(tok, "/api/v1/cdrs", `{"id":"c1","tenant":"acme-pbx","number":"447911123456","start":"2026-03-10T12:00:00Z","duration":60}`, "").want(200)
		}
	}

	// 10 − 0.20 − 0.10 (a) − 0.10 (b1) − 0.20 (c1) − 2 × 0.10 (c1 from pbx1 and pbx2)
	ts.wantBalance("tenant", "acme", "9.20")
	ts.wantLedger("tenant", "acme",
		ledgerEntry{rating.Charge, "-0.10", "c1", "9.20"},
		ledgerEntry{rating.Charge, "-0.10", "c1", "9.30"},
		ledgerEntry{rating.Charge, "-0.20", "c1", "9.40"},
		ledgerEntry{rating.Charge, "-0.10", "b1", "9.60"},
		ledgerEntry{rating.Charge, "-0.10", "a2", "9.70"},
		ledgerEntry{rating.Charge, "-0.20", "a1", "9.80"},
		ledgerEntry{rating.Topup, "10", "", "10"})
	ts.wantBalance("provider", "carrierA", "99.88")
	if items := ts.admin("GET", "/api/v1/cdrs?limit=1000", "").want(200).items(); len(items) != 6 {
		t.Errorf("%d CDRs stored, want 6 (a1 a2 b1 c1, c1 from pbx1, c1 from pbx2)", len(items))
	}
}
