package pg_test

import (
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store/pg/pgtest"
)

// TestStatement reads a month from the ledger: the opening balance is the
// last one before the month, the calls are summed by kind and
// destination, a CDR of a revoked node shows without either, and the
// next month opens on this one's closing balance.
func TestStatement(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)}
	s := hOpen(t, url, c)
	tb := rating.NewTable("Sell Out", rating.Outbound, "")
	tb.InitialIncrement, tb.Increment = 1, 1
	hMust[rating.Table](t)(s.CreateRateTable(tb))
	amt := func(v string) rating.Amount {
		a, err := rating.ParseAmount(v)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	uk, mobile := rating.NewRow("44", amt("0.06")), rating.NewRow("447", amt("0.12"))
	uk.Destination, mobile.Destination = "UK", "UK Mobile"
	if err := s.ReplaceRates("Sell Out", []rating.Row{uk, mobile}); err != nil {
		t.Fatal(err)
	}
	hMust[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "acme", BillingMode: rating.Postpaid,
		Status: rating.Active, CreditLimit: hMoney(t, "100"), OutboundTable: "Sell Out"}))
	hMust[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", hMoney(t, "50"), rating.Topup, ""))

	c.set(hDay)
	for _, n := range []string{"pbx1", "pbx2"} {
		if _, _, err := s.CreateNode(n); err != nil {
			t.Fatal(err)
		}
	}
	call := func(id, number string, d int) rating.CDR {
		return rating.CDR{ID: id, Tenant: "acme", Kind: rating.Outbound, Number: number, Start: hDay, Duration: d}
	}
	hMust[rating.Posted](t)(s.PostCDRs("pbx1", []rating.CDR{call("a", "441", 60), call("b", "4471", 30)}))
	hMust[rating.Posted](t)(s.PostCDRs("", []rating.CDR{call("c", "442", 120)}))
	hMust[rating.Posted](t)(s.PostCDRs("pbx2", []rating.CDR{call("d", "443", 60)}))
	if err := s.DeleteNode("pbx2"); err != nil {
		t.Fatal(err)
	}
	hMust[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", hMoney(t, "-1"), rating.Adjustment, "goodwill reversed"))

	st := hMust[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2025, Month: time.March}))
	if st.Opening != hMoney(t, "50") || st.Closing != hMoney(t, "48.7") || st.Currency != "EUR" || st.Tenant != "Acme" ||
		!st.From.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("statement %+v", st)
	}
	if sec := st.Sections[0]; sec.Kind != "calls" || sec.Total != hMoney(t, "-0.3") || len(sec.Entries) != 4 || sec.Entries[0].Account != "Acme" {
		t.Fatalf("calls section %+v", sec)
	}
	if sec := st.Sections[4]; sec.Kind != "adjustments" || sec.Total != hMoney(t, "-1") {
		t.Fatalf("adjustments %+v", sec)
	}
	want := []rating.StatementCalls{
		{Kind: "outbound", Destination: "UK", Count: 2, BilledMinutes: 180, Cost: hMoney(t, "0.18")},
		{Kind: "outbound", Destination: "UK Mobile", Count: 1, BilledMinutes: 30, Cost: hMoney(t, "0.06")},
		{Kind: "", Destination: "", Count: 1, BilledMinutes: 0, Cost: hMoney(t, "0.06")}, // pbx2's, revoked
	}
	if len(st.Calls) != len(want) {
		t.Fatalf("calls %+v", st.Calls)
	}
	for i := range want {
		if st.Calls[i] != want[i] {
			t.Errorf("calls[%d] = %+v, want %+v", i, st.Calls[i], want[i])
		}
	}
	apr := hMust[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2025, Month: time.April}))
	if apr.Opening != st.Closing || apr.Closing != st.Closing || len(apr.Sections[0].Entries) != 0 {
		t.Fatalf("April %+v", apr)
	}
	jan := hMust[rating.Statement](t)(s.Statement("Acme", rating.Month{Year: 2025, Month: time.January}))
	if jan.Opening.Sign() != 0 || jan.Closing.Sign() != 0 {
		t.Fatalf("January %+v", jan)
	}
	if _, err := s.Statement("acme", rating.Month{Year: 2025, Month: time.March}); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("by accountcode: %v", err)
	}
}
