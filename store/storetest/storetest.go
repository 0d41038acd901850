// Package storetest is the contract every storage backend of pbxbill keeps:
// what the bbolt store does today, and what a second backend will have to
// do. Run it from the backend's own tests with a function that opens an
// empty backend; each test opens its own.
//
// The suite states behaviour through the public operations only, as the
// handlers use them, so a backend passes it by what it answers, not by how
// it stores.
package storetest

import (
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// Open opens an empty backend whose clock is now, and arranges for it to
// be closed when t ends.
type Open func(t *testing.T, now func() time.Time) Backend

// Harness is how the suite reaches one backend.
type Harness struct {
	Open Open
	// Restore takes a backup of b, the way an operator would, and opens
	// what it restores as a second backend.
	Restore func(t *testing.T, b Backend) Backend
}

// Run runs every contract test against the backends h opens.
func Run(t *testing.T, h Harness) {
	open := h.Open
	t.Run("Backup", func(t *testing.T) { testBackup(t, h) })
	t.Run("SchedulesOnce", func(t *testing.T) { testSchedulesOnce(t, h) })
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"Tenants", testTenants},
		{"Providers", testProviders},
		{"RateTables", testRateTables},
		{"RateRows", testRateRows},
		{"RateWeeks", testRateWeeks},
		{"Nodes", testNodes},
		{"CDRIdempotency", testCDRIdempotency},
		{"ConcurrentDuplicates", testConcurrentDuplicates},
		{"MalformedBatch", testMalformedBatch},
		{"LedgerIsBalance", testLedgerIsBalance},
		{"RerateIdempotent", testRerateIdempotent},
		{"Dashboards", testDashboards},
		{"Holds", testHolds},
		{"LateAuthorization", testLateAuthorization},
		{"CreditOnce", testCreditOnce},
		{"AlertsAndStatements", testAlertsAndStatements},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// Day is the clock's day in every test: 2025-03-01, in UTC.
var Day = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a fixed clock that a test may move.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func amt(t *testing.T, s string) rating.Amount {
	t.Helper()
	a, err := rating.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustMoney(t *testing.T, s string) rating.Money {
	t.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := rating.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// check runs the backend's own consistency check: balances are their
// ledgers' sums, roll-ups their CDRs' sums.
func check(t *testing.T, b Backend) {
	t.Helper()
	if err := b.Check(); err != nil {
		t.Fatalf("check: %v", err)
	}
}

// books opens a backend with the tables, tenant and carrier most tests
// need: Acme, postpaid with a limit of 100, sells 44 at 0.06 and 447 at
// 0.12 a minute on 1/1 increments; Carrier, trunk carrier-a, buys 44 at
// 0.03 and 447 at 0.06.
func books(t *testing.T, open Open) (Backend, *clock) {
	t.Helper()
	c := &clock{t: Day}
	b := open(t, c.now)
	table := func(name string, k rating.Kind, rows ...rating.Row) {
		tb := rating.NewTable(name, k, "")
		tb.InitialIncrement, tb.Increment = 1, 1
		must[rating.Table](t)(b.CreateRateTable(tb))
		if err := b.ReplaceRates(name, rows); err != nil {
			t.Fatal(err)
		}
	}
	r := func(prefix, rate string) rating.Row { return rating.NewRow(prefix, amt(t, rate)) }
	table("Sell Out", rating.Outbound, r("44", "0.06"), r("447", "0.12"))
	table("Sell In", rating.Inbound, r("4420", "0.012"))
	table("Buy Out", rating.Outbound, r("44", "0.03"), r("447", "0.06"))
	must[rating.Tenant](t)(b.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "acme", BillingMode: rating.Postpaid,
		Status: rating.Active, CreditLimit: mustMoney(t, "100"), OutboundTable: "Sell Out", InboundTable: "Sell In"}))
	must[rating.Provider](t)(b.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier-a", Status: rating.Active,
		OutboundTable: "Buy Out"}))
	return b, c
}

func cdr(id, number string, d int) rating.CDR {
	return rating.CDR{ID: id, Tenant: "acme", Kind: rating.Outbound, Number: number, Provider: "carrier-a", Start: Day, Duration: d}
}

func balances(t *testing.T, b Backend) (tenant, provider rating.Money) {
	t.Helper()
	return must[rating.Tenant](t)(b.Tenant("Acme")).Balance, must[rating.Provider](t)(b.Provider("Carrier")).Balance
}

// ledgerSum adds up an account's whole ledger, page by page, and checks
// that each entry's balance is the sum so far.
func ledgerSum(t *testing.T, b Backend, acct, name string) (rating.Money, int) {
	t.Helper()
	var all []rating.Entry
	after := ""
	for {
		page, next, err := b.Ledger(acct, name, time.Time{}, time.Time{}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	// Newest first: walk oldest first.
	var sum rating.Money
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		sum = addAmount(t, sum, e.Amount)
		if e.Balance != sum {
			t.Fatalf("%s %s entry %d (%s %s): balance %s, want the running sum %s", acct, name, e.ID, e.Kind, e.Amount, e.Balance, sum)
		}
	}
	return sum, len(all)
}

// addAmount adds through the decimal form, so that the suite states sums
// without depending on the money type's arithmetic.
func addAmount(t *testing.T, a, b rating.Money) rating.Money {
	t.Helper()
	s, err := rating.MoneyFromDecimal(a.Decimal().Add(b.Decimal()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
