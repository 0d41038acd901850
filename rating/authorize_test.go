package rating

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxDurationCase is one answer of MaxDuration: with the credit avail and
// the cap maxCall, a call at rate may last want seconds (0: not allowed).
type maxDurationCase struct {
	name    string
	rate    func(t *testing.T) Rate
	avail   string
	maxCall int
	want    int
}

func runMaxDurationCases(t *testing.T, tests []maxDurationCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rate(t)
			got, ok := r.MaxDuration(mustMoney(t, tt.avail), tt.maxCall)
			if ok != (tt.want > 0) || got != tt.want {
				t.Fatalf("MaxDuration(%s) = %d, %v; want %d", tt.avail, got, ok, tt.want)
			}
		})
	}
}

func TestMaxDuration(t *testing.T) {
	tests := []maxDurationCase{
		{"60/60 at 0.06: five minutes for 0.30", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "0.30", 10800, 300},
		{"just short of the next minute", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "0.3599", 10800, 300},
		{"first block does not fit", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "0.0599", 10800, 0},
		{"connect fee alone does not fit", func(t *testing.T) Rate {
			r := newRate(t, "0.01", 1, 1)
			r.ConnectFee = amt(t, "0.50")
			return r
		}, "0.49", 10800, 0},
		{"connect fee then per second", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 1, 1)
			r.ConnectFee = amt(t, "0.10")
			return r
		}, "0.20", 10800, 100},
		{"initial_rate for the first block", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 60, 1)
			r.InitialRate = amt(t, "0.12")
			return r
		}, "0.1210", 10800, 61},
		{"i = 0 starts the grid at s", func(t *testing.T) Rate { return newRate(t, "0.06", 0, 30) }, "0.0899", 10800, 60},
		{"capped at max_call_duration", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "100", 3600, 3600},
		{"rate 0 fits forever", func(t *testing.T) Rate { return newRate(t, "0", 60, 60) }, "0", 10800, 10800},
		{"max_cost within credit fits forever", func(t *testing.T) Rate {
			r := newRate(t, "1", 60, 60)
			r.MaxCost = amt(t, "2")
			return r
		}, "2", 10800, 10800},
		{"max_cost above credit still limits", func(t *testing.T) Rate {
			r := newRate(t, "1", 60, 60)
			r.MaxCost = amt(t, "5")
			return r
		}, "2", 10800, 120},
		{"min_cost above credit refuses", func(t *testing.T) Rate {
			r := newRate(t, "0.01", 60, 60)
			r.MinCost = amt(t, "1")
			return r
		}, "0.99", 10800, 0},
		{"min_cost within credit, then the rate", func(t *testing.T) Rate {
			r := newRate(t, "0.6", 60, 60)
			r.MinCost = amt(t, "1")
			return r
		}, "1.20", 10800, 120},
		{"no credit", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "0", 10800, 0},
		{"negative credit", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "-5", 10800, 0},
		{"max_call below the first block", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, "1", 30, 30},
	}
	runMaxDurationCases(t, tests)
}

// Rounding decides the last increment: rate 0.01/min per second at two
// decimals with 0.05 of credit. up bills 0.05 only up to 300 s; half_up
// keeps rounding to 0.05 until the raw cost reaches 0.055 (330 s); down
// until it reaches 0.06 (360 s).
func TestMaxDurationRounding(t *testing.T) {
	for rnd, want := range map[Rounding]int{Up: 300, HalfUp: 329, Down: 359} {
		r := newRate(t, "0.01", 1, 1)
		r.Decimals, r.Rounding = 2, rnd
		got, ok := r.MaxDuration(mustMoney(t, "0.05"), 10800)
		if !ok || got != want {
			t.Errorf("%s: %d, want %d", rnd, got, want)
		}
		if c := r.Price(got).Cost; c.Cmp(mustMoney(t, "0.05")) > 0 {
			t.Errorf("%s: %d s costs %s", rnd, got, c)
		}
		if c := r.Price(got + 1).Cost; c.Cmp(mustMoney(t, "0.05")) <= 0 {
			t.Errorf("%s: one more second still fits (%s)", rnd, c)
		}
	}
}

// The answer is on the grid, fits, and the next grid point does not (unless
// it is the max_call_duration cap); a refusal means the first point does
// not fit.
func TestMaxDurationProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n < 20000; n++ {
		r := randomRate(rng)
		r.Grace = 0
		avail := MoneyOf(rng.Int64N(int64(amountUnit) * 20))
		maxCall := 1 + rng.IntN(20000)
		i, s := r.InitialIncrement, r.Increment
		b1 := i
		if i == 0 {
			b1 = s
		}
		got, ok := r.MaxDuration(avail, maxCall)
		if !ok {
			if r.costOf(b1).Cmp(avail) <= 0 {
				t.Fatalf("%+v avail %s: refused, but c(%d) = %s fits", r, avail, b1, r.costOf(b1))
			}
			continue
		}
		if got <= 0 || got > maxCall {
			t.Fatalf("%+v: %d outside (0, %d]", r, got, maxCall)
		}
		if got == maxCall {
			continue // capped: only c(b) ≤ avail for b ≤ maxCall on the grid matters
		}
		if (got-b1)%s != 0 {
			t.Fatalf("%+v: %d is off the grid", r, got)
		}
		if c := r.costOf(got); c.Cmp(avail) > 0 {
			t.Fatalf("%+v avail %s: c(%d) = %s does not fit", r, avail, got, c)
		}
		if c := r.costOf(got + s); c.Cmp(avail) <= 0 {
			t.Fatalf("%+v avail %s: c(%d) = %s fits too", r, avail, got+s, c)
		}
	}
}

