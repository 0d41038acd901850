package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"pbxbill/rating"
)

// sameAsRebuilt fails unless the live index of table answers every number
// of numbers, at every instant of at, as an index built afresh from the
// stored rows, with the same row and prefix counts as the stored table.
func sameAsRebuilt(tb testing.TB, s *Store, table string, numbers []string, at []time.Time) {
	tb.Helper()
	x := s.Book().Get(table)
	t := must[rating.Table](tb)(s.RateTable(table))
	fresh := rating.NewIndex(t, allRows(tb, s, table))
	if x.Table().Rows != t.Rows || fresh.Table().Rows != t.Rows || x.Len() != fresh.Len() {
		tb.Fatalf("the live index has %d rows and %d prefixes, the table %d rows, a fresh index %d prefixes",
			x.Table().Rows, x.Len(), t.Rows, fresh.Len())
	}
	for _, n := range numbers {
		for _, when := range at {
			got, ok := x.Lookup(n, when)
			want, wantOK := fresh.Lookup(n, when)
			if ok != wantOK || got != want {
				tb.Fatalf("Lookup(%s, %s): live %+v %v, rebuilt %+v %v", n, when, got, ok, want, wantOK)
			}
		}
	}
}

// rk and rkp are a row's key and a pointer to it.
func rk(prefix string, eff time.Time) rating.RateKey {
	return rating.RateKey{Prefix: prefix, EffectiveFrom: eff}
}

func rkp(prefix string, eff time.Time) *rating.RateKey {
	k := rk(prefix, eff)
	return &k
}

func TestDeleteRate(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	june := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	long := "12345678901234567890"
	rows := []rating.Row{rating.NewRow("44", 1), fullRow("447", time.Time{}), fullRow("447", june),
		rating.NewRow("4479", 3), rating.NewRow("*", 9), rating.NewRow(long, 5)}
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	before := allRows(t, s, "t")
	updated := must[rating.Table](t)(s.RateTable("t")).Updated

	old, err := s.DeleteRate("t", rk("447", june))
	if err != nil || !reflect.DeepEqual(old, fullRow("447", june)) {
		t.Fatalf("DeleteRate answered %+v, %v", old, err)
	}
	after := allRows(t, s, "t")
	// "*" sorts first, then the long prefix, then 44, 447 and 447 of June.
	if want := append(append([]rating.Row{}, before[:4]...), before[5:]...); !reflect.DeepEqual(after, want) {
		t.Errorf("rows after the delete\n got %v\nwant %v", keysOf(after), keysOf(want))
	}
	if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != 5 || !tb.Updated.After(updated) {
		t.Errorf("table after the delete: %d rows, updated %s (was %s)", tb.Rows, tb.Updated, updated)
	}
	// Rating sees it at once: in July the 447 row of always applies again.
	if r, _ := s.Book().Get("t").Lookup("4471", june.AddDate(0, 1, 0)); !r.From().IsZero() {
		t.Errorf("after the delete 4471 is priced by %+v", r)
	}
	numbers := []string{"4471", "44791", "4412", "99", long + "1", "1234567890123456"}
	at := []time.Time{epoch, june.AddDate(0, 1, 0)}
	sameAsRebuilt(t, s, "t", numbers, at)

	for _, k := range []rating.RateKey{rk("*", time.Time{}), rk(long, time.Time{}), rk("4479", time.Time{}), rk("447", time.Time{})} {
		if _, err := s.DeleteRate("t", k); err != nil {
			t.Fatalf("delete %s: %v", k, err)
		}
		sameAsRebuilt(t, s, "t", numbers, at)
	}
	if x := s.Book().Get("t"); x.Overlaid() != 4 {
		t.Errorf("the index carries %d changed prefixes, want 4: was it rebuilt?", x.Overlaid())
	}

	_, err = s.DeleteRate("t", rk("447", june))
	wantCode(t, err, rating.ENotFound, `rate table "t" has no row 447 effective 2025-06-01T00:00:00Z`)
	_, err = s.DeleteRate("t", rk("44", june))
	wantCode(t, err, rating.ENotFound, "no row 44 effective")
	_, err = s.DeleteRate("nope", rk("44", time.Time{}))
	wantCode(t, err, rating.ENotFound, `rate table "nope" not found`)
	_, err = s.DeleteRate("t", rk("4a", time.Time{}))
	wantCode(t, err, rating.EInvalid, "digits only")
	if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != 1 {
		t.Errorf("%d rows, want 1", tb.Rows)
	}
}

