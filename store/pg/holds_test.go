package pg_test

import (
	"context"
	"fmt"
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

// The helpers of the holds part's tests start with h, so that they meet
// no other part's.

// hDay is the clock's day in these tests, as in the contract.
var hDay = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// hClock is a clock that a test moves, shared by the stores of one test:
// two nodes on one database.
type hClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *hClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *hClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *hClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// hOpen opens a store, a node, on url with clock c, closed when t ends.
func hOpen(t testing.TB, url string, c *hClock) *pg.Store {
	t.Helper()
	s, err := pg.Open(url, store.Options{TZ: "UTC", Currency: "EUR", Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// hSQL runs one statement on url, for fixtures and for reading what is
// stored; it answers the rows' first columns when there are some.
func hSQL(t testing.TB, url, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// hCount reads one integer.
func hCount(t testing.TB, url, q string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// hTenant creates a tenant with SQL, as the accounts part would: a
// postpaid one when limit is not "".
func hTenant(t testing.TB, url, name, code, balance, limit string, maxCalls, maxDuration int) {
	t.Helper()
	mode, lim := rating.Prepaid, any(nil)
	if limit != "" {
		mode, lim = rating.Postpaid, limit
	}
	hSQL(t, url, `INSERT INTO tenants (name, accountcode, billing_mode, balance, credit_limit, status, max_calls, max_call_duration, created)
		VALUES ($1, nullif($2, ''), $3, $4::numeric, $5::numeric, 'active', $6, $7, now())`, name, code, mode, balance, lim, maxCalls, maxDuration)
}

func hMoney(t testing.TB, s string) rating.Money {
	t.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hRate is a per-second rate of perMinute a minute: 0.06 is 0.001 a
// second.
func hRate(t testing.TB, perMinute string) rating.Rate {
	t.Helper()
	a, err := rating.ParseAmount(perMinute)
	if err != nil {
		t.Fatal(err)
	}
	return rating.Rate{Table: "Sell", Prefix: "44", Destination: "UK", Rate: a, InitialRate: a, InitialIncrement: 1, Increment: 1,
		Decimals: 4, Rounding: rating.Up, MinCost: rating.NoAmount, MaxCost: rating.NoAmount}
}

// hAsk authorizes a call at rate r for tenant, with a hold when call is
// not "", as the handler asks.
func hAsk(s *pg.Store, tenant, node, call string, maxCall int, r rating.Rate) (rating.CallAnswer, error) {
	return s.Authorize(rating.CallQuery{Tenant: tenant, Node: node, Call: call, MaxCall: maxCall,
		Resolve: func(tn *rating.Tenant) rating.Resolution {
			if tn == nil {
				return rating.Resolution{Reason: rating.ReasonUnknownTenant}
			}
			return rating.Resolution{Number: "441", Table: r.Table, Currency: "EUR", Rate: r}
		}})
}

// hTotalsAgree checks that hold_totals sums the holds table, tenant by
// tenant.
func hTotalsAgree(t testing.TB, url string) {
	t.Helper()
	if n := hCount(t, url, `SELECT count(*) FROM hold_totals t
		FULL JOIN (SELECT tenant_id, sum(amount) AS held, count(*) AS calls FROM holds GROUP BY tenant_id) h USING (tenant_id)
		WHERE coalesce(t.held, 0) <> coalesce(h.held, 0) OR coalesce(t.calls, 0) <> coalesce(h.calls, 0)`); n != 0 {
		t.Fatalf("hold_totals disagrees with holds for %d tenants", n)
	}
}

func hMust[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestHolds follows a tenant's holds through the public operations: a
// grant sets its cost aside, a retry answers the same hold, another
// node's call of the same id is another hold, max_calls counts them, a
// CDR, a hand release and an expiry each end one, and the counters say
// so.
func TestHolds(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	s := hOpen(t, url, c)
	hTenant(t, url, "Acme", "acme", "0", "100", 3, 600)
	r := hRate(t, "0.06")

	a := hMust[rating.CallAnswer](t)(hAsk(s, "acme", "pbx1", "c1", rating.DefaultMaxCallDuration, r))
	if !a.Allowed || a.MaxDuration != 600 || a.Hold == nil || a.Hold.Amount != hMoney(t, "0.6") || a.Tenant == nil ||
		a.Tenant.Name != "Acme" || a.Free != hMoney(t, "99.4") || a.Hold.Tenant != "Acme" ||
		!a.Hold.Expires.Equal(hDay.Add(600*time.Second+rating.DefaultHoldSlack)) {
		t.Fatalf("first call: %+v %+v", a, a.Hold)
	}
	again := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "c1", rating.DefaultMaxCallDuration, r))
	if again.Hold == nil || *again.Hold != *a.Hold || !again.Allowed || again.Free != hMoney(t, "99.4") {
		t.Fatalf("retry: %+v %+v", again, again.Hold)
	}
	hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx2", "c1", rating.DefaultMaxCallDuration, r))
	if com := hMust[rating.Commitments](t)(s.Commitments("Acme")); com.Held != hMoney(t, "1.2") || com.Calls != 2 || com.SpentToday.Sign() != 0 {
		t.Fatalf("commitments %+v", com)
	}
	if _, err := s.Commitments("acme"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("commitments by accountcode: %v", err)
	}
	all := hMust[map[string]rating.Commitments](t)(s.AllCommitments())
	if len(all) != 1 || all["Acme"] != hMust[rating.Commitments](t)(s.Commitments("Acme")) {
		t.Fatalf("all commitments %+v", all)
	}
	hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "c2", rating.DefaultMaxCallDuration, r))
	if a := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "c3", rating.DefaultMaxCallDuration, r)); a.Reason != rating.ReasonTooManyCalls || a.Hold != nil {
		t.Fatalf("fourth call: %+v", a)
	}
	// Without a call id nothing is held, and max_calls does not apply.
	if a := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "", rating.DefaultMaxCallDuration, r)); !a.Allowed || a.Hold != nil || a.Free != hMoney(t, "98.2") {
		t.Fatalf("no call id: %+v", a)
	}
	if a := hMust[rating.CallAnswer](t)(hAsk(s, "nobody", "pbx1", "c9", rating.DefaultMaxCallDuration, r)); a.Reason != rating.ReasonUnknownTenant || a.Tenant != nil {
		t.Fatalf("unknown tenant: %+v", a)
	}
	if a := hMust[rating.CallAnswer](t)(hAsk(s, "nobody", "pbx1", "", rating.DefaultMaxCallDuration, r)); a.Reason != rating.ReasonUnknownTenant {
		t.Fatalf("unknown tenant without a call: %+v", a)
	}

	// pbx1's CDR of c1 releases pbx1's hold only, in a transaction that
	// commits: a refused batch releases nothing, and counts nothing.
	refused := rating.Errorf(rating.EInvalid, "refused")
	if err := s.ReleaseByCDR("pbx1", []string{"c1"}, refused); err != refused {
		t.Fatalf("a refused batch: %v", err)
	}
	if com := hMust[rating.Commitments](t)(s.Commitments("Acme")); com.Calls != 3 || s.HoldStats().ReleasedByCDR != 0 {
		t.Fatalf("after a refused batch: %+v, %+v", com, s.HoldStats())
	}
	if err := s.ReleaseByCDR("pbx1", []string{"c1", "x"}, nil); err != nil {
		t.Fatal(err)
	}
	hs := hMust[[]rating.Hold](t)(s.Holds("Acme"))
	if len(hs) != 2 || hs[0].Node != "pbx2" || hs[1].Call != "c2" {
		t.Fatalf("after the CDR: %+v", hs)
	}
	if all := hMust[[]rating.Hold](t)(s.Holds("")); len(all) != 2 {
		t.Fatalf("every tenant's holds: %+v", all)
	}
	if _, err := s.Holds("nobody"); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("holds of nobody: %v", err)
	}
	if err := s.ReleaseHold("pbx1", "c2"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseHold("pbx1", "c2"); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("released twice: %v", err)
	}

	// pbx2's hold expires 600 s + the slack after it opened: it sets
	// nothing aside from that instant, and cannot be released by hand.
	c.add(600*time.Second + rating.DefaultHoldSlack)
	if com := hMust[rating.Commitments](t)(s.Commitments("Acme")); com.Calls != 0 || com.Held.Sign() != 0 {
		t.Fatalf("after the expiry: %+v", com)
	}
	if hs := hMust[[]rating.Hold](t)(s.Holds("Acme")); len(hs) != 0 {
		t.Fatalf("open holds after the expiry: %+v", hs)
	}
	if err := s.ReleaseHold("pbx2", "c1"); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("release of an expired hold: %v", err)
	}
	// Two nodes sweep at once: the hold moves once, with one event.
	other := hOpen(t, url, c)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var gone []rating.Hold
	for _, n := range []*pg.Store{s, other, s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := n.ExpireHolds()
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			gone = append(gone, g...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(gone) != 1 || gone[0].Node != "pbx2" || gone[0].Call != "c1" || gone[0].Tenant != "Acme" {
		t.Fatalf("expired: %+v", gone)
	}
	if ex := hMust[[]rating.Hold](t)(s.ExpiredHolds("Acme", 10)); len(ex) != 1 || ex[0] != gone[0] {
		t.Fatalf("expired list: %+v", ex)
	}
	if n := hCount(t, url, `SELECT count(*) FROM outbox WHERE type = 'hold.expired' AND data->>'call' = 'c1' AND data->>'node' = 'pbx2'`); n != 1 {
		t.Fatalf("%d hold.expired events", n)
	}
	if g := hMust[[]rating.Hold](t)(s.ExpireHolds()); g != nil {
		t.Fatalf("swept again: %+v", g)
	}
	st := s.HoldStats()
	st2 := other.HoldStats()
	if st.Opened != 3 || st.ReleasedByCDR != 1 || st.ReleasedByHand != 1 || st.Expired+st2.Expired != 1 || st2.Opened != 0 {
		t.Fatalf("stats %+v and %+v", st, st2)
	}

	// The same call id after its hold expired, before a sweep, opens a
	// new hold in its place.
	h1 := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "re", rating.DefaultMaxCallDuration, r))
	c.add(time.Hour)
	h2 := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "pbx1", "re", rating.DefaultMaxCallDuration, r))
	if h2.Hold == nil || !h2.Hold.Opened.Equal(h1.Hold.Opened.Add(time.Hour)) {
		t.Fatalf("reopened: %+v then %+v", h1.Hold, h2.Hold)
	}
	if com := hMust[rating.Commitments](t)(s.Commitments("Acme")); com.Calls != 1 {
		t.Fatalf("after reopening: %+v", com)
	}
	hTotalsAgree(t, url)
}

