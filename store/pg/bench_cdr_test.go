package pg_test

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// BenchmarkPostCDRBatches posts 10^5 CDRs (100 tenants, 10 providers,
// seven days of starts) through the store in batches of 1,000, one batch
// after another, on PostgreSQL with fsync on: the target is
// 10,000 CDRs a second over HTTP, which this is the store's share of.
// One iteration is the 10^5.
func BenchmarkPostCDRBatches(b *testing.B) {
	const total, batch, tenants, providers = 100_000, 1_000, 100, 10
	pgtest.Durable = true // production's commits: set before the server starts
	s, err := pg.Open(pgtest.URL(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 10 {
		for _, side := range []struct {
			name string
			rate int
		}{{"sell", 2000}, {"buy", 1000}} {
			rows := make([]rating.Row, 200)
			for k := range rows {
				a, _ := rating.ParseAmount(fmt.Sprintf("0.%04d", side.rate+i+k))
				rows[k] = rating.NewRow(strconv.Itoa(100+k), a)
			}
			name := fmt.Sprintf("%s%d", side.name, i)
			if _, err := s.CreateRateTable(rating.NewTable(name, rating.Outbound, "EUR")); err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.MergeRates(name, rows); err != nil {
				b.Fatal(err)
			}
		}
	}
	limit, _ := rating.ParseMoney("100000000")
	for i := range tenants {
		if _, err := s.CreateTenant(rating.Tenant{Name: fmt.Sprintf("t%04d", i), BillingMode: rating.Postpaid,
			Status: rating.Active, CreditLimit: limit, OutboundTable: fmt.Sprintf("sell%d", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range providers {
		if _, err := s.CreateProvider(rating.Provider{Name: fmt.Sprintf("p%03d", i), Status: rating.Active,
			OutboundTable: fmt.Sprintf("buy%d", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Now().UTC().Truncate(time.Second)
	run := 0
	for b.Loop() {
		run++
		for k := 0; k < total; k += batch {
			b.StopTimer()
			cdrs := make([]rating.CDR, batch)
			for j := range cdrs {
				i := k + j
				cdrs[j] = rating.CDR{ID: fmt.Sprintf("r%d-%d", run, i), Tenant: fmt.Sprintf("t%04d", i%tenants),
					Provider: fmt.Sprintf("p%03d", i%providers), Number: fmt.Sprintf("%03d%08d", 100+i%200, i%100_000_000),
					Start: base.AddDate(0, 0, -(i % 7)).Add(time.Duration(i%36000) * time.Second), Duration: i % 300}
			}
			b.StartTimer()
			p, err := s.PostCDRs("", cdrs)
			if err != nil {
				b.Fatal(err)
			}
			if p.Rated != batch {
				b.Fatalf("%+v rated of %d", p.Rated, batch)
			}
		}
	}
	b.ReportMetric(float64(total*run)/b.Elapsed().Seconds(), "CDR/s")
	b.StopTimer()
	if err := s.Check(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPostCDRSingle posts one CDR a call from 64 goroutines, as many
// PBX channels each sending its own, over 10 tenants.
func BenchmarkPostCDRSingle(b *testing.B) {
	pgtest.Durable = true
	s, err := pg.Open(pgtest.URL(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tb := rating.NewTable("sell", rating.Outbound, "EUR")
	if _, err := s.CreateRateTable(tb); err != nil {
		b.Fatal(err)
	}
	a, _ := rating.ParseAmount("0.01")
	if err := s.ReplaceRates("sell", []rating.Row{rating.NewRow("1", a)}); err != nil {
		b.Fatal(err)
	}
	limit, _ := rating.ParseMoney("100000000")
	for i := range 10 {
		if _, err := s.CreateTenant(rating.Tenant{Name: fmt.Sprintf("t%d", i), BillingMode: rating.Postpaid,
			Status: rating.Active, CreditLimit: limit, OutboundTable: "sell"}); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	start := time.Now().UTC().Truncate(time.Second)
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			if _, err := s.PostCDRs("", []rating.CDR{{ID: fmt.Sprint("c", n), Tenant: fmt.Sprint("t", n%10),
				Number: "15551234567", Start: start, Duration: 60}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "CDR/s")
}