// Deleting one row of a large table writes a few pages, not the table.
func TestDeleteRateWritesLittle(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	rows := make([]rating.Row, 20_000)
	for i := range rows {
		rows[i] = rating.NewRow(strconv.Itoa(100_000+i), 1)
	}
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	x := s.Book().Get("t")
	writes := func() int64 { st := s.db.Stats(); return st.TxStats.GetWrite() }
	w0 := writes()
	if _, err := s.DeleteRate("t", rk("110000", time.Time{})); err != nil {
		t.Fatal(err)
	}
	if w := writes() - w0; w > 20 {
		t.Errorf("deleting one row of 20 000 wrote %d pages", w)
	}
	if y := s.Book().Get("t"); y.Overlaid() != 1 || y.Len() != x.Len()-1 {
		t.Errorf("the index was rebuilt (%d changed prefixes, %d prefixes)", y.Overlaid(), y.Len())
	}
}

func TestPutRate(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	june := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := s.ReplaceRates("t", []rating.Row{rating.NewRow("44", 1), rating.NewRow("33", 2)}); err != nil {
		t.Fatal(err)
	}
	numbers := []string{"441", "331", "4471", "55"}
	at := []time.Time{epoch, june}
	step := func(what string, row rating.Row, from *rating.RateKey, wantAdded bool, want ...string) {
		t.Helper()
		added, err := s.PutRate("t", row, from)
		if err != nil || added != wantAdded {
			t.Fatalf("%s: added %v, %v", what, added, err)
		}
		if k := keysOf(allRows(t, s, "t")); !reflect.DeepEqual(k, want) {
			t.Fatalf("%s: rows %v, want %v", what, k, want)
		}
		if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != len(want) {
			t.Fatalf("%s: the table counts %d rows", what, tb.Rows)
		}
		sameAsRebuilt(t, s, "t", numbers, at)
	}
	step("add", fullRow("447", june), nil, true, "33@always", "44@always", "447@2025-06-01T00:00:00Z")
	step("edit in place", rating.NewRow("44", 5), rkp("44", time.Time{}), false,
		"33@always", "44@always", "447@2025-06-01T00:00:00Z")
	if r, _ := s.Book().Get("t").Lookup("441", epoch); r.Rate != 5 {
		t.Errorf("edited 44 prices at %s", r.Rate)
	}
	step("move to another date", fullRow("447", time.Time{}), rkp("447", june), true,
		"33@always", "44@always", "447@always")
	step("move to another prefix", rating.NewRow("55", 7), rkp("33", time.Time{}), true,
		"44@always", "447@always", "55@always")
	step("replace without a key", rating.NewRow("55", 8), nil, false, "44@always", "447@always", "55@always")

	// Refusals change nothing.
	_, err := s.PutRate("t", rating.NewRow("55", 9), rkp("44", time.Time{}))
	wantCode(t, err, rating.EConflict, `rate table "t" already has a row 55 (always)`)
	_, err = s.PutRate("t", rating.NewRow("66", 9), rkp("33", time.Time{}))
	wantCode(t, err, rating.ENotFound, "no row 33 (always)")
	_, err = s.PutRate("t", rating.NewRow("66", -1), nil)
	wantCode(t, err, rating.EInvalid, "rate")
	_, err = s.PutRate("nope", rating.NewRow("66", 1), nil)
	wantCode(t, err, rating.ENotFound, "not found")
	if k := keysOf(allRows(t, s, "t")); !reflect.DeepEqual(k, []string{"44@always", "447@always", "55@always"}) {
		t.Errorf("rows after the refusals: %v", k)
	}
	sameAsRebuilt(t, s, "t", numbers, at)
}

