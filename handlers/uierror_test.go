package handlers

import (
	"net/http"
	"net/url"
	"testing"
)

// A mistyped address and a missing record answer an HTML page with the
// navigation; the API's paths keep their JSON.
func TestUIErrorPages(t *testing.T) {
	ts := mustServeUI(t, nil)
	anon := newBrowser(ts)
	anon.get("/tenantz").want(http.StatusNotFound).has("there is no page at", `&#34;/tenantz&#34;`).hasNot(`aria-label="Main"`)
	b := newBrowser(ts)
	b.login()
	b.get("/tenantz").want(http.StatusNotFound).has("<h1>404 · Not Found</h1>", "there is no page at", `aria-label="Main"`)
	b.get("/tenants/Nobody%20Here").want(http.StatusNotFound).has(`tenant &#34;Nobody Here&#34; not found`, `aria-label="Main"`)
	r := ts.admin("GET", "/api/v1/nonesuch", "").wantError(http.StatusNotFound, "not_found", "no such endpoint")
	if ct := r.Code; ct != "not_found" {
		t.Fatalf("api: %+v", r)
	}
}

// A form posted without a session says the session ended, and the log-in
// returns to the page the form was on.
func TestUIExpiredSessionPost(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	before, err := ts.Store.Tenant("Docs Demo Acme")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	page := ts.URL + "/tenants/Docs%20Demo%20Acme"
	p := b.post("/tenants/Docs%20Demo%20Acme/credits", url.Values{"amount": {"5"}, "kind": {"topup"}}, "Referer", page).want(http.StatusSeeOther)
	loc := p.header.Get("Location")
	if loc != "/login?next="+url.QueryEscape("/tenants/Docs%20Demo%20Acme") {
		t.Fatalf("redirect to %q", loc)
	}
	b.follow(p).has("Your session had ended, so the form was not saved.", `name="next" value="/tenants/Docs%20Demo%20Acme"`)
	if tn, _ := ts.Store.Tenant("Docs Demo Acme"); tn.Balance != before.Balance {
		t.Fatalf("balance %s: the post without a session changed it", tn.Balance)
	}
	// A Referer from elsewhere is not followed.
	p = b.post("/tenants/Docs%20Demo%20Acme/credits", url.Values{"amount": {"5"}}, "Referer", "http://evil.example/x").want(http.StatusSeeOther)
	if loc := p.header.Get("Location"); loc != "/login?next=%2Ftenants" {
		t.Fatalf("foreign referer: %q", loc)
	}
}