// TestHoldsExpiredKept keeps the newest 1000 expired holds, newest first,
// tenant by tenant.
func TestHoldsExpiredKept(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	s := hOpen(t, url, c)
	hTenant(t, url, "Acme", "", "0", "1000000", 0, 60)
	hTenant(t, url, "Beta", "", "0", "1000000", 0, 60)
	r := hRate(t, "0.06")
	for i := range 1005 {
		tenant := "Acme"
		if i%2 == 1 {
			tenant = "Beta"
		}
		hMust[rating.CallAnswer](t)(hAsk(s, tenant, "n", fmt.Sprint("c", i), 60, r))
		c.add(time.Millisecond)
	}
	c.add(time.Hour)
	if g := hMust[[]rating.Hold](t)(s.ExpireHolds()); len(g) != 1005 || g[0].Call != "c0" || g[1004].Call != "c1004" {
		t.Fatalf("expired %d", len(g))
	}
	if n := hCount(t, url, `SELECT count(*) FROM holds_expired`); n != 1000 {
		t.Fatalf("%d kept", n)
	}
	ex := hMust[[]rating.Hold](t)(s.ExpiredHolds("Beta", 3))
	if len(ex) != 3 || ex[0].Call != "c1003" || ex[2].Call != "c999" || ex[0].Tenant != "Beta" {
		t.Fatalf("Beta's newest: %+v", ex)
	}
	if ex := hMust[[]rating.Hold](t)(s.ExpiredHolds("", 2000)); len(ex) != 1000 || ex[999].Call != "c5" {
		t.Fatalf("all: %d, oldest %+v", len(ex), ex[len(ex)-1])
	}
	if ex := hMust[[]rating.Hold](t)(s.ExpiredHolds("", 0)); ex == nil || len(ex) != 0 {
		t.Fatalf("limit 0: %+v", ex)
	}
	hTotalsAgree(t, url)
}

