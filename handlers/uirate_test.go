package handlers

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// upload posts a file through a multipart form, as the browser does.
func (b *browser) upload(path, filename, content string, fields url.Values) page {
	b.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		b.tb.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, &body)
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func TestUIRateTableWorkflow(t *testing.T) {
	ts := mustServeUI(t, nil)
	b := newBrowser(ts)
	b.login()

	// A refused form keeps what was typed and names the field.
	b.post("/rates/inbound", url.Values{"name": {"Docs Demo DIDs"}, "decimals": {"9"}, "rounding": {"up"},
		"initial_increment": {"60"}, "increment": {"60"}}).want(http.StatusBadRequest).
		has(`value="Docs Demo DIDs"`, `<option value="up" selected>`, "decimals 9: want 0 to 8")
	p := b.post("/rates/inbound", url.Values{"name": {"Docs Demo DIDs"}, "decimals": {"2"}, "rounding": {"up"},
		"initial_increment": {"1"}, "increment": {"1"}})
	tableURL := "/rates/inbound/" + url.PathEscape("Docs Demo DIDs")
	if p.want(http.StatusSeeOther).location != tableURL {
		t.Fatalf("create redirects to %q", p.location)
	}
	b.follow(p).has("Created rate table Docs Demo DIDs")
	tb, err := ts.Store.RateTable("Docs Demo DIDs")
	if err != nil || tb.Kind != rating.Inbound || tb.Decimals != 2 || tb.Rounding != rating.Up {
		t.Fatalf("stored table %+v, %v", tb, err)
	}
	// A table of one kind is not shown under another.
	b.get("/rates/outbound/" + url.PathEscape("Docs Demo DIDs")).want(http.StatusNotFound)
	b.get("/rates/outbound").hasNot("Docs Demo DIDs")
	b.post("/rates/inbound", url.Values{"name": {"Docs Demo DIDs"}, "decimals": {"2"}, "rounding": {"up"},
		"initial_increment": {"1"}, "increment": {"1"}}).want(http.StatusBadRequest).has("already exists")

	// A row with a bad rate is refused next to the field, keeping the rest.
	b.post(tableURL+"/rows", url.Values{"prefix": {"4420"}, "destination": {"London"}, "rate": {"abc"}}).
		want(http.StatusBadRequest).has(`value="London"`, `value="4420"`, `class="field-error"`, "rate")
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"4420"}, "destination": {"London"}, "rate": {"0.15"}, "connect_fee": {"0.05"}})).
		has("Added row 4420 (London)")

	// An upload with a bad line is refused with its line number; nothing changes.
	bad := "prefix,destination,rate\n4420,London,0.10\n4421,Bad,minus\n"
	b.upload(tableURL+"/upload", "deck.csv", bad, url.Values{"mode": {"replace"}}).
		want(http.StatusBadRequest).has("line 3", "was rejected, and nothing was changed")
	if tb, _ := ts.Store.RateTable("Docs Demo DIDs"); tb.Rows != 1 {
		t.Fatalf("a rejected upload changed the table: %d rows", tb.Rows)
	}
	good := "prefix,destination,rate\n4420,London,0.10\n4421,Birmingham,0.12\n"
	b.follow(b.upload(tableURL+"/upload", "deck.csv", good, url.Values{"mode": {"replace"}})).
		has("Replaced every row of Docs Demo DIDs with the 2 rows of deck.csv.")
	b.follow(b.upload(tableURL+"/upload", "more.csv", "prefix,destination,rate\n4421,Birmingham,0.20\n44,United Kingdom,0.30\n", url.Values{"mode": {"merge"}})).
		has("Merged more.csv: 2 rows, 1 added, 1 replaced.")

	// Try a number: 61 s at 0.20 per minute, increments 1/1, 2 decimals up:
	// 0.20 × 61 / 60 = 0.2033… → 0.21.
	b.get(tableURL+"?try_number=%2B44+21+555&try_duration=61").want(http.StatusOK).
		has("<b>4421</b>", "Birmingham", `<dd id="try-billed">61</dd>`, "0.21 EUR",
			"raw = 0 &#43; (0.2 × 1 &#43; 0.2 × 60) / 60 = 0.2033333333333333", "b = 1 &#43; ⌈(61 − 1) / 1⌉ × 1 = 61", "rounded up to 2 decimals: 0.21")
	b.get(tableURL + "?try_number=1999&try_duration=10").has("no row matches 1999")

	// Edit a row: its prefix changes, and the old one is gone.
	b.get(tableURL+"?edit=4420&eff=").has(`value="0.1"`, "Edit row 4420")
	b.follow(b.post(tableURL+"/rows", url.Values{"orig_prefix": {"4420"}, "prefix": {"4429"}, "rate": {"0.11"}})).has("Saved row 4429")
	if rows, _, _ := ts.Store.Rates("Docs Demo DIDs", "442", "", 10); len(rows) != 2 || rows[0].Prefix != "4421" || rows[1].Prefix != "4429" {
		t.Fatalf("rows after the edit: %+v", rows)
	}
	b.follow(b.post(tableURL+"/rows/delete", url.Values{"prefix": {"4429"}, "effective": {""}})).has("Deleted row 4429")

	// The download uploads back as it is.
	csv := b.get(tableURL + "/download").want(http.StatusOK)
	if !strings.HasPrefix(csv.body, "prefix,destination,rate") || !strings.Contains(csv.body, "4421,Birmingham,0.2") {
		t.Fatalf("download:\n%s", csv.body)
	}

	// A table in use cannot be deleted, and the message names its users.
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Acme", InboundTable: "Docs Demo DIDs"}, "")
	b.follow(b.post(tableURL+"/delete", nil)).has("Cannot delete Docs Demo DIDs: it is used by tenant Docs Demo Acme")
	if _, err := ts.Store.RateTable("Docs Demo DIDs"); err != nil {
		t.Fatal("a table in use was deleted")
	}
	if _, err := ts.Store.UpdateTenant("Docs Demo Acme", func(x *rating.Tenant) error { x.InboundTable = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	b.follow(b.post(tableURL+"/delete", nil)).has("Deleted rate table Docs Demo DIDs.")
}

// The admin's row forms change one row through the store's single-row
// operations: the live index is amended, not rebuilt from a rewritten
// table, and the other rows stay as they were.
func TestUIRowChangesAmendTheIndex(t *testing.T) {
	ts := mustServeUI(t, nil)
	june := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	dated := row(t, "4479", "0.30")
	dated.EffectiveFrom = june
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"),
		row(t, "44", "0.05"), row(t, "447", "0.10"), row(t, "4479", "0.20"), dated, row(t, "*", "0.50"))
	b := newBrowser(ts)
	b.login()
	tableURL := "/rates/outbound/" + url.PathEscape("Docs Demo Retail")
	rows := func() []rating.Row {
		t.Helper()
		rs, _, err := ts.Store.Rates("Docs Demo Retail", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	index := func() *rating.Index { return ts.Store.Book().Get("Docs Demo Retail") }
	before := rows()

	b.follow(b.post(tableURL+"/rows/delete", url.Values{"prefix": {"4479"}, "effective": {"2030-06-01T00:00:00Z"}})).
		has("Deleted row 4479.")
	if got, want := rows(), append(append([]rating.Row{}, before[:4]...), before[5:]...); !reflect.DeepEqual(got, want) {
		t.Errorf("rows after the delete\n got %+v\nwant %+v", got, want)
	}
	if n := index().Overlaid(); n != 1 {
		t.Errorf("after one delete the index carries %d changed prefixes, want 1: it was rebuilt", n)
	}
	if r, _ := index().Lookup("44791", june.AddDate(0, 1, 0)); r.Rate != amt(t, "0.20") {
		t.Errorf("4479 in July prices at %s, want the undated 0.20", r.Rate)
	}
	b.post(tableURL+"/rows/delete", url.Values{"prefix": {"4479"}, "effective": {"2030-06-01T00:00:00Z"}}).
		want(http.StatusNotFound)

	// An edit that moves 447 to 448, and an added row.
	b.follow(b.post(tableURL+"/rows", url.Values{"orig_prefix": {"447"}, "prefix": {"448"}, "rate": {"0.11"}})).has("Saved row 448")
	b.follow(b.post(tableURL+"/rows", url.Values{"prefix": {"33"}, "rate": {"0.07"}})).has("Added row 33")
	if n := index().Overlaid(); n != 4 {
		t.Errorf("the index carries %d changed prefixes, want 4 (4479, 447, 448, 33)", n)
	}
	if r, _ := index().Lookup("4471", june); r.Prefix != "44" {
		t.Errorf("4471 after the move is priced by %q, want 44", r.Prefix)
	}
	// Moving a row onto another is refused next to the form.
	b.post(tableURL+"/rows", url.Values{"orig_prefix": {"448"}, "prefix": {"44"}, "rate": {"0.11"}}).
		want(http.StatusBadRequest).has(`value="0.11"`, `name="prefix" value="44" required placeholder="4420 or *">`+
		`<span class="field-error" role="alert">rate table &#34;Docs Demo Retail&#34; already has a row 44 (always)`)
	if tb, _ := ts.Store.RateTable("Docs Demo Retail"); tb.Rows != 5 || index().Table().Rows != 5 {
		t.Errorf("the table counts %d rows, its index %d; want 5", tb.Rows, index().Table().Rows)
	}
}

// The upload form streams: its mode must come before the file, and an
// upload over the size limit is refused as one to the API is.
func TestUIUploadStreams(t *testing.T) {
	ts := mustServeUI(t, nil, func(s *server) { s.csvLimit = 4 << 10 })
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"), row(t, "44", "0.05"))
	b := newBrowser(ts)
	b.login()
	tableURL := "/rates/outbound/" + url.PathEscape("Docs Demo Retail")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "deck.csv")
	_, _ = fw.Write([]byte("prefix,rate\n33,0.01\n"))
	_ = mw.WriteField("mode", "merge")
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+tableURL+"/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	b.do(req).want(http.StatusBadRequest).has("before the file")

	b.upload(tableURL+"/upload", "deck.csv", "prefix,rate\n"+strings.Repeat("44,0.02\n", 1000), url.Values{"mode": {"replace"}}).
		want(http.StatusRequestEntityTooLarge)
	b.upload(tableURL+"/upload", "deck.csv", "prefix,rate\n33,0.01\n", url.Values{"mode": {"append"}}).
		want(http.StatusBadRequest).has("was rejected, and nothing was changed", "append")
	b.upload(tableURL+"/upload", "", "", url.Values{"mode": {"replace"}}).want(http.StatusBadRequest).has("Choose a CSV file")
	if rs, _, _ := ts.Store.Rates("Docs Demo Retail", "", "", 10); len(rs) != 1 || rs[0].Prefix != "44" {
		t.Errorf("refused uploads changed the rows: %+v", rs)
	}
}

func TestUITenantWorkflow(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	// A table of the wrong kind is refused by the store, next to its select.
	b.post("/tenants", url.Values{"name": {"Docs Demo Beta"}, "billing_mode": {"postpaid"}, "status": {"active"},
		"credit_limit": {"50"}, "outbound_rate_table": {"Docs Demo DID"}}).want(http.StatusBadRequest).
		has(`value="Docs Demo Beta"`, "outbound_rate_table &#34;Docs Demo DID&#34;: the table is inbound")
	b.post("/tenants", url.Values{"name": {"Docs Demo Beta"}, "billing_mode": {"postpaid"}, "status": {"active"},
		"credit_limit": {"ten"}}).want(http.StatusBadRequest).has("credit_limit: amount &#34;ten&#34;")
	p := b.post("/tenants", url.Values{"name": {"Docs Demo Beta"}, "billing_mode": {"postpaid"}, "status": {"active"},
		"credit_limit": {"50"}, "low_balance_threshold": {"5"}, "outbound_rate_table": {"Docs Demo Retail"}})
	b.follow(p).want(http.StatusOK).has("Created tenant Docs Demo Beta", "<option value=\"Docs Demo Retail\" selected>")
	beta := "/tenants/" + url.PathEscape("Docs Demo Beta")
	// Every table select offers only tables of its kind.
	page := b.get(beta).body
	in := page[strings.Index(page, `name="inbound_rate_table"`):]
	in = in[:strings.Index(in, "</select>")]
	if strings.Contains(in, "Docs Demo Retail") || !strings.Contains(in, "Docs Demo DID") {
		t.Errorf("the inbound select offers %s", in)
	}

	// An adjustment needs a note; the refused form keeps the amount.
	b.post(beta+"/credits", url.Values{"amount": {"-3"}, "kind": {"adjustment"}}).want(http.StatusBadRequest).
		has(`value="-3"`, "note: required for an adjustment")
	b.follow(b.post(beta+"/credits", url.Values{"amount": {"12.5"}, "kind": {"topup"}, "note": {"Docs Demo invoice"}})).
		has("Posted a topup of 12.5000 EUR to Docs Demo Beta; the balance is now 12.5000 EUR.", "Docs Demo invoice")
	tn, err := ts.Store.Tenant("Docs Demo Beta")
	if err != nil || tn.Balance != mustMoney(t, "12.5") || tn.CreditLimit != mustMoney(t, "50") {
		t.Fatalf("tenant %+v, %v", tn, err)
	}
	// Edit: suspend; the balance is untouched.
	b.follow(b.post(beta, url.Values{"name": {"Docs Demo Beta"}, "accountcode": {"Docs Demo Beta"}, "billing_mode": {"postpaid"},
		"status": {"suspended"}, "credit_limit": {"50"}, "low_balance_threshold": {"5"}})).has("Saved tenant", "badge-suspended")
	if tn, _ := ts.Store.Tenant("Docs Demo Beta"); tn.Status != rating.Suspended || tn.Balance != mustMoney(t, "12.5") || tn.OutboundTable != "" {
		t.Fatalf("after the edit: %+v", tn)
	}
	b.get("/tenants?state=suspended").has("Docs Demo Beta").hasNot("Docs Demo Acme</a>")

	// Providers: create, top up, and see the dashboard for a range.
	b.follow(b.post("/providers", url.Values{"name": {"Docs Demo Carrier B"}, "trunk": {"carrier-b"}, "status": {"active"}})).
		has("Created provider Docs Demo Carrier B")
	b.follow(b.post("/providers/"+url.PathEscape("Docs Demo Carrier B")+"/credits", url.Values{"amount": {"100"}, "kind": {"topup"}})).
		has("balance is now 100.0000 EUR")
	b.get("/providers?from=2025-01-01&to=2025-01-31").want(http.StatusOK).has(`value="2025-01-01"`, `value="2025-01-31"`, "Docs Demo Carrier B")
	b.get("/providers?from=2025-02-01&to=2025-01-01").want(http.StatusBadRequest).has("is after To")

	// Unrated CDRs get priced once their tenant exists.
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Nobody", OutboundTable: "Docs Demo Retail"}, "5")
	b.follow(b.post("/usage/rerate", url.Values{"status": {"unrated"}})).has("Re-rated: 1 newly rated")

	// Nodes: the token is shown once.
	b.post("/nodes", url.Values{"name": {"Docs Demo PBX"}}).want(http.StatusOK).has("Token of Docs Demo PBX", "pbx_")
	b.get("/nodes").hasNot("pbx_")
	b.follow(b.post("/nodes/"+url.PathEscape("Docs Demo PBX")+"/revoke", nil)).has("Revoked node Docs Demo PBX")
}

func TestUICDRUpload(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	if _, err := ts.Store.UpdateTenant("Docs Demo Acme", func(x *rating.Tenant) error { x.AccountCode = "acme"; return nil }); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(ts)
	b.login()
	line := func(id, dst, billsec string) string {
		return `"acme","100","` + dst + `","from-internal","""Alice"" <100>","PJSIP/100-00000001","PJSIP/carrier-a-00000002","Dial","PJSIP/` + dst +
			`@carrier-a","2025-03-01 10:00:00","2025-03-01 10:00:05","2025-03-01 10:01:05",65,` + billsec + `,"ANSWERED","DOCUMENTATION","` + id + `"` + "\n"
	}
	b.upload("/usage/upload", "Master.csv", line("1.1", "442079460000", "60")+"garbage\n", url.Values{"format": {"asterisk"}}).
		want(http.StatusBadRequest).has("line 2", "nothing was stored")
	p := b.upload("/usage/upload", "Master.csv", line("1.1", "442079460000", "60")+line("1.2", "4477009", "30"), url.Values{"format": {"asterisk"}})
	b.follow(p).has("Imported Master.csv: 2 rated, 0 duplicate, 0 unrated")
	b.follow(b.upload("/usage/upload", "Master.csv", line("1.1", "442079460000", "60"), url.Values{"format": {"asterisk"}})).
		has("0 rated, 1 duplicate")
	csv := b.get("/usage/export?tenant=" + url.QueryEscape("Docs Demo Acme")).want(http.StatusOK)
	if !strings.Contains(csv.body, "1.1,") || !strings.HasPrefix(csv.body, "id,") {
		t.Fatalf("export:\n%s", csv.body)
	}
}

// TestUIEmptyRowForm posts the row form with every field empty: a deck
// skips such a line, and the form must say what is missing, not fail.
func TestUIEmptyRowForm(t *testing.T) {
	ts := mustServeUI(t, nil)
	ts.mustTable(rating.NewTable("Docs Demo Retail", rating.Outbound, "EUR"))
	b := newBrowser(ts)
	b.login()
	b.post("/rates/outbound/"+url.PathEscape("Docs Demo Retail")+"/rows", url.Values{"prefix": {""}, "rate": {" "}}).
		want(http.StatusBadRequest).has("prefix: required")
}
