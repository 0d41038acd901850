package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pbxbill/rating"
)

// An upload to replace a table is previewed first, changes nothing until
// confirmed, and its confirmation applies it once.
func TestUIUploadPreview(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"), row(t, "49", "0.03"))
	b := newBrowser(ts)
	b.login()
	tbl := "/rates/outbound/Docs%20Demo%20Retail"
	p := b.upload(tbl+"/upload", "deck.csv", "prefix,destination,rate\n44,United Kingdom,0.07\n1,USA,0.01\n", url.Values{"mode": {"preview"}}).
		want(http.StatusOK).has("deck.csv is checked and not applied yet", "would add 1, remove 1, raise 1 and lower 0 rates, and leave 0",
		`id="confirm-replace"`)
	if rows, _, _ := ts.Store.Rates("Docs Demo Retail", "", "", 10); len(rows) != 2 || rows[0].Rate != amt(t, "0.05") {
		t.Fatalf("the preview changed the table: %+v", rows)
	}
	i := strings.Index(p.body, `name="deck" value="`)
	token := p.body[i+len(`name="deck" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	b.follow(b.post(tbl+"/upload/confirm", url.Values{"deck": {token}})).has("Replaced every row of Docs Demo Retail with the 2 rows of deck.csv.")
	if rows, _, _ := ts.Store.Rates("Docs Demo Retail", "", "", 10); len(rows) != 2 || rows[0].Prefix != "1" || rows[1].Rate != amt(t, "0.07") {
		t.Fatalf("after the confirmation: %+v", rows)
	}
	b.follow(b.post(tbl+"/upload/confirm", url.Values{"deck": {token}})).has("That preview is no longer waiting")
	// A bad deck is refused at the preview, with its lines.
	b.upload(tbl+"/upload", "bad.csv", "prefix,rate\n44,cheap\n", url.Values{"mode": {"preview"}}).want(http.StatusBadRequest).
		has("bad.csv was rejected, and nothing was changed", "line 2")
}

// A sell table's preview shows how each change moves its margin against
// the cheapest active carrier.
func TestUIUploadPreviewMargins(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"), row(t, "49", "0.03"))
	ts.mustTable(rating.NewTable("Docs Demo Buy", rating.Outbound, "EUR"), row(t, "44", "0.06"), row(t, "49", "0.01"))
	if _, err := ts.Store.CreateProvider(rating.Provider{Name: "Docs Demo Carrier", Status: rating.Active, OutboundTable: "Docs Demo Buy"}); err != nil {
		t.Fatal(err)
	}
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Acme", OutboundTable: "Docs Demo Retail"}, "")
	b := newBrowser(ts)
	b.login()
	// 44 goes from a loss (0.05 − 0.06) to a gain (0.07 − 0.06); 49 from
	// 0.02 to a loss of 0.005.
	b.upload("/rates/outbound/Docs%20Demo%20Retail/upload", "deck.csv", "prefix,rate\n44,0.07\n49,0.005\n", url.Values{"mode": {"preview"}}).
		want(http.StatusOK).has("<th>Cheapest carrier</th>", "<td>Docs Demo Carrier</td><td class=\"num\">-0.0100</td><td class=\"num\">0.0100</td>",
		"<td class=\"num\">0.0200</td><td class=\"num neg\">-0.0050</td>")
	// A carrier's own table has no margins.
	b.upload("/rates/outbound/Docs%20Demo%20Buy/upload", "buy.csv", "prefix,rate\n44,0.05\n", url.Values{"mode": {"preview"}}).
		want(http.StatusOK).hasNot("Cheapest carrier")
}
