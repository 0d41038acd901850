package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// prepaid adds to books a prepaid tenant "Pre" on "Sell Out" (44 at 0.06
// a minute, per second: 0.001 a second) with balance bal.
func prepaid(t *testing.T, s *Store, bal string, limits func(*rating.Tenant)) {
	t.Helper()
	tn := rating.Tenant{Name: "Pre", BillingMode: rating.Prepaid, Status: rating.Active, OutboundTable: "Sell Out"}
	if limits != nil {
		limits(&tn)
	}
	if _, err := s.CreateTenant(tn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credit(rating.TenantAccount, "Pre", mustMoney(t, bal), rating.Topup, "float"); err != nil {
		t.Fatal(err)
	}
}

// callQuery asks for number as the handlers do.
func callQuery(s *Store, tenant, number, node, call string, maxCall int) rating.CallQuery {
	return rating.CallQuery{Tenant: tenant, Node: node, Call: call, MaxCall: maxCall,
		Resolve: func(t *rating.Tenant) rating.Resolution {
			return s.Rater().Resolve(t, rating.Outbound, number, s.Now())
		}}
}

// authorize resolves number for tenant as the handlers do, and authorizes
// it through the store.
func authorize(t testing.TB, s *Store, tenant, number, node, call string) (rating.Authorization, *rating.Hold) {
	t.Helper()
	ans, err := s.Authorize(callQuery(s, tenant, number, node, call, rating.DefaultMaxCallDuration))
	if err != nil {
		t.Fatal(err)
	}
	return ans.Authorization, ans.Hold
}

func wantGrant(t *testing.T, a rating.Authorization, reason string, max int) {
	t.Helper()
	if a.Reason != reason || a.MaxDuration != max {
		t.Fatalf("authorization %+v: want %s for %d s", a, reason, max)
	}
}

func wantHeld(t *testing.T, s *Store, tenant, held string, calls int) {
	t.Helper()
	c, err := s.Commitments(tenant)
	if err != nil {
		t.Fatal(err)
	}
	if c.Held.Cmp(mustMoney(t, held)) != 0 || c.Calls != calls {
		t.Fatalf("%s commits %s in %d calls, want %s in %d", tenant, c.Held, c.Calls, held, calls)
	}
}

// A hold sets its grant aside: the next call gets what is left, a retry
// gets the same grant and opens nothing, and max_calls counts holds.
func TestHoldOpenRetryLimit(t *testing.T) {
	s := books(t)
	prepaid(t, s, "1", func(tn *rating.Tenant) { tn.MaxCalls = 2 })
	a, h := authorize(t, s, "Pre", "441", "pbx1", "c1")
	wantGrant(t, a, rating.ReasonOK, 1000)
	if h == nil || h.Amount.Cmp(mustMoney(t, "1")) != 0 || h.Tenant != "Pre" || h.Node != "pbx1" || h.Call != "c1" {
		t.Fatalf("hold %+v", h)
	}
	if a.Free.Sign() != 0 {
		t.Fatalf("free after the hold: %s, want 0", a.Free)
	}
	again, h2 := authorize(t, s, "Pre", "441", "pbx1", "c1")
	wantGrant(t, again, rating.ReasonOK, 1000)
	if h2 == nil || *h2 != *h {
		t.Fatalf("retried hold %+v, want %+v", h2, h)
	}
	wantHeld(t, s, "Pre", "1", 1)
	// The credit is all held: another call, even without a call id, is refused.
	a, _ = authorize(t, s, "Pre", "441", "pbx1", "c2")
	wantGrant(t, a, rating.ReasonInsufficientCredit, 0)
	a, _ = authorize(t, s, "Pre", "441", "", "")
	wantGrant(t, a, rating.ReasonInsufficientCredit, 0)
	// The same call id from another node is another call.
	if _, err := s.Credit(rating.TenantAccount, "Pre", mustMoney(t, "2"), rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	a, _ = authorize(t, s, "Pre", "441", "pbx2", "c1")
	wantGrant(t, a, rating.ReasonOK, 2000)
	a, _ = authorize(t, s, "Pre", "441", "pbx1", "c3")
	wantGrant(t, a, rating.ReasonTooManyCalls, 0)
	a, _ = authorize(t, s, "Pre", "441", "pbx1", "")
	wantGrant(t, a, rating.ReasonInsufficientCredit, 0) // without a call id max_calls does not count, the holds do
	hs := must[[]rating.Hold](t)(s.Holds("Pre"))
	if len(hs) != 2 || hs[0].Node != "pbx1" || hs[1].Node != "pbx2" {
		t.Fatalf("holds %+v", hs)
	}
	// A renamed tenant keeps its holds.
	must[rating.Tenant](t)(s.UpdateTenant("Pre", func(tn *rating.Tenant) error { tn.Name = "Pre Renamed"; return nil }))
	if hs := must[[]rating.Hold](t)(s.Holds("Pre Renamed")); len(hs) != 2 {
		t.Fatalf("holds after a rename: %+v", hs)
	}
	wantHeld(t, s, "Pre Renamed", "3", 2)
	_, err := s.Holds("Pre")
	wantCode(t, err, rating.ENotFound, "Pre")
}

// The CDR of a call releases its hold in the transaction that bills it,
// whatever the intake path, and a hand release gives it back without one.
func TestHoldReleasePaths(t *testing.T) {
	s := books(t)
	prepaid(t, s, "10", nil)
	post := map[string]func(node string, c rating.CDR) error{
		"single": func(node string, c rating.CDR) error { _, err := s.PostCDRs(node, []rating.CDR{c}); return err },
		"batch": func(node string, c rating.CDR) error {
			_, err := s.PostCDRs(node, []rating.CDR{c, cdr(c.ID+"-other", "Pre", rating.Outbound, "441", "", 0)})
			return err
		},
		"follow": func(node string, c rating.CDR) error {
			_, err := s.PostFollowed(node, []rating.CDR{c}, FollowPos{Path: "/var/log/Master.csv", Offset: 1})
			return err
		},
	}
	for _, path := range []string{"single", "batch", "follow"} {
		a, _ := authorize(t, s, "Pre", "441", "", "call-"+path)
		if !a.Allowed {
			t.Fatalf("%s: %+v", path, a)
		}
		wantHeld(t, s, "Pre", a.Hold.String(), 1)
		if err := post[path]("", cdr("call-"+path, "Pre", rating.Outbound, "441", "", 60)); err != nil {
			t.Fatal(err)
		}
		wantHeld(t, s, "Pre", "0", 0)
	}
	if st := s.HoldStats(); st.Opened != 3 || st.ReleasedByCDR != 3 {
		t.Fatalf("stats %+v", st)
	}
	// A CDR from another node does not release the hold of this one.
	authorize(t, s, "Pre", "441", "pbx1", "x")
	if _, err := s.PostCDRs("pbx2", []rating.CDR{cdr("x", "Pre", rating.Outbound, "441", "", 5)}); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, s, "Pre", "9.82", 1) // all of 10 − 3 × 0.06, still held after pbx2's 0.005
	if err := s.ReleaseHold("pbx1", "x"); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, s, "Pre", "0", 0)
	wantCode(t, s.ReleaseHold("pbx1", "x"), rating.ENotFound, "x")
	if st := s.HoldStats(); st.ReleasedByHand != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A hold expires at its opening + grant + slack: from that instant it sets
// nothing aside, ExpireHolds lists it as expired, and its late CDR is
// charged as usual.
func TestHoldExpiry(t *testing.T) {
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{Now: c.Now, HoldSlack: time.Minute})
	books2(t, s)
	prepaid(t, s, "0.5", nil)
	a, h := authorize(t, s, "Pre", "441", "", "late")
	wantGrant(t, a, rating.ReasonOK, 500)
	if !h.Expires.Equal(epoch.Add(560 * time.Second)) {
		t.Fatalf("expires %s, want opening + 500 s + 60 s", h.Expires)
	}
	c.Add(559 * time.Second)
	wantHeld(t, s, "Pre", "0.5", 1)
	c.Add(time.Second)
	wantHeld(t, s, "Pre", "0", 0) // expired at this instant, before any sweep
	if len(must[[]rating.Hold](t)(s.Holds(""))) != 0 {
		t.Fatal("an expired hold is still listed as open")
	}
	gone := must[[]rating.Hold](t)(s.ExpireHolds())
	if len(gone) != 1 || gone[0].Call != "late" {
		t.Fatalf("expired %+v", gone)
	}
	ex := must[[]rating.Hold](t)(s.ExpiredHolds("Pre", 10))
	if len(ex) != 1 || ex[0].Call != "late" || ex[0].Amount.Cmp(mustMoney(t, "0.5")) != 0 {
		t.Fatalf("expired list %+v", ex)
	}
	if _, err := s.PostCDRs("", []rating.CDR{cdr("late", "Pre", rating.Outbound, "441", "", 100)}); err != nil {
		t.Fatal(err)
	}
	if b := balance(t, s, rating.TenantAccount, "Pre"); b.Cmp(mustMoney(t, "0.4")) != 0 {
		t.Fatalf("balance %s, want 0.4", b)
	}
	if st := s.HoldStats(); st.Expired != 1 || st.ReleasedByCDR != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// books2 is books on an open store.
func books2(t *testing.T, s *Store) {
	t.Helper()
	tb := rating.NewTable("Sell Out", rating.Outbound, "")
	tb.InitialIncrement, tb.Increment = 1, 1
	if _, err := s.CreateRateTable(tb); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("44", amt(t, "0.06"))}); err != nil {
		t.Fatal(err)
	}
}

