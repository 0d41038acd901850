package handlers

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"pbxbill/rating"
)

// An authorization with call= opens a hold and answers it; a retry
// answers the same; the tenant, the holds list and the metrics show it;
// DELETE /holds/{call} gives it back once.
func TestAuthorizeHold(t *testing.T) {
	ts := authorizeServer(t)
	m := ts.local("/api/v1/authorize?tenant=pre&number=4420&call=c1").want(200).obj()
	hold, _ := m["hold"].(map[string]any)
	if m["allowed"] != true || m["max_duration"] != float64(960) || hold == nil ||
		hold["amount"] != "0.96" || hold["call"] != "c1" || hold["node"] != "" || hold["tenant"] != "pre" ||
		hold["max_duration"] != float64(960) || hold["expires"] == nil || m["free"] != "0.04" {
		t.Fatalf("authorize with a call: %v", m)
	}
	// Retried: the same grant and hold, nothing new held.
	if again := ts.local("/api/v1/authorize?tenant=pre&number=4420&call=c1").want(200).obj(); again["max_duration"] != float64(960) ||
		again["hold"].(map[string]any)["opened"] != hold["opened"] {
		t.Fatalf("retry: %v", again)
	}
	// What is left is 0.04: less than a minute at 0.06.
	for _, q := range []string{"call=c2", "format=text&call=c3"} {
		r := ts.local("/api/v1/authorize?tenant=pre&number=4420&" + q).want(200)
		if strings.Contains(q, "text") {
			if string(r.body) != "0\n" {
				t.Fatalf("text answer %q, want 0", r.body)
			}
			continue
		}
		if m := r.obj(); m["reason"] != rating.ReasonInsufficientCredit || m["hold"] != nil {
			t.Fatalf("second call: %v", m)
		}
	}
	tn := ts.admin("GET", "/api/v1/tenants/pre", "").want(200).obj()
	if tn["held"] != "0.96" || tn["free"] != "0.04" || tn["calls_in_progress"] != float64(1) || tn["available"] != "1" {
		t.Fatalf("tenant: %v", tn)
	}
	for _, it := range ts.admin("GET", "/api/v1/tenants", "").want(200).items() {
		if it["name"] == "pre" && (it["held"] != "0.96" || it["calls_in_progress"] != float64(1)) {
			t.Fatalf("tenant list: %v", it)
		}
	}
	items := ts.admin("GET", "/api/v1/holds?tenant=pre", "").want(200).items()
	if len(items) != 1 || items[0]["call"] != "c1" || items[0]["amount"] != "0.96" {
		t.Fatalf("holds: %v", items)
	}
	if items := ts.admin("GET", "/api/v1/holds?tenant=post", "").want(200).items(); len(items) != 0 {
		t.Fatalf("post's holds: %v", items)
	}
	ts.admin("GET", "/api/v1/holds?state=closed", "").wantError(400, rating.EInvalid, "state")
	metrics := string(ts.admin("GET", "/metrics", "").want(200).body)
	for _, line := range []string{`pbxbill_holds_total{event="opened"} 1`, `pbxbill_authorizations_total{reason="ok"} 2`,
		`pbxbill_authorizations_total{reason="insufficient_credit"} 2`, `pbxbill_authorizations_total{reason="spend_limit"} 0`} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}

	ts.do(req{method: http.MethodDelete, path: "/api/v1/holds/c1"}).want(http.StatusNoContent)
	ts.do(req{method: http.MethodDelete, path: "/api/v1/holds/c1"}).wantError(404, rating.ENotFound, "c1")
	if m := ts.local("/api/v1/authorize?tenant=pre&number=4420&call=c2").want(200).obj(); m["max_duration"] != float64(960) {
		t.Fatalf("after the release: %v", m)
	}
	if metrics := string(ts.admin("GET", "/metrics", "").want(200).body); !strings.Contains(metrics, `pbxbill_holds_total{event="released_by_hand"} 1`+"\n") {
		t.Errorf("metrics lack the release: %s", metrics)
	}
}

