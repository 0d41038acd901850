package rating

import "time"

// DefaultHoldSlack is how long past its grant a hold waits for its CDR by
// default (-hold-slack): ringing, and the CDR's way to pbxbill.
const DefaultHoldSlack = 300 * time.Second

// Hold sets aside the credit that a call in progress may spend, so that
// calls running at the same time cannot spend the same credit twice
// (DOMAIN.md "Holding credit for calls in progress"). Its key is (Node,
// Call), as a CDR's is (Node, ID).
type Hold struct {
	Tenant      string    `json:"tenant"`
	Node        string    `json:"node"`
	Call        string    `json:"call"`
	Amount      Money     `json:"amount"`
	MaxDuration int       `json:"max_duration"`
	Opened      time.Time `json:"opened"`
	Expires     time.Time `json:"expires"`
}

// Open reports whether the hold still sets credit aside at now: it does
// until its expiry, and not from that instant on.
func (h *Hold) Open(now time.Time) bool { return now.Before(h.Expires) }

// NewHold is the hold of an allowed authorization a, opened at now: its
// amount is what a call of the granted length costs, grace ignored, and
// it expires slack after the grant runs out.
func NewHold(tenant, node, call string, a *Authorization, now time.Time, slack time.Duration) Hold {
	return Hold{Tenant: tenant, Node: node, Call: call, Amount: a.Hold, MaxDuration: a.MaxDuration,
		Opened: now, Expires: now.Add(time.Duration(a.MaxDuration)*time.Second + slack)}
}

// Commitments is what a tenant has already promised at the instant of an
// authorization: the sum and the number of its open holds, and its spend
// today (the day's charges and corrections, by the day the CDRs started).
type Commitments struct {
	Held       Money
	Calls      int
	SpentToday Money
}

// Free is the tenant's free credit (DOMAIN.md "Authorizing a call"): its
// available credit less its open holds, and, under a daily spend limit,
// at most that limit less its spend today and its open holds. limited
// reports that the spend limit is what bounds it.
func (t *Tenant) Free(c Commitments) (free Money, limited bool) {
	free = t.Available().Sub(c.Held)
	if l, ok := t.SpendLimit(); ok {
		if byLimit := l.Sub(c.SpentToday).Sub(c.Held); byLimit.Cmp(free) < 0 {
			return byLimit, true
		}
	}
	return free, false
}

// HoldFor is the amount a hold sets aside for a grant of d seconds: the
// cost of d's billed seconds after rounding, min_cost and max_cost, with
// grace ignored. A grant of 100 s on 6-second increments holds the cost of
// 102 s.
func (r *Rate) HoldFor(d int) Money { return r.costOf(r.Billed(d)) }

// CallQuery asks for an authorization: Tenant is the tenant's name or
// accountcode, Node the PBX node asking ("" for the bootstrap token and
// loopback), Call the call id that opens a hold ("" for none), MaxCall the
// installation's longest call, and Resolve resolves the call for the
// tenant found (nil when none is).
type CallQuery struct {
	Tenant, Node, Call string
	MaxCall            int
	Resolve            func(*Tenant) Resolution
}

// CallAnswer is an authorization with what it was decided on: the tenant
// found (nil: unknown), the resolution, and the call's hold when one is
// open for it.
type CallAnswer struct {
	Tenant     *Tenant
	Resolution Resolution
	Authorization
	Hold *Hold
}

// Regrant answers a retried authorization of a call whose hold h is open:
// its grant again, before any other rule (DOMAIN.md), with the tenant's
// figures as they are now.
func Regrant(t *Tenant, h *Hold, c Commitments) Authorization {
	a := Authorization{Allowed: true, MaxDuration: h.MaxDuration, Reason: ReasonOK, Hold: h.Amount,
		Available: NoMoney, Free: NoMoney}
	if t != nil {
		a.State, a.Available = t.State(), t.Available()
		a.Free, _ = t.Free(c)
	}
	return a
}

// HoldStats counts what became of holds since the process started, for
// the metrics.
type HoldStats struct {
	Opened, ReleasedByCDR, ReleasedByHand, Expired uint64
}
