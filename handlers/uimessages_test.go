package handlers

import (
	"net/http"
	"net/url"
	"testing"
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
		has("a top-up must be more than 0; to take credit back, post an adjustment with a note")
	// docs-demo-3 names a tenant that does not exist.
	b.get("/usage?status=unrated").has(`title="unknown_tenant">no tenant has this accountcode</small>`)
}
