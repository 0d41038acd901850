package rating

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

var (
	day1     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day2     = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	benchNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func row(tb testing.TB, prefix, rate string, from time.Time) Row {
	r := NewRow(prefix, amt(tb, rate))
	r.Destination = "dest " + prefix
	r.EffectiveFrom = from
	return r
}

func testTable() Table { return NewTable("T", Outbound, "EUR") }

func TestLookup(t *testing.T) {
	rows := []Row{
		row(t, "*", "0.90", time.Time{}),
		row(t, "44", "0.02", time.Time{}),
		row(t, "447", "0.10", time.Time{}),
		row(t, "447", "0.08", day2),                      // a price cut from June
		row(t, "4479", "0.20", day2),                     // a new prefix from June
		row(t, "1", "0.01", day2),                        // only from June
		row(t, "12345678901234567", "0.30", time.Time{}), // 17 digits
		row(t, "1234567890123456", "0.25", time.Time{}),  // 16 digits
	}
	x := NewIndex(testTable(), rows)
	before, after := day1, day2.Add(time.Second)
	tests := []struct {
		number string
		at     time.Time
		prefix string // "" = no match
		rate   string
	}{
		{"447911123456", before, "447", "0.10"},
		{"447911123456", after, "4479", "0.20"},
		{"447811123456", after, "447", "0.08"},
		{"447", before, "447", "0.10"},
		{"44", before, "44", "0.02"},
		{"4", before, "*", "0.90"},
		{"442071234567", before, "44", "0.02"},
		{"12025550123", before, "*", "0.90"}, // "1" is not in force yet
		{"12025550123", after, "1", "0.01"},
		{"123456789012345678", before, "12345678901234567", "0.30"},
		{"1234567890123459", before, "*", "0.90"},
		{"12345678901234569", before, "1234567890123456", "0.25"},
		{"99", before, "*", "0.90"},
	}
	for _, tt := range tests {
		r, ok := x.Lookup(tt.number, tt.at)
		if !ok || r.Prefix != tt.prefix || r.Rate != amt(t, tt.rate) {
			t.Errorf("Lookup(%s, %s) = %q %s %v; want %q %s", tt.number, tt.at.Format(time.DateOnly), r.Prefix, r.Rate, ok, tt.prefix, tt.rate)
		}
		if ok && r.Destination != "dest "+tt.prefix {
			t.Errorf("Lookup(%s) destination %q", tt.number, r.Destination)
		}
	}
}

func TestLookupWithoutWildcardIsUnrated(t *testing.T) {
	x := NewIndex(testTable(), []Row{row(t, "44", "0.02", time.Time{}), row(t, "49", "0.03", day2)})
	for _, n := range []string{"33123", "4", "491234"} {
		if r, ok := x.Lookup(n, day1); ok {
			t.Errorf("Lookup(%s) = %q, want no match", n, r.Prefix)
		}
	}
	if _, ok := NewIndex(testTable(), nil).Lookup("44", day1); ok {
		t.Error("empty table matched")
	}
}

func TestLookupFillsTableDefaults(t *testing.T) {
	tb := testTable()
	tb.InitialIncrement, tb.Increment, tb.Decimals, tb.Rounding = 30, 6, 2, Up
	r0 := row(t, "44", "0.02", time.Time{})
	r1 := row(t, "45", "0.03", time.Time{})
	r1.InitialIncrement, r1.Increment, r1.Grace = 0, 1, 3
	r1.InitialRate, r1.ConnectFee = amt(t, "0.5"), amt(t, "0.1")
	x := NewIndex(tb, []Row{r0, r1})
	a, _ := x.Lookup("441", day1)
	if a.InitialIncrement != 30 || a.Increment != 6 || a.InitialRate != a.Rate || a.ConnectFee != 0 || a.Grace != 0 || a.Decimals != 2 || a.Rounding != Up {
		t.Errorf("defaults not applied: %+v", a)
	}
	b, _ := x.Lookup("451", day1)
	if b.InitialIncrement != 0 || b.Increment != 1 || b.Grace != 3 || b.InitialRate != amt(t, "0.5") || b.ConnectFee != amt(t, "0.1") {
		t.Errorf("row values not kept: %+v", b)
	}
}

// The index agrees with a brute-force scan on random tables.
func TestLookupMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 40; round++ {
		var rows []Row
		seen := map[string]bool{}
		for n := rng.IntN(300); n > 0; n-- {
			p := strconv.Itoa(1 + rng.IntN(9))
			for l := rng.IntN(6); l > 0; l-- {
				p += strconv.Itoa(rng.IntN(10))
			}
			if rng.IntN(50) == 0 {
				p = "*"
			}
			from := time.Time{}
			if rng.IntN(3) == 0 {
				from = day1.Add(time.Duration(rng.IntN(300)) * 24 * time.Hour)
			}
			k := p + from.String()
			if seen[k] {
				continue
			}
			seen[k] = true
			rows = append(rows, row(t, p, strconv.Itoa(rng.IntN(100)), from))
		}
		x := NewIndex(testTable(), rows)
		for q := 0; q < 300; q++ {
			number := strconv.Itoa(1 + rng.IntN(9))
			for l := rng.IntN(11); l > 0; l-- {
				number += strconv.Itoa(rng.IntN(10))
			}
			at := day1.Add(time.Duration(rng.IntN(400)) * 24 * time.Hour)
			want, wantOK := bruteLookup(rows, number, at)
			got, ok := x.Lookup(number, at)
			if ok != wantOK || (ok && (got.Prefix != want.Prefix || got.Rate != want.Rate)) {
				t.Fatalf("Lookup(%s, %s) = %q %s %v; brute force %q %s %v", number, at, got.Prefix, got.Rate, ok, want.Prefix, want.Rate, wantOK)
			}
		}
	}
}