// Holds are stored: a restart keeps them and they still count; one that
// expired while the server was down is taken off at Open.
func TestHoldRestart(t *testing.T) {
	c := &testClock{t: epoch}
	path := filepath.Join(t.TempDir(), "pbxbill.db")
	s, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	books2(t, s)
	prepaid(t, s, "3", func(tn *rating.Tenant) { tn.MaxCallDuration = 600 })
	authorize(t, s, "Pre", "441", "n", "long")
	c.Add(time.Minute)
	authorize(t, s, "Pre", "441", "n", "short")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpenAt(t, path, Options{Now: c.Now})
	wantHeld(t, s, "Pre", "1.2", 2)
	a, _ := authorize(t, s, "Pre", "441", "n", "third")
	wantGrant(t, a, rating.ReasonOK, 600)
	wantHeld(t, s, "Pre", "1.8", 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.Add(600*time.Second + rating.DefaultHoldSlack - time.Minute) // "long" expires, the others not
	s = MustOpenAt(t, path, Options{Now: c.Now})
	wantHeld(t, s, "Pre", "1.2", 2)
	if ex := must[[]rating.Hold](t)(s.ExpiredHolds("", 10)); len(ex) != 1 || ex[0].Call != "long" {
		t.Fatalf("expired at Open: %+v", ex)
	}
}

// Many calls of one tenant at once: the holds never sum past its credit,
// and every call that was refused was refused for credit.
func TestHoldRace(t *testing.T) {
	// A clock that stands still: books' clock ticks a second a reading,
	// and 200 authorizations would move it past the first holds' expiry,
	// freeing their credit for later calls.
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{Now: c.Now})
	books2(t, s)
	prepaid(t, s, "7.5", nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var granted rating.Money
	refused := map[string]int{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans, err := s.Authorize(callQuery(s, "Pre", "441", "", fmt.Sprint("call-", i), 120))
			a, h := ans.Authorization, ans.Hold
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if a.Allowed {
				granted = granted.Add(h.Amount)
			} else {
				refused[a.Reason]++
			}
		}()
	}
	wg.Wait()
	if granted.Cmp(mustMoney(t, "7.5")) != 0 || refused[rating.ReasonInsufficientCredit] != 200-63 || len(refused) != 1 {
		// 62 calls of 120 s at 0.12 is 7.44; the 63rd gets the 0.06 left.
		t.Fatalf("granted %s, refused %v", granted, refused)
	}
	wantHeld(t, s, "Pre", "7.5", 63)
}

