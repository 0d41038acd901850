package handlers

import (
	"net/http"
	"strings"
	"testing"

	"pbxbill/rating"
)

// The margins page lists a sell table's destinations worst first, with
// the losses marked.
func TestUIMargins(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts) // Retail sells 44 at 0.05, 4477 at 0.12 and * at 0.50; the carrier buys 44 at 0.02
	ts.mustTable(rating.NewTable("Docs Demo Dear", rating.Outbound, "EUR"), row(t, "4477", "0.20"))
	if _, err := ts.Store.CreateProvider(rating.Provider{Name: "Docs Demo Dear Carrier", Status: rating.Active, OutboundTable: "Docs Demo Dear"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Store.UpdateProvider("Docs Demo Carrier", func(p *rating.Provider) error { p.Status = rating.Suspended; return nil }); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	p := b.get("/rates/outbound/Docs%20Demo%20Retail/margins").want(http.StatusOK).
		has("Margins of Docs Demo Retail", `<tr class="neg">`, "<code>4477</code>", "Docs Demo Dear Carrier", "-0.0800", "-66.67",
			"0.1200", "0.2000", "no active carrier", "Selling at a loss</span><b class=\"neg\">1</b>", "No carrier</span><b>2</b>")
	// The loss comes first, then the rows no active carrier takes (the
	// suspended one's 44 among them), by prefix.
	if i, j, k := strings.Index(p.body, "<code>4477</code>"), strings.Index(p.body, "<code>*</code>"), strings.Index(p.body, "<code>44</code>"); !(i < j && j < k) {
		t.Errorf("order: 4477 at %d, * at %d, 44 at %d", i, j, k)
	}
	b.get("/rates/inbound/Docs%20Demo%20Retail/margins").want(http.StatusNotFound)
}
