package rating

import "sort"

// The reasons an authorization answers (API.md).
const (
	ReasonOK                 = "ok"
	ReasonSuspended          = "suspended"
	ReasonBlocked            = "blocked"
	ReasonUnknownTenant      = "unknown_tenant"
	ReasonNoTable            = "no_table"
	ReasonInvalidNumber      = "invalid_number"
	ReasonUnrated            = "unrated"
	ReasonInsufficientCredit = "insufficient_credit"
)

// DefaultMaxCallDuration is the installation default for max_call_duration.
const DefaultMaxCallDuration = 10800

// Authorization answers "may this tenant call this number now, and for
// how long?" (DOMAIN.md "Authorizing a call").
type Authorization struct {
	Allowed     bool
	MaxDuration int    // > 0 when allowed
	Reason      string // ReasonOK when allowed
	// State and Available are the tenant's; "" and NoAmount for an
	// unknown tenant.
	State     State
	Available Amount
}

// Authorize decides a call that res resolved for tenant t (nil: unknown),
// with maxCall the longest call the installation allows. It refuses with
// the first reason that applies, in DOMAIN.md's order: unknown_tenant,
// suspended or blocked, then what the resolution lacks (no_table,
// invalid_number, unrated), then insufficient_credit.
func Authorize(t *Tenant, res *Resolution, maxCall int) Authorization {
	a := Authorization{Reason: ReasonOK, Available: NoAmount}
	if t == nil {
		a.Reason = ReasonUnknownTenant
		return a
	}
	a.State, a.Available = t.State(), t.Available()
	switch {
	case a.State == StateSuspended || a.State == StateBlocked:
		a.Reason = string(a.State) // the reasons share the states' names
	case !res.Rated():
		a.Reason = res.Reason
	default:
		if d, ok := res.Rate.MaxDuration(a.Available, maxCall); ok {
			a.Allowed, a.MaxDuration = true, d
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
func (r *Rate) MaxDuration(available Amount, maxCall int) (int, bool) {
	i, s := r.InitialIncrement, r.Increment
	b1 := i
	if i == 0 {
		b1 = s
	}
	if available < 0 || r.costOf(b1) > available {
		return 0, false
	}
	gridCeil := b1
	if maxCall > b1 {
		gridCeil = b1 + (maxCall-b1+s-1)/s*s
	}
	if r.costOf(gridCeil) <= available {
		return maxCall, true // every call up to maxCall fits
	}
	// Here r.Rate > 0, or the cost could not grow past c(b1).
	ulp := int64(pow10[AmountDecimals-r.Decimals])
	a := int64(available) / ulp * ulp
	bound := 60*a - 60*int64(r.ConnectFee) - int64(r.InitialRate)*int64(i)
	var extra int64 // the most seconds after i that fit
	switch r.Rounding {
	case Up:
		extra = floorDiv(bound, int64(r.Rate))
	case HalfUp:
		extra = floorDiv(bound+30*ulp-1, int64(r.Rate))
	case Down:
		extra = floorDiv(bound+60*ulp-1, int64(r.Rate))
	}
	b := b1
	if e := int64(i) + extra; e > int64(b1) {
		b = b1 + int(min((e-int64(b1))/int64(s), int64(gridCeil-b1)/int64(s)))*s
	}
	for b > b1 && r.costOf(b) > available {
		b -= s
	}
	for b+s < gridCeil && r.costOf(b+s) <= available {
		b += s
	}
	return min(b, maxCall), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
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
