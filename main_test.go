package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

	"pbxbill/rating"
	"pbxbill/store"
)

// env returns a getenv over a fixed map, so tests never see the machine's
// own PBXBILL_* variables.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"listen":                "PBXBILL_LISTEN",
		"max-call-duration":     "PBXBILL_MAX_CALL_DURATION",
		"rating-requires-token": "PBXBILL_RATING_REQUIRES_TOKEN",
	} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DB != "pbxbill.db" || c.TZ != "UTC" || c.Currency != "EUR" ||
		c.MaxCallDuration != 10800 || len(c.IntlPrefixes) != 0 || c.APIToken != "" ||
		c.RatingRequiresToken || c.Demo || c.AdminPassword != "" {
		t.Errorf("defaults: %+v", c)
	}
	// io.Discard is no terminal, so the log is JSON for a collector.
	if c.LogFormat != "json" {
		t.Errorf("log format %q off a terminal, want json", c.LogFormat)
	}
}

func TestConfigEnvFallback(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{
		"PBXBILL_LISTEN":                "0.0.0.0:9090",
		"PBXBILL_TZ":                    "Europe/London",
		"PBXBILL_CURRENCY":              "GBP",
		"PBXBILL_MAX_CALL_DURATION":     "600",
		"PBXBILL_INTL_PREFIXES":         "00, 011",
		"PBXBILL_API_TOKEN":             "s3cret",
		"PBXBILL_RATING_REQUIRES_TOKEN": "true",
		"PBXBILL_DEMO":                  "1",
		"PBXBILL_LOG_FORMAT":            "console",
		"PBXBILL_LOG_LEVEL":             "WARN",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9090" || c.TZ != "Europe/London" || c.Currency != "GBP" || c.MaxCallDuration != 600 ||
		strings.Join(c.IntlPrefixes, ",") != "00,011" || c.APIToken != "s3cret" || !c.RatingRequiresToken ||
		!c.Demo || c.LogFormat != "console" || c.LogLevel.String() != "warn" {
		t.Errorf("from the environment: %+v", c)
	}
}

func TestConfigFlagWinsOverEnv(t *testing.T) {
	c, err := parseConfig([]string{"-max-call-duration", "300", "-demo=false", "-db", "/tmp/x.db"},
		env(map[string]string{"PBXBILL_MAX_CALL_DURATION": "600", "PBXBILL_DEMO": "true", "PBXBILL_CURRENCY": "USD"}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxCallDuration != 300 || c.Demo || c.DB != "/tmp/x.db" {
		t.Errorf("flags lost to the environment: %+v", c)
	}
	if c.Currency != "USD" {
		t.Errorf("currency %q: a flag not given still falls back to PBXBILL_CURRENCY", c.Currency)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the error names where the bad value came from
	}{
		{"env not a number", nil, map[string]string{"PBXBILL_MAX_CALL_DURATION": "abc"}, "PBXBILL_MAX_CALL_DURATION"},
		{"env not a bool", nil, map[string]string{"PBXBILL_DEMO": "maybe"}, "PBXBILL_DEMO"},
		{"env bad zone", nil, map[string]string{"PBXBILL_TZ": "Mars/Olympus"}, "PBXBILL_TZ"},
		{"flag bad zone", []string{"-tz", "Mars/Olympus"}, nil, "-tz"},
		{"Local zone", []string{"-tz", "Local"}, nil, "-tz"},
		{"lower-case currency", []string{"-currency", "eur"}, nil, "-currency"},
		{"long currency", nil, map[string]string{"PBXBILL_CURRENCY": "EURO"}, "PBXBILL_CURRENCY"},
		{"zero duration", []string{"-max-call-duration", "0"}, nil, "-max-call-duration"},
		{"negative duration", nil, map[string]string{"PBXBILL_MAX_CALL_DURATION": "-5"}, "PBXBILL_MAX_CALL_DURATION"},
		{"bad intl prefix", []string{"-intl-prefixes", "00,+1"}, nil, "-intl-prefixes"},
		{"bad log format", []string{"-log-format", "xml"}, nil, "-log-format"},
		{"bad log level", nil, map[string]string{"PBXBILL_LOG_LEVEL": "loud"}, "PBXBILL_LOG_LEVEL"},
		{"empty listen", []string{"-listen", ""}, nil, "-listen"},
		{"stray argument", []string{"serve"}, nil, "serve"},
		{"unknown flag", []string{"-port", "80"}, nil, "-port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			_, err := parseConfig(tc.args, env(tc.env), &out)
			if err == nil {
				t.Fatalf("no error for args %q, env %v", tc.args, tc.env)
			}
			if msg := err.Error() + out.String(); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name %q", msg, tc.want)
			}
		})
	}
}

func TestRunRefusesBadEnv(t *testing.T) {
	// run fails before it opens anything: no database file appears.
	db := filepath.Join(t.TempDir(), "never.db")
	err := run(context.Background(), []string{"-db", db}, env(map[string]string{"PBXBILL_TZ": "Nowhere/Land"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PBXBILL_TZ") {
		t.Fatalf("run with a bad PBXBILL_TZ: %v", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused start touched %s: %v", db, err)
	}
}

func TestRunRefusesAnotherTZ(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tz.db")
	st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs strings.Builder
	err = run(ctx, []string{"-db", db, "-listen", "127.0.0.1:0", "-tz", "Europe/Berlin"}, env(nil), &logs)
	if err == nil {
		t.Fatal("a start with another -tz than the database's was not refused")
	}
	if !strings.Contains(err.Error(), "Europe/Berlin") && !strings.Contains(err.Error(), "UTC") {
		t.Errorf("refusal %q names neither time zone", err)
	}
	if strings.Contains(logs.String(), "listening") {
		t.Errorf("the refused start listened: %s", logs.String())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	db := filepath.Join(t.TempDir(), "run.db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"-db", db, "-listen", "127.0.0.1:0", "-demo"}, env(nil), logs) }()
	waitFor(t, logs, `"message":"listening"`)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return within a minute of its context ending")
	}
	// The store was closed: a second open of the same file succeeds at
	// once instead of failing on bbolt's file lock.
	st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if empty, err := st.Empty(); err != nil || empty {
		t.Errorf("after -demo: empty %v, err %v", empty, err)
	}
}

// waitFor polls the log until it holds s, for at most a minute.
func waitFor(t *testing.T, logs *syncBuffer, s string) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if strings.Contains(logs.String(), s) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("log never showed %s:\n%s", s, logs.String())
}

func TestErrorsAreRatingErrors(t *testing.T) {
	_, err := parseConfig([]string{"-currency", "eur"}, env(nil), io.Discard)
	var re *rating.Error
	if !errors.As(err, &re) || re.Code != rating.EInvalid {
		t.Errorf("config error %v is not a rating.Error with code invalid", err)
	}
}

// syncBuffer is a log sink that a test may read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

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
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "e2e.db")
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

// TestDemoData checks the demo against the rules, without a store: every
// table and row is valid, every carrier buys below what the tenants pay,
// and the README's deck for Carrier B does too.
func TestDemoData(t *testing.T) {
	change := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sell := map[rating.Kind]*rating.Index{}
	buy := map[string]*rating.Index{}
	for _, dt := range demoTables("EUR", change) {
		if err := dt.table.Validate(); err != nil {
			t.Fatalf("table %s: %v", dt.table.Name, err)
		}
		rows, err := demoRows(dt.rows)
		if err != nil {
			t.Fatalf("table %s: %v", dt.table.Name, err)
		}
		seen := map[string]bool{}
		for i := range rows {
			r := &rows[i]
			if err := r.Validate(dt.table.Decimals); err != nil {
				t.Errorf("table %s prefix %s: %v", dt.table.Name, r.Prefix, err)
			}
			if key := r.Prefix + r.EffectiveFrom.String(); seen[key] {
				t.Errorf("table %s: prefix %s twice from %v", dt.table.Name, r.Prefix, r.EffectiveFrom)
			} else {
				seen[key] = true
			}
			if r.Destination == "" {
				t.Errorf("table %s prefix %s: no destination", dt.table.Name, r.Prefix)
			}
		}
		x := rating.NewIndex(dt.table, rows)
		switch dt.table.Name {
		case demoOutbound, demoInbound, demoConference:
			sell[dt.table.Kind] = x
		default:
			buy[dt.table.Name] = x
		}
	}
	deck, err := os.Open("examples/carrier-b-deck.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer deck.Close()
	deckTable := rating.NewTable("deck", rating.Outbound, "EUR")
	deckRows, err := rating.ParseRates(deck, deckTable, time.UTC)
	if err != nil {
		t.Fatalf("examples/carrier-b-deck.csv: %v", err)
	}
	buy["examples/carrier-b-deck.csv"] = rating.NewIndex(deckTable, deckRows)

	for name, x := range buy {
		k := x.Table().Kind
		for _, at := range []time.Time{change.Add(-time.Second), change} {
			for _, n := range demoNumbers(k) {
				b, ok := x.Lookup(n, at)
				if !ok {
					continue
				}
				s, ok := sell[k].Lookup(n, at)
				if !ok || (s.Rate > 0 && b.Rate >= s.Rate) || b.Rate > s.Rate {
					t.Errorf("%s buys %s at %s, tenants pay %s (%s)", name, n, b.Rate, s.Rate, s.Prefix)
				}
			}
		}
	}

	// The hand-made figures of the end-to-end test, from the rows alone.
	now := time.Now()
	if r, _ := sell[rating.Outbound].Lookup("447700900123", now); r.Price(95).Cost.String() != "0.082" {
		t.Errorf("95 s to 447700900123: %+v", r.Price(95))
	}
	if r, _ := sell[rating.Outbound].Lookup("41791234567", now); r.Price(7440).Cost.String() != "24.85" {
		t.Errorf("7440 s to 41791234567: %+v", r.Price(7440))
	}
}

// demoNumbers makes a number for every prefix of every demo table of kind
// k, padded as a real number would be.
func demoNumbers(k rating.Kind) []string {
	var out []string
	for _, dt := range demoTables("EUR", time.Time{}) {
		if dt.table.Kind != k {
			continue
		}
		for _, r := range dt.rows {
			if r.prefix != rating.Wildcard {
				out = append(out, (r.prefix + "123456789012")[:12])
			}
		}
	}
	return out
}

// TestSeedDemo seeds a real store and reads the records back through it.
func TestSeedDemo(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{TZ: "Europe/London", Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := seedDemo(st, time.Now()); err != nil {
		t.Fatal(err)
	}
	if empty, err := st.Empty(); err != nil || empty {
		t.Fatalf("after seeding: empty %v, %v", empty, err)
	}
	for name, want := range map[string]string{demoPrepaid: "25", demoPostpaid: "0"} {
		tn, err := st.Tenant(name)
		if err != nil || tn.Balance.String() != want || tn.State() != rating.StateOK {
			t.Errorf("tenant %s: %+v, %v; want balance %s, state ok", name, tn, err, want)
		}
	}
	for name, want := range map[string]string{demoCarrierA: "500", demoCarrierB: "250"} {
		p, err := st.Provider(name)
		if err != nil || p.Balance.String() != want {
			t.Errorf("provider %s: %+v, %v; want balance %s", name, p, err, want)
		}
	}
	tables, err := st.RateTables(0)
	if err != nil || len(tables) != len(demoTables("GBP", time.Time{})) {
		t.Fatalf("rate tables: %d, %v", len(tables), err)
	}
	for _, tb := range tables {
		if tb.Currency != "GBP" || tb.Rows == 0 {
			t.Errorf("table %s: currency %s, %d rows", tb.Name, tb.Currency, tb.Rows)
		}
	}
	// France Mobile gets cheaper on the first of next month, London time.
	x := st.Book().Get(demoOutbound)
	if x == nil {
		t.Fatal("no live index for " + demoOutbound)
	}
	now := time.Now().In(st.Location())
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, st.Location())
	before, _ := x.Lookup("33612345678", next.Add(-time.Second))
	after, _ := x.Lookup("33612345678", next)
	if before.Rate.String() != "0.045" || after.Rate.String() != "0.039" {
		t.Errorf("France Mobile: %s before %v and %s after, want 0.045 then 0.039", before.Rate, next, after.Rate)
	}
}
