package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"pbxbill/rating"
)

// Messages are written for an operator: an adjustment is "an adjustment",
// and an unrated CDR says what is missing rather than its code.
func TestUIOperatorMessages(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	acme := "/tenants/" + url.PathEscape("Docs Demo Acme")
	b.follow(b.post(acme+"/credits", url.Values{"amount": {"-2"}, "kind": {"adjustment"}, "note": {"Docs Demo goodwill"}})).
		has("Posted an adjustment of -2.0000 EUR to Docs Demo Acme")
	b.post(acme+"/credits", url.Values{"amount": {"-5"}, "kind": {"topup"}}).want(http.StatusBadRequest).
		has("a top-up must be positive (more than 0); to take credit back, post an adjustment with a note")
	// docs-demo-3 names a tenant that does not exist.
	b.get("/usage?status=unrated").has(`title="unknown_tenant">no tenant has this accountcode</small>`)
}

// A top-up form sent twice (a double click, a reload) posts once; the API
// does the same with an Idempotency-Key.
func TestCreditPostsOnce(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	acme := "/tenants/" + url.PathEscape("Docs Demo Acme")
	body := b.get(acme).body
	i := strings.Index(body, `name="token" value="`)
	if i < 0 {
		t.Fatal("the credit form has no one-time token")
	}
	token := body[i+len(`name="token" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	before := balanceOf(t, ts, "Docs Demo Acme")
	form := url.Values{"amount": {"10"}, "kind": {"topup"}, "token": {token}}
	var wg sync.WaitGroup
	pages := make([]page, 2)
	for i := range pages {
		wg.Add(1)
		go func() { defer wg.Done(); pages[i] = b.post(acme+"/credits", form) }()
	}
	wg.Wait()
	after := balanceOf(t, ts, "Docs Demo Acme")
	if after.Sub(before) != mustMoney(t, "10") {
		t.Fatalf("balance %s → %s: want one top-up of 10", before, after)
	}
	for _, p := range pages {
		p.want(http.StatusSeeOther)
	}
	// Sent once more, as a reload of the answer would: said, not posted.
	b.follow(b.post(acme+"/credits", form)).has("the second sending posted nothing")
	if got := balanceOf(t, ts, "Docs Demo Acme"); got != after {
		t.Fatalf("balance %s after a third sending, want %s", got, after)
	}
	// A fresh page has a fresh token, which posts.
	if strings.Contains(b.get(acme).body, token) {
		t.Error("the token was offered again")
	}

	r := req{method: "POST", path: "/api/v1/tenants/Docs%20Demo%20Acme/credits", token: testToken, body: `{"amount": "1", "note": "Docs Demo card"}`,
		ctype: "application/json", header: map[string]string{"Idempotency-Key": "docs-demo-42"}}
	ts.do(r).want(http.StatusCreated)
	ts.do(r).wantError(http.StatusConflict, rating.EConflict, "not posted again")
	if got := balanceOf(t, ts, "Docs Demo Acme"); got.Sub(after) != mustMoney(t, "1") {
		t.Fatalf("balance %s after the API's two sendings, want %s + 1", got, after)
	}
}

func balanceOf(t *testing.T, ts *testServer, tenant string) rating.Money {
	t.Helper()
	tn, err := ts.Store.Tenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	return tn.Balance
}