func TestSortOffers(t *testing.T) {
	mk := func(p, rate, fee string) Offer {
		o := Offer{Provider: p, Rate: newRate(t, rate, 60, 60)}
		o.Rate.ConnectFee = amt(t, fee)
		return o
	}
	o := []Offer{mk("C", "0.02", "0"), mk("B", "0.01", "0.01"), mk("A", "0.01", "0.01"), mk("D", "0.01", "0")}
	SortOffers(o)
	got := o[0].Provider + o[1].Provider + o[2].Provider + o[3].Provider
	if got != "DABC" {
		t.Errorf("order %s, want DABC", got)
	}
}

func BenchmarkMaxDuration(b *testing.B) {
	r := newRate(b, "0.0123", 30, 6)
	r.ConnectFee = Amount(1_000_000)
	for b.Loop() {
		r.MaxDuration(MoneyOf(12_3456_7890), 10800)
	}
}

// DOMAIN.md "Magnitudes": large credit and large prices are answered
// exactly, never by a capped cost.
func TestMaxDurationLarge(t *testing.T) {
	tests := []maxDurationCase{
		{"10^15 of credit answers the cap", func(t *testing.T) Rate { return newRate(t, "1000000", 60, 60) }, "1000000000000000", 10800, 10800},
		{"10^15 of credit at the largest price", func(t *testing.T) Rate { return newRate(t, "1000000000", 60, 60) }, "1000000000000000", MaxCDRDuration, MaxCDRDuration},
		{"credit past 10^8 buys its minutes", func(t *testing.T) Rate { return newRate(t, "1000000", 60, 60) }, "150000000", 10800, 9000},
		{"credit past 10^8, a second short", func(t *testing.T) Rate { return newRate(t, "1000000", 60, 60) }, "149999999.99", 10800, 8940},
		{"credit of 10^13 at the largest price", func(t *testing.T) Rate { return newRate(t, "1000000000", 0, 1) }, "10000000000000", MaxCDRDuration, 600000},
		{"max_cost within credit fits forever, past 10^8 of cost", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "1000000")
			return r
		}, "1000000", MaxCDRDuration, MaxCDRDuration},
		{"max_cost above 10^8 within credit fits forever", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "250000000")
			return r
		}, "300000000", 100000, 100000},
		{"max_cost above credit above 10^8 still limits", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "250000000")
			return r
		}, "200000000", 100000, 12000},
	}
	runMaxDurationCases(t, tests)
}

// The same properties at every magnitude the rules allow: prices up to
// MaxPrice, credit up to 10^16 (past an int64 of units), calls up to a
// week. Where the grid is short enough, the answer is also the one a
// brute-force walk over the grid finds.
func TestMaxDurationPropertiesLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for n := 0; n < 20000; n++ {
		r := randomRate(rng)
		r.Grace = 0
		r.Rate = Amount(rng.Int64N(int64(MaxPrice) + 1))
		if rng.IntN(2) == 0 {
			r.InitialRate = Amount(rng.Int64N(int64(MaxPrice) + 1))
		}
		if rng.IntN(2) == 0 {
			r.ConnectFee = Amount(rng.Int64N(int64(MaxPrice) + 1))
		}
		q := int64(pow10[AmountDecimals-r.Decimals])
		if r.MaxCost.Set() {
			r.MaxCost = max(r.MaxCost, Amount(rng.Int64N(int64(MaxPrice))/q*q))
		}
		// Credit from 0 to 10^16 of the currency, spread over the magnitudes.
		avail := MoneyOf(rng.Int64N(math.MaxInt64))
		for range rng.IntN(4) {
			avail = avail.Add(avail).Add(avail) // ×3
		}
		if !avail.InRange() || avail.Cmp(mustMoney(t, "10000000000000000")) > 0 {
			avail = mustMoney(t, "10000000000000000")
		}
		maxCall := 1 + rng.IntN(MaxCDRDuration)
		i, s := r.InitialIncrement, r.Increment
		b1 := i
		if i == 0 {
			b1 = s
		}
		got, ok := r.MaxDuration(avail, maxCall)
		fits := func(b int) bool { return r.costOf(b).Cmp(avail) <= 0 }
		if !ok {
			if fits(b1) {
				t.Fatalf("%+v avail %s: refused, but c(%d) = %s fits", r, avail, b1, r.costOf(b1))
			}
			continue
		}
		if got <= 0 || got > maxCall {
			t.Fatalf("%+v: %d outside (0, %d]", r, got, maxCall)
		}
		if got != maxCall {
			if (got-b1)%s != 0 || !fits(got) || fits(got+s) {
				t.Fatalf("%+v avail %s max %d: %d is off the grid, or not the last point that fits", r, avail, maxCall, got)
			}
		}
		if (maxCall-b1)/s > 2000 {
			continue
		}
		want := b1 // brute force: walk the grid up to the cap
		for b := b1 + s; b-s < maxCall && fits(b); b += s {
			want = b
		}
		if want = min(want, maxCall); got != want {
			t.Fatalf("%+v avail %s max %d: %d, brute force %d", r, avail, maxCall, got, want)
		}
	}
}

// BenchmarkMaxDurationSolve is the answer short of the cap: 0.50 of
// credit buys a little over two minutes, found by the arithmetic.
func BenchmarkMaxDurationSolve(b *testing.B) {
	r := newRate(b, "0.0123", 30, 6)
	r.ConnectFee = Amount(1_000_000)
	for b.Loop() {
		r.MaxDuration(MoneyOf(50_000_000), 10800)
	}
}
