package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

const unit = 100_000_000 // one currency unit, in units of 10^-8

func TestCredit(t *testing.T) {
	s := MustOpen(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier"}))

	e := must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(25*unit), rating.Topup, "bank transfer"))
	if e.ID == 0 || e.Account != "Acme" || e.AccountType != rating.TenantAccount || e.Amount != rating.MoneyOf(25*unit) ||
		e.Kind != rating.Topup || e.Ref != "bank transfer" || e.Balance != rating.MoneyOf(25*unit) || e.Time.IsZero() {
		t.Errorf("topup entry %+v", e)
	}
	e = must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(-5*unit), rating.Adjustment, "refund fix"))
	if e.Balance != rating.MoneyOf(20*unit) {
		t.Errorf("balance after adjustment %s", e.Balance)
	}
	if tn := must[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != rating.MoneyOf(20*unit) {
		t.Errorf("tenant balance %s", tn.Balance)
	}
	e = must[rating.Entry](t)(s.Credit(rating.ProviderAccount, "Carrier", rating.MoneyOf(100*unit), rating.Topup, ""))
	if e.Balance != rating.MoneyOf(100*unit) || e.AccountType != rating.ProviderAccount {
		t.Errorf("provider entry %+v", e)
	}

	for _, c := range []struct {
		acct, name string
		amount     rating.Money
		kind, note string
		code, part string
	}{
		{rating.TenantAccount, "Acme", rating.MoneyOf(0), rating.Topup, "", rating.EInvalid, "positive"},
		{rating.TenantAccount, "Acme", rating.MoneyOf(-1), rating.Topup, "", rating.EInvalid, "positive"},
		{rating.TenantAccount, "Acme", rating.MoneyOf(0), rating.Adjustment, "x", rating.EInvalid, "adjustment"},
		{rating.TenantAccount, "Acme", rating.MoneyOf(5), rating.Adjustment, " ", rating.EInvalid, "note"},
		{rating.TenantAccount, "Acme", rating.MoneyOf(5), rating.Charge, "x", rating.EInvalid, `"charge"`},
		{rating.TenantAccount, "Acme", rating.MoneyOf(5), "", "x", rating.EInvalid, "kind"},
		{rating.TenantAccount, "Acme", rating.MaxMoney.Add(rating.MoneyOf(1)), rating.Topup, "", rating.EInvalid, "amount"},
		{rating.TenantAccount, "Acme", rating.NoMoney, rating.Adjustment, "x", rating.EInvalid, "amount"},
		{rating.TenantAccount, "Nobody", rating.MoneyOf(5), rating.Topup, "", rating.ENotFound, `"Nobody"`},
		{rating.ProviderAccount, "Acme", rating.MoneyOf(5), rating.Topup, "", rating.ENotFound, `provider "Acme"`},
		{"node", "Acme", rating.MoneyOf(5), rating.Topup, "", rating.EInvalid, `"node"`},
	} {
		_, err := s.Credit(c.acct, c.name, c.amount, c.kind, c.note)
		wantCode(t, err, c.code, c.part)
	}
	// The balance is bounded too, so ledger sums never overflow.
	must[rating.Entry](t)(s.Credit(rating.ProviderAccount, "Carrier", rating.MaxMoney.Sub(rating.MoneyOf(100*unit)), rating.Topup, ""))
	_, err := s.Credit(rating.ProviderAccount, "Carrier", rating.MoneyOf(1), rating.Topup, "")
	wantCode(t, err, rating.EInvalid, "balance")
	if tn := must[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != rating.MoneyOf(20*unit) {
		t.Errorf("a refused credit changed the balance: %s", tn.Balance)
	}
}

func TestLedgerPaging(t *testing.T) {
	c := &testClock{t: epoch, step: time.Minute}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "db"), Options{Now: c.Now})
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A"}))
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "B"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "A"}))
	var times []time.Time // of A's entries, oldest first
	for i := 1; i <= 25; i++ {
		e := must[rating.Entry](t)(s.Credit(rating.TenantAccount, "A", rating.MoneyOf(int64(i)), rating.Topup, strconv.Itoa(i)))
		times = append(times, e.Time)
		// Other accounts' entries interleave with A's.
		must[rating.Entry](t)(s.Credit(rating.TenantAccount, "B", rating.MoneyOf(1), rating.Topup, ""))
		must[rating.Entry](t)(s.Credit(rating.ProviderAccount, "A", rating.MoneyOf(1), rating.Topup, ""))
	}
	list := func(from, to time.Time, limit int) (refs []string) {
		after := ""
		for range 100 {
			es, next, err := s.Ledger(rating.TenantAccount, "A", from, to, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) > limit {
				t.Fatalf("page of %d, limit %d", len(es), limit)
			}
			for _, e := range es {
				if e.Account != "A" || e.AccountType != rating.TenantAccount {
					t.Fatalf("entry of another account: %+v", e)
				}
				refs = append(refs, e.Ref)
			}
			if next == "" {
				return refs
			}
			after = next
		}
		t.Fatal("paging does not end")
		return nil
	}
	want := func(hi, lo int) (out []string) {
		for i := hi; i >= lo; i-- {
			out = append(out, strconv.Itoa(i))
		}
		return out
	}
	if got := list(time.Time{}, time.Time{}, 10); fmt.Sprint(got) != fmt.Sprint(want(25, 1)) {
		t.Errorf("all, newest first: %v", got)
	}
	if got := list(times[4], times[19], 4); fmt.Sprint(got) != fmt.Sprint(want(19, 5)) {
		t.Errorf("from entry 5 to before entry 20: %v", got)
	}
	if got := list(time.Time{}, times[0], 4); len(got) != 0 {
		t.Errorf("before the first entry: %v", got)
	}
	_, _, err := s.Ledger(rating.TenantAccount, "A", time.Time{}, time.Time{}, "x", 5)
	wantCode(t, err, rating.EInvalid, `"x"`)
	_, _, err = s.Ledger(rating.TenantAccount, "Z", time.Time{}, time.Time{}, "", 5)
	wantCode(t, err, rating.ENotFound, `"Z"`)

	// A rename keeps the history, under the new name.
	must[rating.Tenant](t)(s.UpdateTenant("A", func(t *rating.Tenant) error { t.Name = "A2"; return nil }))
	es, _, err := s.Ledger(rating.TenantAccount, "A2", time.Time{}, time.Time{}, "", 1)
	if err != nil || len(es) != 1 || es[0].Account != "A2" || es[0].Ref != "25" {
		t.Errorf("after rename: %+v %v", es, err)
	}
}

