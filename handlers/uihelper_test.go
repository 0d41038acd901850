package handlers

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// uiPassword is the admin password of every UI test server.
const uiPassword = "Docs Demo password"

// clock is a test clock for the store, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustServeUI is mustServe with the store's clock in the test's hand and
// the admin password set.
func mustServeUI(tb testing.TB, c *clock, opts ...func(*server)) *testServer {
	tb.Helper()
	opt := store.Options{TZ: "UTC", Currency: "EUR"}
	if c != nil {
		opt.Now = c.Now
	}
	ts := mustServeWith(tb, opt, opts...)
	if err := ts.Store.SetAdminPassword(store.AdminUser, uiPassword); err != nil {
		tb.Fatal(err)
	}
	return ts
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303 of POST-redirect-GET.
type browser struct {
	tb testing.TB
	ts *testServer
	c  *http.Client
}

func newBrowser(ts *testServer) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		ts.tb.Fatal(err)
	}
	return &browser{tb: ts.tb, ts: ts, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer, its body read.
type page struct {
	tb       testing.TB
	status   int
	location string
	header   http.Header
	body     string
}

func (b *browser) do(req *http.Request) page {
	b.tb.Helper()
	if req.Header.Get("Accept") == "" { // as every browser sends
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	if res.StatusCode == http.StatusInternalServerError {
		b.tb.Logf("server log:\n%s", b.ts.log.String())
	}
	return page{tb: b.tb, status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as a same-origin browser would, header lines in hdr.
func (b *browser) post(path string, form url.Values, hdr ...string) page {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// login logs in as admin and fails the test unless it works.
func (b *browser) login() {
	b.tb.Helper()
	p := b.post("/login", url.Values{"name": {store.AdminUser}, "password": {uiPassword}, "next": {"/tenants"}})
	p.want(http.StatusSeeOther)
	if p.location != "/tenants" {
		b.tb.Fatalf("login redirects to %q, want /tenants", p.location)
	}
}

// follow GETs the page a 303 points to.
func (b *browser) follow(p page) page {
	b.tb.Helper()
	p.want(http.StatusSeeOther)
	return b.get(p.location)
}

func (p page) want(status int) page {
	p.tb.Helper()
	if p.status != status {
		p.tb.Fatalf("status %d, want %d; location %q; body:\n%s", p.status, status, p.location, p.body)
	}
	return p
}

// has fails unless the body contains every part.
func (p page) has(parts ...string) page {
	p.tb.Helper()
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			p.tb.Errorf("page does not contain %q; body:\n%s", s, p.body)
		}
	}
	return p
}

// hasNot fails if the body contains any of parts.
func (p page) hasNot(parts ...string) page {
	p.tb.Helper()
	for _, s := range parts {
		if strings.Contains(p.body, s) {
			p.tb.Errorf("page contains %q", s)
		}
	}
	return p
}

// seedUI creates Docs Demo records of every kind: tables with rows, a
// tenant, a provider, and CDRs through the store.
func seedUI(tb testing.TB, ts *testServer) {
	tb.Helper()
	out := rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR")
	out.InitialIncrement, out.Increment = 30, 6
	uk := row(tb, "44", "0.05")
	uk.Destination = "United Kingdom"
	ts.mustTable(out, uk, row(tb, "4477", "0.12"), row(tb, "*", "0.50"))
	ts.mustTable(rating.NewTable("Docs Demo DID", rating.Inbound, "EUR"), row(tb, "44", "0.01"))
	ts.mustTable(rating.NewTable("Docs Demo Rooms", rating.Conference, "EUR"), row(tb, "8", "0.02"))
	buy := rating.NewTable("Docs Demo Buy", rating.Outbound, "EUR")
	ts.mustTable(buy, row(tb, "44", "0.02"))
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Acme", OutboundTable: "Docs Demo Retail",
		InboundTable: "Docs Demo DID", ConferenceTable: "Docs Demo Rooms"}, "25.00")
	if _, err := ts.Store.CreateProvider(rating.Provider{Name: "Docs Demo Carrier", Trunk: "carrier-a",
		Status: rating.Active, OutboundTable: "Docs Demo Buy"}); err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	if _, err := ts.Store.PostCDRs("", []rating.CDR{
		{ID: "docs-demo-1", Tenant: "Docs Demo Acme", Kind: rating.Outbound, Number: "442079460000", Provider: "carrier-a", Start: now.Add(-time.Hour), Duration: 45},
		{ID: "docs-demo-2", Tenant: "Docs Demo Acme", Kind: rating.Outbound, Number: "447700900000", Provider: "carrier-a", Start: now.Add(-2 * time.Hour), Duration: 0},
		{ID: "docs-demo-3", Tenant: "Docs Demo Nobody", Kind: rating.Outbound, Number: "1555", Start: now.Add(-3 * time.Hour), Duration: 30},
	}); err != nil {
		tb.Fatal(err)
	}
}
