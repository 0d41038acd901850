package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// Posted and the filter are the store's shapes of a batch's outcome.
type Posted = rating.Posted

// The idempotency key is (node, id): a repeat is a duplicate and charges
// nothing, even with other fields; the same id from another node is
// another call.
func testCDRIdempotency(t *testing.T, open Open) {
	b, _ := books(t, open)
	first := must[Posted](t)(b.PostCDRs("", []rating.CDR{cdr("c1", "4420", 60), cdr("c2", "99", 60)}))
	if first.Rated != 1 || first.Unrated != 1 || first.Results[0].Cost != mustMoney(t, "0.06") ||
		first.Results[1].Reason != rating.UnratedNoRate {
		t.Fatalf("first post: %+v", first)
	}
	again := cdr("c1", "4471", 600) // other fields: still a duplicate
	second := must[Posted](t)(b.PostCDRs("", []rating.CDR{again}))
	if second.Duplicate != 1 || second.Results[0].Status != rating.Duplicate {
		t.Fatalf("repeat: %+v", second)
	}
	other := must[Posted](t)(b.PostCDRs("pbx2", []rating.CDR{cdr("c1", "4420", 60)}))
	if other.Rated != 1 {
		t.Fatalf("the same id from another node: %+v", other)
	}
	sell, buy := balances(t, b)
	if sell != mustMoney(t, "-0.12") || buy != mustMoney(t, "-0.06") {
		t.Errorf("balances %s and %s, want two calls charged", sell, buy)
	}
	list, _, err := b.CDRs(rating.CDRFilter{}, "", 10)
	if err != nil || len(list) != 3 {
		t.Errorf("stored CDRs: %d %v", len(list), err)
	}
	check(t, b)
}

// Concurrent posts of one id, as a PBX retrying from several channels,
// charge it once.
func testConcurrentDuplicates(t *testing.T, open Open) {
	b, _ := books(t, open)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			batch := []rating.CDR{cdr("same", "4420", 60)}
			if i%2 == 1 {
				batch = append(batch, cdr(fmt.Sprint("own", i), "4420", 60))
			}
			if _, err := b.PostCDRs("", batch); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if sell, _ := balances(t, b); sell != mustMoney(t, "-0.54") { // 1 + 8 calls of 0.06
		t.Errorf("balance %s, want -0.54: the shared id charged once", sell)
	}
	check(t, b)
}

// A malformed record rejects its whole batch: nothing is stored, nothing
// charged.
func testMalformedBatch(t *testing.T, open Open) {
	b, _ := books(t, open)
	bad := cdr("", "4420", 60)
	_, err := b.PostCDRs("", []rating.CDR{cdr("ok", "4420", 60), bad})
	wantCode(t, err, rating.EInvalid)
	unknown := cdr("p", "4420", 60)
	unknown.Provider = "nobody"
	_, err = b.PostCDRs("", []rating.CDR{cdr("ok", "4420", 60), unknown})
	wantCode(t, err, rating.EInvalid)
	// A start outside 2000-01-01 to 2200-01-01 UTC: 2300 once wrapped
	// round to 1715 where a start was kept as Unix nanoseconds.
	for _, start := range []time.Time{rating.MinStart().Add(-time.Nanosecond), rating.MaxStart(),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		late := cdr("late", "4420", 60)
		late.Start = start
		_, err = b.PostCDRs("", []rating.CDR{cdr("ok", "4420", 60), late})
		wantCode(t, err, rating.EInvalid)
	}
	if list, _, _ := b.CDRs(rating.CDRFilter{}, "", 10); len(list) != 0 {
		t.Errorf("a refused batch stored %d CDRs", len(list))
	}
	if sell, buy := balances(t, b); sell != mustMoney(t, "0") || buy != mustMoney(t, "0") {
		t.Errorf("a refused batch charged %s and %s", sell, buy)
	}
	check(t, b)
}

