package rating

import (
	"math/rand/v2"
	"testing"
	"time"
)

// holdTenant is a prepaid tenant with balance bal at 0.06 a minute (60/60).
func holdTenant(t *testing.T, bal string) (*Tenant, Resolution) {
	t.Helper()
	r := newRate(t, "0.06", 60, 60)
	return &Tenant{Name: "acme", BillingMode: Prepaid, Status: Active, Balance: mustMoney(t, bal),
		LowBalanceThreshold: mustMoney(t, "0")}, Resolution{Number: "44", Rate: r}
}

// DOMAIN.md "Authorizing a call": free credit, with and without a daily
// spend limit.
func TestFree(t *testing.T) {
	for _, c := range []struct {
		name                    string
		bal, limit, held, spent string
		postpaid                bool
		credit                  string
		want                    string
		limited                 bool
	}{
		{"available less holds", "5", "", "1.5", "0", false, "0", "3.5", false},
		{"postpaid counts the credit limit", "-2", "", "1", "0", true, "10", "7", false},
		{"a limit above the credit leaves it", "5", "100", "1", "3", false, "0", "4", false},
		{"the limit less spend and holds", "50", "10", "2", "7", false, "0", "1", true},
		{"a spent limit is negative free credit", "50", "10", "1", "12", false, "0", "-3", true},
		{"a zero limit is no limit", "5", "0", "0", "9", false, "0", "5", false},
		{"holds past the credit", "1", "", "1.5", "0", false, "0", "-0.5", false},
	} {
		tn := &Tenant{BillingMode: Prepaid, Balance: mustMoney(t, c.bal), CreditLimit: mustMoney(t, c.credit)}
		if c.postpaid {
			tn.BillingMode = Postpaid
		}
		if c.limit != "" {
			tn.DailySpendLimit = mustMoney(t, c.limit)
		}
		free, limited := tn.Free(Commitments{Held: mustMoney(t, c.held), SpentToday: mustMoney(t, c.spent)})
		if free.Cmp(mustMoney(t, c.want)) != 0 || limited != c.limited {
			t.Errorf("%s: free %s limited %v, want %s %v", c.name, free, limited, c.want, c.limited)
		}
	}
}

// The reasons after the resolution's, in DOMAIN.md's order, and what an
// allowed call holds.
func TestAuthorizeHoldReasons(t *testing.T) {
	for _, c := range []struct {
		name                 string
		bal                  string
		blocked              bool
		limit                string // daily_spend_limit; "" none
		maxCalls, maxCallDur int
		com                  Commitments
		call                 bool
		reason               string
		max                  int
		hold                 string
	}{
		{"blocked destination before too many calls", "5", true, "", 1, 0, Commitments{Calls: 1}, true, ReasonBlockedDestination, 0, ""},
		{"blocked destination before credit", "0.01", true, "", 0, 0, Commitments{}, false, ReasonBlockedDestination, 0, ""},
		{"too many calls before credit", "0.01", false, "", 2, 0, Commitments{Calls: 2}, true, ReasonTooManyCalls, 0, ""},
		{"max_calls counts only calls that name themselves", "5", false, "", 2, 0, Commitments{Calls: 2}, false, ReasonOK, 4980, "4.98"},
		{"below max_calls", "5", false, "", 3, 0, Commitments{Calls: 2, Held: mustMoney(t, "1")}, true, ReasonOK, 3960, "3.96"},
		{"spend limit when the credit would do", "5", false, "1", 0, 0, Commitments{SpentToday: mustMoney(t, "0.95")}, true, ReasonSpendLimit, 0, ""},
		{"insufficient credit when neither does", "0.05", false, "1", 0, 0, Commitments{SpentToday: mustMoney(t, "0.95")}, true, ReasonInsufficientCredit, 0, ""},
		{"holds count against the credit", "1", false, "", 0, 0, Commitments{Held: mustMoney(t, "0.96"), Calls: 1}, true, ReasonInsufficientCredit, 0, ""},
		{"the spend limit bounds the grant", "5", false, "1", 0, 0, Commitments{SpentToday: mustMoney(t, "0.40")}, true, ReasonOK, 600, "0.60"},
		{"the tenant's cap", "5", false, "", 0, 100, Commitments{}, true, ReasonOK, 100, "0.12"},
		{"the tenant's cap above the installation's", "500", false, "", 0, 20000, Commitments{}, true, ReasonOK, 20000, "20.04"},
	} {
		tn, res := holdTenant(t, c.bal)
		res.Rate.Blocked = c.blocked
		tn.MaxCalls, tn.MaxCallDuration = c.maxCalls, c.maxCallDur
		if c.limit != "" {
			tn.DailySpendLimit = mustMoney(t, c.limit)
		}
		a := Authorize(tn, &res, DefaultMaxCallDuration, c.com, c.call)
		if a.Reason != c.reason || a.Allowed != (c.reason == ReasonOK) || a.MaxDuration != c.max {
			t.Errorf("%s: %+v, want %s for %d s", c.name, a, c.reason, c.max)
			continue
		}
		if c.hold == "" && a.Hold.Set() || c.hold != "" && a.Hold.Cmp(mustMoney(t, c.hold)) != 0 {
			t.Errorf("%s: hold %s, want %q", c.name, a.Hold, c.hold)
		}
	}
}

