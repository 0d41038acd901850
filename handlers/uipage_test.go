package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pbxbill/assets"
	"pbxbill/rating"
)

// Every page renders with realistic data, through the real server, and
// shows the figures it is given.
func TestUIEveryPageRenders(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	if _, _, err := ts.Store.CreateNode("Docs Demo PBX"); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		path  string
		parts []string
	}{
		{"/tenants", []string{"Tenants Dashboard", "Docs Demo Acme", "badge-ok", "<polyline", "Totals (1 tenants)",
			// 25.00 topped up, then 45 s at 0.05 with increments 30/6 is 0.0400.
			// Money columns name the currency in their header (issue 13).
			">24.9600<", ">0.0400<", "Balance (EUR)</th>"}},
		{"/tenants?state=blocked", []string{"No tenants match this filter"}},
		{"/tenants?q=acme", []string{"Docs Demo Acme"}},
		{"/tenants/new", []string{"New tenant", `name="outbound_rate_table"`, "Docs Demo Retail"}},
		{"/tenants/" + url.PathEscape("Docs Demo Acme"), []string{"Docs Demo Acme", "Ledger", "topup", "charge",
			"docs-demo-1", "Top up or adjust", "Spend, last 30 days", "442079460000"}},
		{"/providers", []string{"Providers Dashboard", "Docs Demo Carrier", "Totals", "Last month", `type="date"`, "Minutes per day"}},
		{"/providers/new", []string{"New provider"}},
		{"/providers/" + url.PathEscape("Docs Demo Carrier"), []string{"Docs Demo Carrier", "carrier-a", "Ledger"}},
		{"/rates/outbound", []string{"Outbound Call Rates", "Docs Demo Retail", "Docs Demo Buy", "tenant Docs Demo Acme", "New table"}},
		{"/rates/inbound", []string{"Inbound Call Rates", "Docs Demo DID"}},
		{"/rates/conference", []string{"Conference Rooms Rates", "Docs Demo Rooms"}},
		{"/rates/outbound/" + url.PathEscape("Docs Demo Retail"), []string{"United Kingdom", "4477", "Try a number", "Upload a CSV deck", "Table settings"}},
		{"/rates/outbound/" + url.PathEscape("Docs Demo Retail") + "?q=kingdom", []string{"United Kingdom"}},
		{"/usage", []string{"docs-demo-1", "docs-demo-3", "unrated", "Export CSV"}},
		{"/usage?status=unrated", []string{"Unrated CDRs", "docs-demo-3", "Re-rate unrated CDRs"}},
		{"/usage/upload", []string{"Upload CDRs", "Asterisk Master.csv"}},
		{"/nodes", []string{"Docs Demo PBX", "Dialplan for this installation", "/api/v1/authorize"}},
	} {
		p := b.get(c.path).want(http.StatusOK).has(c.parts...)
		if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		// The CSP forbids inline script and style; a page that had them
		// would break in the browser.
		if inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="`).FindString(p.body); inline != "" {
			t.Errorf("%s: inline script or style %q", c.path, inline)
		}
	}
	// The Unrated view and the rows search filter: a row that does not
	// match is left out.
	b.get("/usage?status=unrated").hasNot("docs-demo-1")
	b.get("/rates/outbound/" + url.PathEscape("Docs Demo Retail") + "?q=4477").hasNot("<td>United Kingdom</td>")
	b.get("/rates/sideways").want(http.StatusNotFound)
	b.get("/tenants/" + url.PathEscape("Docs Demo Nobody")).want(http.StatusNotFound).has("Docs Demo Nobody")
}

// A name is data, never markup: a tenant named like a script shows as text.
func TestUIEscapesNames(t *testing.T) {
	ts := mustServeUI(t, nil)
	evil := `Docs Demo <script>alert(1)<`
	img := `Docs Demo "><img src=x onerror=alert(2)>`
	ts.mustTenant(rating.Tenant{Name: evil}, "1")
	ts.mustTenant(rating.Tenant{Name: img}, "")
	b := newBrowser(ts)
	b.login()
	for _, path := range []string{"/tenants", "/tenants/" + url.PathEscape(evil), "/usage"} {
		p := b.get(path).want(http.StatusOK)
		p.hasNot(evil, "<img src=x")
		if path != "/usage" || strings.Contains(p.body, "tenant") {
			p.has("&lt;script&gt;alert(1)&lt;")
		}
	}
	// Flash messages carry names too.
	p := b.post("/tenants/"+url.PathEscape(evil)+"/credits", url.Values{"amount": {"5"}, "kind": {"topup"}})
	b.follow(p).want(http.StatusOK).has("Posted a topup of 5.0000 EUR to Docs Demo &lt;script&gt;alert(1)&lt;").hasNot(evil)
}

// The templates parse, and every page file defines content.
func TestUITemplatesParse(t *testing.T) {
	ts := mustServeUI(t, nil)
	u := newUI(newServer(Config{Store: ts.Store}))
	for _, name := range []string{"login", "error", "tenants", "tenant", "providers", "provider",
		"ratetables", "ratetable", "usage", "upload", "nodes"} {
		if u.pages[name] == nil || u.pages[name].Lookup("content") == nil {
			t.Errorf("page %s: no template with a content block", name)
		}
	}
	if _, err := assets.FS.ReadFile("static/app.js"); err != nil {
		t.Error(err)
	}
}

// The ledger pages newest first, and its date filter keeps to its days.
func TestUILedgerPages(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Ledger"}, "")
	for i := 1; i <= ledgerPerPage+3; i++ {
		if _, err := ts.Store.Credit(rating.TenantAccount, "Docs Demo Ledger", mustMoney(t, itoa(i)), rating.Topup, "Docs Demo #"+itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(ts)
	b.login()
	path := "/tenants/" + url.PathEscape("Docs Demo Ledger")
	p := b.get(path).want(http.StatusOK).has("Docs Demo #23", "Docs Demo #4<", "Older entries").hasNot("Docs Demo #3<")
	i := strings.Index(p.body, "after=")
	next := p.body[i+len("after=") : i+strings.IndexAny(p.body[i:], "#\"")]
	b.get(path+"?after="+next).want(http.StatusOK).has("Docs Demo #3<", "Docs Demo #1<").hasNot("Docs Demo #4<", "Older entries")
	b.get(path + "?from=2000-01-01&to=2000-01-31").want(http.StatusOK).has("No ledger entries").hasNot("Docs Demo #")
	b.get(path + "?from=yesterday").want(http.StatusOK).has("from &#34;yesterday&#34;")
}
