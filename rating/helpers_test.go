package rating

import (
	"testing"

	"github.com/shopspring/decimal"
)

// amt parses a test price or fails the test.
func amt(tb testing.TB, s string) Amount {
	tb.Helper()
	a, err := ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustMoney parses a test amount of money or fails the test.
func mustMoney(tb testing.TB, s string) Money {
	tb.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// newRate is a row in force, with no connect fee, no grace and no bounds,
// initial_rate = rate, 4 decimals, half_up.
func newRate(tb testing.TB, rate string, i, s int) Rate {
	r := amt(tb, rate)
	return Rate{Prefix: "44", Rate: r, InitialRate: r, MinCost: NoAmount, MaxCost: NoAmount,
		InitialIncrement: i, Increment: s, Decimals: 4, Rounding: HalfUp, EffectiveFrom: alwaysUnix}
}

// referencePrice transcribes DOMAIN.md "Pricing one call leg" step by step
// in decimal.Decimal, as the yardstick for the fixed-point Price.
func referencePrice(r Rate, d int) (int, decimal.Decimal) {
	if d == 0 || d <= r.Grace {
		return 0, decimal.Zero
	}
	i, s := r.InitialIncrement, r.Increment
	b := i
	if d > i {
		b = i + (d-i+s-1)/s*s
	}
	first := min(b, i)
	num := r.InitialRate.Decimal().Mul(decimal.NewFromInt(int64(first))).
		Add(r.Rate.Decimal().Mul(decimal.NewFromInt(int64(b - first))))
	raw := r.ConnectFee.Decimal().Add(num.DivRound(decimal.NewFromInt(60), 20))
	places := int32(r.Decimals)
	var cost decimal.Decimal
	switch r.Rounding {
	case HalfUp:
		cost = raw.Round(places)
	case Up:
		cost = raw.RoundCeil(places)
	case Down:
		cost = raw.RoundFloor(places)
	}
	if r.MinCost.Set() && cost.LessThan(r.MinCost.Decimal()) {
		cost = r.MinCost.Decimal()
	}
	if r.MaxCost.Set() && cost.GreaterThan(r.MaxCost.Decimal()) {
		cost = r.MaxCost.Decimal()
	}
	return b, cost
}