// TestHoldsTwoNodes: 200 authorizations at once, spread over two nodes
// on one database, never hold more than the tenant's free credit, to the
// last unit; and retries of one call on both nodes answer one hold.
func TestHoldsTwoNodes(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	nodes := []*pg.Store{hOpen(t, url, c), hOpen(t, url, c)}
	hTenant(t, url, "Acme", "acme", "-0.03", "10.03", 0, 0)
	r := hRate(t, "0.06")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var held rating.Money
	granted := 0
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := "acme" // by accountcode and by name, in the same batches
			if i%4 >= 2 {
				ref = "Acme"
			}
			a, err := hAsk(nodes[i%2], ref, fmt.Sprint("pbx", i%3), fmt.Sprint("r", i), 600, r)
			if err != nil {
				t.Error(err)
				return
			}
			if a.Allowed != (a.Hold != nil) || !a.Allowed && a.Reason != rating.ReasonInsufficientCredit {
				t.Errorf("answer %+v", a)
			}
			if a.Hold != nil {
				mu.Lock()
				held, granted = held.Add(a.Hold.Amount), granted+1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// 10.00 free: 16 calls of 600 s at 0.60, one of 400 s at 0.40.
	if held != hMoney(t, "10") || granted != 17 {
		t.Fatalf("held %s in %d grants, want 10 in 17", held, granted)
	}
	for _, n := range nodes {
		if com := hMust[rating.Commitments](t)(n.Commitments("Acme")); com.Held != held || com.Calls != 17 {
			t.Fatalf("commitments %+v", com)
		}
	}
	if o := nodes[0].HoldStats().Opened + nodes[1].HoldStats().Opened; o != 17 {
		t.Fatalf("%d opened", o)
	}

	// One call retried on both nodes at once: one hold, one grant.
	hSQL(t, url, `UPDATE tenants SET credit_limit = 1000`)
	answers := make([]rating.CallAnswer, 20)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := hAsk(nodes[i%2], "Acme", "pbx9", "same", 600, r)
			if err != nil {
				t.Error(err)
			}
			answers[i] = a
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if a.Hold == nil || *a.Hold != *answers[0].Hold {
			t.Fatalf("retries answered %+v and %+v", a.Hold, answers[0].Hold)
		}
	}
	if n := hCount(t, url, `SELECT count(*) FROM holds WHERE call = 'same'`); n != 1 {
		t.Fatalf("%d holds of one call", n)
	}
	hTotalsAgree(t, url)
}