// ledgerSum adds up every entry of an account.
func ledgerSum(tb testing.TB, s *Store, acct, name string) (sum rating.Money, n int) {
	tb.Helper()
	after := ""
	for range 10000 {
		es, next, err := s.Ledger(acct, name, time.Time{}, time.Time{}, after, MaxLimit)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range es {
			sum = sum.Add(e.Amount)
			n++
		}
		if next == "" {
			return sum, n
		}
		after = next
	}
	tb.Fatal("ledger paging does not end")
	return rating.Money{}, 0
}

func TestBalanceEqualsLedgerSum(t *testing.T) {
	s := MustOpen(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "T"}))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "P"}))
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		acct, name := rating.TenantAccount, "T"
		if rnd.IntN(2) == 0 {
			acct, name = rating.ProviderAccount, "P"
		}
		amount := rating.MoneyOf(rnd.Int64N(2000*unit) - 1000*unit)
		kind := rating.Adjustment
		if amount.Sign() > 0 && rnd.IntN(2) == 0 {
			kind = rating.Topup
		}
		if amount.Sign() == 0 {
			amount = rating.MoneyOf(1)
		}
		e := must[rating.Entry](t)(s.Credit(acct, name, amount, kind, "random"))
		if sum, _ := ledgerSum(t, s, acct, name); sum != e.Balance {
			t.Fatalf("%s %s: ledger sum %s, entry balance %s", acct, name, sum, e.Balance)
		}
	}
	sum, _ := ledgerSum(t, s, rating.TenantAccount, "T")
	if tn := must[rating.Tenant](t)(s.Tenant("T")); tn.Balance != sum {
		t.Errorf("tenant balance %s, ledger sum %s", tn.Balance, sum)
	}
	sum, _ = ledgerSum(t, s, rating.ProviderAccount, "P")
	if p := must[rating.Provider](t)(s.Provider("P")); p.Balance != sum {
		t.Errorf("provider balance %s, ledger sum %s", p.Balance, sum)
	}
}

func TestConcurrentCredits(t *testing.T) {
	s := MustOpen(t)
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "T"}))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Credit(rating.TenantAccount, "T", rating.MoneyOf(int64(w*100+i+1)), rating.Topup, ""); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Tenant("T"); err != nil { // readers alongside the writers
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var want rating.Money
	for w := range workers {
		for i := range each {
			want = want.Add(rating.MoneyOf(int64(w*100 + i + 1)))
		}
	}
	sum, n := ledgerSum(t, s, rating.TenantAccount, "T")
	if tn := must[rating.Tenant](t)(s.Tenant("T")); tn.Balance != want || sum != want || n != workers*each {
		t.Errorf("balance %s, ledger sum %s in %d entries; want %s in %d", tn.Balance, sum, n, want, workers*each)
	}
}
