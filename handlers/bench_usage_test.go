package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
)

// cdrStream is a JSON array of n CDRs made one at a time as it is read, so
// that a test or a benchmark can post a million CDRs without holding them.
type cdrStream struct {
	n, next int
	rec     func(dst []byte, i int) []byte
	buf     []byte
	done    bool
}

func newCDRStream(n int, rec func(dst []byte, i int) []byte) *cdrStream {
	return &cdrStream{n: n, rec: rec}
}

// Read fills p as far as it can: a short read per record would cost the
// client a write, and a chunk header, per CDR.
func (s *cdrStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			switch {
			case s.done:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			case s.next == s.n:
				s.buf, s.done = append(s.buf[:0], ']'), true
			default:
				sep := byte(',')
				if s.next == 0 {
					sep = '['
				}
				s.buf = s.rec(append(s.buf[:0], sep), s.next)
				s.next++
			}
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}

// size is the stream's length in bytes, for a Content-Length.
func (s *cdrStream) size() int64 {
	var total int64
	var b []byte
	for i := range s.n {
		b = s.rec(b[:0], i)
		total += int64(len(b)) + 1 // a separator before each
	}
	if s.n == 0 {
		total++ // [
	}
	return total + 1 // ]
}

// benchCDR makes CDR i of a load: one of tenants tenants and providers
// providers, a number under one of the 200 prefixes of benchFixture, a
// start on one of days days before base, an id unique within run.
func benchCDR(run string, tenants, providers, days int, base time.Time) func(dst []byte, i int) []byte {
	return func(b []byte, i int) []byte {
		b = append(b, `{"id":"`...)
		b = append(b, run...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = fmt.Appendf(b, `","tenant":"t%04d","provider":"p%03d","number":"%03d%08d","start":"`,
			i%tenants, i%providers, 100+i%200, i%100_000_000)
		b = base.AddDate(0, 0, -(i%days)).Add(time.Duration(i%36000)*time.Second).AppendFormat(b, time.RFC3339)
		b = append(b, `","duration":`...)
		b = strconv.AppendInt(b, int64(i%300), 10) // 1 in 300 unanswered
		return append(b, '}')
	}
}

// benchFixture creates tenants tenants (t0000…), providers providers
// (p000…), 10 sell tables and 10 buy tables of 200 three-digit prefixes
// each, shared round-robin. Tenants are postpaid with room to spend.
func benchFixture(b *testing.B, ts *testServer, tenants, providers int) {
	b.Helper()
	rows := func(rate int) []rating.Row {
		out := make([]rating.Row, 200)
		for k := range out {
			out[k] = row(b, strconv.Itoa(100+k), fmt.Sprintf("0.%04d", rate+k))
		}
		return out
	}
	for i := range 10 {
		ts.mustTable(rating.NewTable(fmt.Sprintf("sell%d", i), rating.Outbound, "EUR"), rows(2000+i)...)
		ts.mustTable(rating.NewTable(fmt.Sprintf("buy%d", i), rating.Outbound, "EUR"), rows(1000+i)...)
	}
	for i := range tenants {
		ts.mustTenant(rating.Tenant{Name: fmt.Sprintf("t%04d", i), BillingMode: rating.Postpaid,
			CreditLimit: mustMoney(b, "1000000"), OutboundTable: fmt.Sprintf("sell%d", i%10)}, "")
	}
	for i := range providers {
		if _, err := ts.Store.CreateProvider(rating.Provider{Name: fmt.Sprintf("p%03d", i), Status: rating.Active,
			OutboundTable: fmt.Sprintf("buy%d", i%10)}); err != nil {
			b.Fatal(err)
		}
	}
}

func quiet(s *server) { s.Log = zerolog.New(io.Discard) }

// postStream posts a stream of CDRs and returns the rated count.
func postStream(client *http.Client, url string, body io.Reader) (int, error) {
	hr, err := http.NewRequest(http.MethodPost, url+"/api/v1/cdrs", body)
	if err != nil {
		return 0, err
	}
	hr.Header.Set("Authorization", "Bearer "+testToken)
	hr.Header.Set("Content-Type", "application/json")
	res, err := client.Do(hr)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var out struct{ Rated, Duplicate, Unrated int }
	err = json.NewDecoder(res.Body).Decode(&out)
	// Read to the end, or the connection is not reused.
	_, _ = io.Copy(io.Discard, res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %v", res.StatusCode, err)
	}
	return out.Rated, nil
}

// BenchmarkPostCDRBatches posts 10^6 CDRs (100 tenants, 10 providers)
// over loopback HTTP in batches of 10^4, one batch after another, each
// rated, stored, charged and rolled up. One iteration is the million.
func BenchmarkPostCDRBatches(b *testing.B) {
	const total, batch = 1_000_000, 10_000
	ts := mustServe(b, quiet)
	benchFixture(b, ts, 100, 10)
	client := &http.Client{}
	start := time.Now().UTC()
	run := 0
	for b.Loop() {
		run++
		for k := 0; k < total; k += batch {
			rec := benchCDR(fmt.Sprintf("r%d-%d-", run, k), 100, 10, 7, start)
			n, err := postStream(client, ts.URL, newCDRStream(batch, rec))
			if err != nil {
				b.Fatal(err)
			}
			if n != batch {
				b.Fatalf("batch %d: %d rated, want %d", k/batch, n, batch)
			}
		}
	}
	b.ReportMetric(float64(total*run)/b.Elapsed().Seconds(), "CDR/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(run), "s/1e6CDRs")
}

// BenchmarkPostCDRSingle posts one CDR per request from 64 concurrent
// clients over loopback, as 64 PBX channels hanging up would.
func BenchmarkPostCDRSingle(b *testing.B) {
	ts := mustServe(b, quiet)
	benchFixture(b, ts, 100, 10)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128}}
	defer client.CloseIdleConnections()
	var seq atomic.Int64
	rec := benchCDR("s-", 100, 10, 7, time.Now().UTC())
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf []byte
		for pb.Next() {
			buf = rec(buf[:0], int(seq.Add(1)))
			n, err := postStream(client, ts.URL, bytes.NewReader(buf))
			if err != nil || n != 1 {
				b.Errorf("single post: %d rated, %v", n, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "CDR/s")
}

// BenchmarkProviderDashboard reads 31 days of 100 providers' roll-ups,
// filled by 10^5 CDRs posted through the store beforehand. They already
// give every provider a roll-up on every day, which is what the dashboard
// reads; 10^6 CDRs measured the same (3.9 ms) but take 40 s to set up.
func BenchmarkProviderDashboard(b *testing.B) {
	const cdrs, batch = 100_000, 10_000
	ts := mustServe(b, quiet)
	benchFixture(b, ts, 100, 100)
	end := time.Now().UTC()
	fill(b, ts, benchCDR("d-", 100, 100, 31, end), cdrs, batch)
	url := "/api/v1/dashboard/providers?from=" + end.AddDate(0, 0, -30).Format(time.DateOnly) + "&to=" + end.Format(time.DateOnly)
	var out struct {
		Providers []json.RawMessage `json:"providers"`
	}
	for b.Loop() {
		ts.admin("GET", url, "").want(200).decode(&out)
	}
	if len(out.Providers) != 100 {
		b.Fatalf("%d providers, want 100", len(out.Providers))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkTenantDashboard reads the figures of 1000 tenants, whose
// roll-ups hold 10^4 CDRs over the last 8 days.
func BenchmarkTenantDashboard(b *testing.B) {
	ts := mustServe(b, quiet)
	benchFixture(b, ts, 1000, 10)
	fill(b, ts, benchCDR("t-", 1000, 10, 8, time.Now().UTC()), 10_000, 10_000)
	var out struct {
		Tenants []json.RawMessage `json:"tenants"`
	}
	for b.Loop() {
		ts.admin("GET", "/api/v1/dashboard/tenants", "").want(200).decode(&out)
	}
	if len(out.Tenants) != 1000 {
		b.Fatalf("%d tenants, want 1000", len(out.Tenants))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkTenantDashboardPage is BenchmarkTenantDashboard through the
// admin: the Tenants Dashboard page of the same 1000 tenants, sparklines
// and totals drawn, for a logged-in browser.
func BenchmarkTenantDashboardPage(b *testing.B) {
	ts := mustServeUI(b, nil, quiet)
	benchFixture(b, ts, 1000, 10)
	fill(b, ts, benchCDR("t-", 1000, 10, 8, time.Now().UTC()), 10_000, 10_000)
	br := newBrowser(ts)
	br.login()
	var p page
	for b.Loop() {
		p = br.get("/tenants").want(http.StatusOK)
	}
	p.has("Totals (1000 tenants)")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// fill posts n CDRs made by rec through the store, in batches.
func fill(b *testing.B, ts *testServer, rec func([]byte, int) []byte, n, batch int) {
	b.Helper()
	cdrs := make([]rating.CDR, 0, batch)
	for k := 0; k < n; k += batch {
		cdrs = cdrs[:0]
		for i := k; i < min(n, k+batch); i++ {
			var in cdrIn
			if err := json.Unmarshal(rec(nil, i), &in); err != nil {
				b.Fatal(err)
			}
			c, err := in.toCDR()
			if err != nil {
				b.Fatal(err)
			}
			cdrs = append(cdrs, c)
		}
		if _, err := ts.Store.PostCDRs("", cdrs); err != nil {
			b.Fatal(err)
		}
	}
}
