package store

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// fullRow sets every optional field, so a round trip checks all of them.
func fullRow(prefix string, from time.Time) rating.Row {
	return rating.Row{Prefix: prefix, Destination: "United Kingdom Mobile", Rate: 1_250_000,
		ConnectFee: 15_000_000, InitialIncrement: 30, Increment: 6, InitialRate: 2_000_000,
		Grace: 5, MinCost: 1_000_000, MaxCost: 500_000_000, EffectiveFrom: from}
}

func allRows(tb testing.TB, s *Store, table string) []rating.Row {
	tb.Helper()
	var out []rating.Row
	if err := s.EachRate(table, func(r *rating.Row) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

func keysOf(rows []rating.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Prefix + "@" + effString(&r)
	}
	return out
}

func TestReplaceRatesRoundTrip(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "retail", rating.Outbound)
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	in := []rating.Row{fullRow("447", from), rating.NewRow("44", 0), fullRow("447", time.Time{})}
	want := []rating.Row{in[1], in[2], in[0]}
	if err := s.ReplaceRates("retail", append([]rating.Row(nil), in...)); err != nil {
		t.Fatal(err)
	}
	if got := allRows(t, s, "retail"); !reflect.DeepEqual(got, want) {
		t.Errorf("stored rows\n got %+v\nwant %+v", got, want)
	}
	tb := must[rating.Table](t)(s.RateTable("retail"))
	if tb.Rows != 3 || !tb.Updated.After(epoch) {
		t.Errorf("table after replace: %+v", tb)
	}
	x := s.Book().Get("retail")
	if x.Table().Rows != 3 {
		t.Fatalf("index has %d rows", x.Table().Rows)
	}
	if r, _ := x.Lookup("4479", from.Add(-time.Second)); r.InitialRate != 2_000_000 || r.EffectiveFrom == from.Unix() {
		t.Errorf("before June: %+v", r)
	}
	if r, _ := x.Lookup("4479", from); r.EffectiveFrom != from.Unix() {
		t.Errorf("from June: %+v", r)
	}

	// A second replace drops every old row.
	if err := s.ReplaceRates("retail", []rating.Row{rating.NewRow("1", 7)}); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(allRows(t, s, "retail")); !reflect.DeepEqual(got, []string{"1@always"}) {
		t.Errorf("after second replace: %v", got)
	}
	if r, ok := s.Book().Get("retail").Lookup("4479", from); ok {
		t.Errorf("old row still in the index: %+v", r)
	}
	wantCode(t, s.ReplaceRates("nope", nil), rating.ENotFound, `"nope"`)
}

func TestRejectedRatesChangeNothing(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "retail", rating.Outbound)
	old := []rating.Row{rating.NewRow("44", 10), rating.NewRow("33", 20)}
	if err := s.ReplaceRates("retail", old); err != nil {
		t.Fatal(err)
	}
	before, x := allRows(t, s, "retail"), s.Book().Get("retail")
	tb := must[rating.Table](t)(s.RateTable("retail"))

	neg := rating.NewRow("1", -1)
	twoDecimals := rating.NewRow("2", 1)
	twoDecimals.MinCost = 1 // finer than the table's 4 decimals
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	dup1, dup2 := rating.NewRow("5", 1), rating.NewRow("5", 2)
	dup1.EffectiveFrom, dup2.EffectiveFrom = day, day
	for name, rows := range map[string][]rating.Row{
		"negative rate": {rating.NewRow("9", 1), neg},
		"bad prefix":    {rating.NewRow("12a", 1)},
		"min_cost":      {twoDecimals},
		"duplicate":     {dup1, rating.NewRow("6", 1), dup2},
	} {
		err := s.ReplaceRates("retail", rows)
		wantCode(t, err, rating.EInvalid)
		if _, _, err := s.MergeRates("retail", rows); rating.ErrorCode(err) != rating.EInvalid {
			t.Errorf("%s: merge: %v", name, err)
		}
		if name == "duplicate" && !strings.Contains(err.Error(), `"5"`) {
			t.Errorf("duplicate error %q does not name the prefix", err)
		}
	}
	if got := allRows(t, s, "retail"); !reflect.DeepEqual(got, before) {
		t.Errorf("rows changed: %v", got)
	}
	if s.Book().Get("retail") != x {
		t.Error("a rejected import swapped the index")
	}
	if after := must[rating.Table](t)(s.RateTable("retail")); !reflect.DeepEqual(after, tb) {
		t.Errorf("table changed: %+v → %+v", tb, after)
	}
}

