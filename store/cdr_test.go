package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// books is a small installation: one tenant with a table of each kind,
// and one carrier with outbound and inbound buy tables.
func books(t *testing.T) *Store {
	t.Helper()
	s := MustOpen(t)
	table := func(name string, k rating.Kind, rows ...rating.Row) {
		tb := rating.NewTable(name, k, "")
		tb.InitialIncrement, tb.Increment = 1, 1
		if _, err := s.CreateRateTable(tb); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceRates(name, rows); err != nil {
			t.Fatal(err)
		}
	}
	r := func(prefix, rate string) rating.Row { return rating.NewRow(prefix, amt(t, rate)) }
	table("Sell Out", rating.Outbound, r("44", "0.06"), r("447", "0.12"))
	table("Sell In", rating.Inbound, r("4420", "0.012"))
	table("Rooms", rating.Conference, r("8", "0.03"))
	table("Buy Out", rating.Outbound, r("44", "0.03"), r("447", "0.06"))
	table("Buy In", rating.Inbound, r("44", "0.006"))
	if _, err := s.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "acme", BillingMode: rating.Postpaid,
		CreditLimit: mustMoney(t, "100"), OutboundTable: "Sell Out", InboundTable: "Sell In", ConferenceTable: "Rooms"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier-a",
		OutboundTable: "Buy Out", InboundTable: "Buy In"}); err != nil {
		t.Fatal(err)
	}
	return s
}

var day = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) // the test clock's day

func cdr(id, tenant string, k rating.Kind, number, provider string, d int) rating.CDR {
	return rating.CDR{ID: id, Tenant: tenant, Kind: k, Number: number, Provider: provider, Start: day, Duration: d}
}

