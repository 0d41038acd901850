package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"pbxbill/store/pg/pgtest"
)

// The end-to-end test builds the real binary once, into a directory that
// TestMain removes at the end.
var e2e struct {
	dir  string
	once sync.Once
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pbxbill-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e2e.dir = dir
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildBinary(t *testing.T) string {
	t.Helper()
	e2e.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			e2e.err = fmt.Errorf("the end-to-end test builds the binary, and go is not on PATH: %w", err)
			return
		}
		e2e.bin = filepath.Join(e2e.dir, "pbxbill")
		if out, err := exec.Command(goTool, "build", "-o", e2e.bin, ".").CombinedOutput(); err != nil {
			e2e.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2e.err != nil {
		t.Fatal(e2e.err)
	}
	return e2e.bin
}

// proc is one running pbxbill process.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	logs   syncBuffer
	exited chan struct{} // closed once the process is reaped; err is then set
	err    error
}

// start runs the binary on a free loopback port and waits, for at most a
// minute, for the "listening" line that tells the address.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-listen", "127.0.0.1:0", "-log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PBXBILL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.logs.Write(append(sc.Bytes(), '\n'))
			var ev struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Message == "listening" && ev.Addr != "" {
				addr <- ev.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // Wait needs the pipe drained
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.addr = <-addr:
		return p
	case <-p.exited:
		t.Fatalf("pbxbill %q exited before listening: %v\n%s", args, p.err, p.logs.String())
	case <-time.After(time.Minute):
		t.Fatalf("pbxbill %q did not listen within a minute:\n%s", args, p.logs.String())
	}
	return nil
}

// stop sends SIGTERM and expects a clean exit within 30 seconds.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", p.err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM:\n%s", p.logs.String())
	}
}

