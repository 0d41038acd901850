package pg_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// epoch is the accounts tests' clock start: 2025-03-01 09:00 UTC.
var epoch = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// testClock is a clock a test moves, shared by the nodes of one test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// nodes opens n stores on one new database: n pbxbill nodes sharing it.
func nodes(t *testing.T, n int, c *testClock) []*pg.Store {
	t.Helper()
	url := pgtest.URL(t)
	var out []*pg.Store
	for range n {
		s, err := pg.Open(url, store.Options{Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

func one(t *testing.T) (*pg.Store, *testClock) {
	c := &testClock{t: epoch}
	return nodes(t, 1, c)[0], c
}

func ok[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// code checks err's code and that its message holds part.
func code(t *testing.T, err error, want, part string) {
	t.Helper()
	if got := rating.ErrorCode(err); got != want || !strings.Contains(fmt.Sprint(err), part) {
		t.Errorf("error %v: code %q, want %q with %q", err, got, want, part)
	}
}

func cash(t *testing.T, s string) rating.Money {
	t.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sql runs one query on the store's database, for what the public API
// does not show (the outbox, the stored hashes).
func sqlInt(t *testing.T, url, q string, args ...any) int {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTenantRecords(t *testing.T) {
	s, _ := one(t)
	tn := ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme"}))
	if tn.AccountCode != "Acme" || tn.BillingMode != rating.Prepaid || tn.Status != rating.Active || !tn.Created.Equal(epoch) ||
		tn.Balance != (rating.Money{}) {
		t.Errorf("defaults: %+v", tn)
	}
	if got := ok[rating.Tenant](t)(s.Tenant("Acme")); got != tn {
		t.Errorf("read back %+v, want %+v", got, tn)
	}
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Beta", AccountCode: "Acme2", BillingMode: rating.Postpaid,
		CreditLimit: cash(t, "100"), DailySpendLimit: cash(t, "12.5"), MaxCalls: 3, MaxCallDuration: 600, Email: "b@example.com"}))
	// A name that is another tenant's accountcode: TenantByName finds
	// the name, TenantByAccountCode the accountcode.
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme2", AccountCode: "c3"}))
	if got := ok[rating.Tenant](t)(s.TenantByName("Acme2")); got.Name != "Acme2" {
		t.Errorf("by name first: %s", got.Name)
	}
	if got := ok[rating.Tenant](t)(s.TenantByAccountCode("Acme2")); got.Name != "Beta" {
		t.Errorf("by accountcode first: %s", got.Name)
	}
	if got := ok[rating.Tenant](t)(s.TenantByName("c3")); got.Name != "Acme2" {
		t.Errorf("by name, falling back to accountcode: %s", got.Name)
	}
	if got := ok[rating.Tenant](t)(s.TenantByAccountCode("Beta")); got.Name != "Beta" || got.DailySpendLimit != cash(t, "12.5") ||
		got.CreditLimit != cash(t, "100") || got.MaxCalls != 3 || got.MaxCallDuration != 600 || got.Email != "b@example.com" {
		t.Errorf("by accountcode, falling back to name: %+v", got)
	}
	_, err := s.TenantByName("nobody")
	code(t, err, rating.ENotFound, "nobody")
	_, err = s.Tenant("c3")
	code(t, err, rating.ENotFound, "c3")

	_, err = s.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "x"})
	code(t, err, rating.EConflict, `tenant "Acme" already exists`)
	_, err = s.CreateTenant(rating.Tenant{Name: "New", AccountCode: "Acme2"})
	code(t, err, rating.EConflict, `accountcode "Acme2" is already used by tenant "Beta"`)
	_, err = s.CreateTenant(rating.Tenant{Name: "New", BillingMode: "sometimes"})
	code(t, err, rating.EInvalid, "sometimes")

	names := func() (out []string) {
		for _, tn := range ok[[]rating.Tenant](t)(s.Tenants()) {
			out = append(out, tn.Name)
		}
		return out
	}
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "acme"}))
	if got := fmt.Sprint(names()); got != "[Acme Acme2 Beta acme]" {
		t.Errorf("tenants in byte order: %s", got)
	}

	// An update keeps the balance, Created and (emptied) accountcode;
	// a rename keeps the ledger.
	ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", cash(t, "5"), rating.Topup, ""))
	up := ok[rating.Tenant](t)(s.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.Name, tn.AccountCode, tn.Balance, tn.Created = "Acme Ltd", "", cash(t, "1000"), time.Time{}
		tn.MaxCalls = 7
		return nil
	}))
	if up.Name != "Acme Ltd" || up.AccountCode != "Acme" || up.Balance != cash(t, "5") || !up.Created.Equal(epoch) || up.MaxCalls != 7 {
		t.Errorf("updated: %+v", up)
	}
	if got := ok[rating.Tenant](t)(s.Tenant("Acme Ltd")); got != up {
		t.Errorf("read back %+v, want %+v", got, up)
	}
	es := ok[[]rating.Entry](t)(ledger(s, "tenant", "Acme Ltd"))
	if len(es) != 1 || es[0].Account != "Acme Ltd" {
		t.Errorf("the ledger follows the rename: %+v", es)
	}
	_, err = s.UpdateTenant("Acme Ltd", func(tn *rating.Tenant) error { tn.Name = "Beta"; return nil })
	code(t, err, rating.EConflict, `tenant "Beta" already exists`)
	_, err = s.UpdateTenant("Acme Ltd", func(tn *rating.Tenant) error { tn.AccountCode = "c3"; return nil })
	code(t, err, rating.EConflict, `accountcode "c3" is already used by tenant "Acme2"`)
	_, err = s.UpdateTenant("Acme Ltd", func(tn *rating.Tenant) error { return rating.Errorf(rating.EInvalid, "fn says no") })
	code(t, err, rating.EInvalid, "fn says no")
	_, err = s.UpdateTenant("Acme", func(tn *rating.Tenant) error { return nil })
	code(t, err, rating.ENotFound, "Acme")

	code(t, s.DeleteTenant("Acme Ltd"), rating.EConflict, "suspend it instead")
	if err := s.DeleteTenant("Beta"); err != nil {
		t.Fatal(err)
	}
	code(t, s.DeleteTenant("Beta"), rating.ENotFound, "Beta")
	if got := fmt.Sprint(names()); got != "[Acme Ltd Acme2 acme]" {
		t.Errorf("after delete: %s", got)
	}
	// The deleted tenant's accountcode is free again.
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Gamma", AccountCode: "Acme2"}))
}

