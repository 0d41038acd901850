package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

func numberedRows(n int) []rating.Row {
	rows := make([]rating.Row, n)
	for i := range rows {
		rows[i] = rating.NewRow(fmt.Sprint(1000+(i*7919)%n), rating.Amount(i+1))
	}
	return rows
}

// TestReplaceRatesInChunks runs imports that take several staging
// transactions, shrinking the table and emptying it.
func TestReplaceRatesInChunks(t *testing.T) {
	s := MustOpen(t)
	s.stageChunk = 3
	mustTable(t, s, "t", rating.Outbound)
	for _, n := range []int{10, 9, 4, 1, 0, 7} {
		rows := numberedRows(n)
		if err := s.ReplaceRates("t", rows); err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		got := allRows(t, s, "t")
		if len(got) != n || (n > 0 && !reflect.DeepEqual(got, inTableOrder(rows))) {
			t.Fatalf("%d rows: stored %d: %v", n, len(got), keysOf(got))
		}
		if tb := must[rating.Table](t)(s.RateTable("t")); tb.Rows != n {
			t.Errorf("%d rows: table says %d", n, tb.Rows)
		}
		if x := s.Book().Get("t"); x.Table().Rows != n {
			t.Errorf("%d rows: index has %d", n, x.Table().Rows)
		}
		if staged := stagedTables(t, s); staged != 0 {
			t.Errorf("%d rows: %d staged tables left", n, staged)
		}
	}
}

// inTableOrder is a copy of rows in the table's order: prefix, then
// effective_from.
func inTableOrder(rows []rating.Row) []rating.Row {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b rating.Row) int {
		if c := strings.Compare(a.Prefix, b.Prefix); c != 0 {
			return c
		}
		return a.EffectiveFrom.Compare(b.EffectiveFrom)
	})
	return out
}

func stagedTables(tb testing.TB, s *Store) (n int) {
	tb.Helper()
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStaging).ForEachBucket(func([]byte) error { n++; return nil })
	}); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestStagedRowsOfACrashAreDropped leaves staged rows behind, as a crash
// between staging and the swap would, and checks that they never reach the
// table and are gone after the next Open.
func TestStagedRowsOfACrashAreDropped(t *testing.T) {
	s := MustOpen(t)
	s.stageChunk = 2
	tb := mustTable(t, s, "t", rating.Outbound)
	if err := s.ReplaceRates("t", numberedRows(3)); err != nil {
		t.Fatal(err)
	}
	var id uint64
	s.db.View(func(tx *bolt.Tx) error {
		rec, err := getTable(tx, "t")
		id = rec.ID
		return err
	})
	rows := numberedRows(5)
	keys, err := prepareRows(rows, tb.Decimals)
	if err != nil {
		t.Fatal(err)
	}
	// What a crash between staging and the swap leaves behind.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := stagingBucket(tx, id, true)
		if err != nil {
			return err
		}
		_, err = putRows(b, rows, keys, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := stagedTables(t, s); n != 1 {
		t.Fatalf("%d staged tables, want 1", n)
	}
	if got := allRows(t, s, "t"); len(got) != 3 {
		t.Errorf("staged rows leaked into the table: %v", keysOf(got))
	}

	s = reopen(t, s)
	if n := stagedTables(t, s); n != 0 {
		t.Errorf("%d staged tables survive Open", n)
	}
	if got := allRows(t, s, "t"); len(got) != 3 {
		t.Errorf("after reopen: %v", keysOf(got))
	}
	// A later import stages afresh.
	s.stageChunk = 2
	if err := s.ReplaceRates("t", numberedRows(5)); err != nil {
		t.Fatal(err)
	}
	if got := allRows(t, s, "t"); len(got) != 5 {
		t.Errorf("after a new import: %v", keysOf(got))
	}
}
