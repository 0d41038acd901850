package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pbxbill/rating"
)

// benchBooks is an installation with 100 tenants and 10 carriers sharing
// realistic sell and buy tables.
func benchBooks(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for _, t := range []struct {
		name string
		rate string
	}{{"Sell", "0.05"}, {"Buy", "0.02"}} {
		tb := rating.NewTable(t.name, rating.Outbound, "")
		tb.InitialIncrement, tb.Increment = 1, 1
		if _, err := s.CreateRateTable(tb); err != nil {
			b.Fatal(err)
		}
		var rows []rating.Row
		for p := 1; p <= 999; p++ {
			rows = append(rows, rating.NewRow(fmt.Sprint(p), amt(b, t.rate)))
		}
		if err := s.ReplaceRates(t.name, rows); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		if _, err := s.CreateTenant(rating.Tenant{Name: fmt.Sprint("tenant", i), BillingMode: rating.Postpaid,
			CreditLimit: mustMoney(b, "1000000"), OutboundTable: "Sell"}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		if _, err := s.CreateProvider(rating.Provider{Name: fmt.Sprint("carrier", i), Trunk: fmt.Sprint("trunk", i),
			OutboundTable: "Buy"}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// benchCDRs generates CDRs from..to of a set of 10^6 spread over 31 days.
func benchCDRs(from, to int) []rating.CDR {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	out := make([]rating.CDR, to-from)
	for j := range out {
		i := from + j
		out[j] = rating.CDR{ID: fmt.Sprint("bench-", i), Tenant: fmt.Sprint("tenant", i%100), Kind: rating.Outbound,
			Number: fmt.Sprint(440000000000 + i*7919%999999999), Provider: fmt.Sprint("trunk", i%10),
			Start: start.Add(time.Duration(i) * 2677 * time.Millisecond), Duration: i % 400}
	}
	return out
}

// BenchmarkPostCDRsStore posts 10^6 CDRs through the store alone, in
// batches of 10^4: stored, priced, charged and rolled up.
func BenchmarkPostCDRsStore(b *testing.B) {
	const n, size = 1_000_000, 10_000
	for b.Loop() {
		b.StopTimer()
		s := benchBooks(b)
		var spent time.Duration
		// Each batch is made outside the timer, as a PBX makes it; holding
		// all 10^6 at once would only measure the garbage collector.
		for i := 0; i < n; i += size {
			cdrs := benchCDRs(i, i+size)
			t0 := time.Now()
			b.StartTimer()
			if _, err := s.PostCDRs("", cdrs); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			spent += time.Since(t0)
		}
		b.StartTimer()
		b.ReportMetric(spent.Seconds(), "s/1e6-CDRs")
		b.ReportMetric(float64(n)/spent.Seconds(), "CDR/s")
	}
}