// Any sequence of single-row changes and small merges, with the index
// rebuilt in the background now and then, leaves the live index as a
// rebuild from the stored rows would make it, and so does a reopen.
func TestRowChangesMatchRebuild(t *testing.T) {
	s := MustOpen(t)
	s.foldAt = 7
	mustTable(t, s, "t", rating.Outbound)
	rng := rand.New(rand.NewPCG(8, 9))
	prefix := func() string {
		if rng.IntN(30) == 0 {
			return "*"
		}
		p := strconv.Itoa(1 + rng.IntN(2))
		for l := rng.IntN(5); l > 0; l-- {
			p += strconv.Itoa(rng.IntN(3))
		}
		return p
	}
	day := func() time.Time {
		if rng.IntN(2) == 0 {
			return time.Time{}
		}
		return epoch.AddDate(0, 0, rng.IntN(5))
	}
	var seed []rating.Row
	seen := map[string]bool{}
	for range 100 {
		r := rating.NewRow(prefix(), rating.Amount(rng.IntN(1000)))
		r.EffectiveFrom = day()
		if !seen[r.Prefix+r.EffectiveFrom.String()] {
			seen[r.Prefix+r.EffectiveFrom.String()] = true
			seed = append(seed, r)
		}
	}
	if err := s.ReplaceRates("t", seed); err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for range 60 {
		n := strconv.Itoa(1 + rng.IntN(2))
		for l := rng.IntN(7); l > 0; l-- {
			n += strconv.Itoa(rng.IntN(3))
		}
		numbers = append(numbers, n)
	}
	at := []time.Time{epoch.Add(-time.Hour), epoch.AddDate(0, 0, 2), epoch.AddDate(0, 0, 9)}
	for step := range 150 {
		rows := allRows(t, s, "t")
		var err error
		switch op := rng.IntN(4); {
		case op == 0 && len(rows) > 0:
			r := rows[rng.IntN(len(rows))]
			_, err = s.DeleteRate("t", rk(r.Prefix, r.EffectiveFrom))
		case op == 1 && len(rows) > 0:
			r := rows[rng.IntN(len(rows))]
			n := rating.NewRow(prefix(), rating.Amount(rng.IntN(1000)))
			n.EffectiveFrom = day()
			_, err = s.PutRate("t", n, rkp(r.Prefix, r.EffectiveFrom))
			if rating.ErrorCode(err) == rating.EConflict {
				err = nil
			}
		case op == 2:
			var merge []rating.Row
			for range 1 + rng.IntN(3) {
				n := rating.NewRow(prefix(), rating.Amount(rng.IntN(1000)))
				n.EffectiveFrom = day()
				merge = append(merge, n)
			}
			_, _, err = s.MergeRates("t", merge)
			if rating.ErrorCode(err) == rating.EInvalid { // the same key twice
				err = nil
			}
		default:
			n := rating.NewRow(prefix(), rating.Amount(rng.IntN(1000)))
			n.EffectiveFrom = day()
			_, err = s.PutRate("t", n, nil)
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		sameAsRebuilt(t, s, "t", numbers, at)
	}
	s.folds.Wait()
	if x := s.Book().Get("t"); x.Overlaid() >= s.foldAt {
		t.Errorf("the index still carries %d changed prefixes", x.Overlaid())
	}
	sameAsRebuilt(t, s, "t", numbers, at)
	s = reopen(t, s)
	sameAsRebuilt(t, s, "t", numbers, at)
}

// A rebuild in the background finds the table by id after a rename, and
// gives up quietly when the table is gone.
func TestFoldAfterRenameAndDelete(t *testing.T) {
	s := MustOpen(t)
	s.foldAt = 2
	mustTable(t, s, "t", rating.Outbound)
	for i := range 2 {
		if _, err := s.PutRate("t", rating.NewRow(fmt.Sprint(40+i), 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	must[rating.Table](t)(s.UpdateRateTable("t", func(t *rating.Table) error { t.Name = "u"; return nil }))
	s.folds.Wait()
	if x := s.Book().Get("u"); x == nil || x.Overlaid() != 0 || x.Table().Rows != 2 {
		t.Fatalf("index after the rename: %+v", x)
	}
	for i := range 2 {
		if _, err := s.PutRate("u", rating.NewRow(fmt.Sprint(50+i), 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRateTable("u"); err != nil {
		t.Fatal(err)
	}
	s.folds.Wait()
	if s.Book().Get("u") != nil {
		t.Error("a rebuild brought a deleted table back")
	}
}
