package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// Peer opens a second backend on the database of b, as a second pbxbill
// node sharing it, with the same clock; nil for a backend that one
// process owns (bbolt).
type Peer func(t *testing.T, b Backend, now func() time.Time) Backend

// RunPeers runs the contract of several nodes on one database: what one
// node decides, the other cannot decide again, and what one changes, the
// other sees.
func RunPeers(t *testing.T, open Open, peer Peer) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Open, Peer)
	}{
		{"CDRsOnce", testPeerCDRs},
		{"HoldsWithinCredit", testPeerHolds},
		{"SchedulesOnce", testPeerSchedules},
		{"CreditOnce", testPeerCreditOnce},
		{"RatesFollow", testPeerRates},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open, peer) })
	}
}

// The same CDRs posted to both nodes at once are billed once, and the
// balances are the sum of what was billed.
func testPeerCDRs(t *testing.T, open Open, peer Peer) {
	a, c := books(t, open)
	b := peer(t, a, c.now)
	var batch []rating.CDR
	for i := range 200 {
		batch = append(batch, cdr(fmt.Sprintf("c%d", i), "441", 60))
	}
	var wg sync.WaitGroup
	posted := make([]rating.Posted, 4)
	for i, n := range []Backend{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cp := append([]rating.CDR(nil), batch...)
			p, err := n.PostCDRs("pbx1", cp)
			if err != nil {
				t.Error(err)
			}
			posted[i] = p
		}()
	}
	wg.Wait()
	rated, dup := 0, 0
	for _, p := range posted {
		rated, dup = rated+p.Rated, dup+p.Duplicate
	}
	if rated != 200 || dup != 600 {
		t.Fatalf("rated %d, duplicates %d; want 200 and 600", rated, dup)
	}
	// 200 calls of 60 s at 0.06 a minute sell, 0.03 buy.
	for _, n := range []Backend{a, b} {
		tb, pb := balances(t, n)
		if tb != mustMoney(t, "-12") || pb != mustMoney(t, "-6") {
			t.Fatalf("balances %s and %s, want -12 and -6", tb, pb)
		}
	}
	check(t, a)
}

// Authorizations with holds spread over two nodes never hold more than
// the tenant's credit, and every grant is one the credit covers.
func testPeerHolds(t *testing.T, open Open, peer Peer) {
	a, c := books(t, open)
	b := peer(t, a, c.now)
	// Acme: postpaid, limit 100; 600 s calls hold 0.60 each: 166 fit.
	must[rating.Tenant](t)(a.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.MaxCallDuration = 600
		return nil
	}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := rating.Money{}
	calls := 0
	for i := range 200 {
		n := []Backend{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans, err := n.Authorize(rating.CallQuery{Tenant: "Acme", Node: "pbx1", Call: fmt.Sprintf("c%d", i),
				MaxCall: rating.DefaultMaxCallDuration, Resolve: func(tn *rating.Tenant) rating.Resolution {
					return n.Rater().Resolve(tn, rating.Outbound, "441", Day)
				}})
			if err != nil {
				t.Error(err)
				return
			}
			if ans.Hold != nil {
				mu.Lock()
				granted, calls = granted.Add(ans.Hold.Amount), calls+1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	com := must[rating.Commitments](t)(b.Commitments("Acme"))
	if com.Held != granted || com.Calls != calls {
		t.Fatalf("commitments %+v; the answers granted %s in %d calls", com, granted, calls)
	}
	if granted.Cmp(mustMoney(t, "100")) > 0 {
		t.Fatalf("held %s beyond the credit of 100", granted)
	}
	// Every grant was the full 600 s, until the credit left less than a
	// call's worth: 166 full holds, then what was left.
	if calls < 166 {
		t.Fatalf("only %d calls granted against a credit of 100 at 0.60 a call", calls)
	}
}

// Two schedulers on two nodes post each occurrence once.
func testPeerSchedules(t *testing.T, open Open, peer Peer) {
	a, c := books(t, open)
	b := peer(t, a, c.now)
	must[rating.Schedule](t)(a.CreateSchedule("Acme", rating.Schedule{Name: "seats", Amount: mustMoney(t, "-10"),
		TopUpTo: rating.NoMoney, Day: 1, Start: "2024-04-01"}))
	// 1 April 2024 to 1 March 2025: twelve months due.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 4 {
		n := []Backend{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := n.PostDueSchedules()
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += k
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 12 {
		t.Fatalf("four schedulers on two nodes posted %d, want 12", total)
	}
	if tb, _ := balances(t, b); tb != mustMoney(t, "-120") {
		t.Fatalf("balance %s, want -120", tb)
	}
	check(t, b)
}

// A one-time key sent to both nodes at once credits once.
func testPeerCreditOnce(t *testing.T, open Open, peer Peer) {
	a, c := books(t, open)
	b := peer(t, a, c.now)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range 6 {
		n := []Backend{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = n.CreditOnce("form-1", rating.TenantAccount, "Acme", mustMoney(t, "5"), rating.Topup, "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if rating.ErrorCode(err) != rating.EConflict {
			t.Errorf("a repeat: %v, want a conflict", err)
		}
	}
	if tb, _ := balances(t, a); ok != 1 || tb != mustMoney(t, "5") {
		t.Fatalf("%d credits succeeded, balance %s; want one of 5", ok, tb)
	}
}

// A deck replaced, a row put and a table deleted on one node price on
// the other within a second.
func testPeerRates(t *testing.T, open Open, peer Peer) {
	a, c := books(t, open)
	b := peer(t, a, c.now)
	tn := must[rating.Tenant](t)(b.Tenant("Acme"))
	price := func(n Backend, number string) string {
		res := n.Rater().Resolve(&tn, rating.Outbound, number, Day)
		if res.Reason != "" {
			return res.Reason
		}
		return res.Rate.Rate.String()
	}
	follows := func(what, number, want string) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for price(b, number) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the other node prices %s at %s a second later, want %s", what, number, price(b, number), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	follows("at start", "4471", "0.12")
	if err := a.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("44", amt(t, "0.07")), rating.NewRow("447", amt(t, "0.15"))}); err != nil {
		t.Fatal(err)
	}
	follows("a deck replaced", "4471", "0.15")
	if _, err := a.PutRate("Sell Out", rating.NewRow("4471", amt(t, "0.2")), nil); err != nil {
		t.Fatal(err)
	}
	follows("a row put", "4471", "0.2")
	if _, err := a.DeleteRate("Sell Out", rating.RateKey{Prefix: "4471"}); err != nil {
		t.Fatal(err)
	}
	follows("a row deleted", "4471", "0.15")
	must[rating.Tenant](t)(a.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.OutboundTable = ""; return nil }))
	if err := a.DeleteRateTable("Sell Out"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for b.Rater().Book.Get("Sell Out") != nil {
		if time.Now().After(deadline) {
			t.Fatal("a table deleted on one node is still live on the other a second later")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
