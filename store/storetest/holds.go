package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// authorize asks for number as a handler does.
func authorize(t *testing.T, b Backend, tenant, number, node, call string) rating.CallAnswer {
	t.Helper()
	return must[rating.CallAnswer](t)(b.Authorize(rating.CallQuery{Tenant: tenant, Node: node, Call: call,
		MaxCall: rating.DefaultMaxCallDuration, Resolve: func(tn *rating.Tenant) rating.Resolution {
			return b.Rater().Resolve(tn, rating.Outbound, number, Day)
		}}))
}

// Holds: a grant's cost is set aside and counted against the next calls;
// a retry answers the same hold; the CDR of the same (node, id) releases
// it, another node's does not; a hand release and an expiry end one; and
// concurrent calls never hold past the credit.
func testHolds(t *testing.T, open Open) {
	b, c := books(t, open)
	// Acme: postpaid, limit 100, balance 0; 44 at 0.06 a minute per
	// second: 0.001 a second. A cap of 600 s holds 0.60 a call.
	must[rating.Tenant](t)(b.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.MaxCallDuration, tn.MaxCalls = 600, 3
		return nil
	}))
	a := authorize(t, b, "acme", "441", "pbx1", "c1")
	if !a.Allowed || a.MaxDuration != 600 || a.Hold == nil || a.Hold.Amount != mustMoney(t, "0.6") || a.Tenant == nil || a.Tenant.Name != "Acme" {
		t.Fatalf("first call: %+v", a)
	}
	if again := authorize(t, b, "acme", "441", "pbx1", "c1"); again.Hold == nil || *again.Hold != *a.Hold {
		t.Fatalf("retry: %+v", again)
	}
	authorize(t, b, "Acme", "441", "pbx2", "c1") // another node's call of the same id
	if com := must[rating.Commitments](t)(b.Commitments("Acme")); com.Held != mustMoney(t, "1.2") || com.Calls != 2 {
		t.Fatalf("commitments %+v", com)
	}
	if all := must[map[string]rating.Commitments](t)(b.AllCommitments()); len(all) != 1 || all["Acme"] != must[rating.Commitments](t)(b.Commitments("Acme")) {
		t.Fatalf("all commitments %+v", all)
	}
	authorize(t, b, "Acme", "441", "pbx1", "c2")
	if a := authorize(t, b, "Acme", "441", "pbx1", "c3"); a.Reason != rating.ReasonTooManyCalls {
		t.Fatalf("fourth call: %+v", a)
	}
	// pbx1's CDR of c1 releases pbx1's hold, in its transaction.
	must[rating.Posted](t)(b.PostCDRs("pbx1", []rating.CDR{cdr("c1", "441", 30)}))
	hs := must[[]rating.Hold](t)(b.Holds("Acme"))
	if len(hs) != 2 || hs[0].Node != "pbx2" || hs[1].Call != "c2" {
		t.Fatalf("after the CDR: %+v", hs)
	}
	if err := b.ReleaseHold("pbx1", "c2"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.ReleaseHold("pbx1", "c2"), rating.ENotFound)
	// pbx2's hold expires 600 s + the default slack after it opened.
	c.mu.Lock()
	c.t = c.t.Add(600*time.Second + rating.DefaultHoldSlack)
	c.mu.Unlock()
	if com := must[rating.Commitments](t)(b.Commitments("Acme")); com.Calls != 0 || com.Held.Sign() != 0 {
		t.Fatalf("after the expiry: %+v", com)
	}
	if gone := must[[]rating.Hold](t)(b.ExpireHolds()); len(gone) != 1 || gone[0].Node != "pbx2" {
		t.Fatalf("expired: %+v", gone)
	}
	if ex := must[[]rating.Hold](t)(b.ExpiredHolds("Acme", 10)); len(ex) != 1 || ex[0].Call != "c1" {
		t.Fatalf("expired list: %+v", ex)
	}
	check(t, b)

	// 50 calls at once on 10.00 of free credit: at most 10.00 held.
	must[rating.Tenant](t)(b.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.MaxCalls, tn.CreditLimit = 0, mustMoney(t, "10.03")
		return nil
	}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var held rating.Money
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := b.Authorize(rating.CallQuery{Tenant: "Acme", Node: "pbx1", Call: fmt.Sprint("r", i), MaxCall: 600,
				Resolve: func(tn *rating.Tenant) rating.Resolution { return b.Rater().Resolve(tn, rating.Outbound, "441", Day) }})
			if err != nil {
				t.Error(err)
				return
			}
			if a.Hold != nil {
				mu.Lock()
				held = held.Add(a.Hold.Amount)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// 10.03 less the 0.03 that c1 cost: 16 calls of 0.60 and one of 0.40.
	if held != mustMoney(t, "10") {
		t.Fatalf("held %s of 10.00", held)
	}
}

// A retry of an authorization that arrives after its call's CDR was
// billed holds nothing: the call has ended, and a hold would set credit
// aside until it expired. The same call id from another node still holds.
func testLateAuthorization(t *testing.T, open Open) {
	b, _ := books(t, open)
	must[rating.Tenant](t)(b.UpdateTenant("Acme", func(tn *rating.Tenant) error {
		tn.MaxCallDuration = 600
		return nil
	}))
	must[rating.Posted](t)(b.PostCDRs("pbx1", []rating.CDR{cdr("late", "441", 30)}))
	a := authorize(t, b, "acme", "441", "pbx1", "late")
	if !a.Allowed || a.Hold != nil || a.MaxDuration != 600 {
		t.Fatalf("late retry: %+v", a)
	}
	if com := must[rating.Commitments](t)(b.Commitments("Acme")); com.Held.Sign() != 0 || com.Calls != 0 {
		t.Fatalf("commitments after a late retry %+v", com)
	}
	if a := authorize(t, b, "acme", "441", "pbx2", "late"); a.Hold == nil || a.Hold.Amount != mustMoney(t, "0.6") {
		t.Fatalf("the same id from another node: %+v", a)
	}
	check(t, b)
}
