package handlers

import (
	"net/http"
	"net/url"
	"testing"
)

// The nodes page's snippets use -public-url, pass the call's id, and warn
// when the address is loopback; a new token has a copy button.
func TestUINodesSnippet(t *testing.T) {
	ts := mustServeUI(t, nil, func(s *server) { s.PublicURL = "https://billing.example.net" })
	b := newBrowser(ts)
	b.login()
	b.get("/nodes").want(http.StatusOK).has("${CURL(https://billing.example.net/api/v1/authorize?tenant=",
		"&amp;call=${UNIQUEID}&amp;format=text", "'https://billing.example.net/api/v1/cdrs?format=asterisk'").
		hasNot("a loopback address")
	b.post("/nodes", url.Values{"name": {"docs-demo-pbx"}}).want(http.StatusOK).
		has(`<code id="token-value">`, `data-copy="token-value"`)
	ts2 := mustServeUI(t, nil)
	b2 := newBrowser(ts2)
	b2.login()
	b2.get("/nodes").has("a loopback address: only this box can use it", "-public-url")
}