// TestHoldsChurn opens, releases (by CDR and by hand) and expires holds
// of a few tenants on two nodes at once, with the clock moving: the
// totals stay the sum of the holds, and the commitments their open part.
func TestHoldsChurn(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	nodes := []*pg.Store{hOpen(t, url, c), hOpen(t, url, c)}
	for _, n := range []string{"A", "B", "C"} {
		hTenant(t, url, n, "", "0", "1000", 0, 60)
	}
	r := hRate(t, "0.06")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := nodes[w%2]
			for i := range 60 {
				call := fmt.Sprint("w", w, "-", i)
				if _, err := hAsk(n, []string{"A", "B", "C"}[i%3], "pbx", call, 60, r); err != nil {
					t.Error(err)
					return
				}
				var err error
				switch i % 4 {
				case 0:
					err = n.ReleaseByCDR("pbx", []string{call, fmt.Sprint("w", w, "-", i-1)}, nil)
				case 1:
					err = n.ReleaseHold("pbx", call)
				case 2:
					_, err = n.ExpireHolds()
				}
				if err != nil && rating.ErrorCode(err) != rating.ENotFound {
					t.Error(err)
					return
				}
				if w == 0 && i%10 == 0 {
					c.add(30 * time.Second)
				}
			}
		}()
	}
	wg.Wait()
	hTotalsAgree(t, url)
	now := c.now()
	for _, name := range []string{"A", "B", "C"} {
		want := hCount(t, url, `SELECT count(*) FROM holds h JOIN tenants t ON t.id = h.tenant_id WHERE t.name = $1 AND h.expires > $2`, name, now)
		if com := hMust[rating.Commitments](t)(nodes[0].Commitments(name)); int64(com.Calls) != want {
			t.Errorf("%s: %d calls, want %d", name, com.Calls, want)
		}
	}
}

