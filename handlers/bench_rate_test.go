package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// benchDeckRows is the size of the admin's benchmark decks: a large
// carrier A-Z deck.
const benchDeckRows = 1_000_000

// deckLine is line i of a generated deck: a distinct seven-digit prefix,
// scattered as a deck sorted by country name scatters them.
func deckLine(dst []byte, i int) []byte {
	dst = strconv.AppendInt(dst, int64(deckPrefix(i)), 10)
	dst = fmt.Appendf(dst, ",Country %d %s,0.%04d,,,,\n", i%1000, [2]string{"Fixed", "Mobile"}[i%2], 1+i%9999)
	return dst
}

// deckPrefix is the prefix of line i: 7919 is prime to 10^6, so the
// prefixes of a million lines are distinct.
func deckPrefix(i int) int { return 1_000_000 + i*7919%1_000_000 }

const deckHeader = "prefix,destination,rate,connect_fee,initial_increment,increment,effective_from\n"

// deckStream is a deck of n lines made as it is read, so that the client
// side of a benchmark holds none of it.
type deckStream struct {
	n, next int
	buf     []byte
}

func (s *deckStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.buf) == 0 {
			if s.next == s.n {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			s.buf = deckLine(s.buf[:0], s.next)
			s.next++
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return n, nil
}

// uploadForm is the admin's upload form with a generated deck of n lines,
// as a browser posts it: the mode, then the file.
func uploadForm(n int, mode string) (io.Reader, string) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("mode", mode)
	if _, err := mw.CreateFormFile("file", "deck.csv"); err != nil {
		panic(err)
	}
	headPart := head.String() + deckHeader
	head.Reset()
	mw.Close()
	return io.MultiReader(strings.NewReader(headPart), &deckStream{n: n}, strings.NewReader(head.String())),
		mw.FormDataContentType()
}

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// high-water mark, so peakRSS measures what follows; false where
// /proc/self/clear_refs is missing.
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS and rss are the process's peak and current resident set in MB.
func peakRSS() float64 { return procStatusMB("VmHWM:") }
func rss() float64     { return procStatusMB("VmRSS:") }

func procStatusMB(field string) float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// benchDeckTable creates the outbound table "deck" and fills it with a
// generated deck of n rows through the admin's upload form.
func benchDeckTable(b *testing.B, n int) (*testServer, *browser) {
	ts := mustServeUI(b, nil, quiet)
	br := newBrowser(ts)
	br.login()
	br.post("/rates/outbound", url.Values{"name": {"deck"}, "decimals": {"4"}, "rounding": {"half_up"},
		"initial_increment": {"60"}, "increment": {"60"}}).want(http.StatusSeeOther)
	if n > 0 {
		benchUpload(b, br, n)
	}
	return ts, br
}

// benchUpload posts a deck of n rows through the admin's upload form.
func benchUpload(b *testing.B, br *browser, n int) {
	body, ctype := uploadForm(n, "replace")
	req, err := http.NewRequest(http.MethodPost, br.ts.URL+"/rates/outbound/deck/upload", body)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	br.do(req).want(http.StatusSeeOther)
	if t, err := br.ts.Store.RateTable("deck"); err != nil || t.Rows != n {
		b.Fatalf("table after the upload: %+v, %v", t, err)
	}
}

// BenchmarkUIUploadRates uploads a 10^6-line deck through the admin's
// upload form, replacing the table's rows, over loopback HTTP. Its peak
// RSS is the figure to keep under 300 MB (make bench-rss runs it alone
// in a fresh process); from the second op on it includes the previous
// upload's index, which serves until the new one is swapped in.
func BenchmarkUIUploadRates(b *testing.B) {
	_, br := benchDeckTable(b, 0)
	resetPeakRSS()
	base := rss()
	for b.Loop() {
		benchUpload(b, br, benchDeckRows)
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
	b.ReportMetric(base, "base-RSS-MB")
}

// BenchmarkUIDeleteRow deletes one row of a 10^6-row table through the
// admin, a different row each op, and reports the resident set before and
// after the deletes and its peak while they ran.
func BenchmarkUIDeleteRow(b *testing.B) {
	ts, br := benchDeckTable(b, benchDeckRows)
	resetPeakRSS()
	before := rss()
	i := 0
	for b.Loop() {
		p := strconv.Itoa(deckPrefix(i))
		i++
		br.post("/rates/outbound/deck/rows/delete", url.Values{"prefix": {p}, "effective": {""}}).want(http.StatusSeeOther)
	}
	b.StopTimer()
	if t, _ := ts.Store.RateTable("deck"); t.Rows != benchDeckRows-i {
		b.Fatalf("%d rows after %d deletes", t.Rows, i)
	}
	b.ReportMetric(before, "RSS-before-MB")
	b.ReportMetric(rss(), "RSS-after-MB")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}
