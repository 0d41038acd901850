package storetest

import (
	"testing"
	"time"

	"pbxbill/rating"
)

// Tenants: names and accountcodes are unique, an accountcode finds its
// tenant, a rename keeps the accountcode and the balance, an update cannot
// touch the balance, and a tenant with CDRs can only be suspended.
func testTenants(t *testing.T, open Open) {
	b, _ := books(t, open)
	if _, err := b.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "other", BillingMode: rating.Prepaid, Status: rating.Active}); err == nil {
		t.Fatal("a second tenant named Acme was created")
	} else {
		wantCode(t, err, rating.EConflict)
	}
	_, err := b.CreateTenant(rating.Tenant{Name: "Other", AccountCode: "acme", BillingMode: rating.Prepaid, Status: rating.Active})
	wantCode(t, err, rating.EConflict)
	_, err = b.CreateTenant(rating.Tenant{Name: "Bad", AccountCode: "bad", BillingMode: "sometimes", Status: rating.Active})
	wantCode(t, err, rating.EInvalid)
	_, err = b.CreateTenant(rating.Tenant{Name: "Bad", AccountCode: "bad", BillingMode: rating.Prepaid, Status: rating.Active, OutboundTable: "nonesuch"})
	wantCode(t, err, rating.EInvalid)

	if got := must[rating.Tenant](t)(b.TenantByName("acme")); got.Name != "Acme" {
		t.Errorf("by accountcode: %q", got.Name)
	}
	if _, err := b.Credit(rating.TenantAccount, "Acme", mustMoney(t, "5"), rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	renamed := must[rating.Tenant](t)(b.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.Name, tn.Balance = "Acme Ltd", mustMoney(t, "1000")
		return nil
	}))
	if renamed.Name != "Acme Ltd" || renamed.AccountCode != "acme" || renamed.Balance != mustMoney(t, "5") {
		t.Errorf("renamed: %+v; the accountcode and the balance stay", renamed)
	}
	_, err = b.Tenant("Acme")
	wantCode(t, err, rating.ENotFound)
	if sum, n := ledgerSum(t, b, rating.TenantAccount, "Acme Ltd"); n != 1 || sum != mustMoney(t, "5") {
		t.Errorf("the ledger follows the rename: %d entries, sum %s", n, sum)
	}
	list := must[[]rating.Tenant](t)(b.Tenants())
	if len(list) != 1 || list[0].Name != "Acme Ltd" {
		t.Errorf("tenants: %+v", list)
	}

	if _, err := b.PostCDRs("", []rating.CDR{cdr("c1", "4420", 60)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.DeleteTenant("Acme Ltd"), rating.EConflict)
	must[rating.Tenant](t)(b.CreateTenant(rating.Tenant{Name: "Gone", AccountCode: "gone", BillingMode: rating.Prepaid, Status: rating.Active}))
	if err := b.DeleteTenant("Gone"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.DeleteTenant("Gone"), rating.ENotFound)
	check(t, b)
}

// Providers: unique names, trunks matched in CDRs, no delete with CDRs.
func testProviders(t *testing.T, open Open) {
	b, _ := books(t, open)
	_, err := b.CreateProvider(rating.Provider{Name: "Carrier", Status: rating.Active})
	wantCode(t, err, rating.EConflict)
	p := must[rating.Provider](t)(b.UpdateProvider("Carrier", func(p *rating.Provider) error {
		p.Status = rating.Suspended
		return nil
	}))
	if p.Status != rating.Suspended || p.Trunk != "carrier-a" {
		t.Errorf("updated: %+v", p)
	}
	// A suspended provider's CDRs are still priced (DOMAIN.md).
	res := must[Posted](t)(b.PostCDRs("", []rating.CDR{cdr("c1", "4420", 60)}))
	if res.Results[0].ProviderCost != mustMoney(t, "0.03") || res.Results[0].Provider != "Carrier" {
		t.Errorf("a suspended carrier's CDR: %+v", res.Results[0])
	}
	wantCode(t, b.DeleteProvider("Carrier"), rating.EConflict)
	must[rating.Provider](t)(b.CreateProvider(rating.Provider{Name: "Spare", Status: rating.Active}))
	if err := b.DeleteProvider("Spare"); err != nil {
		t.Fatal(err)
	}
	if ps := must[[]rating.Provider](t)(b.Providers()); len(ps) != 1 {
		t.Errorf("providers: %+v", ps)
	}
	check(t, b)
}

