package rating

import (
	"math/bits"
	"time"
)

// Rate is the row that applies to one call, with the table's defaults and
// settings filled in: everything pricing needs, and nothing that allocates.
type Rate struct {
	Table            string
	Prefix           string
	Destination      string
	Rate             Amount
	ConnectFee       Amount
	InitialRate      Amount
	MinCost          Amount // NoAmount: none
	MaxCost          Amount // NoAmount: none
	InitialIncrement int
	Increment        int
	Grace            int
	Decimals         int
	Rounding         Rounding
	// EffectiveFrom is the row's start in Unix seconds, math.MinInt64 for
	// "always".
	EffectiveFrom int64
	// Blocked refuses calls at authorization; a CDR is still priced.
	Blocked bool
	// Days and Hours are the row's times of the week. Weekly is set when
	// the row is one of a week with times, its default included, so that
	// "Try a number" can tell which row of the week applied.
	Days   Days
	Hours  Hours
	Weekly bool
}

// From returns EffectiveFrom as a time, the zero time for "always".
func (r *Rate) From() time.Time {
	if r.EffectiveFrom == alwaysUnix {
		return time.Time{}
	}
	return time.Unix(r.EffectiveFrom, 0).UTC()
}

// Quote is the result of pricing one leg.
type Quote struct {
	Billed int   // billed seconds b
	Cost   Money // rounded, then bounded by min_cost and max_cost
}

// Billed returns the billed seconds b for a duration d, grace ignored:
// b = i when d ≤ i, else i + ⌈(d − i) / s⌉ · s.
func (r *Rate) Billed(d int) int {
	i, s := r.InitialIncrement, r.Increment
	if d <= 0 {
		return 0
	}
	if d <= i {
		return i
	}
	return i + (d-i+s-1)/s*s
}

// Price prices one call leg of d seconds as DOMAIN.md states: nothing for
// d = 0 or d ≤ grace, otherwise the billed seconds at initial_rate and rate
// plus the connect fee, rounded once, then bounded by min_cost and max_cost.
func (r *Rate) Price(d int) Quote {
	if d <= 0 || d <= r.Grace {
		return Quote{}
	}
	b := r.Billed(d)
	return Quote{Billed: b, Cost: r.costOf(b)}
}

// costOf is c(b): the cost of b billed seconds, grace ignored.
//
// The raw cost connect_fee + (initial_rate·min(b,i) + rate·(b−min(b,i)))/60
// is computed exactly: in units of 10^-8 the numerator is an integer, so
// one 128-bit division by 60·10^(8−decimals) gives the rounded cost and an
// exact remainder. That is decimal arithmetic with no precision limit at
// all, and it needs no allocation. Prices are int64s and b is far below
// 2^40, so the numerator (below 2^105) never overflows its 128 bits; the
// quotient passes 64 bits only for a cost beyond 2^64 ulps, which the
// rare first division takes.
func (r *Rate) costOf(b int) Money {
	first := min(b, r.InitialIncrement)
	hi, lo := bits.Mul64(uint64(r.InitialRate), uint64(first))
	h2, l2 := bits.Mul64(uint64(r.Rate), uint64(b-first))
	var c uint64
	lo, c = bits.Add64(lo, l2, 0)
	hi += h2 + c
	h3, l3 := bits.Mul64(uint64(r.ConnectFee), 60)
	lo, c = bits.Add64(lo, l3, 0)
	hi += h3 + c

	q := uint64(pow10[AmountDecimals-r.Decimals])
	den := 60 * q
	var n, rem, nhi uint64 // nhi: the quotient's high word
	if hi < den {
		n, rem = bits.Div64(hi, lo, den)
	} else {
		nhi = hi / den
		n, rem = bits.Div64(hi%den, lo, den)
	}
	if r.Rounding == Up && rem > 0 || r.Rounding == HalfUp && rem >= den-rem {
		if n++; n == 0 {
			nhi++
		}
	}
	hi, lo = bits.Mul64(n, q)
	hi += nhi * q
	// min_cost and max_cost are prices: ≥ 0 and within an int64.
	if r.MinCost.Set() && hi == 0 && lo < uint64(r.MinCost) {
		lo = uint64(r.MinCost)
	}
	if r.MaxCost.Set() && (hi != 0 || lo > uint64(r.MaxCost)) {
		hi, lo = 0, uint64(r.MaxCost)
	}
	return Money{hi: int64(hi), lo: lo}
}
