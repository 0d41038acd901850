package handlers

import (
	"encoding/base64"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// ratedServer serves one tenant "acme" with an outbound table that rates
// 44 at 0.06 per minute, and a topup of 10.
func ratedServer(t *testing.T, opts ...func(*server)) *testServer {
	ts := mustServe(t, opts...)
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"), row(t, "44", "0.06"))
	ts.mustTenant(rating.Tenant{Name: "acme", OutboundTable: "retail"}, "10")
	return ts
}

func TestAuthAdminEndpoints(t *testing.T) {
	ts := ratedServer(t)
	_, nodeToken, err := ts.Store.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	const path = "/api/v1/tenants"
	ts.do(req{method: "GET", path: path}).wantError(401, rating.EUnauthorized, "missing bearer token")
	ts.do(req{method: "GET", path: path, token: "wrong"}).wantError(401, rating.EUnauthorized, "invalid bearer token")
	ts.do(req{method: "GET", path: path, header: map[string]string{"Authorization": "Basic YWRtaW46eA=="}}).
		wantError(401, rating.EUnauthorized, "Bearer")
	ts.do(req{method: "GET", path: path, token: testToken + "x"}).wantError(401, rating.EUnauthorized)
	ts.do(req{method: "GET", path: path, token: testToken}).want(200)

	// A node token may rate but not manage: our narrowing of API.md.
	for _, r := range []req{
		{method: "GET", path: path},
		{method: "POST", path: path, body: `{"name":"evil"}`},
		{method: "POST", path: "/api/v1/tenants/acme/credits", body: `{"amount":"1000"}`},
		{method: "GET", path: "/api/v1/rate-tables"},
		{method: "POST", path: "/api/v1/nodes", body: `{"name":"pbx2"}`},
		{method: "GET", path: "/api/v1/providers"},
	} {
		r.token = nodeToken
		ts.do(r).wantError(403, rating.EForbidden, "pbx1")
	}
	// Nothing the node tried went through.
	if tn, err := ts.Store.Tenant("acme"); err != nil || tn.Balance != mustMoney(t, "10") {
		t.Errorf("acme after forbidden credit: %+v, %v", tn, err)
	}
	ts.admin("GET", "/api/v1/tenants/evil", "").wantError(404, rating.ENotFound)

	ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", token: nodeToken}).want(200)
	if !strings.Contains(ts.log.String(), `"node":"pbx1"`) {
		t.Errorf("request log lacks the node: %s", ts.log.String())
	}

	// A revoked node's token stops working at once.
	ts.admin("DELETE", "/api/v1/nodes/pbx1", "").want(204)
	ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", token: nodeToken}).
		wantError(401, rating.EUnauthorized)
}

func TestAuthRatingWithoutToken(t *testing.T) {
	ts := ratedServer(t)
	paths := []string{
		"/api/v1/rate?tenant=acme&number=4420",
		"/api/v1/price?tenant=acme&number=4420&duration=60",
		"/api/v1/authorize?tenant=acme&number=4420",
		"/api/v1/lcr?number=4420",
	}
	for _, p := range paths {
		ts.local(p).want(200)
		// A proxy on this box makes every caller look local; the headers
		// give it away.
		ts.do(req{method: "GET", path: p, header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}).
			wantError(401, rating.EUnauthorized, "proxy")
		ts.do(req{method: "GET", path: p, header: map[string]string{"Forwarded": "for=203.0.113.9"}}).
			wantError(401, rating.EUnauthorized, "proxy")
		// A token, when sent, is checked even from loopback.
		ts.do(req{method: "GET", path: p, token: "wrong"}).wantError(401, rating.EUnauthorized)
		ts.do(req{method: "GET", path: p, token: testToken}).want(200)
	}
	// The admin endpoints never go without a token.
	ts.local("/api/v1/tenants").wantError(401, rating.EUnauthorized)

	// The text form of authorize answers "0" even to an unauthorized call.
	r := ts.do(req{method: "GET", path: "/api/v1/authorize?tenant=acme&number=4420&format=text",
		header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}).want(200)
	if string(r.body) != "0\n" {
		t.Errorf("text authorize through a proxy: %q, want 0", r.body)
	}

	strict := ratedServer(t, func(s *server) { s.RatingRequiresToken = true })
	for _, p := range paths {
		strict.local(p).wantError(401, rating.EUnauthorized)
		strict.do(req{method: "GET", path: p, token: testToken}).want(200)
	}
}

func TestLocalPeer(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		header string
		want   bool
	}{
		{"127.0.0.1:5000", "", true},
		{"127.8.9.10:5000", "", true},
		{"[::1]:5000", "", true},
		{"[::ffff:127.0.0.1]:5000", "", true},
		{"192.0.2.1:5000", "", false},
		{"[2001:db8::1]:5000", "", false},
		{"@", "", false},
		{"", "", false},
		{"127.0.0.1:5000", "X-Forwarded-For", false},
		{"127.0.0.1:5000", "Forwarded", false},
	} {
		r := httptest.NewRequest("GET", "/api/v1/rate", nil)
		r.RemoteAddr = tc.addr
		if tc.header != "" {
			r.Header.Set(tc.header, "198.51.100.1")
		}
		if got := localPeer(r); got != tc.want {
			t.Errorf("localPeer(%q, %q) = %v, want %v", tc.addr, tc.header, got, tc.want)
		}
	}
}

