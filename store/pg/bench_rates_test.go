package pg_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// Run these in a go test invocation of their own: they set
// pgtest.Durable, which only the first use of the shared server reads.
//
//	go test ./store/pg -run '^$' -bench 'ImportRates10e6|FollowImport' -benchtime 1x

const deckRows = 1_000_000

// deckCSV writes a deck of n rows with distinct random prefixes of 4–10
// digits, rates as carriers' decks have them and a few thousand
// destinations, in random order, with "99999999999" (the sentinel a benchmark
// prices) at rate; it returns the file's path.
func deckCSV(b *testing.B, n int, rate string) string {
	rnd := rand.New(rand.NewPCG(7, 11))
	seen := make(map[string]struct{}, n)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	w.WriteString("prefix,destination,rate,connect_fee,initial_increment,increment\n")
	fmt.Fprintf(w, "99999999999,Sentinel,%s,,,\n", rate)
	seen["99999999999"] = struct{}{}
	p := make([]byte, 0, 10)
	for len(seen) < n {
		p = p[:0]
		for range 4 + rnd.IntN(7) {
			p = append(p, byte('0'+rnd.IntN(10)))
		}
		if _, dup := seen[string(p)]; dup {
			continue
		}
		seen[string(p)] = struct{}{}
		fee, inc := "", ""
		if rnd.IntN(5) == 0 {
			fee = rating.Amount(rnd.Int64N(1000) * 10_000).String()
		}
		if rnd.IntN(4) == 0 {
			inc = "1"
		}
		fmt.Fprintf(w, "%s,Country %d,%s,%s,%s,%s\n", p, rnd.IntN(2000),
			rating.Amount((rnd.Int64N(50_0000)+100)*100), fee, inc, inc)
	}
	w.Flush()
	path := filepath.Join(b.TempDir(), "deck-"+rate+".csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// importDeck imports the deck at path into table, as an upload does.
func importDeck(b *testing.B, s *pg.Store, table, path string) {
	t, err := s.RateTable(table)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n, err := s.ImportRates(table, func(stage func([]rating.Row) error) error {
		_, err := rating.ParseRatesChunks(bufio.NewReaderSize(f, 1<<20), t, s.Location(), 1<<16, stage)
		return err
	})
	if err != nil || n != deckRows {
		b.Fatalf("import: %d rows, %v", n, err)
	}
}

func openDurable(b *testing.B, url string) *pg.Store {
	s, err := pg.Open(url, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkImportRates10e6 imports a 10^6-row deck from CSV, parse
// included, into a table that already holds one (so the swap replaces a
// full deck), with fsync on.
func BenchmarkImportRates10e6(b *testing.B) {
	pgtest.Durable = true
	s := openDurable(b, pgtest.URL(b))
	if _, err := s.CreateRateTable(rating.NewTable("deck", rating.Outbound, "")); err != nil {
		b.Fatal(err)
	}
	decks := []string{deckCSV(b, deckRows, "0.1"), deckCSV(b, deckRows, "0.2")}
	importDeck(b, s, "deck", decks[1])
	b.ResetTimer()
	start, i := time.Now(), 0
	for b.Loop() {
		importDeck(b, s, "deck", decks[i%2])
		i++
	}
	b.StopTimer()
	secs := time.Since(start).Seconds() / float64(i)
	b.ReportMetric(secs, "s/import")
	b.ReportMetric(deckRows/secs, "rows/s")
}

// BenchmarkFollowImport is how long after an import of a 10^6-row deck
// commits on one node another node on the same database prices from the
// new deck.
func BenchmarkFollowImport(b *testing.B) {
	pgtest.Durable = true
	url := pgtest.URL(b)
	a, other := openDurable(b, url), openDurable(b, url)
	if _, err := a.CreateRateTable(rating.NewTable("deck", rating.Outbound, "")); err != nil {
		b.Fatal(err)
	}
	rates := []string{"0.1", "0.2"}
	decks := []string{deckCSV(b, deckRows, rates[0]), deckCSV(b, deckRows, rates[1])}
	importDeck(b, a, "deck", decks[1])
	var follow, total time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		importDeck(b, a, "deck", decks[i%2])
		committed := time.Now()
		for {
			res := other.Rater().ResolveIn("deck", "99999999999", time.Now())
			if res.Rated() && res.Rate.Rate.String() == rates[i%2] {
				break
			}
			if time.Since(committed) > 30*time.Second {
				b.Fatal("the other node did not follow within 30 s")
			}
			time.Sleep(time.Millisecond)
		}
		follow += time.Since(committed)
		total += time.Since(start)
		i++
	}
	b.StopTimer()
	b.ReportMetric(follow.Seconds()/float64(i), "follow-s")
	b.ReportMetric(total.Seconds()/float64(i), "import+follow-s")
}
