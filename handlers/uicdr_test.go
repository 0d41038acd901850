package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// The CDR browser: newest start first, filters by kind and number, totals
// of the filtered set, a destination and margin per call, pages both ways,
// and each CDR's own page with its arithmetic.
func TestUICDRBrowser(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	now := time.Now()
	var cdrs []rating.CDR
	for i := range cdrsPerPage + 5 {
		cdrs = append(cdrs, rating.CDR{ID: "uk-" + itoa(i), Tenant: "Docs Demo Acme", Kind: rating.Outbound, Number: "442079460000",
			Provider: "carrier-a", Start: now.Add(-time.Duration(10+i) * time.Minute), Duration: 60})
	}
	cdrs = append(cdrs, rating.CDR{ID: "in-1", Tenant: "Docs Demo Acme", Kind: rating.Inbound, Number: "442071230000",
		Start: now.Add(-5 * time.Minute), Duration: 60})
	if _, err := ts.Store.PostCDRs("", cdrs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	p := b.get("/usage?kind=outbound&number=44207").want(http.StatusOK)
	// 55 calls of 60 s at 0.05 (30/6) sold, 0.02 (60/60) bought; the seed's
	// 45 s call matches too: 48 s billed, 0.04 sold, 0.02 bought.
	p.has(`<div><span>CDRs</span><b>56</b></div>`, "<b>55.8</b>", "<b>2.7900</b>", "<b>1.1200</b>", "<b>1.6700</b>",
		"United Kingdom", ">Older CDRs →").hasNot("in-1", "docs-demo-2")
	if strings.Contains(p.body, "← Newer CDRs</a>") {
		t.Error("the newest page offers newer CDRs")
	}
	first := strings.Index(p.body, `title="id uk-0"`)
	if first < 0 || strings.Index(p.body, `title="id uk-1"`) < first {
		t.Error("not newest first")
	}
	older := b.get(linkOf(t, p.body, "Older CDRs →")).want(http.StatusOK).has(`title="id uk-54"`, "docs-demo-1", "← Newer CDRs</a>")
	b.get(linkOf(t, older.body, "← Newer CDRs")).has(`title="id uk-0"`)
	b.get("/usage?kind=sideways").want(http.StatusBadRequest).has("kind &#34;sideways&#34;: want outbound")

	// A CDR's page spells out its price.
	b.get("/usage/cdr?node=&id=uk-3").want(http.StatusOK).
		has("CDR uk-3", "b = 30 &#43; ⌈(60 − 30) / 6⌉ × 6 = 60 billed seconds.", "cost = 0.0500", "This is the price it was billed at.")
	b.get("/usage/cdr?node=&id=nope").want(http.StatusNotFound)
}

// linkOf is the href of the link whose text starts with text.
func linkOf(t *testing.T, body, text string) string {
	t.Helper()
	i := strings.Index(body, ">"+text)
	if i < 0 {
		t.Fatalf("no link %q", text)
	}
	j := strings.LastIndex(body[:i], `href="`)
	href := body[j+len(`href="`):]
	return strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
}
