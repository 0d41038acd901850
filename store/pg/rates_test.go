package pg_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// openRates opens a store on url, closed when t ends.
func openRates(t *testing.T, url string) *pg.Store {
	t.Helper()
	s, err := pg.Open(url, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rateRow(prefix, rate string) rating.Row {
	a, err := rating.ParseAmount(rate)
	if err != nil {
		panic(err)
	}
	r := rating.NewRow(prefix, a)
	r.Destination = "dest " + prefix
	return r
}

// price is the rate of number in table, "" when none applies.
func priceIn(s *pg.Store, table, number string) string {
	res := s.Rater().ResolveIn(table, number, time.Now())
	if !res.Rated() {
		return ""
	}
	return res.Rate.Rate.String()
}

// eventually polls until the store prices number in table at want ("":
// unrated), for up to 5 s, and returns how long that took.
func pricesSoon(t *testing.T, s *pg.Store, table, number, want string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := priceIn(s, table, number)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("table %s number %s: priced %q after 5 s, want %q", table, number, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantRateErr(t *testing.T, err error, code, text string) {
	t.Helper()
	if rating.ErrorCode(err) != code || !strings.Contains(fmt.Sprint(err), text) {
		t.Errorf("error %v: want %s containing %q", err, code, text)
	}
}

func TestRateTables(t *testing.T) {
	url := pgtest.URL(t)
	s := openRates(t, url)
	in := rating.NewTable("retail", rating.Outbound, "USD")
	in.Rows = 99
	tb, err := s.CreateRateTable(in)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Currency != "EUR" || tb.Rows != 0 || tb.Updated.IsZero() {
		t.Errorf("created %+v", tb)
	}
	if got, err := s.RateTable("retail"); err != nil || got != tb {
		t.Errorf("read back %+v, %v; want %+v", got, err, tb)
	}
	_, err = s.CreateRateTable(rating.NewTable("retail", rating.Inbound, ""))
	wantRateErr(t, err, rating.EConflict, `"retail"`)
	bad := rating.NewTable("bad", rating.Outbound, "")
	bad.Decimals = 9
	_, err = s.CreateRateTable(bad)
	wantRateErr(t, err, rating.EInvalid, "decimals")
	for _, n := range []string{"did", "Bridge"} {
		if _, err := s.CreateRateTable(rating.NewTable(n, rating.Inbound, "")); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := s.RateTables(0)
	inb, _ := s.RateTables(rating.Inbound)
	if len(all) != 3 || all[0].Name != "Bridge" || all[2].Name != "retail" || len(inb) != 2 {
		t.Errorf("tables %v, inbound %v", all, inb)
	}
	_, err = s.RateTable("nope")
	wantRateErr(t, err, rating.ENotFound, `rate table "nope" not found`)

	if err := s.ReplaceRates("retail", []rating.Row{rateRow("44", "0.02"), rateRow("447", "0.1"), rateRow("*", "0.5")}); err != nil {
		t.Fatal(err)
	}
	if p := priceIn(s, "retail", "447911"); p != "0.1" {
		t.Errorf("447911 priced %q", p)
	}
	up, err := s.UpdateRateTable("retail", func(t *rating.Table) error { t.Name = "shop"; t.Decimals = 2; return nil })
	if err != nil || up.Name != "shop" || up.Rows != 3 {
		t.Fatalf("rename: %+v, %v", up, err)
	}
	if s.Book().Get("retail") != nil || priceIn(s, "shop", "4420") != "0.02" {
		t.Errorf("after the rename: retail %v, shop prices %q", s.Book().Get("retail"), priceIn(s, "shop", "4420"))
	}
	_, err = s.UpdateRateTable("shop", func(t *rating.Table) error { t.Name = "did"; return nil })
	wantRateErr(t, err, rating.EConflict, `"did" already exists`)
	if users, err := s.TableUsers("shop"); err != nil || len(users) != 0 {
		t.Errorf("users %v, %v", users, err)
	}
	if err := s.DeleteRateTable("shop"); err != nil {
		t.Fatal(err)
	}
	if s.Book().Get("shop") != nil {
		t.Error("deleted table still in the Book")
	}
	wantRateErr(t, s.DeleteRateTable("shop"), rating.ENotFound, "not found")

	// Another node opened later loads every table.
	if err := s.ReplaceRates("did", []rating.Row{rateRow("3312", "0.01")}); err != nil {
		t.Fatal(err)
	}
	b := openRates(t, url)
	if p := priceIn(b, "did", "33123"); p != "0.01" {
		t.Errorf("a node opened later prices %q", p)
	}
}

func TestRateRows(t *testing.T) {
	s := openRates(t, pgtest.URL(t))
	if _, err := s.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	var rows []rating.Row
	for i := range 25 {
		rows = append(rows, rateRow(fmt.Sprintf("4%02d", i), "0.01"))
	}
	rows = append(rows, rateRow("4", "0.5"))
	if err := s.ReplaceRates("r", rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		rs, next, err := s.Rates("r", "4", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got = append(got, r.Prefix)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(got) != 26 || got[0] != "4" || got[1] != "400" || got[25] != "424" {
		t.Errorf("paged %v", got)
	}
	rs, _, _ := s.Rates("r", "41", "", 0)
	if len(rs) != 10 {
		t.Errorf("prefix 41: %d rows", len(rs))
	}
	_, _, err := s.Rates("r", "", "zz", 0)
	wantRateErr(t, err, rating.EInvalid, "not a cursor")

	added, err := s.PutRate("r", rateRow("4401", "0.3"), nil)
	if err != nil || !added || priceIn(s, "r", "440123") != "0.3" {
		t.Errorf("put: %v %v, prices %q", added, err, priceIn(s, "r", "440123"))
	}
	added, err = s.PutRate("r", rateRow("4401", "0.4"), nil)
	if err != nil || added || priceIn(s, "r", "440123") != "0.4" {
		t.Errorf("put again: %v %v", added, err)
	}
	from := rating.RateKey{Prefix: "4401"}
	if _, err := s.PutRate("r", rateRow("4402", "0.6"), &from); err != nil || priceIn(s, "r", "440123") != "0.5" || priceIn(s, "r", "440223") != "0.6" {
		t.Errorf("move: %v", err)
	}
	_, err = s.PutRate("r", rateRow("4403", "0.6"), &from)
	wantRateErr(t, err, rating.ENotFound, "has no row 4401")
	old, err := s.DeleteRate("r", rating.RateKey{Prefix: "4402"})
	if err != nil || old.Rate.String() != "0.6" || old.Destination != "dest 4402" || priceIn(s, "r", "440223") != "0.5" {
		t.Errorf("delete: %+v %v", old, err)
	}
	if tb, _ := s.RateTable("r"); tb.Rows != 26 {
		t.Errorf("rows %d, want 26", tb.Rows)
	}
	a, r, err := s.MergeRates("r", []rating.Row{rateRow("400", "0.7"), rateRow("499", "0.8")})
	if err != nil || a != 1 || r != 1 || priceIn(s, "r", "4001") != "0.7" || priceIn(s, "r", "4991") != "0.8" {
		t.Errorf("merge: %d %d %v", a, r, err)
	}
	_, _, err = s.MergeRates("r", []rating.Row{rateRow("400", "0.7"), rateRow("400", "0.8")})
	wantRateErr(t, err, rating.EInvalid, "appears twice")
	n := 0
	if err := s.EachRate("r", func(*rating.Row) error { n++; return nil }); err != nil || n != 27 {
		t.Errorf("each: %d rows, %v", n, err)
	}
	// A bad row fails the import, which changes nothing.
	_, err = s.ImportRates("r", func(stage func([]rating.Row) error) error {
		if err := stage([]rating.Row{rateRow("5", "1")}); err != nil {
			return err
		}
		return stage([]rating.Row{rateRow("x6", "1")})
	})
	wantRateErr(t, err, rating.EInvalid, "row 2")
	_, err = s.ImportRates("r", func(stage func([]rating.Row) error) error {
		if err := stage([]rating.Row{rateRow("5", "1")}); err != nil {
			return err
		}
		return stage([]rating.Row{rateRow("5", "2")})
	})
	wantRateErr(t, err, rating.EInvalid, "appears twice")
	if tb, _ := s.RateTable("r"); tb.Rows != 27 || priceIn(s, "r", "51") != "" || priceIn(s, "r", "4001") != "0.7" {
		t.Errorf("after failed imports: %d rows, 51 priced %q", tb.Rows, priceIn(s, "r", "51"))
	}
}

// TestRatesFollow changes tables on one node and watches another follow,
// through a lost connection too.
func TestRatesFollow(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openRates(t, url), openRates(t, url)
	if _, err := a.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	if err := a.ReplaceRates("r", []rating.Row{rateRow("44", "0.02")}); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "4420", "0.02")
	if _, err := a.PutRate("r", rateRow("4420", "0.03"), nil); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "44201", "0.03")
	if x := b.Book().Get("r"); x.Overlaid() != 1 || x.Table().Rows != 2 {
		t.Errorf("b's index after a row put: %d prefixes changed, %d rows; want the row's prefix read alone", x.Overlaid(), x.Table().Rows)
	}
	if _, err := a.DeleteRate("r", rating.RateKey{Prefix: "4420"}); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "44201", "0.02")

	// A failed import changes nothing on either node.
	_, err := a.ImportRates("r", func(stage func([]rating.Row) error) error {
		if err := stage([]rating.Row{rateRow("44", "0.9")}); err != nil {
			return err
		}
		return stage([]rating.Row{rateRow("45", "-1")})
	})
	wantRateErr(t, err, rating.EInvalid, "row 2")
	time.Sleep(100 * time.Millisecond)
	if priceIn(a, "r", "4420") != "0.02" || priceIn(b, "r", "4420") != "0.02" {
		t.Errorf("after a failed import: %q and %q", priceIn(a, "r", "4420"), priceIn(b, "r", "4420"))
	}

	// Every listener loses its connection; a change made meanwhile
	// reaches b once it is back.
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var killed int
	if err := c.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'pbxbill rates listener'`).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("killed %d listeners: %v", killed, err)
	}
	if err := a.ReplaceRates("r", []rating.Row{rateRow("44", "0.04")}); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "4420", "0.04")
	if err := a.ReplaceRates("r", []rating.Row{rateRow("44", "0.05")}); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "4420", "0.05")

	if _, err := b.UpdateRateTable("r", func(t *rating.Table) error { t.Name = "s"; return nil }); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, a, "s", "4420", "0.05")
	pricesSoon(t, a, "r", "4420", "")
	if err := a.DeleteRateTable("s"); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "s", "4420", "")
	if _, err := b.RateTable("s"); !errors.Is(err, err) || rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("deleted table on b: %v", err)
	}
}

// TestEachRatePages walks a table a page at a time, and stops with
// EConflict when the table changes between two pages.
func TestEachRatePages(t *testing.T) {
	s := openRates(t, pgtest.URL(t))
	s.SetRatePaging(3, 1024)
	if _, err := s.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	var rows []rating.Row
	for i := range 10 {
		rows = append(rows, rateRow(fmt.Sprintf("3%d", i), "0.01"))
	}
	if err := s.ReplaceRates("r", rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.EachRate("r", func(r *rating.Row) error { got = append(got, r.Prefix); return nil }); err != nil || len(got) != 10 || got[9] != "39" {
		t.Errorf("each: %v, %v", got, err)
	}
	n := 0
	err := s.EachRate("r", func(r *rating.Row) error {
		if n++; n == 2 {
			_, err := s.PutRate("r", rateRow("5", "1"), nil)
			return err
		}
		return nil
	})
	wantRateErr(t, err, rating.EConflict, "changed while it was being read")
	n = 0
	err = s.EachRate("r", func(r *rating.Row) error {
		if n++; n == 2 {
			if _, err := s.DeleteRate("r", rating.RateKey{Prefix: "5"}); err != nil {
				return err
			}
			if err := s.DeleteRateTable("r"); err != nil {
				return err
			}
		}
		return nil
	})
	wantRateErr(t, err, rating.EConflict, "was deleted while it was being read")
}

// TestRateFold rebuilds an index once it carries enough changed
// prefixes, on the node that changed them and on the other.
func TestRateFold(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openRates(t, url), openRates(t, url)
	a.SetRatePaging(1000, 3)
	b.SetRatePaging(1000, 3)
	if _, err := a.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	if err := a.ReplaceRates("r", []rating.Row{rateRow("4", "0.1")}); err != nil {
		t.Fatal(err)
	}
	pricesSoon(t, b, "r", "41", "0.1")
	for i := range 3 {
		if _, err := a.PutRate("r", rateRow(fmt.Sprintf("4%d", i), "0.2"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*pg.Store{a, b} {
		pricesSoon(t, s, "r", "421", "0.2")
		deadline := time.Now().Add(5 * time.Second)
		for x := s.Book().Get("r"); x.Overlaid() != 0 || x.Table().Rows != 4; x = s.Book().Get("r") {
			if time.Now().After(deadline) {
				t.Fatalf("the index still carries %d changed prefixes, %d rows", x.Overlaid(), x.Table().Rows)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestRatesConcurrent changes one table from two nodes at once: every
// change is kept, and both nodes end with the same index.
func TestRatesConcurrent(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openRates(t, url), openRates(t, url)
	if _, err := a.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	if err := a.ReplaceRates("r", []rating.Row{rateRow("4", "0.1")}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for i, s := range []*pg.Store{a, b} {
		go func() {
			for j := range 30 {
				if _, err := s.PutRate("r", rateRow(fmt.Sprintf("4%d%02d", i, j), "0.3"), nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if tb, _ := a.RateTable("r"); tb.Rows != 61 {
		t.Errorf("%d rows, want 61", tb.Rows)
	}
	for _, s := range []*pg.Store{a, b} {
		pricesSoon(t, s, "r", "40291", "0.3")
		pricesSoon(t, s, "r", "41291", "0.3")
		pricesSoon(t, s, "r", "40001", "0.3")
		pricesSoon(t, s, "r", "41001", "0.3")
	}
	// Two imports at once: one commits after the other, and both nodes
	// end with the last.
	for i, s := range []*pg.Store{a, b} {
		go func() {
			errs <- s.ReplaceRates("r", []rating.Row{rateRow("4", fmt.Sprintf("0.%d", i+5))})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rs, _, err := a.Rates("r", "", "", 0)
	if err != nil || len(rs) != 1 {
		t.Fatalf("rows %v, %v", rs, err)
	}
	want := rs[0].Rate.String()
	pricesSoon(t, a, "r", "41001", want)
	pricesSoon(t, b, "r", "41001", want)
}

// TestImportReplaced fails an import whose table was deleted and created
// again while the deck was read.
func TestImportReplaced(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openRates(t, url), openRates(t, url)
	if _, err := a.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	_, err := a.ImportRates("r", func(stage func([]rating.Row) error) error {
		if err := b.DeleteRateTable("r"); err != nil {
			return err
		}
		if _, err := b.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
			return err
		}
		return stage([]rating.Row{rateRow("4", "0.1")})
	})
	wantRateErr(t, err, rating.EConflict, "was replaced during the import")
	if tb, _ := b.RateTable("r"); tb.Rows != 0 {
		t.Errorf("the new table has %d rows", tb.Rows)
	}
}

// TestImportOrder imports rows in random order, with prefixes of every
// length, the wildcard and several effective dates, in several chunks:
// the stored order is the key order, and the live index, the index
// another node loads and an index built from the rows answer alike.
func TestImportOrder(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openRates(t, url), openRates(t, url)
	if _, err := a.CreateRateTable(rating.NewTable("r", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	var rows []rating.Row
	dates := []time.Time{{}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	for len(rows) < 3000 {
		p := "*"
		if rnd.IntN(100) > 0 {
			p = ""
			for range 1 + rnd.IntN(rating.MaxPrefixLen) {
				p += string(rune('0' + rnd.IntN(3)))
			}
		}
		eff := dates[rnd.IntN(len(dates))]
		k := p + eff.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		r := rateRow(p, fmt.Sprintf("0.%04d", rnd.IntN(10000)))
		r.EffectiveFrom = eff
		rows = append(rows, r)
	}
	n, err := a.ImportRates("r", func(stage func([]rating.Row) error) error {
		for i := 0; i < len(rows); i += 700 {
			if err := stage(rows[i:min(i+700, len(rows))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != len(rows) {
		t.Fatalf("import: %d, %v", n, err)
	}
	want := slices.Clone(rows)
	slices.SortFunc(want, func(x, y rating.Row) int {
		if c := strings.Compare(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		return x.EffectiveFrom.Compare(y.EffectiveFrom)
	})
	i := 0
	if err := a.EachRate("r", func(r *rating.Row) error {
		if r.Prefix != want[i].Prefix || !r.EffectiveFrom.Equal(want[i].EffectiveFrom) || r.Rate != want[i].Rate {
			return fmt.Errorf("row %d: %s %s, want %s %s", i, r.Prefix, r.EffectiveFrom, want[i].Prefix, want[i].EffectiveFrom)
		}
		i++
		return nil
	}); err != nil || i != len(want) {
		t.Fatalf("walked %d rows: %v", i, err)
	}
	pricesSoon(t, b, "r", want[0].Prefix+"9", priceIn(a, "r", want[0].Prefix+"9"))
	tb, _ := a.RateTable("r")
	ref := rating.NewIndex(tb, rows)
	c := openRates(t, url) // loads the table at Open
	for range 2000 {
		num := ""
		for range 1 + rnd.IntN(26) {
			num += string(rune('0' + rnd.IntN(3)))
		}
		at := dates[rnd.IntN(len(dates))].Add(time.Hour)
		r0, ok0 := ref.Lookup(num, at)
		for _, s := range []*pg.Store{a, c} {
			r1, ok1 := s.Book().Get("r").Lookup(num, at)
			if ok0 != ok1 || r0.Prefix != r1.Prefix || r0.Rate != r1.Rate {
				t.Fatalf("%s at %s: %v %+v, want %v %+v", num, at, ok1, r1, ok0, r0)
			}
		}
	}
}
