package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

func TestUIPagesNeedALogin(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	p := b.get("/rates/outbound?x=1").want(http.StatusSeeOther)
	if p.location != "/login?next="+url.QueryEscape("/rates/outbound?x=1") {
		t.Errorf("redirect to %q", p.location)
	}
	b.post("/tenants", url.Values{"name": {"Docs Demo Sneaky"}}).want(http.StatusSeeOther)
	if _, err := ts.Store.Tenant("Docs Demo Sneaky"); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("a POST without a session created a tenant: %v", err)
	}
	b.get("/login").want(http.StatusOK).has(`name="password"`).hasNot("Log out")

	// A login comes back to where it was asked, and only to this site.
	p = b.post("/login", url.Values{"name": {"admin"}, "password": {uiPassword}, "next": {"//evil.example/x"}})
	if p.want(http.StatusSeeOther).location != "/tenants" {
		t.Errorf("next=//evil.example led to %q", p.location)
	}
	c := ts.cookie(b, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Expires.IsZero() && c.MaxAge == 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax and an expiry", c)
	}
	b.get("/rates/outbound").want(http.StatusOK).has("Log out")

	// Logging out ends the session in the store, not just the cookie.
	token := c.Value
	b.follow(b.post("/logout", nil)).want(http.StatusOK).has("You are logged out.")
	if _, err := ts.Store.Session(token); rating.ErrorCode(err) != rating.EUnauthorized {
		t.Errorf("session still alive after logout: %v", err)
	}
	b.get("/tenants").want(http.StatusSeeOther)
}

// cookie returns the browser's cookie of that name for the server.
func (ts *testServer) cookie(b *browser, name string) *http.Cookie {
	u, _ := url.Parse(ts.URL)
	// The jar does not keep attributes, so read them from a fresh login.
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			res, err := b.c.Do(mustRequest(b.tb, http.MethodPost, ts.URL+"/login",
				url.Values{"name": {"admin"}, "password": {uiPassword}}))
			if err != nil {
				b.tb.Fatal(err)
			}
			res.Body.Close()
			for _, rc := range res.Cookies() {
				if rc.Name == name {
					return rc
				}
			}
		}
	}
	return nil
}

func mustRequest(tb testing.TB, method, u string, form url.Values) *http.Request {
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestUILoginThrottled(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	for i := 0; i < loginFailures; i++ {
		b.post("/login", url.Values{"name": {"admin"}, "password": {"guess " + itoa(i)}}).
			want(http.StatusUnauthorized).has("Wrong user name or password.")
	}
	// Even the right password is refused now, without checking it.
	b.post("/login", url.Values{"name": {"admin"}, "password": {uiPassword}}).
		want(http.StatusTooManyRequests).has("Too many failed logins")
	if !strings.Contains(ts.log.String(), "failed admin login") {
		t.Error("failed logins are not logged")
	}
}

func TestThrottleWindow(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, loginFailures, loginWindow)
	for i := 0; i < loginFailures-1; i++ {
		th.fail("192.0.2.1")
	}
	if w := th.wait("192.0.2.1"); w != 0 {
		t.Fatalf("throttled after %d failures", loginFailures-1)
	}
	th.fail("192.0.2.1")
	if w := th.wait("192.0.2.1"); w != loginWindow {
		t.Fatalf("wait %s after %d failures, want %s", w, loginFailures, loginWindow)
	}
	if w := th.wait("192.0.2.2"); w != 0 {
		t.Fatal("another address is throttled too")
	}
	now = now.Add(loginWindow - time.Second)
	if w := th.wait("192.0.2.1"); w != time.Second {
		t.Fatalf("wait %s near the end of the window", w)
	}
	now = now.Add(time.Second)
	if w := th.wait("192.0.2.1"); w != 0 {
		t.Fatalf("still throttled after the window: %s", w)
	}
	th.fail("192.0.2.1")
	th.reset("192.0.2.1")
	if len(th.m) != 0 {
		t.Fatal("reset keeps the entry")
	}
}

func TestUISessionExpires(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	b := newBrowser(ts)
	b.login()
	c.Add(sessionTTL - time.Minute)
	b.get("/tenants").want(http.StatusOK)
	c.Add(time.Minute)
	p := b.get("/tenants").want(http.StatusSeeOther)
	if !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("an expired session goes to %q", p.location)
	}
	b.get("/api/v1/tenants").want(http.StatusUnauthorized)
}

// An admin session authenticates the API calls of the admin's browser.
func TestUISessionCallsAPI(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	b.get("/api/v1/tenants").want(http.StatusUnauthorized)
	b.login()
	b.get("/api/v1/tenants").want(http.StatusOK).has(`"items"`)
}

func TestUICrossSitePostRefused(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	b.login()
	form := url.Values{"name": {"Docs Demo Forged"}, "billing_mode": {"prepaid"}, "status": {"active"}}
	b.post("/tenants", form, "Sec-Fetch-Site", "cross-site").want(http.StatusForbidden).has("cross-site request refused")
	b.post("/tenants", form, "Sec-Fetch-Site", "", "Origin", "http://evil.example").want(http.StatusForbidden)
	// The API refuses a cross-site call that rides on the session too.
	b.post("/api/v1/tenants", url.Values{}, "Sec-Fetch-Site", "cross-site").want(http.StatusForbidden)
	if _, err := ts.Store.Tenant("Docs Demo Forged"); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("a cross-site post created the tenant: %v", err)
	}
	b.post("/tenants", form).want(http.StatusSeeOther)
	if _, err := ts.Store.Tenant("Docs Demo Forged"); err != nil {
		t.Fatalf("a same-origin post did not create the tenant: %v", err)
	}
}

