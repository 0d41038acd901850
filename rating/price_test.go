package rating

import (
	"math/rand/v2"
	"testing"
)

// Each case is one rule or example of DOMAIN.md "Pricing one call leg".
func TestPrice(t *testing.T) {
	tests := []struct {
		name   string
		rate   func(t *testing.T) Rate
		d      int
		billed int
		cost   string
	}{
		// Examples.
		{"6/6, d=10 bills 12", func(t *testing.T) Rate { return newRate(t, "0.06", 6, 6) }, 10, 12, "0.012"},
		{"6/6, d=36 bills 36", func(t *testing.T) Rate { return newRate(t, "0.06", 6, 6) }, 36, 36, "0.036"},
		{"6/6, d=37 bills 42", func(t *testing.T) Rate { return newRate(t, "0.06", 6, 6) }, 37, 42, "0.042"},
		{"rate 0.05, 30/6, d=45", func(t *testing.T) Rate { return newRate(t, "0.05", 30, 6) }, 45, 48, "0.04"},
		{"connect 0.15, 1/1, d=25, up", func(t *testing.T) Rate {
			r := newRate(t, "0.05", 1, 1)
			r.ConnectFee, r.Decimals, r.Rounding = amt(t, "0.15"), 2, Up
			return r
		}, 25, 25, "0.18"},
		{"connect 0.15, 1/1, d=25, half_up", func(t *testing.T) Rate {
			r := newRate(t, "0.05", 1, 1)
			r.ConnectFee, r.Decimals, r.Rounding = amt(t, "0.15"), 2, HalfUp
			return r
		}, 25, 25, "0.17"},
		{"connect 0.15, 1/1, d=25, down", func(t *testing.T) Rate {
			r := newRate(t, "0.05", 1, 1)
			r.ConnectFee, r.Decimals, r.Rounding = amt(t, "0.15"), 2, Down
			return r
		}, 25, 25, "0.17"},
		{"0/30, d=31 bills 60", func(t *testing.T) Rate { return newRate(t, "0.06", 0, 30) }, 31, 60, "0.06"},
		{"initial_rate 0.12 then 0.06, 60/1, d=61", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 60, 1)
			r.InitialRate = amt(t, "0.12")
			return r
		}, 61, 61, "0.121"},
		{"grace 5, d=5 is free", graceRate, 5, 0, "0"},
		{"grace 5, d=6 bills from 0", graceRate, 6, 60, "0.65"},

		// Rules around the examples.
		{"d=0 is free, connect fee included", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 60, 60)
			r.ConnectFee = amt(t, "0.10")
			return r
		}, 0, 0, "0"},
		{"d ≤ i bills i", func(t *testing.T) Rate { return newRate(t, "0.06", 60, 60) }, 1, 60, "0.06"},
		{"0/1 is per second", func(t *testing.T) Rate { return newRate(t, "0.06", 0, 1) }, 7, 7, "0.007"},
		{"min_cost raises a short call", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 1, 1)
			r.MinCost = amt(t, "0.05")
			return r
		}, 10, 10, "0.05"},
		{"max_cost caps a long call", func(t *testing.T) Rate {
			r := newRate(t, "1.00", 60, 60)
			r.MaxCost = amt(t, "2.50")
			return r
		}, 600, 600, "2.5"},
		{"min then max", func(t *testing.T) Rate {
			r := newRate(t, "0.06", 1, 1)
			r.MinCost, r.MaxCost = amt(t, "0.05"), amt(t, "0.05")
			return r
		}, 3000, 3000, "0.05"},
		{"rate 0 with a connect fee", func(t *testing.T) Rate {
			r := newRate(t, "0", 60, 60)
			r.ConnectFee = amt(t, "0.02")
			return r
		}, 30, 60, "0.02"},
		{"8-decimal rate kept exact before one rounding", func(t *testing.T) Rate {
			r := newRate(t, "0.00000007", 1, 1)
			r.Decimals = 8
			return r
		}, 1, 1, "0"}, // 0.0000000011666… rounds to 0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rate(t)
			q := r.Price(tt.d)
			if q.Billed != tt.billed || q.Cost != mustMoney(t, tt.cost) {
				t.Fatalf("Price(%d) = %d s, %s; want %d s, %s", tt.d, q.Billed, q.Cost, tt.billed, tt.cost)
			}
		})
	}
}