func ledger(s *pg.Store, acct, name string) ([]rating.Entry, error) {
	es, _, err := s.Ledger(acct, name, time.Time{}, time.Time{}, "", store.MaxLimit)
	return es, err
}

// Two nodes creating the same tenant at once: one creates it, the other
// answers the bbolt store's conflict, naming the accountcode's holder.
func TestTenantCreateRace(t *testing.T) {
	ns := nodes(t, 2, &testClock{t: epoch})
	for i := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, s := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Different names, one accountcode.
				_, errs[j] = s.CreateTenant(rating.Tenant{Name: fmt.Sprintf("T%d-%d", i, j), AccountCode: fmt.Sprint("code", i)})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: %v and %v, want one tenant created", i, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				code(t, err, rating.EConflict, fmt.Sprintf(`accountcode "code%d" is already used by tenant "T%d-`, i, i))
			}
		}
	}
}

func TestProviderRecords(t *testing.T) {
	s, _ := one(t)
	p := ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier-a"}))
	if p.Status != rating.Active || !p.Created.Equal(epoch) {
		t.Errorf("defaults: %+v", p)
	}
	ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Spare"}))
	ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Other"}))
	_, err := s.CreateProvider(rating.Provider{Name: "Carrier"})
	code(t, err, rating.EConflict, `provider "Carrier" already exists`)
	_, err = s.CreateProvider(rating.Provider{Name: "Two", Trunk: "carrier-a"})
	code(t, err, rating.EConflict, `trunk "carrier-a" is already used by provider "Carrier"`)

	ok[rating.Entry](t)(s.Credit(rating.ProviderAccount, "Carrier", cash(t, "-2.5"), rating.Adjustment, "fix"))
	up := ok[rating.Provider](t)(s.UpdateProvider("Carrier", func(p *rating.Provider) error {
		p.Status, p.Balance, p.Name = rating.Suspended, cash(t, "9"), "Carrier Ltd"
		return nil
	}))
	if up.Status != rating.Suspended || up.Trunk != "carrier-a" || up.Balance != cash(t, "-2.5") || up.Name != "Carrier Ltd" {
		t.Errorf("updated: %+v", up)
	}
	if got := ok[rating.Provider](t)(s.Provider("Carrier Ltd")); got != up {
		t.Errorf("read back %+v, want %+v", got, up)
	}
	_, err = s.UpdateProvider("Spare", func(p *rating.Provider) error { p.Trunk = "carrier-a"; return nil })
	code(t, err, rating.EConflict, `trunk "carrier-a" is already used by provider "Carrier Ltd"`)
	_, err = s.UpdateProvider("Spare", func(p *rating.Provider) error { p.Name = "Other"; return nil })
	code(t, err, rating.EConflict, `provider "Other" already exists`)
	code(t, s.DeleteProvider("Carrier Ltd"), rating.EConflict, "suspend it instead")
	if err := s.DeleteProvider("Spare"); err != nil {
		t.Fatal(err)
	}
	code(t, s.DeleteProvider("Spare"), rating.ENotFound, "Spare")
	_, err = s.Provider("Spare")
	code(t, err, rating.ENotFound, "Spare")
	var names []string
	for _, p := range ok[[]rating.Provider](t)(s.Providers()) {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[Carrier Ltd Other]" {
		t.Errorf("providers: %v", names)
	}
}

// Credits validate as rating says, move the balance by the entry, and a
// refused one changes nothing.
func TestCredit(t *testing.T) {
	s, _ := one(t)
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme"}))
	ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier"}))
	e := ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", cash(t, "25"), rating.Topup, "bank transfer"))
	if e.ID == 0 || e.Account != "Acme" || e.AccountType != rating.TenantAccount || e.Amount != cash(t, "25") ||
		e.Kind != rating.Topup || e.Ref != "bank transfer" || e.Balance != cash(t, "25") || !e.Time.Equal(epoch) {
		t.Errorf("topup entry %+v", e)
	}
	e = ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", cash(t, "-5.00000001"), rating.Adjustment, "refund fix"))
	if e.Balance != cash(t, "19.99999999") {
		t.Errorf("balance after adjustment %s", e.Balance)
	}
	for _, c := range []struct {
		acct, name string
		amount     rating.Money
		kind, note string
		code, part string
	}{
		{rating.TenantAccount, "Acme", cash(t, "0"), rating.Topup, "", rating.EInvalid, "positive"},
		{rating.TenantAccount, "Acme", cash(t, "5"), rating.Adjustment, " ", rating.EInvalid, "note"},
		{rating.TenantAccount, "Acme", cash(t, "5"), rating.Charge, "x", rating.EInvalid, `"charge"`},
		{rating.TenantAccount, "Acme", rating.NoMoney, rating.Adjustment, "x", rating.EInvalid, "amount"},
		{rating.TenantAccount, "Nobody", cash(t, "5"), rating.Topup, "", rating.ENotFound, `"Nobody"`},
		{rating.ProviderAccount, "Acme", cash(t, "5"), rating.Topup, "", rating.ENotFound, `provider "Acme"`},
		{"node", "Acme", cash(t, "5"), rating.Topup, "", rating.EInvalid, `"node"`},
	} {
		_, err := s.Credit(c.acct, c.name, c.amount, c.kind, c.note)
		code(t, err, c.code, c.part)
	}
	ok[rating.Entry](t)(s.Credit(rating.ProviderAccount, "Carrier", rating.MaxMoney.Sub(cash(t, "1")), rating.Topup, ""))
	_, err := s.Credit(rating.ProviderAccount, "Carrier", cash(t, "2"), rating.Topup, "")
	code(t, err, rating.EInvalid, "beyond")
	if p := ok[rating.Provider](t)(s.Provider("Carrier")); p.Balance != rating.MaxMoney.Sub(cash(t, "1")) {
		t.Errorf("a refused credit moved the balance: %s", p.Balance)
	}
	if tn := ok[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != cash(t, "19.99999999") {
		t.Errorf("tenant balance %s", tn.Balance)
	}
	_, err = s.CreditOnce(strings.Repeat("k", 201), rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, "")
	code(t, err, rating.EInvalid, "at most 200 bytes")
}

// Two nodes: the same one-time key sent to both, many times at once,
// credits once; plain credits from both at once add up exactly, each
// entry carrying the running balance.
func TestCreditAcrossNodes(t *testing.T) {
	c := &testClock{t: epoch}
	ns := nodes(t, 2, c)
	ok[rating.Tenant](t)(ns[0].CreateTenant(rating.Tenant{Name: "Acme", BillingMode: rating.Postpaid}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ns[i%2].CreditOnce("form-1", rating.TenantAccount, "Acme", cash(t, "5"), rating.Topup, "")
			mu.Lock()
			codes[rating.ErrorCode(err)]++
			mu.Unlock()
			if err != nil {
				code(t, err, rating.EConflict, "same one-time key")
			}
		}()
	}
	wg.Wait()
	if codes[""] != 1 || codes[rating.EConflict] != 15 {
		t.Fatalf("outcomes %v: want one credit and 15 conflicts", codes)
	}
	// A refused credit does not use its key.
	_, err := ns[1].CreditOnce("form-2", rating.TenantAccount, "Nobody", cash(t, "1"), rating.Topup, "")
	code(t, err, rating.ENotFound, "Nobody")
	ok[rating.Entry](t)(ns[1].CreditOnce("form-2", rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, ""))

	const each = 25
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				amount, kind := cash(t, "0.01"), rating.Topup
				if i%2 == 1 {
					amount, kind = cash(t, "-0.00000003"), rating.Adjustment
				}
				if _, err := ns[i%2].Credit(rating.TenantAccount, "Acme", amount, kind, "load"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// 5 + 1 + 4·25·0.01 − 4·25·0.00000003
	want := cash(t, "6.999997")
	for _, s := range ns {
		if tn := ok[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != want {
			t.Errorf("balance %s, want %s", tn.Balance, want)
		}
	}
	es := ok[[]rating.Entry](t)(ledger(ns[1], rating.TenantAccount, "Acme"))
	if len(es) != 2+8*each {
		t.Fatalf("%d entries", len(es))
	}
	var sum rating.Money
	for i := len(es) - 1; i >= 0; i-- {
		sum = sum.Add(es[i].Amount)
		if es[i].Balance != sum {
			t.Fatalf("entry %d: balance %s, running sum %s", es[i].ID, es[i].Balance, sum)
		}
	}
	if sum != want {
		t.Errorf("ledger sum %s, want %s", sum, want)
	}
}

// A used key is forgotten after a day, and only then.
func TestCreditOnceExpires(t *testing.T) {
	s, c := one(t)
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme"}))
	ok[rating.Entry](t)(s.CreditOnce("k1", rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, ""))
	c.Add(23 * time.Hour)
	_, err := s.CreditOnce("k1", rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, "")
	code(t, err, rating.EConflict, "not posted again")
	c.Add(2 * time.Hour)
	ok[rating.Entry](t)(s.CreditOnce("k2", rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, "")) // prunes k1
	ok[rating.Entry](t)(s.CreditOnce("k1", rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, ""))
	if tn := ok[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != cash(t, "3") {
		t.Errorf("balance %s", tn.Balance)
	}
}

// A credit and an update that change a tenant's billing state queue the
// state alert in their transaction.
func TestCreditQueuesStateAlert(t *testing.T) {
	c := &testClock{t: epoch}
	url := pgtest.URL(t)
	s, err := pg.Open(url, store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Prepaid at 0: blocked.
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", LowBalanceThreshold: cash(t, "10")}))
	events := func() int {
		return sqlInt(t, url, `SELECT count(*) FROM outbox WHERE type = $1`, rating.EventTenantState)
	}
	ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", cash(t, "5"), rating.Topup, "")) // blocked → low
	ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", cash(t, "1"), rating.Topup, "")) // still low
	if n := events(); n != 1 {
		t.Errorf("%d state events after two top-ups, want 1", n)
	}
	ok[rating.Tenant](t)(s.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.Status = rating.Suspended; return nil }))
	ok[rating.Tenant](t)(s.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.Email = "a@example.com"; return nil }))
	if n := events(); n != 2 {
		t.Errorf("%d state events after suspending, want 2", n)
	}
	if n := sqlInt(t, url, `SELECT count(*) FROM outbox WHERE data->>'to' = 'suspended' AND data->>'tenant' = 'Acme'`); n != 1 {
		t.Errorf("%d events to suspended", n)
	}
}

func TestLedgerPaging(t *testing.T) {
	c := &testClock{t: epoch}
	s := nodes(t, 1, c)[0]
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "A"}))
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "B"}))
	ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "A"}))
	var times []time.Time // of A's entries, oldest first
	for i := 1; i <= 25; i++ {
		c.Add(time.Minute)
		e := ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "A", rating.MoneyOf(int64(i)), rating.Topup, strconv.Itoa(i)))
		times = append(times, e.Time)
		ok[rating.Entry](t)(s.Credit(rating.TenantAccount, "B", rating.MoneyOf(1), rating.Topup, ""))
		ok[rating.Entry](t)(s.Credit(rating.ProviderAccount, "A", rating.MoneyOf(1), rating.Topup, ""))
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
				if e.Account != "A" || e.AccountType != rating.TenantAccount || !e.Time.Equal(times[len(times)-1].Add(-time.Duration(25-atoi(t, e.Ref))*time.Minute)) {
					t.Fatalf("entry %+v", e)
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
	// A page that ends exactly at the last entry has no next.
	if es, next, err := s.Ledger(rating.TenantAccount, "A", time.Time{}, time.Time{}, "", 25); err != nil || len(es) != 25 || next != "" {
		t.Errorf("one full page: %d entries, next %q, %v", len(es), next, err)
	}
	_, _, err := s.Ledger(rating.TenantAccount, "A", time.Time{}, time.Time{}, "x", 5)
	code(t, err, rating.EInvalid, `"x"`)
	_, _, err = s.Ledger(rating.TenantAccount, "Z", time.Time{}, time.Time{}, "", 5)
	code(t, err, rating.ENotFound, `"Z"`)
	_, _, err = s.Ledger("node", "A", time.Time{}, time.Time{}, "", 5)
	code(t, err, rating.EInvalid, `"node"`)
	if es := ok[[]rating.Entry](t)(ledger(s, rating.ProviderAccount, "A")); len(es) != 25 || es[0].AccountType != rating.ProviderAccount {
		t.Errorf("provider A: %d entries", len(es))
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNodes(t *testing.T) {
	c := &testClock{t: epoch}
	ns := nodes(t, 2, c)
	a, b := ns[0], ns[1]
	n, token, err := a.CreateNode("pbx1")
	if err != nil || n.Name != "pbx1" || !n.Created.Equal(epoch) || !n.LastSeen.IsZero() || !strings.HasPrefix(token, "pbx_") || len(token) != 4+43 {
		t.Fatalf("create: %+v %q %v", n, token, err)
	}
	_, token2, _ := a.CreateNode("pbx0")
	_, _, err = b.CreateNode("pbx1")
	code(t, err, rating.EConflict, `node "pbx1" already exists`)
	_, _, err = b.CreateNode("a/b")
	code(t, err, rating.EInvalid, "name")
	for _, bad := range []string{"", "pbx_", token + "x", strings.ToUpper(token)} {
		_, err := b.NodeByToken(bad)
		code(t, err, rating.EUnauthorized, "unknown or revoked token")
	}
	if got := ok[rating.Node](t)(b.NodeByToken(token2)); got.Name != "pbx0" {
		t.Errorf("token2 finds %+v", got)
	}
	// LastSeen is written at most once a minute, across nodes.
	seen := func() time.Time {
		for _, n := range ok[[]rating.Node](t)(a.Nodes()) {
			if n.Name == "pbx1" {
				return n.LastSeen
			}
		}
		t.Fatal("pbx1 is not listed")
		return time.Time{}
	}
	if got := ok[rating.Node](t)(b.NodeByToken(token)); got.Name != "pbx1" || !got.LastSeen.Equal(epoch) {
		t.Errorf("by token: %+v", got)
	}
	c.Add(59 * time.Second)
	ok[rating.Node](t)(a.NodeByToken(token))
	if got := seen(); !got.Equal(epoch) {
		t.Errorf("last seen %s, written again within the minute", got)
	}
	c.Add(time.Second)
	ok[rating.Node](t)(a.NodeByToken(token))
	if got := seen(); !got.Equal(epoch.Add(time.Minute)) {
		t.Errorf("last seen %s, want a minute on", got)
	}
	var names []string
	for _, n := range ok[[]rating.Node](t)(b.Nodes()) {
		names = append(names, n.Name)
	}
	if fmt.Sprint(names) != "[pbx0 pbx1]" {
		t.Errorf("nodes %v", names)
	}
	// Revoked on one node, refused on the other at once.
	if err := a.DeleteNode("pbx1"); err != nil {
		t.Fatal(err)
	}
	_, err = b.NodeByToken(token)
	code(t, err, rating.EUnauthorized, "revoked")
	code(t, b.DeleteNode("pbx1"), rating.ENotFound, "pbx1")
}

func TestAdmins(t *testing.T) {
	c := &testClock{t: epoch}
	url := pgtest.URL(t)
	var ns []*pg.Store
	for range 2 {
		s, err := pg.Open(url, store.Options{Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ns = append(ns, s)
	}
	a, b := ns[0], ns[1]
	if has := ok[bool](t)(a.HasAdmin()); has {
		t.Fatal("a new database has an admin")
	}
	// Two nodes starting at once: one creates the admin and prints its
	// password, the other prints none.
	pws := make([]string, 2)
	var wg sync.WaitGroup
	for i, s := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pws[i] = ok[string](t)(s.EnsureAdmin())
		}()
	}
	wg.Wait()
	pw := pws[0] + pws[1]
	if (pws[0] == "") == (pws[1] == "") || len(pw) < store.MinPasswordLen {
		t.Fatalf("passwords %q: want one", pws)
	}
	if again := ok[string](t)(b.EnsureAdmin()); again != "" {
		t.Errorf("EnsureAdmin again: %q", again)
	}
	if err := b.CheckAdminPassword(store.AdminUser, pw); err != nil {
		t.Fatal(err)
	}
	code(t, b.CheckAdminPassword(store.AdminUser, pw+"x"), rating.EUnauthorized, "wrong user name or password")
	code(t, b.CheckAdminPassword("nobody", pw), rating.EUnauthorized, "wrong user name or password")
	if n := sqlInt(t, url, `SELECT count(*) FROM admins WHERE position($1::bytea in bcrypt) > 0`, []byte(pw)); n != 0 {
		t.Error("the password is stored in clear")
	}

	code(t, a.AddAdmin("ops", "short"), rating.EInvalid, "at least 8")
	code(t, a.AddAdmin("ops", strings.Repeat("x", 73)), rating.EInvalid, "at most 72")
	code(t, a.AddAdmin("", "long enough"), rating.EInvalid, "user")
	if err := a.AddAdmin("ops", "long enough"); err != nil {
		t.Fatal(err)
	}
	code(t, b.AddAdmin("ops", "long enough"), rating.EConflict, "exists already")
	c.Add(time.Hour)
	tok := ok[string](t)(first(b.CreateSession("ops", time.Hour)))
	tok2 := ok[string](t)(first(a.CreateSession("ops", time.Hour)))
	if sess := ok[rating.Session](t)(a.Session(tok)); sess.User != "ops" || !sess.Created.Equal(epoch.Add(time.Hour)) || !sess.Expires.Equal(epoch.Add(2*time.Hour)) {
		t.Errorf("session %+v", sess)
	}
	// A new password ends the user's sessions, on every node.
	if err := a.SetAdminPassword("ops", "another one"); err != nil {
		t.Fatal(err)
	}
	_, err := b.Session(tok)
	code(t, err, rating.EUnauthorized, "not logged in")
	_, err = b.Session(tok2)
	code(t, err, rating.EUnauthorized, "not logged in")
	if err := b.CheckAdminPassword("ops", "another one"); err != nil {
		t.Error(err)
	}
	var list []string
	for _, ad := range ok[[]rating.Admin](t)(b.Admins()) {
		list = append(list, ad.Name+"@"+ad.Changed.Format(time.TimeOnly))
	}
	if fmt.Sprint(list) != "[admin@09:00:00 ops@10:00:00]" {
		t.Errorf("admins %v", list)
	}
	_, _, err = a.CreateSession("nobody", time.Hour)
	code(t, err, rating.ENotFound, "nobody")
	_, _, err = a.CreateSession("ops", 0)
	code(t, err, rating.EInvalid, "positive")

	// Removing a user ends its sessions; the last one stays, even when
	// two nodes remove the last two at once.
	tok = ok[string](t)(first(a.CreateSession("ops", time.Hour)))
	code(t, a.DeleteAdmin("nobody"), rating.ENotFound, "nobody")
	if err := a.AddAdmin("third", "long enough"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteAdmin("third"); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	for i, name := range []string{store.AdminUser, "ops"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ns[i].DeleteAdmin(name)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("removing the last two at once: %v, %v", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			code(t, err, rating.EConflict, "the only one")
		}
	}
	if len(ok[[]rating.Admin](t)(a.Admins())) != 1 {
		t.Error("not one admin left")
	}
	if errs[1] == nil {
		if _, err := a.Session(tok); rating.ErrorCode(err) != rating.EUnauthorized {
			t.Errorf("a removed user's session: %v", err)
		}
	}
}

func first[A, B any](a A, _ B, err error) (A, error) { return a, err }

func TestSessions(t *testing.T) {
	s, c := one(t)
	if err := s.SetAdminPassword(store.AdminUser, "Docs Demo secret"); err != nil {
		t.Fatal(err)
	}
	tok, sess, err := s.CreateSession(store.AdminUser, time.Hour)
	if err != nil || !sess.Expires.Equal(epoch.Add(time.Hour)) || sess.User != store.AdminUser {
		t.Fatalf("session %+v %v", sess, err)
	}
	c.Add(59 * time.Minute)
	if got := ok[rating.Session](t)(s.Session(tok)); got != sess {
		t.Errorf("read back %+v, want %+v", got, sess)
	}
	c.Add(time.Minute)
	_, err = s.Session(tok)
	code(t, err, rating.EUnauthorized, "expired at 2025-03-01 10:00:00")
	_, err = s.Session("")
	code(t, err, rating.EUnauthorized, "not logged in")
	// The next login drops the expired session.
	tok2 := ok[string](t)(first(s.CreateSession(store.AdminUser, time.Hour)))
	_, err = s.Session(tok)
	code(t, err, rating.EUnauthorized, "not logged in")
	if err := s.DeleteSession(tok2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(tok2); err != nil {
		t.Errorf("logging out twice: %v", err)
	}
	_, err = s.Session(tok2)
	code(t, err, rating.EUnauthorized, "not logged in")
}

// The audit trail lists newest first, a page at a time, with the bbolt
// store's cursors; an audited handle records once however many changes.
func TestAudit(t *testing.T) {
	s, c := one(t)
	for i := range 5 {
		c.Add(time.Second)
		au := s.Audited(rating.AuditEntry{Actor: "admin:ops", Action: "POST /x", Object: "tenants/T" + strconv.Itoa(i), Summary: "created"})
		ok[rating.Tenant](t)(au.CreateTenant(rating.Tenant{Name: "T" + strconv.Itoa(i)}))
		ok[rating.Tenant](t)(au.UpdateTenant("T"+strconv.Itoa(i), func(tn *rating.Tenant) error { tn.Email = "x@example.com"; return nil }))
	}
	// A change that fails records nothing.
	au := s.Audited(rating.AuditEntry{Actor: "admin:ops", Action: "POST /x", Object: "tenants/T0", Summary: "again"})
	_, err := au.CreateTenant(rating.Tenant{Name: "T0"})
	code(t, err, rating.EConflict, "exists")
	var objs []string
	after, pages := "", 0
	for {
		es, next, err := s.Audit(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range es {
			objs = append(objs, e.Object+"@"+e.Time.Format("05"))
			if e.ID == 0 || e.Actor != "admin:ops" || e.Summary != "created" {
				t.Errorf("entry %+v", e)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if fmt.Sprint(objs) != "[tenants/T4@05 tenants/T3@04 tenants/T2@03 tenants/T1@02 tenants/T0@01]" || pages != 3 {
		t.Errorf("audit %v in %d pages", objs, pages)
	}
	_, _, err = s.Audit("x", 2)
	code(t, err, rating.EInvalid, `"x"`)
	if es, next, err := s.Audit("18446744073709551615", 0); err != nil || len(es) != 5 || next != "" {
		t.Errorf("from the largest cursor: %d %q %v", len(es), next, err)
	}
}

func TestBackup(t *testing.T) {
	s, _ := one(t)
	_, err := s.Backup()
	code(t, err, rating.EInvalid, "pg_dump")
}

// A tenant's or provider's tables exist and are of their kind; Empty
// counts rate tables, tenants and providers.
func TestTableAssignments(t *testing.T) {
	s, _ := one(t)
	if empty := ok[bool](t)(s.Empty()); !empty {
		t.Error("a new database is not empty")
	}
	ok[rating.Table](t)(s.CreateRateTable(rating.NewTable("Sell Out", rating.Outbound, "")))
	if empty := ok[bool](t)(s.Empty()); empty {
		t.Error("a database with a rate table is empty")
	}
	ok[rating.Table](t)(s.CreateRateTable(rating.NewTable("Sell In", rating.Inbound, "")))
	_, err := s.CreateTenant(rating.Tenant{Name: "New", OutboundTable: "nonesuch"})
	code(t, err, rating.EInvalid, `outbound_rate_table "nonesuch": no such rate table`)
	if rating.ErrorField(err) != "outbound_rate_table" {
		t.Errorf("field %q", rating.ErrorField(err))
	}
	_, err = s.CreateTenant(rating.Tenant{Name: "New", ConferenceTable: "Sell In"})
	code(t, err, rating.EInvalid, "the table is inbound, want conference")
	_, err = s.CreateProvider(rating.Provider{Name: "Two", InboundTable: "Sell Out"})
	code(t, err, rating.EInvalid, "the table is outbound, want inbound")
	ok[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", OutboundTable: "Sell Out", InboundTable: "Sell In"}))
	ok[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier", InboundTable: "Sell In"}))
	_, err = s.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.InboundTable = "Sell Out"; return nil })
	code(t, err, rating.EInvalid, "want inbound")
	code(t, s.DeleteRateTable("Sell In"), rating.EConflict, "in use")
	ok[rating.Provider](t)(s.UpdateProvider("Carrier", func(p *rating.Provider) error { p.InboundTable = ""; return nil }))
	ok[rating.Tenant](t)(s.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.InboundTable = ""; return nil }))
	if err := s.DeleteRateTable("Sell In"); err != nil {
		t.Error(err)
	}
}