func bruteLookup(rows []Row, number string, at time.Time) (Row, bool) {
	var best Row
	found := false
	for _, r := range rows {
		if r.EffectiveFrom.After(at) {
			continue
		}
		match := r.Prefix == "*" || (len(r.Prefix) <= len(number) && number[:len(r.Prefix)] == r.Prefix)
		if !match {
			continue
		}
		better := !found || (best.Prefix == "*" && r.Prefix != "*") ||
			(r.Prefix != "*" && len(r.Prefix) > len(best.Prefix)) ||
			(r.Prefix == best.Prefix && r.EffectiveFrom.After(best.EffectiveFrom))
		if better {
			best, found = r, true
		}
	}
	return best, found
}

func TestLookupDoesNotAllocate(t *testing.T) {
	x := benchIndex(t, 10_000)
	numbers := randomNumbers(64)
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range numbers {
			x.Lookup(n, benchNow)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per run", allocs)
	}
}

// benchIndex builds a table of n distinct random prefixes of 4 to 9 digits,
// as a large wholesale deck has.
func benchIndex(tb testing.TB, n int) *Index { return benchIndexTimed(tb, n, 0) }

// benchIndexTimed is benchIndex where every timed-th prefix (none for 0)
// has a peak and off-peak week: mon-fri 08:00-18:00 and a default.
func benchIndexTimed(tb testing.TB, n, timed int) *Index {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	seen := make(map[string]struct{}, n)
	rows := make([]Row, 0, n)
	for len(rows) < n {
		l := 4 + rng.IntN(6)
		p := strconv.FormatInt(rng.Int64N(pow10[min(l, 8)]*10), 10)
		if len(p) < l {
			p = fmt.Sprintf("%0*s", l, p)
			p = "1" + p[1:]
		}
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		r := NewRow(p, Amount(rng.Int64N(50_000_000)))
		r.Destination = "Country " + p[:2]
		rows = append(rows, r)
		if timed > 0 && len(seen)%timed == 0 {
			r.Days, r.Hours, r.Rate = 0b11111, Hours{8 * 60, 18 * 60}, r.Rate*2
			rows = append(rows, r)
		}
	}
	return NewIndex(testTable(), rows)
}

func randomNumbers(n int) []string {
	rng := rand.New(rand.NewPCG(9, 9))
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.FormatInt(100_000_000_000+rng.Int64N(900_000_000_000), 10)
	}
	return out
}

// BenchmarkLookup looks up random numbers in tables of random prefixes;
// in "-third-timed" a third of the prefixes have a peak and off-peak week,
// and the instant (a Wednesday noon) falls in the peak.
func BenchmarkLookup(b *testing.B) {
	for _, tc := range []struct {
		n, timed int
	}{{10_000, 0}, {100_000, 0}, {1_000_000, 0}, {1_000_000, 3}} {
		name := strconv.Itoa(tc.n)
		if tc.timed > 0 {
			name += "-third-timed"
		}
		b.Run(name, func(b *testing.B) {
			x := benchIndexTimed(b, tc.n, tc.timed)
			numbers := randomNumbers(1 << 16)
			b.ReportAllocs()
			b.ResetTimer()
			hits := 0
			for i := 0; b.Loop(); i++ {
				if _, ok := x.Lookup(numbers[i&(1<<16-1)], benchNow); ok {
					hits++
				}
			}
			if hits == 0 {
				b.Fatal("no number matched")
			}
			b.ReportMetric(float64(x.Bytes())/float64(x.Len()), "B/prefix")
		})
	}
}

// One crowded bucket beside empty ones: the fixed-step search must stop at
// the bucket's end whichever side of its segments a number falls.
func TestLookupCrowdedBucket(t *testing.T) {
	var rows []Row
	for i := 0; i < 200; i++ {
		rows = append(rows, row(t, fmt.Sprintf("44%03d", i*3), "0.01", time.Time{}))
	}
	rows = append(rows, row(t, "4", "0.50", time.Time{}), row(t, "45", "0.20", time.Time{}))
	x := NewIndex(testTable(), rows)
	for _, n := range []string{"4400000", "4459700", "4459900", "44599", "4400100", "4499999", "4500000", "4", "3", "5"} {
		want, wantOK := bruteLookup(rows, n, day1)
		got, ok := x.Lookup(n, day1)
		if ok != wantOK || got.Prefix != want.Prefix {
			t.Errorf("Lookup(%s) = %q %v; brute force %q %v", n, got.Prefix, ok, want.Prefix, wantOK)
		}
	}
}
