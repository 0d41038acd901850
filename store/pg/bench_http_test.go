package pg_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/handlers"
	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// The HTTP benchmarks run the same load against both stores, side by
// side: the bbolt file and PostgreSQL (fsync on, as in production), one
// node each, over loopback HTTP.

const benchToken = "bench-token-0123456789abcdef0123"

// backends are the stores a benchmark compares.
var backends = []struct {
	name string
	open func(b *testing.B) handlers.Store
}{
	{"bbolt", func(b *testing.B) handlers.Store {
		s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) handlers.Store {
		pgtest.Durable = true // production's commits: set before the server starts
		s, err := pg.Open(pgtest.URL(b), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
}

// serve serves the handlers on st over loopback, logging nothing.
func serve(b *testing.B, st handlers.Store) string {
	h := handlers.New(handlers.Config{Store: st, APIToken: benchToken, MaxCallDuration: 10800, Log: zerolog.New(io.Discard)})
	ts := httptest.NewServer(h)
	b.Cleanup(ts.Close)
	return ts.URL
}

// fixture makes tenants t0000… (postpaid, room to spend) on ten sell
// tables of 200 three-digit prefixes, and providers p000… on ten buy
// tables.
func fixture(b *testing.B, st handlers.Store, tenants, providers int) {
	rows := func(rate int) []rating.Row {
		out := make([]rating.Row, 200)
		for k := range out {
			a, _ := rating.ParseAmount(fmt.Sprintf("0.%04d", rate+k))
			out[k] = rating.NewRow(strconv.Itoa(100+k), a)
		}
		return out
	}
	table := func(name string, rows []rating.Row) {
		if _, err := st.CreateRateTable(rating.NewTable(name, rating.Outbound, "EUR")); err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.MergeRates(name, rows); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10 {
		table(fmt.Sprintf("sell%d", i), rows(2000+i))
		table(fmt.Sprintf("buy%d", i), rows(1000+i))
	}
	limit, _ := rating.ParseMoney("100000000")
	for i := range tenants {
		if _, err := st.CreateTenant(rating.Tenant{Name: fmt.Sprintf("t%04d", i), BillingMode: rating.Postpaid, Status: rating.Active,
			CreditLimit: limit, LowBalanceThreshold: rating.Money{}, DailySpendLimit: rating.NoMoney,
			OutboundTable: fmt.Sprintf("sell%d", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range providers {
		if _, err := st.CreateProvider(rating.Provider{Name: fmt.Sprintf("p%03d", i), Status: rating.Active,
			OutboundTable: fmt.Sprintf("buy%d", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
}

// batchBody is a JSON array of n CDRs with ids from first on.
func batchBody(run string, first, n, tenants, providers int, base time.Time) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := first; i < first+n; i++ {
		if i > first {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"id":"%s%d","tenant":"t%04d","provider":"p%03d","number":"%03d%08d","start":"%s","duration":%d}`,
			run, i, i%tenants, i%providers, 100+i%200, i%100_000_000,
			base.AddDate(0, 0, -(i%7)).Add(time.Duration(i%36000)*time.Second).Format(time.RFC3339), i%300)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func post(client *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/cdrs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", res.StatusCode, out)
	}
	return nil
}

// BenchmarkHTTPCDRBatches posts 10^5 CDRs (100 tenants, 10 providers) in
// batches of 1,000 over HTTP, one batch after another: the target
// on PostgreSQL is 10,000 CDRs a second. One iteration is the 10^5.
func BenchmarkHTTPCDRBatches(b *testing.B) {
	const total, batch = 100_000, 1_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			fixture(b, st, 100, 10)
			url := serve(b, st)
			client := &http.Client{}
			start := time.Now().UTC()
			run := 0
			for b.Loop() {
				run++
				for k := 0; k < total; k += batch {
					b.StopTimer()
					body := batchBody(fmt.Sprintf("r%d-", run), k, batch, 100, 10, start)
					b.StartTimer()
					if err := post(client, url, body); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(total*run)/b.Elapsed().Seconds(), "CDR/s")
		})
	}
}

// BenchmarkHTTPAuthorize is GET /api/v1/authorize without a hold, from 64
// clients: the target on PostgreSQL is 10,000 a second per node.
func BenchmarkHTTPAuthorize(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			fixture(b, st, 10, 0)
			authorizeLoad(b, serve(b, st)+"/api/v1/authorize?tenant=t0001&number=15012345678&format=text", false)
		})
	}
}

// BenchmarkHTTPAuthorizeHold opens a hold with each authorization
// (call=), from 64 clients over 10 tenants: the target on
// PostgreSQL is 2,000 a second per node. It reports the 99th percentile.
func BenchmarkHTTPAuthorizeHold(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			fixture(b, st, 10, 0)
			authorizeLoad(b, serve(b, st)+"/api/v1/authorize?number=15012345678&format=text", true)
		})
	}
}

func authorizeLoad(b *testing.B, url string, hold bool) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	want := []byte("10800\n")
	var seq atomic.Int64
	lat := make(chan []time.Duration, 64)
	b.SetParallelism(32) // 64 clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64)
		var mine []time.Duration
		defer func() { lat <- mine }()
		for pb.Next() {
			u := url
			if hold {
				n := seq.Add(1)
				u += fmt.Sprintf("&tenant=t%04d&call=c%d", n%10, n)
			}
			t0 := time.Now()
			res, err := client.Get(u)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(res.Body, buf[:len(want)])
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mine = append(mine, time.Since(t0))
			if res.StatusCode != http.StatusOK || !bytes.Equal(buf[:n], want) {
				b.Errorf("answer %d %q, want 200 %q", res.StatusCode, buf[:n], want)
				return
			}
		}
	})
	b.StopTimer()
	var all []time.Duration
	for len(all) < b.N {
		select {
		case l := <-lat:
			all = append(all, l...)
		case <-time.After(time.Second):
			b.Fatalf("latencies of %d requests of %d", len(all), b.N)
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}