func balance(t *testing.T, s *Store, acct, name string) rating.Money {
	t.Helper()
	if acct == rating.TenantAccount {
		tn, err := s.Tenant(name)
		if err != nil {
			t.Fatal(err)
		}
		return tn.Balance
	}
	p, err := s.Provider(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Balance
}

func TestPostCDRsEachKind(t *testing.T) {
	s := books(t)
	got, err := s.PostCDRs("", []rating.CDR{
		cdr("out-1", "acme", rating.Outbound, "447911123456", "carrier-a", 90), // 0.18 sell, 0.09 buy
		cdr("in-1", "Acme", rating.Inbound, "442071234567", "Carrier", 300),    // 0.06 sell, 0.03 buy
		cdr("conf-1", "acme", rating.Conference, "8100", "", 600),              // 0.30
		cdr("conf-2", "acme", rating.Conference, "8100", "", 120),              // 0.06
		cdr("miss", "acme", rating.Outbound, "4479", "carrier-a", 0),           // unanswered: 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Rated != 5 || got.Unrated != 0 || got.Duplicate != 0 {
		t.Fatalf("posted %+v", got)
	}
	want := map[string]string{"out-1": "0.18", "in-1": "0.06", "conf-1": "0.3", "conf-2": "0.06", "miss": "0"}
	for _, c := range got.Results {
		if c.Cost != mustMoney(t, want[c.ID]) || c.Tenant != "Acme" {
			t.Errorf("%s: cost %s tenant %q, want %s", c.ID, c.Cost, c.Tenant, want[c.ID])
		}
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != mustMoney(t, "-0.6") {
		t.Errorf("tenant balance %s, want -0.60", b)
	}
	if b := balance(t, s, rating.ProviderAccount, "Carrier"); b != mustMoney(t, "-0.12") {
		t.Errorf("provider balance %s, want -0.12", b)
	}
	entries, _, err := s.Ledger(rating.TenantAccount, "Acme", time.Time{}, time.Time{}, "", 0)
	if err != nil || len(entries) != 4 { // the unanswered call costs nothing and writes nothing
		t.Fatalf("%d ledger entries, %v", len(entries), err)
	}
	if e := entries[0]; e.Kind != rating.Charge || e.Ref != "conf-2" || e.Amount != mustMoney(t, "-0.06") || e.Balance != mustMoney(t, "-0.6") {
		t.Errorf("newest entry %+v", e)
	}
	provs, total, err := s.ProviderDashboard(day, day)
	if err != nil {
		t.Fatal(err)
	}
	p := provs[0]
	if p.Attempts != 3 || p.Answered != 2 || p.Revenue != mustMoney(t, "0.24") || p.Cost != mustMoney(t, "0.12") ||
		p.Margin != mustMoney(t, "0.12") || *p.MarginPct != "50.00" || *p.ACDSeconds != "195" || p.Minutes != "6.50" {
		t.Errorf("provider figures %+v", p)
	}
	if total.Attempts != 3 || total.Balance != mustMoney(t, "-0.12") {
		t.Errorf("totals %+v", total)
	}
	tf, err := s.TenantDashboard()
	if err != nil {
		t.Fatal(err)
	}
	if f := tf[0]; f.SpendToday != mustMoney(t, "0.6") || f.CallsToday != 5 || f.Available != mustMoney(t, "99.4") || f.Exposure != mustMoney(t, "0.6") {
		t.Errorf("tenant figures %+v", f)
	}
}

func TestPostCDRsIdempotent(t *testing.T) {
	s := books(t)
	batch := []rating.CDR{cdr("a", "acme", rating.Outbound, "4420", "", 60), cdr("a", "acme", rating.Outbound, "4420", "", 600)}
	got, err := s.PostCDRs("", batch)
	if err != nil || got.Rated != 1 || got.Duplicate != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	again, err := s.PostCDRs("", batch)
	if err != nil || again.Duplicate != 2 {
		t.Fatalf("again %+v %v", again, err)
	}
	// Another node's "a" is another leg.
	other, err := s.PostCDRs("pbx2", batch[:1])
	if err != nil || other.Rated != 1 {
		t.Fatalf("other node %+v %v", other, err)
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != mustMoney(t, "-0.12") {
		t.Errorf("balance %s, want -0.12", b)
	}
}

func TestConcurrentPostsOfOneIDChargeOnce(t *testing.T) {
	s := books(t)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.PostCDRs("", []rating.CDR{cdr("same", "acme", rating.Outbound, "4420", "carrier-a", 60)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != mustMoney(t, "-0.06") {
		t.Errorf("balance %s, want one charge of 0.06", b)
	}
}

func TestMalformedRecordRejectsTheBatch(t *testing.T) {
	for _, bad := range []rating.CDR{
		{ID: "", Tenant: "acme", Start: day},
		{ID: "neg", Tenant: "acme", Start: day, Duration: -1},
		{ID: "nostart", Tenant: "acme"},
		{ID: "prov", Tenant: "acme", Start: day, Provider: "nobody"},
	} {
		s := books(t)
		batch := make([]rating.CDR, 1000)
		for i := range batch {
			batch[i] = cdr(fmt.Sprint(i), "acme", rating.Outbound, "4420", "carrier-a", 60)
		}
		batch[998] = bad
		_, err := s.PostCDRs("", batch)
		if rating.ErrorCode(err) != rating.EInvalid {
			t.Fatalf("%+v: error %v", bad, err)
		}
		list, _, _ := s.CDRs(rating.CDRFilter{}, "", 10)
		if len(list) != 0 || balance(t, s, rating.TenantAccount, "Acme").Sign() != 0 {
			t.Errorf("%+v: something was stored", bad)
		}
	}
}

func TestUnratedThenRerate(t *testing.T) {
	s := books(t)
	got, err := s.PostCDRs("", []rating.CDR{
		cdr("fr", "acme", rating.Outbound, "33612345678", "carrier-a", 60),
		cdr("ghost", "nobody", rating.Outbound, "4420", "", 60),
		cdr("junk", "acme", rating.Outbound, "44-x", "", 60),
	})
	if err != nil || got.Unrated != 3 {
		t.Fatalf("%+v %v", got, err)
	}
	reasons := map[string]string{}
	for _, c := range got.Results {
		reasons[c.ID] = c.Reason
	}
	if reasons["fr"] != rating.UnratedNoRate || reasons["ghost"] != rating.UnratedUnknownTenant || reasons["junk"] != rating.UnratedInvalidNumber {
		t.Errorf("reasons %v", reasons)
	}
	if _, _, err := s.MergeRates("Sell Out", []rating.Row{rating.NewRow("33", amt(t, "0.10"))}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.MergeRates("Buy Out", []rating.Row{rating.NewRow("33", amt(t, "0.04"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTenant(rating.Tenant{Name: "nobody", OutboundTable: "Sell Out"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Rerate(rating.CDRFilter{Status: rating.Unrated})
	if err != nil || res.Rated != 2 || res.Unchanged != 1 {
		t.Fatalf("rerate %+v %v", res, err)
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != mustMoney(t, "-0.1") {
		t.Errorf("Acme %s, want -0.10", b)
	}
	if b := balance(t, s, rating.TenantAccount, "nobody"); b != mustMoney(t, "-0.06") {
		t.Errorf("nobody %s, want -0.06", b)
	}
	if b := balance(t, s, rating.ProviderAccount, "Carrier"); b != mustMoney(t, "-0.04") {
		t.Errorf("Carrier %s, want -0.04", b)
	}
	again, err := s.Rerate(rating.CDRFilter{Status: rating.Unrated})
	if err != nil || again.Rated != 0 || again.Corrected != 0 {
		t.Fatalf("second rerate %+v %v", again, err)
	}
	if err := s.DeleteTenant("nobody"); rating.ErrorCode(err) != rating.EConflict {
		t.Errorf("delete a tenant with CDRs: %v", err)
	}
}

func TestRerateCorrects(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "4420", "carrier-a", 120)}); err != nil {
		t.Fatal(err)
	}
	// 0.06 → 0.09 per minute: a correction of 0.06 for two minutes.
	if _, _, err := s.MergeRates("Sell Out", []rating.Row{rating.NewRow("44", amt(t, "0.09"))}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Rerate(rating.CDRFilter{From: day.Add(-time.Hour), To: day.Add(time.Hour), Tenant: "Acme"})
	if err != nil || res.Corrected != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	entries, _, _ := s.Ledger(rating.TenantAccount, "Acme", time.Time{}, time.Time{}, "", 0)
	if len(entries) != 2 || entries[0].Kind != rating.Correction || entries[0].Amount != mustMoney(t, "-0.06") || entries[0].Balance != mustMoney(t, "-0.18") {
		t.Fatalf("entries %+v", entries)
	}
	if res, _ := s.Rerate(rating.CDRFilter{From: day.Add(-time.Hour), To: day.Add(time.Hour)}); res.Corrected != 0 || res.Unchanged != 1 {
		t.Errorf("second rerate %+v", res)
	}
	tf, _ := s.TenantDashboard()
	if tf[0].SpendToday != mustMoney(t, "0.18") {
		t.Errorf("spend today %s", tf[0].SpendToday)
	}
}

// A rate that no longer exists keeps the CDR's price on both sides
// (DOMAIN.md "Re-rating"): removing the carrier's buy row refunds nothing,
// as removing the tenant's sell row refunds nothing.
func TestRerateKeepsPricesOfRemovedRows(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "4420", "carrier-a", 120)}); err != nil {
		t.Fatal(err)
	}
	sell, buy := balance(t, s, rating.TenantAccount, "Acme"), balance(t, s, rating.ProviderAccount, "Carrier")
	if sell != mustMoney(t, "-0.12") || buy != mustMoney(t, "-0.06") {
		t.Fatalf("after the call: tenant %s, provider %s", sell, buy)
	}
	all := rating.CDRFilter{From: day.Add(-time.Hour), To: day.Add(time.Hour)}
	// The buy table loses 44; only 447 is left.
	if err := s.ReplaceRates("Buy Out", []rating.Row{rating.NewRow("447", amt(t, "0.06"))}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Rerate(all); err != nil || res.Corrected != 0 || res.Unchanged != 1 {
		t.Fatalf("rerate without the buy row: %+v %v", res, err)
	}
	// Then the sell table loses 44 too.
	if err := s.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("447", amt(t, "0.12"))}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Rerate(all); err != nil || res.Corrected != 0 || res.Unchanged != 1 {
		t.Fatalf("rerate without either row: %+v %v", res, err)
	}
	if got := balance(t, s, rating.TenantAccount, "Acme"); got != sell {
		t.Errorf("tenant balance %s, want %s kept", got, sell)
	}
	if got := balance(t, s, rating.ProviderAccount, "Carrier"); got != buy {
		t.Errorf("provider balance %s, want %s kept: a removed buy row refunds nothing", got, buy)
	}
	page, _, err := s.CDRs(rating.CDRFilter{}, "", 10)
	if err != nil || len(page) != 1 || page[0].Cost != mustMoney(t, "0.12") || page[0].ProviderCost != mustMoney(t, "0.06") {
		t.Errorf("the CDR keeps its prices: %+v %v", page, err)
	}
}

func TestCDRListFilters(t *testing.T) {
	s := books(t)
	var batch []rating.CDR
	for i := 0; i < 25; i++ {
		c := cdr(fmt.Sprint("id", i), "acme", rating.Outbound, "4420", "carrier-a", i)
		c.Start = day.Add(time.Duration(i) * time.Hour)
		if i%5 == 0 {
			c.Number = "99"
		}
		batch = append(batch, c)
	}
	if _, err := s.PostCDRs("", batch); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.CDRs(rating.CDRFilter{Status: rating.Rated}, "", 10)
	if err != nil || len(page) != 10 || page[0].ID != "id24" || next == "" || page[0].Tenant != "Acme" || page[0].Provider != "Carrier" {
		t.Fatalf("first page %d %q %v %+v", len(page), next, err, page[0])
	}
	page2, next2, _ := s.CDRs(rating.CDRFilter{Status: rating.Rated}, next, 10)
	if len(page2) != 10 || page2[0].ID != "id12" || next2 != "" {
		t.Fatalf("second page starts %s", page2[0].ID)
	}
	unrated, _, _ := s.CDRs(rating.CDRFilter{Status: rating.Unrated}, "", 100)
	if len(unrated) != 5 {
		t.Errorf("%d unrated", len(unrated))
	}
	ranged, _, _ := s.CDRs(rating.CDRFilter{From: day.Add(2 * time.Hour), To: day.Add(4 * time.Hour)}, "", 100)
	if len(ranged) != 2 {
		t.Errorf("%d in range", len(ranged))
	}
	// Bounds beyond what Unix nanoseconds hold select what they say.
	year := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, f := range []struct {
		from, to time.Time
		want     int
	}{{year(1000), year(9999), 25}, {year(1000), time.Time{}, 25}, {time.Time{}, year(2300), 25},
		{year(2300), time.Time{}, 0}, {time.Time{}, year(1000), 0}, {year(1000), day.Add(2 * time.Hour), 2}} {
		if got, _, err := s.CDRs(rating.CDRFilter{From: f.from, To: f.to}, "", 100); err != nil || len(got) != f.want {
			t.Errorf("from %s to %s: %d, want %d; %v", f.from, f.to, len(got), f.want, err)
		}
	}
	if _, _, err := s.CDRs(rating.CDRFilter{Tenant: "nope"}, "", 1); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("unknown tenant filter: %v", err)
	}
}

func TestFollowPosCommitsWithCDRs(t *testing.T) {
	s := books(t)
	pos := FollowPos{Path: "/var/log/asterisk/cdr-csv/Master.csv", Inode: 7, Offset: 120, Line: 1}
	if _, err := s.PostFollowed("", []rating.CDR{cdr("f1", "acme", rating.Outbound, "4420", "", 60)}, pos); err != nil {
		t.Fatal(err)
	}
	got, err := s.FollowPos(pos.Path)
	if err != nil || got != pos {
		t.Errorf("pos %+v %v", got, err)
	}
	if _, err := s.PostFollowed("", []rating.CDR{{ID: "bad"}}, FollowPos{Path: pos.Path, Offset: 999}); err == nil {
		t.Fatal("malformed accepted")
	}
	if got, _ := s.FollowPos(pos.Path); got.Offset != 120 {
		t.Errorf("a failed batch moved the position to %d", got.Offset)
	}
}

func TestCheckFindsTampering(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "4420", "carrier-a", 60)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := getTenant(tx, "Acme")
	rec.Balance = rec.Balance.Add(rating.MoneyOf(1))
	_ = putTenant(tx, &rec)
	_ = tx.Commit()
	err = s.Check()
	if err == nil || !strings.Contains(err.Error(), `tenant "Acme": balance`) {
		t.Errorf("check: %v", err)
	}
	tx, _ = s.db.Begin(true)
	rec.Balance = rec.Balance.Sub(rating.MoneyOf(1))
	_ = putTenant(tx, &rec)
	_ = tx.Commit()
}

// amt parses a test price.
func amt(tb testing.TB, s string) rating.Amount {
	tb.Helper()
	a, err := rating.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustMoney parses a test amount of money.
func mustMoney(tb testing.TB, s string) rating.Money {
	tb.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
