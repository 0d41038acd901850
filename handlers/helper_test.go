package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// testToken is the bootstrap token of every test server.
const testToken = "test-bootstrap-token"

// testServer is a real server on 127.0.0.1:0 over a real store in a
// temporary file.
type testServer struct {
	tb    testing.TB
	URL   string
	Store *store.Store
	log   *syncBuffer
}

// mustServe opens a store in tb.TempDir() and serves the handlers on
// loopback. opts adjust the server before it starts.
func mustServe(tb testing.TB, opts ...func(*server)) *testServer {
	tb.Helper()
	return mustServeWith(tb, store.Options{TZ: "UTC", Currency: "EUR"}, opts...)
}

// mustServeWith is mustServe on a store opened with so, for a test that
// sets the store's clock or numbering.
func mustServeWith(tb testing.TB, so store.Options, opts ...func(*server)) *testServer {
	tb.Helper()
	st := mustOpen(tb, so)
	mustCheck(tb, st)
	log := &syncBuffer{}
	s := newServer(Config{Store: st, APIToken: testToken, MaxCallDuration: 10800, Log: zerolog.New(log),
		Audited: func(e rating.AuditEntry) Store { return st.Audited(e) }})
	for _, o := range opts {
		o(s)
	}
	hs := httptest.NewServer(s.handler())
	tb.Cleanup(hs.Close)
	return &testServer{tb: tb, URL: hs.URL, Store: st, log: log}
}

// mustOpen opens a store with so in tb.TempDir(), closed when tb ends.
func mustOpen(tb testing.TB, so store.Options) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "pbxbill.db"), so)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

// mustCheck runs the store's consistency check when tb ends, before the
// store closes (cleanups run last registered first): every balance is its
// ledger's sum and every roll-up its CDRs' sum (DOMAIN.md), whatever the
// test did.
func mustCheck(tb testing.TB, st *store.Store) {
	tb.Cleanup(func() {
		if err := st.Check(); err != nil {
			tb.Errorf("books: %v", err)
		}
	})
}

// syncBuffer is a log sink that the server's goroutines and the test may
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// req describes one request; token "" sends none.
type req struct {
	method, path, token, body, ctype string
	header                           map[string]string
}

type response struct {
	tb     testing.TB
	status int
	header http.Header
	body   []byte
}

func (ts *testServer) do(r req) response {
	ts.tb.Helper()
	hr, err := http.NewRequest(r.method, ts.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		ts.tb.Fatal(err)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := noRedirects.Do(hr)
	if err != nil {
		ts.tb.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.tb.Fatalf("%s %s: read: %v", r.method, r.path, err)
	}
	return response{tb: ts.tb, status: res.StatusCode, header: res.Header, body: b}
}

// noRedirects answers a redirect itself, so that tests see the 303s.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// admin sends a JSON request with the bootstrap token.
func (ts *testServer) admin(method, path, body string) response {
	ts.tb.Helper()
	return ts.do(req{method: method, path: path, token: testToken, body: body, ctype: "application/json"})
}

// local sends a tokenless GET, as a dialplan on the PBX box does.
func (ts *testServer) local(path string) response {
	ts.tb.Helper()
	return ts.do(req{method: http.MethodGet, path: path})
}

// want fails unless the status is status.
func (r response) want(status int) response {
	r.tb.Helper()
	if r.status != status {
		r.tb.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantError fails unless r is an error answer with status, code and a
// message containing each of parts.
func (r response) wantError(status int, code string, parts ...string) errorDetail {
	r.tb.Helper()
	r.want(status)
	var body errorBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		r.tb.Fatalf("error body %s: %v", r.body, err)
	}
	if body.Error.Code != code {
		r.tb.Fatalf("code %q, want %q; body: %s", body.Error.Code, code, r.body)
	}
	for _, p := range parts {
		if !strings.Contains(body.Error.Message, p) {
			r.tb.Fatalf("message %q does not contain %q", body.Error.Message, p)
		}
	}
	return body.Error
}

// decode unmarshals the body into v.
func (r response) decode(v any) {
	r.tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.tb.Fatalf("body %s: %v", r.body, err)
	}
}

// obj returns the body as a JSON object.
func (r response) obj() map[string]any {
	r.tb.Helper()
	var m map[string]any
	r.decode(&m)
	return m
}

// items returns the items of a list answer, checking its shape.
func (r response) items() []map[string]any {
	r.tb.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
		Next  *string          `json:"next"`
	}
	r.decode(&l)
	if l.Items == nil || l.Next == nil {
		r.tb.Fatalf("not a list answer: %s", r.body)
	}
	return l.Items
}

// amt parses a test price.
func amt(tb testing.TB, s string) rating.Amount {
	tb.Helper()
	a, err := rating.ParseAmount(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustMoney parses a test amount of money.
func mustMoney(tb testing.TB, s string) rating.Money {
	tb.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// mustTable creates a rate table through the store and loads rows into it.
func (ts *testServer) mustTable(t rating.Table, rows ...rating.Row) {
	ts.tb.Helper()
	if t.Currency == "" {
		t.Currency = "EUR"
	}
	if _, err := ts.Store.CreateRateTable(t); err != nil {
		ts.tb.Fatalf("create table %s: %v", t.Name, err)
	}
	if len(rows) > 0 {
		if err := ts.Store.ReplaceRates(t.Name, rows); err != nil {
			ts.tb.Fatalf("rates of %s: %v", t.Name, err)
		}
	}
}

// mustTenant creates a tenant through the store and tops it up.
func (ts *testServer) mustTenant(t rating.Tenant, topup string) {
	ts.tb.Helper()
	if t.BillingMode == "" {
		t.BillingMode = rating.Prepaid
	}
	if t.Status == "" {
		t.Status = rating.Active
	}
	if _, err := ts.Store.CreateTenant(t); err != nil {
		ts.tb.Fatalf("create tenant %s: %v", t.Name, err)
	}
	if topup != "" {
		if _, err := ts.Store.Credit(rating.TenantAccount, t.Name, mustMoney(ts.tb, topup), rating.Topup, ""); err != nil {
			ts.tb.Fatalf("topup %s: %v", t.Name, err)
		}
	}
}

// row builds a rate row with every optional field unset.
func row(tb testing.TB, prefix, rate string) rating.Row {
	return rating.NewRow(prefix, amt(tb, rate))
}
