package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// importRows imports rows through ImportRates in chunks of chunk rows,
// each chunk a fresh copy that is scribbled over once staged, as the
// parser reuses its rows; then it returns fail, if not nil.
func importRows(s *Store, name string, rows []rating.Row, chunk int, fail error) (int, error) {
	return s.ImportRates(name, func(stage func([]rating.Row) error) error {
		for start := 0; start < len(rows); start += chunk {
			c := append([]rating.Row(nil), rows[start:min(start+chunk, len(rows))]...)
			if err := stage(c); err != nil {
				return err
			}
			for i := range c {
				c[i] = rating.NewRow("999", 1)
			}
		}
		return fail
	})
}

// importDeck is a deck with every kind of prefix and several versions of
// some, in no particular order.
func importDeck() []rating.Row {
	day := func(m int) time.Time { return time.Date(2025, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }
	rows := numberedRows(40)
	rows = append(rows, fullRow("44", time.Time{}), fullRow("44", day(7)), fullRow("4", day(3)),
		rating.NewRow("*", 9), rating.NewRow("12345678901234567", 3), rating.NewRow("1234567890123456", 4),
		rating.NewRow("123456789012345678", 5), fullRow("12345678901234567", day(2)))
	for i := range rows {
		if i%3 == 0 {
			rows[i].Destination = fmt.Sprint("Zone ", i%4)
		}
	}
	return rows
}

// TestImportRatesEqualsReplace imports the same deck into two stores,
// once with ReplaceRates and once in chunks with ImportRates: the stored
// rows, the table and the index agree.
func TestImportRatesEqualsReplace(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, chunk := range []int{1, 7, 100} {
		want, got := MustOpen(t), MustOpen(t)
		want.stageChunk, got.stageChunk = 5, 5
		mustTable(t, want, "t", rating.Outbound)
		mustTable(t, got, "t", rating.Outbound)
		if err := want.ReplaceRates("t", importDeck()); err != nil {
			t.Fatal(err)
		}
		n, err := importRows(got, "t", importDeck(), chunk, nil)
		if err != nil || n != len(importDeck()) {
			t.Fatalf("chunks of %d: %d rows, %v", chunk, n, err)
		}
		if w, g := allRows(t, want, "t"), allRows(t, got, "t"); !reflect.DeepEqual(g, w) {
			t.Errorf("chunks of %d: rows\n%v\nwant\n%v", chunk, keysOf(g), keysOf(w))
		}
		wt, gt := must[rating.Table](t)(want.RateTable("t")), must[rating.Table](t)(got.RateTable("t"))
		if !reflect.DeepEqual(gt, wt) {
			t.Errorf("chunks of %d: table %+v, want %+v", chunk, gt, wt)
		}
		if !reflect.DeepEqual(got.Book().Get("t"), want.Book().Get("t")) {
			t.Errorf("chunks of %d: the indexes differ", chunk)
		}
		if n := stagedTables(t, got); n != 0 {
			t.Errorf("chunks of %d: %d staged tables left", chunk, n)
		}
		assertNoRunFiles(t, got)
	}
}

// TestImportRatesEmpty empties a table.
func TestImportRatesEmpty(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	if _, err := importRows(s, "t", importDeck(), 10, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := importRows(s, "t", nil, 10, nil); err != nil || n != 0 {
		t.Fatalf("%d rows, %v", n, err)
	}
	if got := allRows(t, s, "t"); len(got) != 0 {
		t.Errorf("rows left: %v", keysOf(got))
	}
	if x := s.Book().Get("t"); x.Table().Rows != 0 || x.Len() != 0 {
		t.Errorf("index has %d rows", x.Table().Rows)
	}
}

// TestImportRatesRejected fails imports late, after chunks were staged:
// the old rows, table and index stay.
func TestImportRatesRejected(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s := MustOpen(t)
	s.stageChunk = 4
	mustTable(t, s, "t", rating.Outbound)
	if _, err := importRows(s, "t", numberedRows(9), 4, nil); err != nil {
		t.Fatal(err)
	}
	before, x := allRows(t, s, "t"), s.Book().Get("t")
	tb := must[rating.Table](t)(s.RateTable("t"))

	badLast := importDeck()
	badLast[len(badLast)-1].Rate = -1
	dup := importDeck()
	dup = append(dup, dup[0]) // its twin is in the first chunk
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	dupFrom := append(importDeck(), fullRow("44", day), fullRow("44", day))
	parseErr := rating.Errorf(rating.EInvalid, "1 error in rate CSV; first: line 99")
	diskErr := errors.New("disk full")
	for name, tc := range map[string]struct {
		rows  []rating.Row
		fail  error
		parts []string
	}{
		"bad row in the last chunk": {badLast, nil, []string{fmt.Sprintf("row %d", len(badLast)), "negative"}},
		"duplicate across chunks":   {dup, nil, []string{fmt.Sprintf("%q", dup[0].Prefix), "twice"}},
		"duplicate with a date":     {dupFrom, nil, []string{`"44"`, "2025-01-01T00:00:00Z"}},
		"parse error at the end":    {importDeck(), parseErr, []string{"line 99"}},
		"error of the caller":       {importDeck(), diskErr, nil},
	} {
		n, err := importRows(s, "t", tc.rows, 10, tc.fail)
		switch {
		case tc.fail != nil && err != tc.fail:
			t.Errorf("%s: %v, want %v as it is", name, err, tc.fail)
		case tc.fail == nil:
			wantCode(t, err, rating.EInvalid, tc.parts...)
		}
		if n != 0 {
			t.Errorf("%s: %d rows", name, n)
		}
		if got := allRows(t, s, "t"); !reflect.DeepEqual(got, before) {
			t.Errorf("%s: rows changed: %v", name, keysOf(got))
		}
		if s.Book().Get("t") != x {
			t.Errorf("%s: the index was swapped", name)
		}
		if after := must[rating.Table](t)(s.RateTable("t")); !reflect.DeepEqual(after, tb) {
			t.Errorf("%s: table changed: %+v → %+v", name, tb, after)
		}
		if n := stagedTables(t, s); n != 0 {
			t.Errorf("%s: %d staged tables left", name, n)
		}
	}
	assertNoRunFiles(t, s)
	_, err := importRows(s, "nope", nil, 1, nil)
	wantCode(t, err, rating.ENotFound, `"nope"`)
}

// TestImportRatesCSV streams CSV decks through the parser into the store,
// with a bad line in the last chunk and then a good deck.
func TestImportRatesCSV(t *testing.T) {
	s := MustOpen(t)
	s.stageChunk = 3
	tb := mustTable(t, s, "t", rating.Outbound)
	var deck strings.Builder
	deck.WriteString("prefix,rate,effective_from\n")
	for i := range 20 {
		fmt.Fprintf(&deck, "%d,0.%d,\n", 3000-i*7, i)
	}
	csvImport := func(deck string) (int, error) {
		return s.ImportRates("t", func(stage func([]rating.Row) error) error {
			_, err := rating.ParseRatesChunks(strings.NewReader(deck), tb, nil, 4, stage)
			return err
		})
	}
	_, err := csvImport(deck.String() + "3000,0.5,\n")
	wantCode(t, err, rating.EInvalid, "line 22", "duplicate of line 2")
	if x := s.Book().Get("t"); x.Table().Rows != 0 || len(allRows(t, s, "t")) != 0 {
		t.Fatalf("a rejected deck left %d rows", x.Table().Rows)
	}
	if n, err := csvImport(deck.String()); err != nil || n != 20 {
		t.Fatalf("%d rows, %v", n, err)
	}
	got := allRows(t, s, "t")
	if r, ok := s.Book().Get("t").Lookup("2993123", time.Now()); !ok || r.Prefix != "2993" {
		t.Errorf("lookup: %+v, %v", r, ok)
	}
	rows := must[[]rating.Row](t)(rating.ParseRates(strings.NewReader(deck.String()), tb, nil))
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	if want := allRows(t, s, "t"); !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v", keysOf(got), keysOf(want))
	}
}

// assertNoRunFiles checks that no import left a file of sorted runs in
// $TMPDIR, which the test made its own, or beside the database.
func assertNoRunFiles(tb testing.TB, s *Store) {
	tb.Helper()
	for _, dir := range []string{os.TempDir(), filepath.Dir(s.db.Path())} {
		files, err := filepath.Glob(filepath.Join(dir, ".import-*"))
		if err != nil || len(files) > 0 {
			tb.Errorf("run files left: %v %v", files, err)
		}
	}
	if _, err := os.Stat(s.db.Path()); err != nil {
		tb.Error(err)
	}
}

// TestImportRatesDuringChanges changes the table while a deck is read:
// settings that reject a staged row, and a table deleted and created
// again under the same name. Neither import changes anything.
func TestImportRatesDuringChanges(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	rows := numberedRows(10)
	rows[9].MinCost = 1_000_000 // 0.01: fine at 4 decimals, not at 1
	_, err := s.ImportRates("t", func(stage func([]rating.Row) error) error {
		if err := stage(rows); err != nil {
			return err
		}
		_, err := s.UpdateRateTable("t", func(tb *rating.Table) error { tb.Decimals = 1; return nil })
		return err
	})
	wantCode(t, err, rating.EInvalid, `prefix "`, "decimal")
	if x := s.Book().Get("t"); x.Table().Rows != 0 || len(allRows(t, s, "t")) != 0 {
		t.Fatalf("an import against old settings stored %d rows", x.Table().Rows)
	}

	_, err = s.ImportRates("t", func(stage func([]rating.Row) error) error {
		if err := stage(numberedRows(5)); err != nil {
			return err
		}
		if err := s.DeleteRateTable("t"); err != nil {
			return err
		}
		_, err := s.CreateRateTable(rating.NewTable("t", rating.Outbound, ""))
		return err
	})
	wantCode(t, err, rating.EConflict, `"t"`)
	if x := s.Book().Get("t"); x.Table().Rows != 0 || len(allRows(t, s, "t")) != 0 {
		t.Fatalf("an import into a replaced table stored %d rows", x.Table().Rows)
	}
	if n := stagedTables(t, s); n != 0 {
		t.Errorf("%d staged tables left", n)
	}
}

// TestReadersDuringImport pages through a table while it is replaced over
// and over, by uploads in chunks and by ReplaceRates in turn: every page
// comes from one complete version.
func TestReadersDuringImport(t *testing.T) {
	s := MustOpen(t)
	s.stageChunk = 5
	mustTable(t, s, "t", rating.Outbound)
	version := func(v int) []rating.Row {
		rows := numberedRows(20)
		for i := range rows {
			rows[i].Rate = rating.Amount(v)
		}
		return rows
	}
	if _, err := importRows(s, "t", version(0), 7, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := 1; v <= 20; v++ {
			var err error
			if v%2 == 0 {
				err = s.ReplaceRates("t", version(v))
			} else {
				_, err = importRows(s, "t", version(v), 7, nil)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reads := 0; reads < 10000; reads++ {
		select {
		case <-done:
			return
		default:
		}
		rows, _, err := s.Rates("t", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 20 {
			t.Fatalf("a reader saw %d rows", len(rows))
		}
		for _, r := range rows {
			if r.Rate != rows[0].Rate {
				t.Fatalf("a reader saw two versions: %s and %s", rows[0].Rate, r.Rate)
			}
		}
		if x := s.Book().Get("t"); x == nil || x.Table().Rows != 20 {
			t.Fatalf("the Book lost the table during an import: %v", x)
		}
	}
	<-done
}

// TestImportRatesTempDir: an import's file of sorted runs goes to $TMPDIR,
// not beside the database, whose directory may be read-only (a database
// under /var/lib owned by root, a package's read-only data directory).
// Root ignores a directory's permissions, so the test finds the run file
// among the open files while the import reads its deck; where the system
// has no /proc, it makes the database directory read-only instead, which
// only a user other than root sees.
func TestImportRatesTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	dbDir := filepath.Dir(s.db.Path())
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		if os.Geteuid() == 0 {
			t.Skip("no /proc, and root writes in a read-only directory")
		}
		if err := os.Chmod(dbDir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dbDir, 0o755) })
	}
	var runFiles []string
	_, err := s.ImportRates("t", func(stage func([]rating.Row) error) error {
		if err := stage(numberedRows(10)); err != nil {
			return err
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if to, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.Contains(to, ".import-") {
				runFiles = append(runFiles, to)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(allRows(t, s, "t")); got != 10 {
		t.Errorf("%d rows imported, want 10", got)
	}
	for _, f := range runFiles {
		if dir := filepath.Dir(strings.TrimSuffix(f, " (deleted)")); dir != tmp {
			t.Errorf("run file %s, want it in $TMPDIR %s, not beside the database in %s", f, tmp, dbDir)
		}
	}
	if _, err := os.Stat("/proc/self/fd"); err == nil && len(runFiles) != 1 {
		t.Errorf("run files open during the import: %v, want one", runFiles)
	}
}