// TestHoldsPanic: a Resolve that panics answers its batch with an error,
// and the node keeps authorizing.
func TestHoldsPanic(t *testing.T) {
	url := pgtest.URL(t)
	s := hOpen(t, url, &hClock{t: hDay})
	hTenant(t, url, "Acme", "", "0", "100", 0, 600)
	for _, call := range []string{"", "c1"} {
		_, err := s.Authorize(rating.CallQuery{Tenant: "Acme", Node: "n", Call: call, MaxCall: 600,
			Resolve: func(*rating.Tenant) rating.Resolution { panic("no rater") }})
		if err == nil || !strings.Contains(err.Error(), "no rater") {
			t.Fatalf("call %q: %v", call, err)
		}
		if a := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "n", call, 600, hRate(t, "0.06"))); !a.Allowed {
			t.Fatalf("after a panic: %+v", a)
		}
	}
}

// TestHoldsSpendLimit: the daily spend limit bounds the free credit with
// today's roll-up and the open holds, and names the reason.
func TestHoldsSpendLimit(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	s := hOpen(t, url, c)
	hTenant(t, url, "Acme", "", "0", "100", 0, 600)
	hSQL(t, url, `UPDATE tenants SET daily_spend_limit = 1`)
	hSQL(t, url, `INSERT INTO rollups (account_type, account_id, day, sell) SELECT 't', id, '2025-03-01', 0.2 FROM tenants`)
	r := hRate(t, "0.06")
	a := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "n", "a", 600, r))
	if !a.Allowed || a.Hold.Amount != hMoney(t, "0.6") || a.Free != hMoney(t, "0.2") {
		t.Fatalf("first: %+v", a)
	}
	b := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "n", "b", 600, r))
	if !b.Allowed || b.MaxDuration != 200 || b.Hold.Amount != hMoney(t, "0.2") {
		t.Fatalf("second: %+v", b)
	}
	if x := hMust[rating.CallAnswer](t)(hAsk(s, "Acme", "n", "c", 600, r)); x.Reason != rating.ReasonSpendLimit {
		t.Fatalf("third: %+v", x)
	}
	if com := hMust[rating.Commitments](t)(s.Commitments("Acme")); com.SpentToday != hMoney(t, "0.2") || com.Held != hMoney(t, "0.8") {
		t.Fatalf("commitments %+v", com)
	}
}

// Check compares the held totals that authorizations read with the holds
// they sum, and names a tenant whose total was changed behind its back.
func TestCheckHoldTotals(t *testing.T) {
	url := pgtest.URL(t)
	s := hOpen(t, url, &hClock{t: hDay})
	hTenant(t, url, "Acme", "acme", "0", "100", 3, 600)
	hMust[rating.CallAnswer](t)(hAsk(s, "acme", "pbx1", "c1", rating.DefaultMaxCallDuration, hRate(t, "0.06")))
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	hSQL(t, url, `UPDATE hold_totals SET held = held + 1`)
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "holds total 1.6 in 1 calls, its holds 0.6 in 1") {
		t.Fatalf("check of a changed total: %v", err)
	}
}