func graceRate(t *testing.T) Rate {
	r := newRate(t, "0.6", 60, 60)
	r.ConnectFee, r.Grace = amt(t, "0.05"), 5
	return r
}

// The three rounding methods at an exact …5 boundary and just either side.
func TestPriceRoundingBoundary(t *testing.T) {
	// rate 0.003/min, 0/1, 2 decimals: d=100 is exactly 0.005.
	tests := []struct {
		d                int
		halfUp, up, down string
	}{
		{100, "0.01", "0.01", "0"},
		{99, "0", "0.01", "0"},     // 0.00495
		{101, "0.01", "0.01", "0"}, // 0.00505
		{200, "0.01", "0.01", "0.01"},
		{300, "0.02", "0.02", "0.01"}, // 0.015
	}
	for _, tt := range tests {
		for rnd, want := range map[Rounding]string{HalfUp: tt.halfUp, Up: tt.up, Down: tt.down} {
			r := newRate(t, "0.003", 0, 1)
			r.Decimals, r.Rounding = 2, rnd
			if got := r.Price(tt.d).Cost; got != mustMoney(t, want) {
				t.Errorf("d=%d %s: cost %s, want %s", tt.d, rnd, got, want)
			}
		}
	}
}

// randomRate draws a rate of any shape the rules allow.
func randomRate(rng *rand.Rand) Rate {
	r := Rate{Prefix: "1", MinCost: NoAmount, MaxCost: NoAmount, EffectiveFrom: alwaysUnix,
		Rate:             Amount(rng.Int64N(int64(MaxPrice / 1000))),
		InitialIncrement: rng.IntN(MaxIncrement + 1), Increment: 1 + rng.IntN(MaxIncrement),
		Decimals: rng.IntN(9), Rounding: Rounding(rng.IntN(3))}
	if rng.IntN(4) == 0 {
		r.Rate = Amount(rng.Int64N(100)) // tiny rates stress the rounding
	}
	r.InitialRate = r.Rate
	if rng.IntN(3) == 0 {
		r.InitialRate = Amount(rng.Int64N(int64(MaxPrice / 1000)))
	}
	if rng.IntN(3) == 0 {
		r.ConnectFee = Amount(rng.Int64N(int64(MaxPrice / 1000)))
	}
	if rng.IntN(3) == 0 {
		r.Grace = rng.IntN(30)
	}
	q := int64(pow10[AmountDecimals-r.Decimals])
	if rng.IntN(4) == 0 {
		r.MinCost = Amount(rng.Int64N(1e9) / q * q)
	}
	if rng.IntN(4) == 0 {
		r.MaxCost = Amount(rng.Int64N(1e11) / q * q)
		if r.MinCost.Set() && r.MaxCost < r.MinCost {
			r.MaxCost = r.MinCost
		}
	}
	return r
}

// The fixed-point Price agrees with the decimal transcription of DOMAIN.md.
func TestPriceMatchesDecimalReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		r := randomRate(rng)
		d := rng.IntN(20000)
		q := r.Price(d)
		b, want := referencePrice(r, d)
		if q.Billed != b || !q.Cost.Decimal().Equal(want) {
			t.Fatalf("%+v d=%d: got %d s %s, reference %d s %s", r, d, q.Billed, q.Cost, b, want)
		}
	}
}

// Cost never falls as the call gets longer.
func TestPriceMonotoneInDuration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 300; n++ {
		r := randomRate(rng)
		prev := Quote{}
		for d := 0; d <= 4000; d += 1 + rng.IntN(7) {
			q := r.Price(d)
			if q.Cost.Cmp(prev.Cost) < 0 || q.Billed < prev.Billed {
				t.Fatalf("%+v: d=%d costs %s after %s", r, d, q.Cost, prev.Cost)
			}
			prev = q
		}
	}
}

