package handlers

import (
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// gate stops the answer to a request for path at its first write until the
// test opens the gate, so that the test can break something while the
// download is under way and nothing has reached the client yet. With
// fail set, every write after the first fails instead, as a write to a
// client that went away does.
type gate struct {
	path    string
	fail    bool
	reached chan struct{} // closed at the first write
	open    chan struct{} // closed by the test
	once    sync.Once
}

func newGate(path string, fail bool) *gate {
	return &gate{path: path, fail: fail, reached: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == g.path {
			w = &gatedWriter{ResponseWriter: w, g: g}
		}
		next.ServeHTTP(w, r)
	})
}

// wait waits, for at most a minute, until the answer reaches the gate.
func (g *gate) wait(tb testing.TB) {
	tb.Helper()
	select {
	case <-g.reached:
	case <-time.After(time.Minute):
		tb.Fatalf("the answer to %s never wrote", g.path)
	}
}

type gatedWriter struct {
	http.ResponseWriter
	g      *gate
	writes int
}

func (w *gatedWriter) Write(b []byte) (int, error) {
	w.g.once.Do(func() {
		close(w.g.reached)
		<-w.g.open
	})
	if w.writes++; w.g.fail && w.writes > 1 {
		return 0, errors.New("connection reset by the test")
	}
	return w.ResponseWriter.Write(b)
}

// gatedServe serves the handlers behind g on a real store, with the
// admin password set. net/http's own log goes to the returned buffer. The
// store's books are not checked at the end: some tests close it under a
// running download.
func gatedServe(tb testing.TB, g *gate) (*testServer, *syncBuffer) {
	tb.Helper()
	st := mustOpen(tb, store.Options{TZ: "UTC", Currency: "EUR"})
	if err := st.SetAdminPassword(store.AdminUser, uiPassword); err != nil {
		tb.Fatal(err)
	}
	log, httpLog := &syncBuffer{}, &syncBuffer{}
	s := newServer(Config{Store: st, APIToken: testToken, MaxCallDuration: 10800, Log: zerolog.New(log)})
	hs := httptest.NewUnstartedServer(g.wrap(s.handler()))
	hs.Config.ErrorLog = stdlog.New(httpLog, "", 0)
	hs.Start()
	tb.Cleanup(hs.Close)
	return &testServer{tb: tb, URL: hs.URL, Store: st, log: log}, httpLog
}

// fetched is a download as the client got it: err is the error that
// ended reading the body, nil at a clean end.
type fetched struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// fetch downloads path with c, in the background.
func fetch(c *http.Client, url, token string) <-chan fetched {
	out := make(chan fetched, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			out <- fetched{err: err}
			return
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := c.Do(req)
		if err != nil {
			out <- fetched{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- fetched{status: res.StatusCode, header: res.Header, body: b, err: err}
	}()
	return out
}

// bigTable fills an outbound table "big" with n rows through the store.
func bigTable(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	if _, err := st.CreateRateTable(rating.NewTable("big", rating.Outbound, "EUR")); err != nil {
		tb.Fatal(err)
	}
	rows := make([]rating.Row, n)
	for i := range rows {
		rows[i] = rating.NewRow(fmt.Sprint(100000+i), rating.Amount(1000+i))
		rows[i].Destination = "Somewhere"
	}
	if err := st.ReplaceRates("big", rows); err != nil {
		tb.Fatal(err)
	}
}

// manyCDRs stores n CDRs from offset on, unrated: their tenant does not
// exist.
func manyCDRs(tb testing.TB, st *store.Store, offset, n int) {
	tb.Helper()
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	cdrs := make([]rating.CDR, n)
	for i := range cdrs {
		cdrs[i] = rating.CDR{ID: fmt.Sprint("call-", offset+i), Tenant: "nobody", Kind: rating.Outbound,
			Number: "442079460000", Start: start.Add(time.Duration(offset+i) * time.Second), Duration: 60}
	}
	if _, err := st.PostCDRs("", cdrs); err != nil {
		tb.Fatal(err)
	}
}

// backupFiles counts this process's open files that are a backup's
// temporary copy; -1 where the system does not tell.
func backupFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.Contains(target, "/.backup-") {
			n++
		}
	}
	return n
}