// Every balance is its ledger's sum, and each entry carries the balance
// after it, through top-ups, adjustments, charges and corrections. A bad
// credit changes nothing.
func testLedgerIsBalance(t *testing.T, open Open) {
	b, _ := books(t, open)
	for _, c := range []struct {
		amount, kind, note string
	}{{"25", rating.Topup, ""}, {"-2.5", rating.Adjustment, "goodwill back"}, {"0.00000001", rating.Topup, ""}} {
		if _, err := b.Credit(rating.TenantAccount, "Acme", mustMoney(t, c.amount), c.kind, c.note); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		amount, kind, note string
	}{{"-1", rating.Topup, ""}, {"1", rating.Adjustment, ""}, {"1", "gift", ""}} {
		_, err := b.Credit(rating.TenantAccount, "Acme", mustMoney(t, c.amount), c.kind, c.note)
		wantCode(t, err, rating.EInvalid)
	}
	_, err := b.Credit(rating.TenantAccount, "Nobody", mustMoney(t, "1"), rating.Topup, "")
	wantCode(t, err, rating.ENotFound)
	if _, err := b.Credit(rating.ProviderAccount, "Carrier", mustMoney(t, "100"), rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PostCDRs("", []rating.CDR{cdr("c1", "4471", 61), cdr("c2", "4420", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.MergeRates("Sell Out", []rating.Row{rating.NewRow("447", amt(t, "0.18"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rerate(rating.CDRFilter{From: Day.Add(-time.Hour), To: Day.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sell, buy := balances(t, b)
	// 25 − 2.5 + 0.00000001 − 61 s at 0.18 (0.183) = 22.31700001
	if sum, n := ledgerSum(t, b, rating.TenantAccount, "Acme"); sum != sell || n != 5 || sell != mustMoney(t, "22.31700001") {
		t.Errorf("tenant: ledger sum %s over %d entries, balance %s, want 22.31700001 over 5", sum, n, sell)
	}
	if sum, n := ledgerSum(t, b, rating.ProviderAccount, "Carrier"); sum != buy || n != 2 || buy != mustMoney(t, "99.939") {
		t.Errorf("provider: ledger sum %s over %d entries, balance %s, want 99.939 over 2", sum, n, buy)
	}
	check(t, b)
}

// Re-rating prices unrated CDRs once their rate exists, corrects changed
// prices, and changes nothing when run again.
func testRerateIdempotent(t *testing.T, open Open) {
	b, _ := books(t, open)
	if _, err := b.PostCDRs("", []rating.CDR{cdr("c1", "33", 60), cdr("c2", "4420", 60)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.MergeRates("Sell Out", []rating.Row{rating.NewRow("33", amt(t, "0.02")), rating.NewRow("44", amt(t, "0.05"))}); err != nil {
		t.Fatal(err)
	}
	all := rating.CDRFilter{From: Day.Add(-time.Hour), To: Day.Add(time.Hour)}
	first := must[rating.Rerated](t)(b.Rerate(all))
	if first.Rated != 1 || first.Corrected != 1 {
		t.Fatalf("first re-rate: %+v", first)
	}
	balance := must[rating.Tenant](t)(b.Tenant("Acme")).Balance
	for i := 0; i < 2; i++ {
		again := must[rating.Rerated](t)(b.Rerate(all))
		if again.Rated != 0 || again.Corrected != 0 || again.Unchanged != 2 {
			t.Errorf("re-rate again: %+v", again)
		}
	}
	if got := must[rating.Tenant](t)(b.Tenant("Acme")).Balance; got != balance || got != mustMoney(t, "-0.07") {
		t.Errorf("balance %s after re-rating again, want -0.07 unchanged", got)
	}
	check(t, b)
}

// The dashboards read the roll-ups: spend and calls today for tenants,
// attempts, minutes, cost and revenue for providers.
func testDashboards(t *testing.T, open Open) {
	b, c := books(t, open)
	c.set(Day.Add(3 * time.Hour))
	if _, err := b.PostCDRs("", []rating.CDR{cdr("c1", "4420", 120), cdr("c2", "4471", 30), cdr("c3", "4420", 0)}); err != nil {
		t.Fatal(err)
	}
	ts := must[[]rating.TenantFigures](t)(b.TenantDashboard())
	if len(ts) != 1 || ts[0].SpendToday != mustMoney(t, "0.18") || ts[0].CallsToday != 3 || ts[0].SpendMonth != mustMoney(t, "0.18") {
		t.Errorf("tenant figures: %+v", ts)
	}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ps, total, err := b.ProviderDashboard(day, day) // inclusive days
	if err != nil || len(ps) != 1 {
		t.Fatalf("provider figures: %+v %v", ps, err)
	}
	p := ps[0]
	if p.Attempts != 3 || p.Answered != 2 || p.Cost != mustMoney(t, "0.09") || p.Revenue != mustMoney(t, "0.18") || p.Margin != mustMoney(t, "0.09") {
		t.Errorf("provider figures: %+v", p)
	}
	if total.Attempts != 3 || total.Revenue != p.Revenue {
		t.Errorf("totals: %+v", total)
	}
	check(t, b)
}

// A backup restores to the same books: records, balances, ledgers, CDRs,
// rows, and the idempotency keys, so that a CDR posted again after a
// restore is still a duplicate.
func testBackup(t *testing.T, h Harness) {
	b, _ := books(t, h.Open)
	if _, err := b.Credit(rating.TenantAccount, "Acme", mustMoney(t, "12.5"), rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PostCDRs("pbx1", []rating.CDR{cdr("c1", "4420", 60), cdr("c2", "99", 60)}); err != nil {
		t.Fatal(err)
	}
	r := h.Restore(t, b)
	check(t, r)
	sell, buy := balances(t, b)
	rsell, rbuy := balances(t, r)
	if rsell != sell || rbuy != buy || sell != mustMoney(t, "12.44") {
		t.Errorf("restored balances %s and %s, want %s and %s", rsell, rbuy, sell, buy)
	}
	if sum, n := ledgerSum(t, r, rating.TenantAccount, "Acme"); sum != sell || n != 2 {
		t.Errorf("restored ledger: %d entries, sum %s", n, sum)
	}
	if list, _, err := r.CDRs(rating.CDRFilter{}, "", 10); err != nil || len(list) != 2 {
		t.Errorf("restored CDRs: %d %v", len(list), err)
	}
	if rows, _, err := r.Rates("Sell Out", "", "", 10); err != nil || len(rows) != 2 {
		t.Errorf("restored rows: %d %v", len(rows), err)
	}
	if res := r.Rater().ResolveIn("Sell Out", "4471", Day); !res.Rated() || res.Rate.Rate != amt(t, "0.12") {
		t.Errorf("the restored store's live rates: %+v", res)
	}
	again := must[Posted](t)(r.PostCDRs("pbx1", []rating.CDR{cdr("c1", "4420", 60)}))
	if again.Duplicate != 1 {
		t.Errorf("a CDR posted again after a restore: %+v", again)
	}
	check(t, r)
}
