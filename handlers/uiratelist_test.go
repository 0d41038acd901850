package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"pbxbill/rating"
)

// A table that many tenants use names three of them and counts the rest,
// so the list keeps to the page; the table's page links to its margins.
func TestUIRateTableUsers(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"))
	for i := range 9 {
		ts.mustTenant(rating.Tenant{Name: "Docs Demo Tenant " + itoa(i), OutboundTable: "Docs Demo Retail"}, "")
	}
	b := newBrowser(ts)
	b.login()
	b.get("/rates/outbound").want(http.StatusOK).
		has(">9: tenant Docs Demo Tenant 0, tenant Docs Demo Tenant 1, tenant Docs Demo Tenant 2 and 6 more</span>", `title="tenant Docs Demo Tenant 0, tenant Docs Demo Tenant 1,`)
	b.get("/rates/outbound/Docs%20Demo%20Retail").has(`href="/rates/outbound/Docs%20Demo%20Retail/margins">Margins</a>`)
}

// A refused row shows every field's error at once, next to its field.
func TestUIRowErrorsAtOnce(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"))
	b := newBrowser(ts)
	b.login()
	b.post("/rates/outbound/Docs%20Demo%20Retail/rows", url.Values{"prefix": {"44x"}, "rate": {"cheap"}, "increment": {"-3"}, "days": {"funday"}}).
		want(http.StatusBadRequest).has(`value="44x" required placeholder="4420 or *"><span class="field-error" role="alert">prefix &#34;44x&#34;: digits only, or *</span>`,
		`rate &#34;cheap&#34;: not a decimal number</span>`, `increment &#34;-3&#34;: must not be negative</span>`, `days &#34;funday&#34;: want mon…sun`)
}