// Rate tables: rows are replaced or merged as one, listed in prefix
// order, and what is stored is what the live resolution answers at once.
// A table in use cannot be deleted.
func testRateTables(t *testing.T, open Open) {
	b, _ := books(t, open)
	at := Day
	rateOf := func(number string) string {
		t.Helper()
		res := b.Rater().ResolveIn("Sell Out", number, at)
		if !res.Rated() {
			return res.Reason
		}
		return res.Rate.Rate.String()
	}
	if got := rateOf("4471"); got != "0.12" {
		t.Fatalf("447 before: %s", got)
	}
	added, replaced, err := b.MergeRates("Sell Out", []rating.Row{rating.NewRow("447", amt(t, "0.11")), rating.NewRow("33", amt(t, "0.02"))})
	if err != nil || added != 1 || replaced != 1 {
		t.Fatalf("merge: %d added, %d replaced, %v", added, replaced, err)
	}
	if got := rateOf("4471"); got != "0.11" {
		t.Errorf("447 after the merge: %s", got)
	}
	rows, next, err := b.Rates("Sell Out", "", "", 2)
	if err != nil || len(rows) != 2 || rows[0].Prefix != "33" || rows[1].Prefix != "44" || next == "" {
		t.Fatalf("first page: %+v %q %v", rows, next, err)
	}
	rows, next, err = b.Rates("Sell Out", "", next, 2)
	if err != nil || len(rows) != 1 || rows[0].Prefix != "447" || next != "" {
		t.Fatalf("second page: %+v %q %v", rows, next, err)
	}
	if n := must[rating.Table](t)(b.RateTable("Sell Out")).Rows; n != 3 {
		t.Errorf("row count %d, want 3", n)
	}
	// A bad replace changes nothing.
	bad := rating.NewRow("44", amt(t, "0.05"))
	bad.Increment = 0
	wantCode(t, b.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("1", amt(t, "1")), bad}), rating.EInvalid)
	if got := rateOf("4471"); got != "0.11" {
		t.Errorf("447 after a refused replace: %s", got)
	}
	if err := b.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("44", amt(t, "0.07"))}); err != nil {
		t.Fatal(err)
	}
	if got := rateOf("4471"); got != "0.07" {
		t.Errorf("447 after the replace: %s", got)
	}
	if got := rateOf("33"); got != rating.ReasonUnrated {
		t.Errorf("33 after the replace: %s", got)
	}
	u := must[rating.Table](t)(b.UpdateRateTable("Sell Out", func(tb *rating.Table) error {
		tb.Decimals = 2
		return nil
	}))
	if u.Decimals != 2 || b.Rater().ResolveIn("Sell Out", "44", at).Rate.Decimals != 2 {
		t.Errorf("the table's settings reach the live rate: %+v", u)
	}
	wantCode(t, b.DeleteRateTable("Sell Out"), rating.EConflict)
	must[rating.Table](t)(b.CreateRateTable(rating.NewTable("Unused", rating.Conference, "")))
	if err := b.DeleteRateTable("Unused"); err != nil {
		t.Fatal(err)
	}
	if res := b.Rater().ResolveIn("Unused", "1", at); res.Reason != rating.ReasonNoTable {
		t.Errorf("a deleted table still resolves: %+v", res)
	}
	if ts := must[[]rating.Table](t)(b.RateTables(rating.Outbound)); len(ts) != 2 || ts[0].Name != "Buy Out" {
		t.Errorf("outbound tables: %+v", ts)
	}
	check(t, b)
}

// Nodes: a token is shown once and finds its node until it is revoked.
func testNodes(t *testing.T, open Open) {
	b, _ := books(t, open)
	n, token, err := b.CreateNode("pbx1")
	if err != nil || n.Name != "pbx1" || len(token) < 20 {
		t.Fatalf("create: %+v %q %v", n, token, err)
	}
	_, _, err = b.CreateNode("pbx1")
	wantCode(t, err, rating.EConflict)
	if got := must[rating.Node](t)(b.NodeByToken(token)); got.Name != "pbx1" {
		t.Errorf("by token: %+v", got)
	}
	_, err = b.NodeByToken(token + "x")
	wantCode(t, err, rating.EUnauthorized)
	if err := b.DeleteNode("pbx1"); err != nil {
		t.Fatal(err)
	}
	_, err = b.NodeByToken(token)
	wantCode(t, err, rating.EUnauthorized)
	if ns := must[[]rating.Node](t)(b.Nodes()); len(ns) != 0 {
		t.Errorf("nodes after revoking: %+v", ns)
	}
}

// Time is a test's clock, for suites that move it.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
