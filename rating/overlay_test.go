package rating

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// overlayTable is the rows of a table by (prefix, effective_from), the
// yardstick for an index changed one prefix at a time.
type overlayTable map[string]map[int64]Row

func (m overlayTable) put(r Row) {
	if m[r.Prefix] == nil {
		m[r.Prefix] = map[int64]Row{}
	}
	m[r.Prefix][r.EffectiveFrom.Unix()] = r
}

func (m overlayTable) prefixRows(p string) []Row {
	var rows []Row
	for _, r := range m[p] {
		rows = append(rows, r)
	}
	return rows
}

func (m overlayTable) all() []Row {
	var rows []Row
	for p := range m {
		rows = append(rows, m.prefixRows(p)...)
	}
	return rows
}

// randomPrefix is a prefix of 1 to 8 digits, now and then the wildcard or
// one of 17 to 20 digits, from a small alphabet so that prefixes nest.
func randomPrefix(rng *rand.Rand) string {
	switch rng.IntN(40) {
	case 0:
		return Wildcard
	case 1:
		p := "12345678901234561"
		for l := rng.IntN(4); l > 0; l-- {
			p += strconv.Itoa(rng.IntN(2))
		}
		return p
	case 2:
		return "123456789012345" + strconv.Itoa(rng.IntN(2))
	}
	p := strconv.Itoa(1 + rng.IntN(3))
	for l := rng.IntN(8); l > 0; l-- {
		p += strconv.Itoa(rng.IntN(4))
	}
	return p
}

func randomRow(rng *rand.Rand, prefix string) Row {
	from := time.Time{}
	if rng.IntN(3) > 0 {
		from = day1.Add(time.Duration(rng.IntN(20)) * 24 * time.Hour)
	}
	r := NewRow(prefix, Amount(rng.Int64N(1000))*amountUnit/1000)
	r.Destination = "dest " + strconv.Itoa(rng.IntN(50))
	r.EffectiveFrom = from
	if rng.IntN(4) == 0 {
		r.InitialIncrement, r.Increment, r.Grace = rng.IntN(60), 1+rng.IntN(60), rng.IntN(10)
	}
	return r
}

// randomNumber extends a known prefix, or is any digits, up to 22 long.
func randomNumber(rng *rand.Rand, m overlayTable) string {
	n := ""
	if rng.IntN(4) > 0 {
		for p := range m {
			if p != Wildcard && rng.IntN(len(m)) == 0 {
				n = p
				break
			}
		}
	}
	if n == "" {
		n = strconv.Itoa(1 + rng.IntN(3))
	}
	for l := rng.IntN(22 - len(n) + 1); l > 0; l-- {
		n += strconv.Itoa(rng.IntN(4))
	}
	return n
}

// assertSameIndex fails unless x answers every query as a fresh index of
// the table's rows does, and counts the same rows and prefixes.
func assertSameIndex(t *testing.T, rng *rand.Rand, x *Index, m overlayTable, what string) {
	t.Helper()
	fresh := NewIndex(testTable(), m.all())
	if x.Len() != fresh.Len() || x.Table().Rows != fresh.Table().Rows {
		t.Fatalf("%s: %d prefixes and %d rows, a fresh index %d and %d",
			what, x.Len(), x.Table().Rows, fresh.Len(), fresh.Table().Rows)
	}
	for q := 0; q < 200; q++ {
		number := randomNumber(rng, m)
		at := day1.Add(time.Duration(rng.IntN(24*22)-24) * time.Hour)
		got, ok := x.Lookup(number, at)
		want, wantOK := fresh.Lookup(number, at)
		if ok != wantOK || got != want {
			t.Fatalf("%s: Lookup(%s, %s) = %+v %v; a fresh index %+v %v", what, number, at, got, ok, want, wantOK)
		}
	}
}

