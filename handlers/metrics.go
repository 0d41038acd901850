package handlers

import (
	"bufio"
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"pbxbill/rating"
)

// metrics counts what the usage endpoints did, for GET /metrics in the
// Prometheus text format. It is written by hand: the format is a few lines
// of text, not worth a dependency.
//
// It exports only what it really counts: the rating endpoints and the
// usage endpoints, not the admin's pages and forms; the HELP lines say so.
type metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64
	latency  map[string]*histogram
	cdrs     map[string]uint64 // by status
	reasons  map[string]uint64 // authorizations, by reason
	holds    func() rating.HoldStats
	skipped  uint64 // internal calls in uploaded PBX files
}

type requestKey struct {
	handler string
	code    int
}

// latencyBuckets are the histogram's upper bounds in seconds: from a cached
// single CDR to a batch of 10^4 on a busy disk, and a backup.
var latencyBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// histogram is a Prometheus histogram: counts per upper bound (not yet
// cumulative), the sum and the count.
type histogram struct {
	counts [len(latencyBuckets)]uint64
	sum    float64
	count  uint64
}

func newMetrics(holds func() rating.HoldStats) *metrics {
	m := &metrics{requests: map[requestKey]uint64{}, latency: map[string]*histogram{}, cdrs: map[string]uint64{},
		reasons: map[string]uint64{}, holds: holds}
	for _, status := range []string{"rated", "unrated", "duplicate"} {
		m.cdrs[status] = 0 // always exported, so that a rate() has a start
	}
	for _, reason := range rating.Reasons {
		m.reasons[reason] = 0
	}
	return m
}

// authorized counts one authorization's answer.
func (m *metrics) authorized(reason string) {
	m.mu.Lock()
	m.reasons[reason]++
	m.mu.Unlock()
}

// observe counts next's requests by status code and their latency, under
// the name handler.
func (m *metrics) observe(handler string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder)
		if !ok {
			rec = &recorder{ResponseWriter: w}
		}
		start := time.Now()
		defer func() {
			v := recover()
			status := rec.status
			switch {
			case v != nil && !rec.wrote:
				status = http.StatusInternalServerError // what recoverPanics will answer
			case status == 0:
				status = http.StatusOK
			}
			m.request(handler, status, time.Since(start))
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

func (m *metrics) request(handler string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[requestKey{handler, status}]++
	h := m.latency[handler]
	if h == nil {
		h = &histogram{}
		m.latency[handler] = h
	}
	sec := d.Seconds()
	if i, _ := slices.BinarySearch(latencyBuckets[:], sec); i < len(latencyBuckets) {
		h.counts[i]++
	}
	h.sum += sec
	h.count++
}

// posted counts the CDRs of one accepted batch.
func (m *metrics) posted(p rating.Posted, skipped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cdrs["rated"] += uint64(p.Rated)
	m.cdrs["unrated"] += uint64(p.Unrated)
	m.cdrs["duplicate"] += uint64(p.Duplicate)
	m.skipped += uint64(skipped)
}

// serve answers GET /metrics.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	m.write(bw)
	return bw.Flush()
}

// write prints every series, sorted, so that two scrapes differ only in
// their values.
func (m *metrics) write(w *bufio.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()

	fmt.Fprintln(w, "# HELP pbxbill_http_requests_total Requests answered by the rating, CDR, dashboard and backup endpoints, by handler and status code.")
	fmt.Fprintln(w, "# TYPE pbxbill_http_requests_total counter")
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		return cmp.Or(strings.Compare(a.handler, b.handler), cmp.Compare(a.code, b.code))
	})
	for _, k := range keys {
		fmt.Fprintf(w, "pbxbill_http_requests_total{handler=%q,code=\"%d\"} %d\n", k.handler, k.code, m.requests[k])
	}

	fmt.Fprintln(w, "# HELP pbxbill_http_request_duration_seconds Latency of the rating, CDR, dashboard and backup endpoints, by handler.")
	fmt.Fprintln(w, "# TYPE pbxbill_http_request_duration_seconds histogram")
	for _, name := range sortedKeys(m.latency) {
		h := m.latency[name]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "pbxbill_http_request_duration_seconds_bucket{handler=%q,le=%q} %d\n", name, formatFloat(le), cum)
		}
		fmt.Fprintf(w, "pbxbill_http_request_duration_seconds_bucket{handler=%q,le=\"+Inf\"} %d\n", name, h.count)
		fmt.Fprintf(w, "pbxbill_http_request_duration_seconds_sum{handler=%q} %s\n", name, formatFloat(h.sum))
		fmt.Fprintf(w, "pbxbill_http_request_duration_seconds_count{handler=%q} %d\n", name, h.count)
	}

	fmt.Fprintln(w, "# HELP pbxbill_cdrs_total CDRs posted through POST /api/v1/cdrs (JSON or PBX files), by outcome.")
	fmt.Fprintln(w, "# TYPE pbxbill_cdrs_total counter")
	for _, status := range sortedKeys(m.cdrs) {
		fmt.Fprintf(w, "pbxbill_cdrs_total{status=%q} %d\n", status, m.cdrs[status])
	}
	fmt.Fprintln(w, "# HELP pbxbill_cdrs_skipped_total Internal calls (no accountcode) skipped in uploaded PBX CDR files.")
	fmt.Fprintln(w, "# TYPE pbxbill_cdrs_skipped_total counter")
	fmt.Fprintf(w, "pbxbill_cdrs_skipped_total %d\n", m.skipped)

	fmt.Fprintln(w, "# HELP pbxbill_authorizations_total Authorizations answered, by reason (ok when allowed).")
	fmt.Fprintln(w, "# TYPE pbxbill_authorizations_total counter")
	for _, reason := range sortedKeys(m.reasons) {
		fmt.Fprintf(w, "pbxbill_authorizations_total{reason=%q} %d\n", reason, m.reasons[reason])
	}
	h := m.holds()
	fmt.Fprintln(w, "# HELP pbxbill_holds_total Holds opened by authorizations, and how they ended: released by their CDR, released by hand (DELETE /api/v1/holds/{call}), or expired without a CDR.")
	fmt.Fprintln(w, "# TYPE pbxbill_holds_total counter")
	for _, e := range []struct {
		event string
		n     uint64
	}{{"expired", h.Expired}, {"opened", h.Opened}, {"released_by_cdr", h.ReleasedByCDR}, {"released_by_hand", h.ReleasedByHand}} {
		fmt.Fprintf(w, "pbxbill_holds_total{event=%q} %d\n", e.event, e.n)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
