package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pbxbill/rating"
)

// benchRows is the size of the generated deck: a large carrier A-Z deck.
const benchRows = 1_000_000

// genRows returns n rows with distinct random prefixes of 4–10 digits and
// rates as carrier decks have them: mostly fractions of a cent to tens of
// cents per minute, some with a connect fee, other increments or a start
// date. The order is random, as a deck sorted by country name would be.
func genRows(n int) []rating.Row {
	rnd := rand.New(rand.NewPCG(7, 11))
	seen := make(map[string]struct{}, n)
	rows := make([]rating.Row, 0, n)
	dests := make([]string, 2000)
	for i := range dests {
		dests[i] = fmt.Sprintf("Country %d %s", i/2, [2]string{"Fixed", "Mobile"}[i%2])
	}
	buf := make([]byte, 0, 10)
	for len(rows) < n {
		buf = buf[:0]
		for range 4 + rnd.IntN(7) {
			buf = append(buf, byte('0'+rnd.IntN(10)))
		}
		if _, dup := seen[string(buf)]; dup {
			continue
		}
		p := string(buf)
		seen[p] = struct{}{}
		r := rating.NewRow(p, rating.Amount(rnd.Int64N(50_0000)+100)*100) // 0.0001–0.5 with 4 decimals
		r.Destination = dests[rnd.IntN(len(dests))]
		if rnd.IntN(5) == 0 {
			r.ConnectFee = rating.Amount(rnd.Int64N(1000)) * 10_000
		}
		if rnd.IntN(4) == 0 {
			r.InitialIncrement, r.Increment = 1, 1
		}
		if rnd.IntN(10) == 0 {
			r.EffectiveFrom = time.Date(2025, time.Month(1+rnd.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		}
		rows = append(rows, r)
	}
	return rows
}

// genCSV writes rows as a CSV deck in the API's column names.
func genCSV(rows []rating.Row) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	w.WriteString("prefix,destination,rate,connect_fee,initial_increment,increment,effective_from\n")
	opt := func(v int) string {
		if v < 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	for i := range rows {
		r := &rows[i]
		from := ""
		if !r.EffectiveFrom.IsZero() {
			from = r.EffectiveFrom.Format(time.DateOnly)
		}
		fmt.Fprintf(w, "%s,%s,%s,%s,%s,%s,%s\n", r.Prefix, r.Destination, r.Rate, r.ConnectFee,
			opt(r.InitialIncrement), opt(r.Increment), from)
	}
	w.Flush()
	return b.Bytes()
}

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// high-water mark, so peakRSS measures what follows. It reports false
// where /proc/self/clear_refs is not available.
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is the process's peak resident set in MB: VmHWM, or getrusage's
// maxrss (the whole life of the process) where /proc is missing.
func peakRSS() float64 {
	if kb, ok := procStatus("VmHWM:"); ok {
		return kb / 1024
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// baseRSS is the resident set in MB now, what the benchmark holds before
// its loop (the generated deck).
func baseRSS() float64 {
	kb, _ := procStatus("VmRSS:")
	return kb / 1024
}

func procStatus(field string) (float64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// liveHeap is the Go heap in MB that survives a collection.
func liveHeap() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine it says more about the work done than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fileMB(tb testing.TB, s *Store) float64 {
	fi, err := os.Stat(s.db.Path())
	if err != nil {
		tb.Fatal(err)
	}
	return float64(fi.Size()) / 1e6
}

// BenchmarkReplaceRates replaces 10^6 rows and installs the new index, as
// an import does once the CSV is parsed.
func BenchmarkReplaceRates(b *testing.B) {
	s := MustOpen(b)
	mustTable(b, s, "deck", rating.Outbound)
	gen := genRows(benchRows)
	rows := make([]rating.Row, len(gen))
	resetPeakRSS()
	base := baseRSS()
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		copy(rows, gen) // unsorted again; ReplaceRates sorts in place
		b.StartTimer()
		c0 := cpuTime()
		if err := s.ReplaceRates("deck", rows); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.StopTimer()
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if x := s.Book().Get("deck"); x.Table().Rows != benchRows {
		b.Fatalf("index has %d rows", x.Table().Rows)
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	b.ReportMetric(base, "base-RSS-MB")
	b.ReportMetric(fileMB(b, s), "file-MB")
}

// BenchmarkImport is the whole import of a 10^6-line deck, streamed as a
// replace-mode upload is: CSV parse, store and index. Its peak RSS is the figure to keep under 300 MB; it
// includes the deck's bytes (base-RSS-MB) and, from the second op on, the
// previous import's index, which serves until the new one is swapped in.
// Run it alone (-bench '^BenchmarkImport$' -benchtime 1x) for the figure
// of one import into a fresh process.
func BenchmarkImport(b *testing.B) {
	s := MustOpen(b)
	t := mustTable(b, s, "deck", rating.Outbound)
	// The deck streams from a file, as an upload streams from its request
	// body; generating it is not part of the import's memory.
	path := filepath.Join(b.TempDir(), "deck.csv")
	deck := genCSV(genRows(benchRows))
	if err := os.WriteFile(path, deck, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(deck)))
	deck = nil
	debug.FreeOSMemory()
	resetPeakRSS()
	base := baseRSS()
	c0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := s.ImportRates("deck", func(stage func([]rating.Row) error) error {
			_, err := rating.ParseRatesChunks(f, t, s.Location(), 1<<16, stage)
			return err
		})
		f.Close()
		if err != nil || n != benchRows {
			b.Fatalf("%d rows: %v", n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	b.ReportMetric(base, "base-RSS-MB")
	b.ReportMetric(fileMB(b, s), "file-MB")
}

// BenchmarkLoadBook is the start-up cost of a 10^6-row table: Open reads
// every row and builds the index.
func BenchmarkLoadBook(b *testing.B) {
	s := MustOpen(b)
	mustTable(b, s, "deck", rating.Outbound)
	if err := s.ReplaceRates("deck", genRows(benchRows)); err != nil {
		b.Fatal(err)
	}
	resetPeakRSS()
	base := baseRSS()
	b.ResetTimer()
	for b.Loop() {
		s.book.Delete("deck")
		if err := s.loadBook(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	b.ReportMetric(base, "base-RSS-MB")
}

// BenchmarkDeleteRate deletes one row of a 10^6-row table, a different
// row each op: the transaction, and the change of the live index that
// rating sees at once. It reports the resident set before and after the
// deletes and its peak while they ran; up to 1023 deletes (-benchtime
// 1000x) measure them without the background rebuild that the 1024th
// starts (defaultFoldAt).
func BenchmarkDeleteRate(b *testing.B) {
	s := MustOpen(b)
	mustTable(b, s, "deck", rating.Outbound)
	rows := genRows(benchRows)
	if err := s.ReplaceRates("deck", rows); err != nil {
		b.Fatal(err)
	}
	keys := make([]rating.RateKey, 100_000)
	for i := range keys {
		keys[i] = rows[i].Key()
	}
	rows = nil
	resetPeakRSS()
	before, live := baseRSS(), liveHeap()
	i := 0
	for b.Loop() {
		if _, err := s.DeleteRate("deck", keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	b.ReportMetric(before, "RSS-before-MB")
	b.ReportMetric(baseRSS(), "RSS-after-MB")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	// What the deletes keep, as opposed to garbage not yet collected.
	b.ReportMetric(liveHeap()-live, "live-heap-growth-MB")
	s.folds.Wait()
	if x := s.Book().Get("deck"); x.Table().Rows != benchRows-i {
		b.Fatalf("index has %d rows after %d deletes", x.Table().Rows, i)
	}
}

// BenchmarkPrepareRows is the validation and sort of a 10^6-row deck.
func BenchmarkPrepareRows(b *testing.B) {
	gen := genRows(benchRows)
	rows := make([]rating.Row, len(gen))
	for b.Loop() {
		b.StopTimer()
		copy(rows, gen)
		b.StartTimer()
		if _, err := prepareRows(rows, 4); err != nil {
			b.Fatal(err)
		}
	}
}