func TestRateKeyOrder(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	at := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	var rows []rating.Row
	for _, p := range []struct {
		prefix string
		from   time.Time
	}{{"44", time.Time{}}, {"4", at(2025)}, {"4", at(1960)}, {"*", at(2020)}, {"440", time.Time{}},
		{"4", time.Time{}}, {"4", at(1970)}, {"*", time.Time{}}, {"5", time.Time{}}, {"4", at(2024)},
		// Longer than the 16 characters a sort key packs.
		{"12345678901234567", time.Time{}}, {"1234567890123456", at(2024)}, {"123456789012345670", time.Time{}},
		{"12345678901234568", time.Time{}}, {"1234567890123456", time.Time{}}, {"12345678901234567", at(2020)}} {
		r := rating.NewRow(p.prefix, 1)
		r.EffectiveFrom = p.from
		rows = append(rows, r)
	}
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	want := []string{"*@always", "*@2020-01-01T00:00:00Z",
		"1234567890123456@always", "1234567890123456@2024-01-01T00:00:00Z", "12345678901234567@always",
		"12345678901234567@2020-01-01T00:00:00Z", "123456789012345670@always", "12345678901234568@always",
		"4@always", "4@1960-01-01T00:00:00Z",
		"4@1970-01-01T00:00:00Z", "4@2024-01-01T00:00:00Z", "4@2025-01-01T00:00:00Z",
		"44@always", "440@always", "5@always"}
	if got := keysOf(allRows(t, s, "t")); !reflect.DeepEqual(got, want) {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
}

func TestRatesPaging(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	var rows []rating.Row
	for i := range 30 {
		rows = append(rows, rating.NewRow(fmt.Sprintf("%d", 40+i), rating.Amount(i)))
		rows = append(rows, rating.NewRow(fmt.Sprintf("4%d", 10+i), rating.Amount(i)))
	}
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	page := func(prefix string, limit int) (out []string, pages int) {
		after := ""
		for pages = 1; pages < 100; pages++ {
			rows, next := must2(t)(s.Rates("t", prefix, after, limit))
			if len(rows) > limit {
				t.Fatalf("page of %d rows, limit %d", len(rows), limit)
			}
			for _, r := range rows {
				out = append(out, r.Prefix)
			}
			if next == "" {
				return out, pages
			}
			after = next
		}
		t.Fatal("paging does not end")
		return nil, 0
	}
	all, pages := page("", 7)
	if len(all) != 60 || pages != 9 {
		t.Errorf("%d rows in %d pages, want 60 in 9", len(all), pages)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("out of order at %d: %q, %q", i, all[i-1], all[i])
		}
	}
	got, _ := page("41", 4)
	want := []string{"41", "410", "411", "412", "413", "414", "415", "416", "417", "418", "419"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prefix 41: %v", got)
	}
	if got, pages := page("41", 11); len(got) != 11 || pages != 1 {
		t.Errorf("an exact last page gives a next cursor: %d rows, %d pages", len(got), pages)
	}
	if got, _ := page("9", 5); len(got) != 0 {
		t.Errorf("prefix 9: %v", got)
	}
	_, _, err := s.Rates("t", "4x", "", 10)
	wantCode(t, err, rating.EInvalid, "4x")
	_, _, err = s.Rates("t", "", "zz", 10)
	wantCode(t, err, rating.EInvalid, "zz")
	_, _, err = s.Rates("none", "", "", 10)
	wantCode(t, err, rating.ENotFound)
}

func TestMergeRates(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	later := rating.NewRow("44", 3)
	later.EffectiveFrom = day
	if err := s.ReplaceRates("t", []rating.Row{rating.NewRow("44", 1), rating.NewRow("33", 1)}); err != nil {
		t.Fatal(err)
	}
	added, replaced, err := s.MergeRates("t", []rating.Row{rating.NewRow("44", 2), later, rating.NewRow("1", 9)})
	if err != nil || added != 2 || replaced != 1 {
		t.Fatalf("merge: added %d replaced %d, %v", added, replaced, err)
	}
	got := allRows(t, s, "t")
	if k := keysOf(got); !reflect.DeepEqual(k, []string{"1@always", "33@always", "44@always", "44@2025-01-01T00:00:00Z"}) {
		t.Errorf("rows %v", k)
	}
	if got[2].Rate != 2 {
		t.Errorf("44 not replaced: %+v", got[2])
	}
	if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != 4 {
		t.Errorf("table rows %d", tb.Rows)
	}
	x := s.Book().Get("t")
	if x.Table().Rows != 4 {
		t.Errorf("index rows %d", x.Table().Rows)
	}
	if r, _ := x.Lookup("3301", day); r.Prefix != "33" {
		t.Errorf("the index lost the rows not in the merge: %+v", r)
	}
	if r, _ := x.Lookup("4401", day); r.Rate != 3 {
		t.Errorf("merged later row not in force: %+v", r)
	}
}

func TestBookLoadedAtReopen(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "a", rating.Outbound)
	mustTable(t, s, "b", rating.Inbound)
	must[rating.Table](t)(s.UpdateRateTable("b", func(t *rating.Table) error { t.Increment = 1; return nil }))
	if err := s.ReplaceRates("a", []rating.Row{rating.NewRow("1", 1), rating.NewRow("2", 2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRates("b", []rating.Row{rating.NewRow("3", 3)}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	if x := s.Book().Get("a"); x == nil || x.Table().Rows != 2 {
		t.Fatalf("a: %v", x)
	}
	x := s.Book().Get("b")
	if r, ok := x.Lookup("39", epoch); !ok || r.Rate != 3 || r.Increment != 1 {
		t.Errorf("b after reopen: %+v %v", r, ok)
	}
}

// TestConcurrentReplace checks that the index left in the Book is the one
// of the last committed import, however imports interleave.
func TestConcurrentReplace(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				rows := make([]rating.Row, 1+g*5+i)
				for j := range rows {
					rows[j] = rating.NewRow(fmt.Sprint(j+1), 1)
				}
				if err := s.ReplaceRates("t", rows); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	stored := len(allRows(t, s, "t"))
	if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != stored {
		t.Errorf("table says %d rows, %d stored", tb.Rows, stored)
	}
	if x := s.Book().Get("t"); x.Table().Rows != stored {
		t.Errorf("index has %d rows, %d stored", x.Table().Rows, stored)
	}
}
