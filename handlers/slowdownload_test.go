package handlers

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// smallBuffers is a listener whose connections send through a small
// socket buffer, so that a download the client does not read stays in
// the handler rather than in the kernel.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// slowDownload reads a download in 32-byte sips 5 ms apart, as long as
// slow holds and for at most 20 s, then at full speed.
type slowDownload struct {
	first chan struct{} // closed when the first bytes arrived
	done  chan fetched
}

func startSlowDownload(c *http.Client, url string, slow *atomic.Bool) *slowDownload {
	d := &slowDownload{first: make(chan struct{}), done: make(chan fetched, 1)}
	go func() {
		started := sync.OnceFunc(func() { close(d.first) })
		defer started() // also when the download fails
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			d.done <- fetched{err: err}
			return
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := c.Do(req)
		if err != nil {
			d.done <- fetched{err: err}
			return
		}
		defer res.Body.Close()
		var body []byte
		buf := make([]byte, 32)
		deadline := time.Now().Add(20 * time.Second)
		for slow.Load() && time.Now().Before(deadline) {
			n, err := res.Body.Read(buf)
			if n > 0 {
				started()
			}
			body = append(body, buf[:n]...)
			if err == io.EOF {
				d.done <- fetched{status: res.StatusCode, header: res.Header, body: body}
				return
			} else if err != nil {
				d.done <- fetched{status: res.StatusCode, body: body, err: err}
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		rest, err := io.ReadAll(res.Body)
		d.done <- fetched{status: res.StatusCode, header: res.Header, body: append(body, rest...), err: err}
	}()
	return d
}

// TestSlowDownloadDoesNotHoldUpIntake: while clients read a CDR export, a
// rate export and a backup very slowly, a large write grows the file past
// bbolt's mapping, which makes its commit remap and wait for every open
// read transaction, and CDRs are posted behind it. All of that completes
// while the three downloads are still being served.
func TestSlowDownloadDoesNotHoldUpIntake(t *testing.T) {
	const (
		cdrs = 5000
		rows = 20000
	)
	path := filepath.Join(t.TempDir(), "pbxbill.db")
	st, err := store.Open(path, store.Options{TZ: "UTC", Currency: "EUR", MmapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	mustCheck(t, st)
	var exporting atomic.Int32 // download handlers running
	s := newServer(Config{Store: st, APIToken: testToken, MaxCallDuration: 10800, Log: zerolog.Nop()})
	h := s.handler()
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") == "csv" || r.URL.Path == "/api/v1/backup" {
			exporting.Add(1)
			defer exporting.Add(-1)
		}
		h.ServeHTTP(w, r)
	}))
	hs.Listener = smallBuffers{hs.Listener}
	hs.Start()
	t.Cleanup(hs.Close)

	bigTable(t, st, rows)
	manyCDRs(t, st, 0, cdrs)
	fileSize := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Below bbolt's 16 MiB allocation step, the file is as long as the
	// mapping, so a file that grows has been remapped.
	before := fileSize()
	if before >= 16<<20 {
		t.Fatalf("the file is %d bytes; this test needs it below 16 MiB", before)
	}

	// A client that reads very slowly.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	var slow atomic.Bool
	slow.Store(true)
	cdrCSV := startSlowDownload(client, hs.URL+"/api/v1/cdrs?format=csv", &slow)
	rateCSV := startSlowDownload(client, hs.URL+"/api/v1/rate-tables/big/rates?format=csv", &slow)
	backup := startSlowDownload(client, hs.URL+"/api/v1/backup", &slow)
	<-cdrCSV.first
	<-rateCSV.first
	<-backup.first

	// The large write: new tables until the file has grown, at most 10.
	grown := make(chan error, 1)
	go func() {
		for i := 0; i < 10 && fileSize() <= before; i++ {
			name := fmt.Sprint("grow", i)
			if _, err := st.CreateRateTable(rating.NewTable(name, rating.Outbound, "EUR")); err != nil {
				grown <- err
				return
			}
			if err := st.ReplaceRates(name, numberedRates(50000)); err != nil {
				grown <- err
				return
			}
		}
		grown <- nil
	}()
	// A PBX posts CDRs meanwhile.
	var posts []error
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf(`{"id":"live-%d","tenant":"nobody","number":"442079460000","start":"2026-03-11T10:00:00Z","duration":30}`, i)
		_, err := postAsync(hs.URL, testToken, body)
		posts = append(posts, err)
	}
	if err := <-grown; err != nil {
		t.Fatal(err)
	}
	open := exporting.Load()
	slow.Store(false)
	if err := errors.Join(posts...); err != nil {
		t.Errorf("posts: %v", err)
	}
	if after := fileSize(); after <= before {
		t.Errorf("the file did not grow (%d bytes): nothing was remapped", after)
	}
	if open != 3 {
		t.Errorf("%d downloads were still open when the posts and the large write completed, want 3: they waited for the downloads", open)
	}

	// The downloads are whole: the CDRs stored when the export began,
	// every row, and a backup of the length announced.
	for _, d := range []struct {
		name string
		dl   *slowDownload
		want int
	}{{"CDR export", cdrCSV, cdrs + 1}, {"rate export", rateCSV, rows + 1}} {
		res := <-d.dl.done
		if res.status != http.StatusOK || res.err != nil {
			t.Errorf("%s: status %d, %v", d.name, res.status, res.err)
		}
		if n := strings.Count(string(res.body), "\n"); n != d.want {
			t.Errorf("%s: %d lines, want %d", d.name, n, d.want)
		}
		if strings.Contains(string(res.body), "live-") {
			t.Errorf("%s: holds CDRs posted after it began", d.name)
		}
	}
	res := <-backup.done
	if res.status != http.StatusOK || res.err != nil || res.header.Get("Content-Length") != fmt.Sprint(len(res.body)) {
		t.Errorf("backup: status %d, %v, %d bytes, Content-Length %q", res.status, res.err, len(res.body), res.header.Get("Content-Length"))
	}
}

// numberedRates is n rows of distinct prefixes.
func numberedRates(n int) []rating.Row {
	rows := make([]rating.Row, n)
	for i := range rows {
		rows[i] = rating.NewRow(fmt.Sprint(2000000+i), rating.Amount(1000+i))
		rows[i].Destination = "Growing"
	}
	return rows
}