// A hold of a grant that is not a grid point sets aside its billed
// seconds: 100 s on 6-second increments holds 102 s.
func TestHoldForBilledSeconds(t *testing.T) {
	r := newRate(t, "0.6", 6, 6)
	r.Grace = 30 // ignored: the hold is for a call that may well be answered
	if got := r.HoldFor(100); got.Cmp(mustMoney(t, "1.02")) != 0 {
		t.Fatalf("HoldFor(100) = %s, want 1.02", got)
	}
	h := NewHold("acme", "n1", "c1", &Authorization{MaxDuration: 100, Hold: r.HoldFor(100)}, time.Unix(1000, 0), DefaultHoldSlack)
	if !h.Expires.Equal(time.Unix(1400, 0)) || !h.Open(time.Unix(1399, 0)) || h.Open(time.Unix(1400, 0)) {
		t.Fatalf("hold %+v: want open until 1400 exclusive", h)
	}
}

// The promise, on the domain alone: for random tenants, rates and
// interleavings of authorizations, CDRs that keep to their grants, hand
// releases and expiries, a tenant never ends below zero available credit
// (prepaid) nor spends past its daily limit. Holds here are bookkept as
// the store keeps them: open ones count, a CDR charges and releases.
func TestHoldPromise(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 21))
	for run := range 300 {
		r := newRate(t, []string{"0.06", "0.6", "1.2345", "0.01"}[rng.IntN(4)], []int{0, 1, 30, 60}[rng.IntN(4)], []int{1, 6, 60}[rng.IntN(3)])
		if rng.IntN(3) == 0 {
			r.ConnectFee = amt(t, "0.05")
		}
		if rng.IntN(4) == 0 {
			r.MinCost = amt(t, "0.03")
		}
		tn := &Tenant{Name: "acme", BillingMode: Prepaid, Status: Active,
			Balance: MoneyOf(int64(rng.IntN(500)) * 1_000_000), LowBalanceThreshold: Money{}}
		if rng.IntN(2) == 0 {
			tn.DailySpendLimit = MoneyOf(int64(1+rng.IntN(300)) * 1_000_000)
		}
		if rng.IntN(2) == 0 {
			tn.MaxCallDuration = 30 + rng.IntN(600)
		}
		tn.MaxCalls = rng.IntN(4)
		res := Resolution{Number: "44", Rate: r}
		type call struct {
			hold Hold
			d    int // the seconds it will talk, within its grant
		}
		var open []call
		var spent Money
		now := time.Unix(1_800_000_000, 0)
		for step := range 60 {
			now = now.Add(time.Duration(rng.IntN(120)) * time.Second)
			var com Commitments
			live := open[:0]
			for _, c := range open {
				if c.hold.Open(now) {
					com.Held, com.Calls = com.Held.Add(c.hold.Amount), com.Calls+1
					live = append(live, c)
				} else if c.d > 0 { // expired: its CDR still comes, and is charged
					cost := r.Price(c.d).Cost
					tn.Balance, spent = tn.Balance.Sub(cost), spent.Add(cost)
				}
			}
			open = live
			com.SpentToday = spent
			switch op := rng.IntN(4); {
			case op < 2: // authorize a call
				a := Authorize(tn, &res, 3600, com, true)
				if a.Allowed {
					open = append(open, call{NewHold("acme", "", "c", &a, now, DefaultHoldSlack), rng.IntN(a.MaxDuration + 1)})
				}
			case len(open) > 0: // a call ends: its CDR charges and releases
				i := rng.IntN(len(open))
				c := open[i]
				open = append(open[:i], open[i+1:]...)
				if op == 2 && c.d > 0 {
					cost := r.Price(c.d).Cost
					tn.Balance, spent = tn.Balance.Sub(cost), spent.Add(cost)
				} // op 3: released by hand, it never connected
			}
			if tn.Balance.Sign() < 0 {
				t.Fatalf("run %d step %d: balance %s below zero (rate %+v)", run, step, tn.Balance, r)
			}
			if l, ok := tn.SpendLimit(); ok && spent.Cmp(l) > 0 {
				t.Fatalf("run %d step %d: spent %s past the limit %s", run, step, spent, l)
			}
		}
	}
}
