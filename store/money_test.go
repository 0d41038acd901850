package store

import (
	"testing"
	"time"

	"pbxbill/rating"
)

// idrBooks is an installation that bills in a currency with small units:
// a sell table at 10^6 a minute and a buy table at 6·10^5, both whole
// units and 60/60, a prepaid tenant topped up with 10^15 and a carrier.
func idrBooks(t *testing.T) *Store {
	t.Helper()
	c := &testClock{t: epoch, step: time.Second}
	s := MustOpenAt(t, t.TempDir()+"/pbxbill.db", Options{Now: c.Now, Currency: "IDR"})
	for _, tb := range []struct{ name, rate string }{{"Sell", "1000000"}, {"Buy", "600000"}} {
		table := rating.NewTable(tb.name, rating.Outbound, "")
		table.Decimals = 0
		must[rating.Table](t)(s.CreateRateTable(table))
		if err := s.ReplaceRates(tb.name, []rating.Row{rating.NewRow("62", amt(t, tb.rate))}); err != nil {
			t.Fatal(err)
		}
	}
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Jakarta", OutboundTable: "Sell"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Telkom", OutboundTable: "Buy"}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Jakarta", mustMoney(t, "1000000000000000"), rating.Topup, "opening"))
	return s
}

// DOMAIN.md "Magnitudes": costs, balances, ledger entries and roll-ups
// hold 10^15 and more exactly, through the store.
func TestLargeAmountsThroughTheStore(t *testing.T) {
	s := idrBooks(t)
	at := epoch.Add(-time.Hour)
	got, err := s.PostCDRs("", []rating.CDR{
		{ID: "three-hours", Tenant: "Jakarta", Number: "6221555", Provider: "Telkom", Start: at, Duration: 10800},
		{ID: "a-week", Tenant: "Jakarta", Number: "6221555", Provider: "Telkom", Start: at, Duration: rating.MaxCDRDuration},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ cost, buy string }{{"180000000", "108000000"}, {"10080000000", "6048000000"}} {
		if r := got.Results[i]; r.Status != rating.Rated || r.Cost.String() != want.cost || r.ProviderCost.String() != want.buy {
			t.Errorf("result %d: %s %s / %s, want %s / %s", i, r.Status, r.Cost, r.ProviderCost, want.cost, want.buy)
		}
	}
	// 10^15 − 1.8·10^8 − 1.008·10^10
	if b := balance(t, s, rating.TenantAccount, "Jakarta"); b.String() != "999989740000000" {
		t.Errorf("tenant balance %s", b)
	}
	if b := balance(t, s, rating.ProviderAccount, "Telkom"); b.String() != "-6156000000" {
		t.Errorf("provider balance %s", b)
	}
	es := must[[]rating.Entry](t)(func() ([]rating.Entry, error) {
		es, _, err := s.Ledger(rating.TenantAccount, "Jakarta", time.Time{}, time.Time{}, "", 10)
		return es, err
	}())
	if len(es) != 3 || es[0].Amount.String() != "-10080000000" || es[0].Balance.String() != "999989740000000" ||
		es[1].Amount.String() != "-180000000" || es[1].Balance.String() != "999999820000000" ||
		es[2].Amount.String() != "1000000000000000" {
		t.Errorf("ledger %+v", es)
	}
	figs := must[[]rating.TenantFigures](t)(s.TenantDashboard())
	if f := figs[0]; f.SpendToday.String() != "10260000000" || f.Available.String() != "999989740000000" {
		t.Errorf("tenant figures %+v", f)
	}
	ps, total, err := s.ProviderDashboard(at, at)
	if err != nil {
		t.Fatal(err)
	}
	if p := ps[0]; p.Cost.String() != "6156000000" || p.Revenue.String() != "10260000000" || p.Margin.String() != "4104000000" ||
		total.Revenue != p.Revenue {
		t.Errorf("provider figures %+v, totals %+v", p, total)
	}

	// Down to −10^15 and beyond, exactly: an adjustment, then a week's call.
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Jakarta", mustMoney(t, "-1999989740000000"), rating.Adjustment, "move"))
	if _, err := s.PostCDRs("", []rating.CDR{{ID: "deep", Tenant: "Jakarta", Number: "6221555", Start: at, Duration: 10800}}); err != nil {
		t.Fatal(err)
	}
	if b := balance(t, s, rating.TenantAccount, "Jakarta"); b.String() != "-1000000180000000" {
		t.Errorf("balance below −10^15: %s", b)
	}
	s = reopen(t, s)
	if b := balance(t, s, rating.TenantAccount, "Jakarta"); b.String() != "-1000000180000000" {
		t.Errorf("balance after reopening: %s", b)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// A credit limit and a threshold past 10^8 are kept as given.
func TestLargeLimits(t *testing.T) {
	s := idrBooks(t)
	tn, err := s.UpdateTenant("Jakarta", func(tn *rating.Tenant) error {
		tn.BillingMode, tn.CreditLimit, tn.LowBalanceThreshold = rating.Postpaid, mustMoney(t, "500000000000000"), mustMoney(t, "2000000000000000")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Available().String() != "1500000000000000" || tn.State() != rating.StateLow {
		t.Errorf("available %s, state %s", tn.Available(), tn.State())
	}
}

// A batch that would take a balance beyond ±MaxMoney is refused whole,
// naming the CDR, the tenant and the balance, and stores nothing.
func TestBalanceBeyondTheRange(t *testing.T) {
	s := idrBooks(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Deep", OutboundTable: "Sell"}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Deep", mustMoney(t, "-999999999900000000"), rating.Adjustment, "deep"))
	_, err := s.PostCDRs("", []rating.CDR{
		{ID: "fine", Tenant: "Jakarta", Number: "6221555", Start: epoch, Duration: 60},
		{ID: "too-deep", Tenant: "Deep", Number: "6221555", Start: epoch, Duration: 10800},
	})
	wantCode(t, err, rating.EInvalid, `"too-deep"`, `"Deep"`, "-1000000000080000000", "1000000000000000000")
	if list, _, _ := s.CDRs(rating.CDRFilter{}, "", 10); len(list) != 0 {
		t.Errorf("stored %+v", list)
	}
	if b := balance(t, s, rating.TenantAccount, "Jakarta"); b.String() != "1000000000000000" {
		t.Errorf("Jakarta's balance %s", b)
	}
	if b := balance(t, s, rating.TenantAccount, "Deep"); b.String() != "-999999999900000000" {
		t.Errorf("Deep's balance %s", b)
	}
	// A top-up that would pass MaxMoney is refused the same way.
	_, err = s.Credit(rating.TenantAccount, "Jakarta", rating.MaxMoney, rating.Topup, "")
	wantCode(t, err, rating.EInvalid, "balance", `"Jakarta"`, "1001000000000000000")
}

// A day's roll-up is kept within ±MaxMoney like a balance: a batch that
// would pass it is refused, and nothing is stored.
func TestRollupBeyondTheRange(t *testing.T) {
	c := &testClock{t: epoch, step: time.Second}
	s, err := Open(t.TempDir()+"/pbxbill.db", Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must[rating.Table](t)(s.CreateRateTable(rating.NewTable("Sell", rating.Outbound, "")))
	if err := s.ReplaceRates("Sell", []rating.Row{rating.NewRow("62", amt(t, "1000"))}); err != nil {
		t.Fatal(err)
	}
	tn := must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "T", OutboundTable: "Sell"}))
	// A roll-up at the edge, written by hand: no real day gets there.
	err = s.update(func(tx *txn) error {
		rec, err := getTenant(tx.Tx, tn.Name)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketRollups).Put(rollupKey(tenantAcct, rec.ID, dayOf(epoch, s.loc)),
			encodeUsage(&rating.Usage{Attempts: 1, Sell: rating.MaxMoney}))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PostCDRs("", []rating.CDR{{ID: "x", Tenant: "T", Number: "6221", Start: epoch, Duration: 60},
		{ID: "y", Tenant: "T", Number: "6221", Start: epoch, Duration: 60}})
	wantCode(t, err, rating.EInvalid, `roll-up of tenant "T"`, "beyond")
	if list, _, _ := s.CDRs(rating.CDRFilter{}, "", 10); len(list) != 0 {
		t.Errorf("stored %+v", list)
	}
	if b := balance(t, s, rating.TenantAccount, "T"); b.Sign() != 0 {
		t.Errorf("balance %s", b)
	}
}