// noBackupFiles waits, for at most a minute, until the copies of earlier
// backups are closed: a handler cut off by its client ends a little after
// the client has gone.
func noBackupFiles(tb testing.TB) {
	tb.Helper()
	for i := 0; backupFiles() > 0; i++ {
		if i == 600 {
			tb.Fatalf("%d backup copies still open", backupFiles())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDownloadCutMidway: every streamed download that fails after its
// first bytes ends in a broken transfer, which the client sees as an
// error, never as a clean end of a short file; the failure is logged
// once as a warning, neither as a crash nor as an error answer appended
// to the file. Before the first byte, a failure is an error answer.
func TestDownloadCutMidway(t *testing.T) {
	for _, tc := range []struct {
		name, path, query string
		ui, fail          bool
		fill              func(*testServer)
		// brk breaks the store while the answer waits at its first write.
		brk func(*testServer) error
	}{
		{name: "rate CSV, the table changes", path: "/api/v1/rate-tables/big/rates", query: "?format=csv",
			fill: func(ts *testServer) { bigTable(t, ts.Store, 5000) },
			brk: func(ts *testServer) error {
				_, _, err := ts.Store.MergeRates("big", []rating.Row{rating.NewRow("44", 100)})
				return err
			}},
		{name: "admin rate download, the table is deleted", path: "/rates/outbound/big/download", ui: true,
			fill: func(ts *testServer) { bigTable(t, ts.Store, 5000) },
			brk:  func(ts *testServer) error { return ts.Store.DeleteRateTable("big") }},
		{name: "CDR CSV, the store closes", path: "/api/v1/cdrs", query: "?format=csv",
			fill: func(ts *testServer) { manyCDRs(t, ts.Store, 0, 3000) },
			brk:  func(ts *testServer) error { return ts.Store.Close() }},
		{name: "admin CDR export, the store closes", path: "/usage/export", ui: true,
			fill: func(ts *testServer) { manyCDRs(t, ts.Store, 0, 3000) },
			brk:  func(ts *testServer) error { return ts.Store.Close() }},
		{name: "backup, a write fails", path: "/api/v1/backup", fail: true,
			fill: func(ts *testServer) { manyCDRs(t, ts.Store, 0, 3000) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(tc.path, tc.fail)
			ts, httpLog := gatedServe(t, g)
			tc.fill(ts)
			client, token := http.DefaultClient, testToken
			if tc.ui {
				b := newBrowser(ts)
				b.login()
				client, token = b.c, ""
			}
			done := fetch(client, ts.URL+tc.path+tc.query, token)
			g.wait(t)
			if tc.brk != nil {
				if err := tc.brk(ts); err != nil {
					t.Fatal(err)
				}
			}
			close(g.open)
			res := <-done
			if res.status != http.StatusOK || !errors.Is(res.err, io.ErrUnexpectedEOF) {
				t.Errorf("status %d, %d bytes, ended by %v; want 200 and a broken transfer", res.status, len(res.body), res.err)
			}
			if len(res.body) == 0 {
				t.Errorf("nothing reached the client before the cut")
			}
			for _, s := range []string{`"error"`, "internal error", "<html"} {
				if strings.Contains(string(res.body), s) {
					t.Errorf("the cut file contains %q", s)
				}
			}
			noBackupFiles(t)
			log := ts.log.String()
			if !strings.Contains(log, "cut short") || !strings.Contains(log, `"aborted":true`) {
				t.Errorf("the cut is not logged:\n%s", log)
			}
			if strings.Contains(log, "panic") || strings.Contains(log, `"level":"error"`) {
				t.Errorf("the cut is logged as a crash:\n%s", log)
			}
			if httpLog.String() != "" {
				t.Errorf("net/http logged: %s", httpLog.String())
			}
		})
	}
}

// TestDownloadFailsBeforeItStarts: a download whose store fails before
// its first byte answers an error, with none of the download's headers.
func TestDownloadFailsBeforeItStarts(t *testing.T) {
	ts, _ := gatedServe(t, newGate("", false))
	manyCDRs(t, ts.Store, 0, 10)
	if err := ts.Store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/cdrs?format=csv", "/api/v1/backup"} {
		res := ts.admin("GET", path, "")
		res.wantError(http.StatusInternalServerError, rating.EInternal)
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if cd := res.header.Get("Content-Disposition"); cd != "" {
			t.Errorf("%s: Content-Disposition %q on an error", path, cd)
		}
	}
	noBackupFiles(t)
}