func BenchmarkPrice(b *testing.B) {
	x := benchIndex(b, 100_000)
	numbers := randomNumbers(1024)
	now := benchNow
	b.ReportAllocs()
	b.ResetTimer()
	var sink Money
	for i := 0; b.Loop(); i++ {
		r, ok := x.Lookup(numbers[i&1023], now)
		if ok {
			sink = sink.Add(r.Price(95).Cost)
		}
	}
	_ = sink
}

// DOMAIN.md "Magnitudes": a cost is exact however large, never capped. The
// prices are those of currencies with small units (IDR, VND, COP).
func TestPriceLargeCosts(t *testing.T) {
	tests := []struct {
		name   string
		rate   func(t *testing.T) Rate
		d      int
		billed int
		cost   string
	}{
		{"10^6 a minute for three hours", func(t *testing.T) Rate { return newRate(t, "1000000", 60, 60) }, 10800, 10800, "180000000"},
		{"10^6 a minute for a week", func(t *testing.T) Rate { return newRate(t, "1000000", 60, 60) }, MaxCDRDuration, MaxCDRDuration, "10080000000"},
		{"IDR premium rate per second, 0 decimals", func(t *testing.T) Rate {
			r := newRate(t, "85000", 1, 1)
			r.Decimals = 0
			return r
		}, 86399, 86399, "122398583"}, // 85000 · 86399 / 60 = 122398583.33…
		{"the largest price for a week, with a fee and a first block", func(t *testing.T) Rate {
			r := newRate(t, "1000000000", 60, 1)
			r.ConnectFee, r.InitialRate, r.Decimals = amt(t, "1000000000"), amt(t, "999999999.99999999"), 8
			return r
		}, MaxCDRDuration, MaxCDRDuration, "10080999999999.99999999"},
		{"half_up at 8 decimals past 2^64 units", func(t *testing.T) Rate {
			r := newRate(t, "999999999.99999999", 0, 1)
			r.Decimals = 8
			return r
		}, 604799, 604799, "10079983333333.33323253"}, // …23253.35 rounds down
		{"max_cost above 10^8 is honoured", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "250000000")
			return r
		}, MaxCDRDuration, MaxCDRDuration, "250000000"},
		{"max_cost above 10^8 does not lift a cheaper call", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "500000000")
			return r
		}, 10800, 10800, "180000000"},
		{"max_cost caps a cost past 10^8", func(t *testing.T) Rate {
			r := newRate(t, "1000000", 60, 60)
			r.MaxCost = amt(t, "1000000")
			return r
		}, 10800, 10800, "1000000"},
		{"min_cost above 10^8", func(t *testing.T) Rate {
			r := newRate(t, "1000", 60, 60)
			r.MinCost = amt(t, "300000000")
			return r
		}, 60, 60, "300000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rate(t)
			q := r.Price(tt.d)
			if q.Billed != tt.billed || q.Cost.String() != tt.cost {
				t.Fatalf("Price(%d) = %d s, %s; want %d s, %s", tt.d, q.Billed, q.Cost, tt.billed, tt.cost)
			}
		})
	}
}

// At every magnitude the rules allow, the fixed-point Price agrees with
// the decimal transcription of DOMAIN.md.
func TestPriceLargeMatchesDecimalReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 20000; n++ {
		r := randomRate(rng)
		r.Rate = Amount(rng.Int64N(int64(MaxPrice) + 1))
		if rng.IntN(2) == 0 {
			r.InitialRate = Amount(rng.Int64N(int64(MaxPrice) + 1))
		}
		if rng.IntN(2) == 0 {
			r.ConnectFee = Amount(rng.Int64N(int64(MaxPrice) + 1))
		}
		d := rng.IntN(MaxCDRDuration + 1)
		q := r.Price(d)
		b, want := referencePrice(r, d)
		if q.Billed != b || q.Cost.Decimal().String() != want.String() {
			t.Fatalf("%+v d=%d: got %d s %s, reference %d s %s", r, d, q.Billed, q.Cost, b, want)
		}
	}
}