// The promise through the store, concurrently: for random tenants and
// rates, goroutines authorize calls, and each allowed call either ends
// with a CDR within its grant (sent by a random path) or is released by
// hand. No tenant ends below zero, nor spends past its daily limit.
func TestHoldPromiseConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	for run := range 4 {
		// A clock that stands still, so that no hold expires under the
		// test's hundreds of clock readings.
		c := &testClock{t: epoch}
		s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{Now: c.Now})
		tb := rating.NewTable("T", rating.Outbound, "")
		tb.InitialIncrement, tb.Increment = []int{0, 1, 30, 60}[rng.IntN(4)], []int{1, 6, 60}[rng.IntN(3)]
		if _, err := s.CreateRateTable(tb); err != nil {
			t.Fatal(err)
		}
		row := rating.NewRow("44", amt(t, []string{"0.06", "0.6", "1.2345"}[rng.IntN(3)]))
		if rng.IntN(2) == 0 {
			row.ConnectFee = amt(t, "0.05")
		}
		if err := s.ReplaceRates("T", []rating.Row{row}); err != nil {
			t.Fatal(err)
		}
		type tenant struct {
			name  string
			limit rating.Money
		}
		var ts []tenant
		for i := range 3 {
			tn := rating.Tenant{Name: fmt.Sprint("t", i), BillingMode: rating.Prepaid, Status: rating.Active, OutboundTable: "T",
				MaxCalls: rng.IntN(4), MaxCallDuration: []int{0, 60, 300}[rng.IntN(3)]}
			if rng.IntN(2) == 0 {
				tn.DailySpendLimit = rating.MoneyOf(int64(50+rng.IntN(500)) * 1_000_000)
			}
			if _, err := s.CreateTenant(tn); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Credit(rating.TenantAccount, tn.Name, rating.MoneyOf(int64(100+rng.IntN(900))*1_000_000), rating.Topup, ""); err != nil {
				t.Fatal(err)
			}
			ts = append(ts, tenant{tn.Name, tn.DailySpendLimit})
		}
		var wg sync.WaitGroup
		for g := range 8 {
			seed := rng.Uint64()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(g)))
				for i := range 40 {
					tn := ts[r.IntN(len(ts))]
					node, call := fmt.Sprint("n", g%2), fmt.Sprint(run, "-", g, "-", i)
					a, _ := authorize(t, s, tn.name, "441", node, call)
					if !a.Allowed {
						continue
					}
					var err error
					c := rating.CDR{ID: call, Tenant: tn.name, Kind: rating.Outbound, Number: "441", Start: epoch, Duration: r.IntN(a.MaxDuration + 1)}
					switch r.IntN(4) {
					case 0:
						err = s.ReleaseHold(node, call)
					case 1:
						_, err = s.PostCDRs(node, []rating.CDR{c, {ID: call + "b", Tenant: tn.name, Number: "441", Start: epoch}})
					default:
						_, err = s.PostCDRs(node, []rating.CDR{c})
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, tn := range ts {
			got, err := s.Tenant(tn.name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Balance.Sign() < 0 {
				t.Errorf("run %d: %s ends at %s", run, tn.name, got.Balance)
			}
			figs := must[[]rating.TenantFigures](t)(s.TenantDashboard())
			for _, f := range figs {
				if f.Name == tn.name && tn.limit.Set() && tn.limit.Sign() > 0 && f.SpendToday.Cmp(tn.limit) > 0 {
					t.Errorf("run %d: %s spent %s past its limit %s", run, tn.name, f.SpendToday, tn.limit)
				}
			}
			wantHeld(t, s, tn.name, "0", 0)
		}
	}
}

// A call id authorized again after its hold expired opens a new hold in
// its place: one hold, counted once.
func TestHoldReopenedAfterExpiry(t *testing.T) {
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{Now: c.Now, HoldSlack: time.Second})
	books2(t, s)
	prepaid(t, s, "1", func(tn *rating.Tenant) { tn.MaxCallDuration = 60 })
	authorize(t, s, "Pre", "441", "", "same")
	c.Add(61 * time.Second)
	wantHeld(t, s, "Pre", "0", 0)
	a, _ := authorize(t, s, "Pre", "441", "", "same")
	wantGrant(t, a, rating.ReasonOK, 60)
	wantHeld(t, s, "Pre", "0.06", 1)
	if s.holds.n.Load() != 1 || len(must[[]rating.Hold](t)(s.Holds(""))) != 1 {
		t.Fatalf("%d holds in memory, listed %v", s.holds.n.Load(), must[[]rating.Hold](t)(s.Holds("")))
	}
	if _, err := s.PostCDRs("", []rating.CDR{cdr("same", "Pre", rating.Outbound, "441", "", 30)}); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, s, "Pre", "0", 0)
	if s.holds.n.Load() != 0 {
		t.Fatalf("%d holds left in memory", s.holds.n.Load())
	}
}