// An index changed prefix by prefix answers as one built afresh from the
// same rows, after any sequence of adds, edits, deletes and moves, and the
// indexes it was made from keep answering as before.
func TestWithPrefixMatchesRebuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 30; round++ {
		m := overlayTable{}
		for n := rng.IntN(200); n > 0; n-- {
			m.put(randomRow(rng, randomPrefix(rng)))
		}
		x := NewIndex(testTable(), m.all())
		type snapshot struct {
			x *Index
			m overlayTable
		}
		var old []snapshot
		for step := 0; step < 60; step++ {
			if rng.IntN(10) == 0 {
				old = append(old, snapshot{x, copyTable(m)})
			}
			var changed []string
			switch op := rng.IntN(5); {
			case op == 0 || len(m.all()) == 0: // add
				r := randomRow(rng, randomPrefix(rng))
				m.put(r)
				changed = []string{r.Prefix}
			case op == 1: // edit in place
				r := anyRow(rng, m)
				r.Rate, r.Destination = Amount(rng.Int64N(1000))*amountUnit/1000, "edited"
				m.put(r)
				changed = []string{r.Prefix}
			case op == 2: // move to another prefix or date
				r := anyRow(rng, m)
				from := r.Prefix
				delete(m[from], r.EffectiveFrom.Unix())
				n := randomRow(rng, randomPrefix(rng))
				r.Prefix, r.EffectiveFrom = n.Prefix, n.EffectiveFrom
				m.put(r)
				changed = []string{from, r.Prefix}
			default: // delete
				r := anyRow(rng, m)
				delete(m[r.Prefix], r.EffectiveFrom.Unix())
				changed = []string{r.Prefix}
			}
			for _, p := range changed {
				x = x.WithPrefix(p, m.prefixRows(p))
			}
			if rng.IntN(25) == 0 {
				x = NewIndex(testTable(), m.all()) // folded, as the store does now and then
			}
			assertSameIndex(t, rng, x, m, "round "+strconv.Itoa(round)+" step "+strconv.Itoa(step))
		}
		for i, s := range old {
			assertSameIndex(t, rng, s.x, s.m, "an older index "+strconv.Itoa(i))
		}
	}
}

func copyTable(m overlayTable) overlayTable {
	c := overlayTable{}
	for _, rs := range m {
		for _, r := range rs {
			c.put(r)
		}
	}
	return c
}

// anyRow picks a row of the table, which must have one.
func anyRow(rng *rand.Rand, m overlayTable) Row {
	all := m.all()
	slices.SortFunc(all, func(a, b Row) int { return compareRows(&a, &b) })
	return all[rng.IntN(len(all))]
}

func TestWithPrefixDoesNotAllocateLookups(t *testing.T) {
	x := benchIndex(t, 10_000)
	x = x.WithPrefix("1234", []Row{row(t, "1234", "0.10", time.Time{})})
	numbers := randomNumbers(64)
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range numbers {
			x.Lookup(n, benchNow)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup with an overlay allocates %v times per run", allocs)
	}
}

// overlaid returns base with n prefixes of 4 to 9 digits changed, new
// ones and existing ones alike.
func overlaid(tb testing.TB, base *Index, n int) *Index {
	rng := rand.New(rand.NewPCG(1, 2))
	x := base
	for i := 0; i < n; i++ {
		p := strconv.Itoa(100_000_000 + rng.IntN(900_000_000))[:4+rng.IntN(6)]
		x = x.WithPrefix(p, []Row{row(tb, p, "0.10", time.Time{})})
	}
	return x
}

// BenchmarkLookupOverlaid is BenchmarkLookup/1000000 for an index that
// carries one changed prefix, or as many as the store lets pile up
// before it rebuilds the index.
func BenchmarkLookupOverlaid(b *testing.B) {
	base := benchIndex(b, 1_000_000)
	numbers := randomNumbers(1 << 16)
	for _, n := range []int{1, 1024} {
		x := overlaid(b, base, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				x.Lookup(numbers[i&(1<<16-1)], benchNow)
			}
		})
	}
}

// BenchmarkWithPrefix is one change of an index of 10^6 prefixes that
// already carries 0 or 1023 changed prefixes.
func BenchmarkWithPrefix(b *testing.B) {
	base := benchIndex(b, 1_000_000)
	for _, n := range []int{0, 1023} {
		x := overlaid(b, base, n)
		rows := []Row{row(b, "4420", "0.10", time.Time{})}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.WithPrefix("4420", rows)
			}
		})
	}
}
