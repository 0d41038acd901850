package handlers

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
)

// BenchmarkAuthorize measures the hot path a dialplan uses for every call:
// GET /api/v1/authorize?format=text over loopback without a token, on a
// keep-alive client, request logging on (into io.Discard).
func BenchmarkAuthorize(b *testing.B) {
	ts := authorizeServer(b, func(s *server) { s.Log = zerolog.New(io.Discard) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	url := ts.URL + "/api/v1/authorize?tenant=pre&number=4420&format=text"
	want := []byte("960\n")

	// Several requests in flight per core, as several PBX channels would.
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64)
		for pb.Next() {
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.ReadFull(res.Body, buf[:len(want)])
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !bytes.Equal(buf[:n], want) {
				b.Errorf("answer %d %q, want 200 %q", res.StatusCode, buf[:n], want)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkAuthorizeHold measures authorizations that open a hold, as a
// dialplan passing call=${UNIQUEID} makes them: 64 clients at once over
// loopback, each call a new id, on a tenant whose credit never runs out.
// Each answer waits for its hold to be stored (the group commit shares
// the fsyncs). It reports the rate and the 99th percentile latency.
func BenchmarkAuthorizeHold(b *testing.B) {
	ts := authorizeServer(b, func(s *server) { s.Log = zerolog.New(io.Discard) })
	ts.mustTenant(rating.Tenant{Name: "rich", OutboundTable: "t60"}, "100000000")
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	base := ts.URL + "/api/v1/authorize?tenant=rich&number=4420&format=text&call="
	want := []byte("10800\n")
	var seq atomic.Int64
	lat := make(chan []time.Duration, 64)

	b.SetParallelism(32) // 64 clients on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64)
		var mine []time.Duration
		defer func() { lat <- mine }()
		for pb.Next() {
			t0 := time.Now()
			res, err := client.Get(base + strconv.FormatInt(seq.Add(1), 10))
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