// call makes one request and returns the status and the body.
func call(t *testing.T, method, url, token string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/csv")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// getJSON GETs url and decodes a 200 answer into v.
func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	code, body := call(t, http.MethodGet, url, token, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

// sameMoney compares a JSON money string with the expected decimal.
func sameMoney(t *testing.T, what, got, want string) {
	t.Helper()
	g, err := decimal.NewFromString(got)
	if err != nil || !g.Equal(decimal.RequireFromString(want)) {
		t.Errorf("%s = %q, want %s", what, got, want)
	}
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	endToEnd(t, filepath.Join(t.TempDir(), "e2e.db"))
}

// TestEndToEndPostgres is the same walk-through on PostgreSQL: the README's
// examples answer alike on either store.
func TestEndToEndPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	endToEnd(t, pgtest.URL(t))
}

// endToEnd runs the demo's rating, authorization, a carrier's deck import
// and a restart against the built binary on the database db names.
func endToEnd(t *testing.T, db string) {
	bin := buildBinary(t)
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	token := hex.EncodeToString(tok)
	args := []string{"-db", db, "-demo", "-api-token", token}

	p := start(t, bin, args...)
	base := "http://" + p.addr
	if code, body := call(t, http.MethodGet, base+"/healthz", "", nil); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	checkDemoRating(t, base)
	checkAuthorize(t, base)

	// Carrier A sells UK mobile cheapest until Carrier B's new deck, the
	// README's example, undercuts it.
	lcrFirst := func(want, rate string) {
		t.Helper()
		var lcr struct {
			Items []struct{ Provider, Rate string }
		}
		getJSON(t, base+"/api/v1/lcr?number=447700900123", "", &lcr)
		if len(lcr.Items) != 2 || lcr.Items[0].Provider != want {
			t.Fatalf("lcr for 447700900123: %+v, want %s first of two", lcr.Items, want)
		}
		sameMoney(t, "cheapest buy rate", lcr.Items[0].Rate, rate)
	}
	lcrFirst(demoCarrierA, "0.0280")
	deck, err := os.ReadFile("examples/carrier-b-deck.csv")
	if err != nil {
		t.Fatal(err)
	}
	ratesURL := base + "/api/v1/rate-tables/" + url.PathEscape(demoCarrierBBuy) + "/rates"
	if code, body := call(t, http.MethodPut, ratesURL, "", bytes.NewReader(deck)); code != http.StatusUnauthorized {
		t.Fatalf("import without a token: %d %s, want 401", code, body)
	}
	if code, body := call(t, http.MethodPut, ratesURL, token, bytes.NewReader(deck)); code != http.StatusOK {
		t.Fatalf("import with the bootstrap token: %d %s", code, body)
	}
	checkAfterImport := func() {
		t.Helper()
		lcrFirst(demoCarrierB, "0.0250")
		var tbl struct{ Rows int }
		getJSON(t, base+"/api/v1/rate-tables/"+url.PathEscape(demoCarrierBBuy), token, &tbl)
		if want := strings.Count(strings.TrimSpace(string(deck)), "\n"); tbl.Rows != want {
			t.Errorf("%s has %d rows after the import, want the deck's %d", demoCarrierBBuy, tbl.Rows, want)
		}
	}
	checkAfterImport()
	p.stop(t)

	// The same database again: -demo seeds nothing more, and the import
	// and the prices survive.
	p = start(t, bin, args...)
	base = "http://" + p.addr
	checkDemoRating(t, base)
	checkAfterImport()
	var tenant struct{ Balance string }
	getJSON(t, base+"/api/v1/tenants/"+url.PathEscape(demoPrepaid), token, &tenant)
	sameMoney(t, "prepaid balance after a restart", tenant.Balance, "25.00")
	if !strings.Contains(p.logs.String(), "not empty") {
		t.Errorf("the second start did not say that -demo seeded nothing:\n%s", p.logs.String())
	}
	// The README's single-row delete.
	rowURL := base + "/api/v1/rate-tables/" + url.PathEscape(demoCarrierBBuy) + "/rates/1800"
	for _, want := range []int{http.StatusNoContent, http.StatusNotFound} {
		if code, body := call(t, http.MethodDelete, rowURL, token, nil); code != want {
			t.Errorf("DELETE %s: %d %s, want %d", rowURL, code, body, want)
		}
	}
	p.stop(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-db", db, "-listen", "127.0.0.1:0", "-tz", "Europe/Berlin").CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "Europe/Berlin") {
		t.Errorf("a start with another -tz: %v, %s; want a refusal that names the zone", err, out)
	}
}

// checkDemoRating prices the README's UK mobile call by hand from the demo
// row 447: rate 0.0450 a minute, connect fee 0.0100, increments 30/6.
// b = 30 + ⌈(95 − 30) / 6⌉ · 6 = 96 s, and the cost is
// 0.0100 + 0.0450 · 96 / 60 = 0.0100 + 0.0720 = 0.0820.
func checkDemoRating(t *testing.T, base string) {
	t.Helper()
	var q struct {
		Prefix, Cost, Currency string
		BilledSeconds          int `json:"billed_seconds"`
	}
	getJSON(t, base+"/api/v1/price?tenant="+url.QueryEscape(demoPrepaid)+"&number=%2B44+7700+900123&duration=95", "", &q)
	if q.Prefix != "447" || q.BilledSeconds != 96 || q.Currency != "EUR" {
		t.Errorf("price: %+v, want prefix 447, 96 billed seconds, EUR", q)
	}
	sameMoney(t, "cost of 95 s to 447700900123", q.Cost, "0.0820")
	// The README's peak and off-peak: 120 s to Australia Mobile, 2 minutes
	// at 0.0700 on a Wednesday at 10:00, at 0.0550 on a Saturday.
	for _, tc := range []struct {
		at                time.Time
		rate, cost, hours string
	}{{readmePeak, "0.07", "0.1400", "08:00-18:00"}, {readmeOffPeak, "0.055", "0.1100", ""}} {
		var p struct {
			Prefix, Rate, Cost string
			Hours              *string
		}
		getJSON(t, base+"/api/v1/price?tenant="+url.QueryEscape(demoPrepaid)+"&number=61412345678&duration=120&at="+
			tc.at.Format(time.RFC3339), "", &p)
		hours := ""
		if p.Hours != nil {
			hours = *p.Hours
		}
		if p.Prefix != "614" || p.Rate != tc.rate || p.Cost != tc.cost || hours != tc.hours {
			t.Errorf("price of 120 s to 61412345678 at %s: %+v, want rate %s, cost %s, hours %q", tc.at, p, tc.rate, tc.cost, tc.hours)
		}
	}
}

// checkAuthorize asks how long the prepaid tenant, with 25.00, may call a
// Swiss mobile: row 417, rate 0.2000, connect fee 0.0500, the table's 60/60.
// c(b) = 0.05 + 0.2 · b / 60, so c(7440) = 24.85 fits and c(7500) = 25.05
// does not: 7440 s.
func checkAuthorize(t *testing.T, base string) {
	t.Helper()
	q := "/api/v1/authorize?tenant=" + url.QueryEscape(demoPrepaid) + "&number=41791234567"
	var a struct {
		Allowed                  bool
		MaxDuration              int `json:"max_duration"`
		Reason, State, Available string
	}
	getJSON(t, base+q, "", &a)
	if !a.Allowed || a.MaxDuration != 7440 || a.Reason != "ok" || a.State != "ok" {
		t.Errorf("authorize: %+v, want allowed for 7440 s, ok", a)
	}
	sameMoney(t, "available", a.Available, "25.00")
	// The README's dialplan passes ${CDR(accountcode)}, not the name.
	dialplan := "/api/v1/authorize?tenant=" + demoPrepaidCode + "&number=%2B41791234567&format=text"
	for _, tc := range []struct{ query, want string }{
		{q + "&format=text", "7440\n"},
		{dialplan, "7440\n"},
		{"/api/v1/authorize?tenant=nobody&number=41791234567&format=text", "0\n"},
		{"/api/v1/authorize?tenant=" + demoPrepaidCode + "&number=41-79-abc&format=text", "0\n"},
	} {
		if code, body := call(t, http.MethodGet, base+tc.query, "", nil); code != http.StatusOK || body != tc.want {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.query, code, body, tc.want)
		}
	}
}
