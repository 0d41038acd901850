package rating

import (
	"math"
	"math/bits"
	"sort"
)

// The reasons an authorization answers (API.md).
const (
	ReasonOK                 = "ok"
	ReasonSuspended          = "suspended"
	ReasonBlocked            = "blocked"
	ReasonUnknownTenant      = "unknown_tenant"
	ReasonNoTable            = "no_table"
	ReasonInvalidNumber      = "invalid_number"
	ReasonUnrated            = "unrated"
	ReasonBlockedDestination = "blocked_destination"
	ReasonTooManyCalls       = "too_many_calls"
	ReasonSpendLimit         = "spend_limit"
	ReasonInsufficientCredit = "insufficient_credit"
)

// Reasons lists every reason in DOMAIN.md's order, ok first.
var Reasons = []string{ReasonOK, ReasonUnknownTenant, ReasonSuspended, ReasonBlocked, ReasonNoTable,
	ReasonInvalidNumber, ReasonUnrated, ReasonBlockedDestination, ReasonTooManyCalls, ReasonSpendLimit,
	ReasonInsufficientCredit}

// DefaultMaxCallDuration is the installation default for max_call_duration.
const DefaultMaxCallDuration = 10800

// Authorization answers "may this tenant call this number now, and for
// how long?" (DOMAIN.md "Authorizing a call").
type Authorization struct {
	Allowed     bool
	MaxDuration int    // > 0 when allowed
	Reason      string // ReasonOK when allowed
	// State, Available and Free are the tenant's; "" and NoMoney for an
	// unknown tenant.
	State     State
	Available Money
	Free      Money
	// Hold is what a call of MaxDuration costs, grace ignored: the amount
	// a hold sets aside for it. NoMoney when not allowed.
	Hold Money
}

// Authorize decides a call that res resolved for tenant t (nil: unknown),
// with maxCall the installation's longest call and c what the tenant has
// already committed. call says the request names its call, so that it
// would open a hold and counts against max_calls. It refuses with the
// first reason that applies, in DOMAIN.md's order: unknown_tenant,
// suspended or blocked, what the resolution lacks (no_table,
// invalid_number, unrated), blocked_destination, too_many_calls, then
// spend_limit or insufficient_credit.
func Authorize(t *Tenant, res *Resolution, maxCall int, c Commitments, call bool) Authorization {
	a := Authorization{Reason: ReasonOK, Available: NoMoney, Free: NoMoney, Hold: NoMoney}
	if t == nil {
		a.Reason = ReasonUnknownTenant
		return a
	}
	a.State, a.Available = t.State(), t.Available()
	free, limited := t.Free(c)
	a.Free = free
	switch {
	case a.State == StateSuspended || a.State == StateBlocked:
		a.Reason = string(a.State) // the reasons share the states' names
	case !res.Rated():
		a.Reason = res.Reason
	case res.Rate.Blocked:
		a.Reason = ReasonBlockedDestination
	case call && t.MaxCalls > 0 && c.Calls >= t.MaxCalls:
		a.Reason = ReasonTooManyCalls
	default:
		if d, ok := res.Rate.MaxDuration(free, t.CallCap(maxCall)); ok {
			a.Allowed, a.MaxDuration, a.Hold = true, d, res.Rate.HoldFor(d)
		} else if _, fits := res.Rate.MaxDuration(a.Available.Sub(c.Held), 1); limited && fits {
			a.Reason = ReasonSpendLimit
		} else {
			a.Reason = ReasonInsufficientCredit
		}
	}
	return a
}