func TestUIHostCheck(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	port := ts.URL[strings.LastIndex(ts.URL, ":"):]
	for _, c := range []struct {
		host string
		want int
	}{
		{"evil.example" + port, http.StatusForbidden},
		{"127.0.0.1.evil.example", http.StatusForbidden},
		{"localhost" + port, http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"127.0.0.1" + port, http.StatusOK},
		{"[::1]" + port, http.StatusOK},
	} {
		for _, path := range []string{"/login", "/api/v1/rate?tenant=x&number=1", "/healthz"} {
			req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = c.host
			p := b.do(req)
			if c.want == http.StatusForbidden && p.status != c.want {
				t.Errorf("Host %s %s: %d, want %d", c.host, path, p.status, c.want)
			}
			if c.want == http.StatusOK && p.status == http.StatusForbidden {
				t.Errorf("Host %s %s: refused: %s", c.host, path, p.body)
			}
		}
	}
	// A PBX node calling the API by a name with its token passes; the
	// same call without one does not.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/tenants", nil)
	req.Host = "billing.example.net"
	req.Header.Set("Authorization", "Bearer "+testToken)
	b.do(req).want(http.StatusOK)
	req.Header.Del("Authorization")
	b.do(req).want(http.StatusForbidden)
	// A configured name passes.
	hs := httptest.NewServer(newServer(Config{Store: ts.Store, Hosts: []string{"pbx.example.net."}}).handler())
	defer hs.Close()
	req, _ = http.NewRequest(http.MethodGet, hs.URL+"/login", nil)
	req.Host = "PBX.example.net:8080"
	b.do(req).want(http.StatusOK)
	req.Host = "other.example.net:8080"
	b.do(req).want(http.StatusForbidden)
}

func TestUISecurityHeaders(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	for _, path := range []string{"/login", "/static/style.css"} {
		h := b.get(path).want(http.StatusOK).header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	// The rating endpoints stay lean.
	if h := b.get("/healthz").header; h.Get("Content-Security-Policy") == "" {
		t.Log("healthz carries the page headers") // harmless either way
	}
	if h := b.get("/api/v1/rate?tenant=x&number=1").header; h.Get("Content-Security-Policy") != "" {
		t.Error("the API carries page headers it does not need")
	}
}

func TestFirstAdminIsNotOpen(t *testing.T) {
	ts := mustServeUI(t, nil)
	// EnsureAdmin on a store that has one does nothing, so a restart
	// never prints or changes a password.
	if pw, err := ts.Store.EnsureAdmin(); err != nil || pw != "" {
		t.Fatalf("EnsureAdmin = %q, %v", pw, err)
	}
	if err := ts.Store.CheckAdminPassword(store.AdminUser, uiPassword); err != nil {
		t.Fatal(err)
	}
}

// TestLoginRedirectStaysLocal sends each known bypass of a ?next= check,
// as a browser would encode it, to the log-in form and to the log-in page
// of a logged-in admin: none may lead off this site, and a clean local
// path, its query included, is kept.
func TestLoginRedirectStaysLocal(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	for _, tc := range []struct{ raw, want string }{
		{"//evil.example/x", "/tenants"},
		{"/%2F/evil.example", "/tenants"},
		{"%2F%2Fevil.example", "/tenants"},
		{"/%5Cevil.example", "/tenants"},
		{"/%5C/evil.example", "/tenants"},
		{"%5C%5Cevil.example", "/tenants"},
		{"/%09/evil.example", "/tenants"},
		{"%09//evil.example", "/tenants"},
		{"/%0A/evil.example", "/tenants"},
		{"/%0D/evil.example", "/tenants"},
		{"/%20/evil.example", "/tenants"},
		{"/%00/evil.example", "/tenants"},
		{"/tenants%09/x", "/tenants"},
		{"/a/%5C%5Cevil.example", "/tenants"},
		{"https://evil.example", "/tenants"},
		{"https:evil.example", "/tenants"},
		{"javascript:alert(1)", "/tenants"},
		{"%09", "/tenants"},
		{"evil.example", "/tenants"},
		{"", "/tenants"},
		{"/usage", "/usage"},
		{"/usage%3Fstatus%3Dunrated%26tenant%3DDocs%2BDemo%2BAcme", "/usage?status=unrated&tenant=Docs+Demo+Acme"},
		{"/rates/outbound/Docs%2520Demo%2520Retail%3Fq%3D44", "/rates/outbound/Docs%20Demo%20Retail?q=44"},
	} {
		body := "name=admin&password=" + url.QueryEscape(uiPassword) + "&next=" + tc.raw
		req := mustRequest(t, http.MethodPost, ts.URL+"/login", nil)
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		if loc := location(t, b, req); loc != tc.want {
			t.Errorf("log-in with next=%s leads to %q, want %q", tc.raw, loc, tc.want)
		}
		if loc := location(t, b, mustRequest(t, http.MethodGet, ts.URL+"/login?next="+tc.raw, nil)); loc != tc.want {
			t.Errorf("log-in page of an admin with next=%s leads to %q, want %q", tc.raw, loc, tc.want)
		}
	}
}

// location sends req with b's cookies and returns the Location of its
// 303, read raw: http.Client refuses to parse some of the bad ones.
func location(tb testing.TB, b *browser, req *http.Request) string {
	tb.Helper()
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		tb.Fatalf("%s %s: status %d, want 303", req.Method, req.URL, res.StatusCode)
	}
	if u, _ := url.Parse(req.URL.String()); u.Path == "/login" && req.Method == http.MethodPost {
		b.c.Jar.SetCookies(u, res.Cookies())
	}
	return res.Header.Get("Location")
}