// A hold is its node's: another node's DELETE does not find it, and the
// node's CDR of the call releases it.
func TestHoldNodes(t *testing.T) {
	ts := authorizeServer(t)
	_, tok1, err := ts.Store.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}
	_, tok2, err := ts.Store.CreateNode("pbx2")
	if err != nil {
		t.Fatal(err)
	}
	m := ts.do(req{method: "GET", path: "/api/v1/authorize?tenant=pre&number=4420&call=u1", token: tok1}).want(200).obj()
	if m["hold"].(map[string]any)["node"] != "pbx1" {
		t.Fatalf("hold: %v", m)
	}
	ts.do(req{method: http.MethodDelete, path: "/api/v1/holds/u1", token: tok2}).wantError(404, rating.ENotFound)
	ts.do(req{method: http.MethodDelete, path: "/api/v1/holds/u1"}).wantError(404, rating.ENotFound) // the empty node's
	ts.do(req{method: "POST", path: "/api/v1/cdrs", token: tok1, ctype: "application/json",
		body: `{"id":"u1","tenant":"pre","number":"4420","start":"2026-11-29T10:00:00Z","duration":30}`}).want(200)
	if tn := ts.admin("GET", "/api/v1/tenants/pre", "").want(200).obj(); tn["held"] != "0" || tn["calls_in_progress"] != float64(0) || tn["balance"] != "0.94" {
		t.Fatalf("after the CDR: %v", tn)
	}
}

// The tenant limits through the API: set, shown, and applied in order.
func TestAuthorizeTenantLimits(t *testing.T) {
	ts := authorizeServer(t)
	ts.admin("PUT", "/api/v1/tenants/post", `{"max_calls": 1, "daily_spend_limit": "0.5", "max_call_duration": 300}`).want(200)
	tn := ts.admin("GET", "/api/v1/tenants/post", "").want(200).obj()
	if tn["max_calls"] != float64(1) || tn["daily_spend_limit"] != "0.5" || tn["max_call_duration"] != float64(300) {
		t.Fatalf("limits: %v", tn)
	}
	if m := ts.local("/api/v1/authorize?tenant=post&number=4420&call=a").want(200).obj(); m["max_duration"] != float64(300) ||
		m["hold"].(map[string]any)["amount"] != "0.3" {
		t.Fatalf("capped by max_call_duration: %v", m)
	}
	if m := ts.local("/api/v1/authorize?tenant=post&number=4420&call=b").want(200).obj(); m["reason"] != rating.ReasonTooManyCalls {
		t.Fatalf("max_calls: %v", m)
	}
	ts.admin("PUT", "/api/v1/tenants/post", `{"max_calls": 0}`).want(200)
	// 0.5 − 0.3 held leaves 0.2 under the limit: 180 s, grid of minutes.
	if m := ts.local("/api/v1/authorize?tenant=post&number=4420&call=b").want(200).obj(); m["max_duration"] != float64(180) {
		t.Fatalf("under the spend limit: %v", m)
	}
	// 0.5 − 0.3 − 0.18: 0.02 is not a minute, yet the credit (2.00) is.
	if m := ts.local("/api/v1/authorize?tenant=post&number=4420&call=c").want(200).obj(); m["reason"] != rating.ReasonSpendLimit {
		t.Fatalf("spend limit: %v", m)
	}
	ts.admin("PUT", "/api/v1/tenants/post", `{"daily_spend_limit": null}`).want(200)
	if tn := ts.admin("GET", "/api/v1/tenants/post", "").want(200).obj(); tn["daily_spend_limit"] != nil {
		t.Fatalf("cleared limit: %v", tn)
	}
	for body, field := range map[string]string{`{"max_calls": -1}`: "max_calls", `{"max_call_duration": 9999999}`: "max_call_duration",
		`{"daily_spend_limit": "-1"}`: "daily_spend_limit", `{"email": "a b@c"}`: "email"} {
		ts.admin("PUT", "/api/v1/tenants/post", body).wantError(400, rating.EInvalid, field)
	}
}

// 200 concurrent authorizations of one tenant over HTTP: the holds never
// sum past its credit.
func TestAuthorizeHoldRace(t *testing.T) {
	ts := authorizeServer(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var held rating.Money
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ts.do(req{method: "GET", path: "/api/v1/authorize?tenant=post&number=4420&call=r" + itoa(i)})
			var out struct {
				Hold *rating.Hold `json:"hold"`
			}
			r.decode(&out)
			if out.Hold != nil {
				mu.Lock()
				held = held.Add(out.Hold.Amount)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// post: limit 2.00, balance 0; each call holds at most 1.98 (1980 s).
	if held.Cmp(mustMoney(t, "2")) > 0 || held.Sign() <= 0 {
		t.Fatalf("held %s of 2.00", held)
	}
	if tn := ts.admin("GET", "/api/v1/tenants/post", "").want(200).obj(); tn["held"] != held.String() {
		t.Fatalf("tenant holds %v, answers %s", tn["held"], held)
	}
}