// MaxDuration answers how long a call at r may last with available credit:
// the largest point b of the increment grid i, i+s, i+2s, … (s, 2s, … when
// i = 0) whose cost c(b) fits, capped at maxCall. It is false when even the
// first grid point does not fit.
//
// The point is solved for arithmetically: c(b) ≤ A on the rounded cost is an
// exact linear bound on the raw cost (≤ A for up, < A + ulp/2 for half_up,
// < A + ulp for down), min_cost and max_cost only move the answer to the
// ends of the grid. The result is then checked against c and adjusted, which
// costs at most a step or two and never a loop over seconds.
func (r *Rate) MaxDuration(available Money, maxCall int) (int, bool) {
	i, s := r.InitialIncrement, r.Increment
	b1 := i
	if i == 0 {
		b1 = s
	}
	if available.hi < 0 {
		return 0, false
	}
	gridCeil := b1
	if maxCall > b1 {
		gridCeil = b1 + (maxCall-b1+s-1)/s*s
	}
	// c grows with b, so when the last point fits every point does: the
	// usual answer for a tenant with credit, found with one price.
	if r.costOf(gridCeil).lessEq(available) {
		return maxCall, true
	}
	if !r.costOf(b1).lessEq(available) {
		return 0, false
	}
	// Here r.Rate > 0, or the cost could not grow past c(b1).
	b := b1
	if e := int64(i) + r.extraSeconds(available); e > int64(b1) {
		b = b1 + int(min((e-int64(b1))/int64(s), int64(gridCeil-b1)/int64(s)))*s
	}
	for b > b1 && !r.costOf(b).lessEq(available) {
		b -= s
	}
	for b+s < gridCeil && r.costOf(b+s).lessEq(available) {
		b += s
	}
	return min(b, maxCall), true
}

// extraSeconds solves c(b) ≤ available for the seconds after the initial
// increment, on the raw cost: with A the available credit rounded down to
// the table's decimals, and k = 0 for up, ulp/2 for half_up and ulp for
// down (less a unit, as those bounds are strict),
//
//	60·connect_fee + initial_rate·i + rate·extra ≤ 60·A + 60·k
//
// in 128-bit unsigned arithmetic, so that no credit and no price can
// overflow it. A negative answer is −1: only whether it passes b1
// matters. r.Rate must be > 0 and available ≥ 0.
func (r *Rate) extraSeconds(available Money) int64 {
	ulp := uint64(pow10[AmountDecimals-r.Decimals])
	ahi, alo := uint64(available.hi), available.lo
	if ahi == 0 {
		alo -= alo % ulp
	} else {
		_, _, rem := divmod(ahi, alo, ulp)
		var b uint64
		alo, b = bits.Sub64(alo, rem, 0)
		ahi -= b
	}
	var k uint64
	switch r.Rounding {
	case HalfUp:
		k = 30*ulp - 1
	case Down:
		k = 60*ulp - 1
	}
	// pos = 60·A + k. available < c(gridCeil) < 2^105, so this fits.
	phi, plo := bits.Mul64(alo, 60)
	phi += ahi * 60
	var c uint64
	plo, c = bits.Add64(plo, k, 0)
	phi += c
	// neg = 60·connect_fee + initial_rate·i
	nhi, nlo := bits.Mul64(uint64(r.ConnectFee), 60)
	h, l := bits.Mul64(uint64(r.InitialRate), uint64(r.InitialIncrement))
	nlo, c = bits.Add64(nlo, l, 0)
	nhi += h + c
	if phi < nhi || phi == nhi && plo < nlo {
		return -1
	}
	plo, c = bits.Sub64(plo, nlo, 0)
	phi -= nhi + c
	rate := uint64(r.Rate)
	if phi >= rate {
		return math.MaxInt64 >> 1 // past any grid: the caller bounds it by gridCeil
	}
	extra, _ := bits.Div64(phi, plo, rate)
	return int64(min(extra, math.MaxInt64>>1))
}

// Offer is one provider's buy rate for a number, for least-cost routing.
type Offer struct {
	Provider string `json:"provider"`
	Trunk    string `json:"trunk"`
	Rate     Rate   `json:"-"`
}

// SortOffers orders offers cheapest per-minute rate first, then by connect
// fee, then by provider name so that equal offers keep a stable order.
func SortOffers(o []Offer) {
	sort.Slice(o, func(i, j int) bool {
		a, b := &o[i].Rate, &o[j].Rate
		if a.Rate != b.Rate {
			return a.Rate < b.Rate
		}
		if a.ConnectFee != b.ConnectFee {
			return a.ConnectFee < b.ConnectFee
		}
		return o[i].Provider < o[j].Provider
	})
}