// TestCallerOf: the endpoints that key records by node (the CDR intake)
// read the caller from the request.
func TestCallerOf(t *testing.T) {
	s := newServer(Config{})
	r := httptest.NewRequest("GET", "/api/v1/rate", nil)
	if c := callerOf(r); c != (caller{}) {
		t.Errorf("caller of an unauthenticated request: %+v", c)
	}
	rec := &recorder{ResponseWriter: httptest.NewRecorder()}
	r2 := s.identify(rec, r, caller{Node: "pbx1"})
	if c := callerOf(r2); c.Node != "pbx1" || c.Bootstrap {
		t.Errorf("caller %+v, want node pbx1", c)
	}
	if rec.node != "pbx1" {
		t.Errorf("request log node %q, want pbx1", rec.node)
	}
}

// TestTokenGuessesThrottled guesses bearer tokens from one remote address:
// after tokenFailures wrong ones in a window, that address is answered 429
// with Retry-After, even with a good token, until the window has passed;
// other addresses and a PBX node on loopback are unaffected throughout.
func TestTokenGuessesThrottled(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(t.TempDir(), "pbxbill.db"), store.Options{TZ: "UTC", Currency: "EUR", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	_, node, err := st.CreateNode("Docs Demo PBX")
	if err != nil {
		t.Fatal(err)
	}
	h := newServer(Config{Store: st, APIToken: testToken, MaxCallDuration: 10800, Log: zerolog.Nop()}).handler()
	call := func(addr, token, path string, hdr ...string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const rate, admin = "/api/v1/authorize?tenant=nobody&number=44", "/api/v1/tenants"
	const remote, other, local = "192.0.2.7:40000", "192.0.2.8:40000", "127.0.0.1:40000"
	for i := range tokenFailures {
		if w := call(remote, "guess-"+itoa(i), rate); w.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, w.Code)
		}
	}
	for _, tc := range []struct{ addr, token, path string }{
		{remote, "guess-x", rate}, {remote, node, rate}, {"192.0.2.7:40001", testToken, admin},
	} {
		w := call(tc.addr, tc.token, tc.path)
		if w.Code != 429 || w.Header().Get("Retry-After") != "60" || !strings.Contains(w.Body.String(), "too many") {
			t.Errorf("%s after %d wrong tokens: %d, Retry-After %q, %s; want 429 after 60 s",
				tc.addr, tokenFailures, w.Code, w.Header().Get("Retry-After"), w.Body.String())
		}
	}
	if w := call(other, node, rate); w.Code != 200 {
		t.Errorf("another address with a good token: %d, want 200", w.Code)
	}
	for i := range 3 * tokenFailures {
		call(local, "local-guess-"+itoa(i), rate)
	}
	if w := call(local, node, rate); w.Code != 200 {
		t.Errorf("a node on loopback with a good token: %d, want 200", w.Code)
	}
	// Through a proxy on this box, loopback is no longer the PBX itself.
	for i := range tokenFailures + 1 {
		call(local, "proxied-guess-"+itoa(i), rate, "X-Forwarded-For", "198.51.100.1")
	}
	if w := call(local, node, rate, "X-Forwarded-For", "198.51.100.1"); w.Code != 429 {
		t.Errorf("guesses through a proxy: %d, want 429", w.Code)
	}
	if w := call(local, node, rate); w.Code != 200 {
		t.Errorf("a node on loopback, beside a throttled proxy: %d, want 200", w.Code)
	}

	c.Add(30 * time.Second)
	if w := call(remote, node, rate); w.Code != 429 || w.Header().Get("Retry-After") != "30" {
		t.Errorf("30 s later: %d, Retry-After %q; want 429 after 30 s", w.Code, w.Header().Get("Retry-After"))
	}
	c.Add(30 * time.Second)
	if w := call(remote, node, rate); w.Code != 200 {
		t.Errorf("a good token once the window has passed: %d, want 200", w.Code)
	}
	if w := call(remote, "guess-y", rate); w.Code != 401 {
		t.Errorf("a wrong token in a new window: %d, want 401", w.Code)
	}
}

// TestAuthBasicNodeToken: HTTP Basic carries a node's name and token
// (API.md), for PBX modules that send nothing else. The holds an
// authorization opens so are the node's, as its CDRs are; a wrong pair,
// the bootstrap token and a revoked node are refused.
func TestAuthBasicNodeToken(t *testing.T) {
	ts := ratedServer(t)
	_, token, err := ts.Store.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", header: basic("pbx1", token)}).want(200)
	ts.do(req{method: "GET", path: "/api/v1/authorize?tenant=acme&number=4420&call=c1", header: basic("pbx1", token)}).want(200)
	holds, err := ts.Store.Holds("acme")
	if err != nil || len(holds) != 1 || holds[0].Node != "pbx1" {
		t.Fatalf("holds %+v, %v: want one of node pbx1", holds, err)
	}
	ts.do(req{method: "DELETE", path: "/api/v1/holds/c1", header: basic("pbx1", token)}).want(204)
	ts.do(req{method: "GET", path: "/api/v1/tenants", header: basic("pbx1", token)}).wantError(403, rating.EForbidden, "pbx1")
	for _, h := range []map[string]string{
		basic("pbx2", token),
		basic("pbx1", token+"x"),
		basic("", testToken),
		basic("admin", testToken),
		{"Authorization": "Basic !!!"},
		{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("no colon"))},
	} {
		ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", header: h}).wantError(401, rating.EUnauthorized, "Basic")
	}
	ts.admin("DELETE", "/api/v1/nodes/pbx1", "").want(204)
	ts.do(req{method: "GET", path: "/api/v1/rate?tenant=acme&number=4420", header: basic("pbx1", token)}).wantError(401, rating.EUnauthorized)
}
