package handlers

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
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
