package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

func TestTenantCRUD(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"))
	ts.mustTable(rating.NewTable("dids", rating.Inbound, "EUR"))

	m := ts.admin("POST", "/api/v1/tenants", `{"name":"acme","outbound_rate_table":"retail"}`).want(201).obj()
	for k, want := range map[string]any{"name": "acme", "accountcode": "acme", "billing_mode": "prepaid",
		"status": "active", "balance": "0", "credit_limit": "0", "available": "0", "state": "blocked",
		"exposure": "0", "utilisation": nil, "outbound_rate_table": "retail", "inbound_rate_table": ""} {
		if m[k] != want {
			t.Errorf("created tenant %s = %#v, want %#v", k, m[k], want)
		}
	}

	// Money comes as a string or a number; PUT keeps what it leaves out.
	m = ts.admin("PUT", "/api/v1/tenants/acme", `{"billing_mode":"postpaid","credit_limit":20,"low_balance_threshold":"5.5"}`).want(200).obj()
	for k, want := range map[string]any{"billing_mode": "postpaid", "credit_limit": "20", "low_balance_threshold": "5.5",
		"available": "20", "state": "ok", "outbound_rate_table": "retail", "accountcode": "acme", "utilisation": "0"} {
		if m[k] != want {
			t.Errorf("updated tenant %s = %#v, want %#v", k, m[k], want)
		}
	}
	if _, err := ts.Store.Credit(rating.TenantAccount, "acme", mustMoney(t, "-5"), rating.Adjustment, "test"); err != nil {
		t.Fatal(err)
	}
	m = ts.admin("GET", "/api/v1/tenants/acme", "").want(200).obj()
	for k, want := range map[string]any{"balance": "-5", "available": "15", "exposure": "5", "utilisation": "0.25", "state": "ok"} {
		if m[k] != want {
			t.Errorf("tenant after -5: %s = %#v, want %#v", k, m[k], want)
		}
	}

	ts.admin("POST", "/api/v1/tenants", `{"name":"beta","accountcode":"1002","status":"suspended"}`).want(201)
	items := ts.admin("GET", "/api/v1/tenants", "").want(200).items()
	if len(items) != 2 || items[0]["name"] != "acme" || items[1]["name"] != "beta" || items[1]["state"] != "suspended" {
		t.Errorf("tenants list: %v", items)
	}

	ts.admin("POST", "/api/v1/tenants", `{"name":"acme"}`).wantError(409, rating.EConflict)
	ts.admin("GET", "/api/v1/tenants/nobody", "").wantError(404, rating.ENotFound, "nobody")
	ts.admin("PUT", "/api/v1/tenants/nobody", `{"status":"active"}`).wantError(404, rating.ENotFound, "nobody")
	ts.admin("DELETE", "/api/v1/tenants/nobody", "").wantError(404, rating.ENotFound, "nobody")

	// A tenant with ledger entries can only be suspended.
	ts.admin("DELETE", "/api/v1/tenants/acme", "").wantError(409, rating.EConflict)
	ts.admin("GET", "/api/v1/tenants/acme", "").want(200)
	ts.admin("DELETE", "/api/v1/tenants/beta", "").want(204)
	ts.admin("GET", "/api/v1/tenants/beta", "").wantError(404, rating.ENotFound)
	if items := ts.admin("GET", "/api/v1/tenants", "").want(200).items(); len(items) != 1 {
		t.Errorf("after delete: %v", items)
	}
}

// TestTenantRejected sends bad bodies and checks that each is refused with
// a message naming the problem, and that nothing changed.
func TestTenantRejected(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"))
	ts.mustTable(rating.NewTable("dids", rating.Inbound, "EUR"))
	ts.admin("POST", "/api/v1/tenants", `{"name":"acme","outbound_rate_table":"retail","credit_limit":"7"}`).want(201)
	before := ts.admin("GET", "/api/v1/tenants", "").want(200).body

	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
		parts              []string
	}{
		{"POST", "/api/v1/tenants", `{"name":"x",`, 400, rating.EInvalid, []string{"malformed JSON"}},
		{"POST", "/api/v1/tenants", `{"name":"x" "a":1}`, 400, rating.EInvalid, []string{"at byte 13", "after object key:value pair"}},
		{"POST", "/api/v1/tenants", `{"name":"x","colour":"red"}`, 400, rating.EInvalid, []string{`unknown field "colour"`}},
		{"POST", "/api/v1/tenants", `{"name":42}`, 400, rating.EInvalid, []string{`"name"`, "string"}},
		{"POST", "/api/v1/tenants", `["acme"]`, 400, rating.EInvalid, []string{"array"}},
		{"POST", "/api/v1/tenants", `{"name":"x"}{"name":"y"}`, 400, rating.EInvalid, []string{"more than one JSON value"}},
		{"POST", "/api/v1/tenants", ``, 400, rating.EInvalid, []string{"empty"}},
		{"POST", "/api/v1/tenants", `{"name":"x","credit_limit":"1.2.3"}`, 400, rating.EInvalid, []string{"credit_limit"}},
		{"POST", "/api/v1/tenants", `{"name":"x","credit_limit":"0.123456789"}`, 400, rating.EInvalid, []string{"credit_limit", "8 decimal"}},
		{"POST", "/api/v1/tenants", `{"name":"x","credit_limit":-1}`, 400, rating.EInvalid, []string{"credit_limit"}},
		{"POST", "/api/v1/tenants", `{"name":"x","balance":"100"}`, 400, rating.EInvalid, []string{"balance", "read-only"}},
		{"POST", "/api/v1/tenants", `{"name":"x","billing_mode":"free"}`, 400, rating.EInvalid, []string{"billing_mode"}},
		{"POST", "/api/v1/tenants", `{"name":"x","outbound_rate_table":"ghost"}`, 400, rating.EInvalid, []string{"outbound_rate_table", "ghost"}},
		{"POST", "/api/v1/tenants", `{"name":"x","outbound_rate_table":"dids"}`, 400, rating.EInvalid, []string{"outbound_rate_table", "dids", "inbound"}},
		{"POST", "/api/v1/tenants", `{"name":"x","conference_rate_table":"retail"}`, 400, rating.EInvalid, []string{"conference_rate_table", "retail"}},
		{"PUT", "/api/v1/tenants/acme", `{"outbound_rate_table":"ghost"}`, 400, rating.EInvalid, []string{"outbound_rate_table", "ghost"}},
		{"PUT", "/api/v1/tenants/acme", `{"inbound_rate_table":"retail"}`, 400, rating.EInvalid, []string{"inbound_rate_table", "retail"}},
		{"PUT", "/api/v1/tenants/acme", `{"credit_limit":"abc"}`, 400, rating.EInvalid, []string{"credit_limit"}},
		{"PUT", "/api/v1/tenants/acme", `{"status":"gone"}`, 400, rating.EInvalid, []string{"status"}},
		{"PUT", "/api/v1/tenants/acme", `{"balance":0}`, 400, rating.EInvalid, []string{"balance"}},
		{"PUT", "/api/v1/tenants/acme", `{"name":""}`, 400, rating.EInvalid, []string{"name"}},
		{"POST", "/api/v1/tenants", `{"name":"."}`, 400, rating.EInvalid, []string{"name", `"."`}},
		{"POST", "/api/v1/tenants", `{"name":".."}`, 400, rating.EInvalid, []string{"name", `".."`}},
		{"PUT", "/api/v1/tenants/acme", `{"name":".."}`, 400, rating.EInvalid, []string{"name", `".."`}},
		{"PUT", "/api/v1/tenants/acme", `{"status":"active","x":1}`, 400, rating.EInvalid, []string{`"x"`}},
		{"POST", "/api/v1/tenants", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, 413, rating.ETooLarge, []string{"1 MiB"}},
		{"PUT", "/api/v1/tenants/acme", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, 413, rating.ETooLarge, []string{"1 MiB"}},
	} {
		ts.admin(tc.method, tc.path, tc.body).wantError(tc.status, tc.code, tc.parts...)
		if after := ts.admin("GET", "/api/v1/tenants", "").want(200).body; string(after) != string(before) {
			t.Fatalf("%s %s %.60s changed the tenants:\n%s\nto\n%s", tc.method, tc.path, tc.body, before, after)
		}
	}
}

func TestTenantCreditsAndLedger(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/tenants", `{"name":"acme"}`).want(201)

	var c struct {
		Entry   rating.Entry `json:"entry"`
		Balance string       `json:"balance"`
	}
	ts.admin("POST", "/api/v1/tenants/acme/credits", `{"amount":"25.00","note":"card 4242"}`).want(201).decode(&c)
	if c.Balance != "25" || c.Entry.Kind != rating.Topup || c.Entry.Amount != mustMoney(t, "25") || c.Entry.Account != "acme" {
		t.Errorf("topup answered %+v", c)
	}
	ts.admin("POST", "/api/v1/tenants/acme/credits", `{"amount":-2.5,"kind":"adjustment","note":"goodwill reversal"}`).want(201).decode(&c)
	if c.Balance != "22.5" || c.Entry.Kind != rating.Adjustment || c.Entry.Balance != mustMoney(t, "22.5") {
		t.Errorf("adjustment answered %+v", c)
	}

	before := ts.admin("GET", "/api/v1/tenants/acme/ledger", "").want(200).body
	for _, tc := range []struct {
		path, body string
		status     int
		parts      []string
	}{
		{"/api/v1/tenants/acme/credits", `{"amount":"-5"}`, 400, []string{"-5"}},
		{"/api/v1/tenants/acme/credits", `{"amount":"5","kind":"charge"}`, 400, []string{"kind", "charge"}},
		{"/api/v1/tenants/acme/credits", `{"kind":"topup"}`, 400, []string{"amount"}},
		{"/api/v1/tenants/acme/credits", `{"amount":null}`, 400, []string{"amount"}},
		{"/api/v1/tenants/acme/credits", `{"amount":"ten"}`, 400, []string{"amount", "ten"}},
		{"/api/v1/tenants/acme/credits", `{"amount":"5","memo":"x"}`, 400, []string{`"memo"`}},
		{"/api/v1/tenants/ghost/credits", `{"amount":"5"}`, 404, []string{"ghost"}},
	} {
		code := rating.EInvalid
		if tc.status == 404 {
			code = rating.ENotFound
		}
		ts.admin("POST", tc.path, tc.body).wantError(tc.status, code, tc.parts...)
		if after := ts.admin("GET", "/api/v1/tenants/acme/ledger", "").want(200).body; string(after) != string(before) {
			t.Fatalf("POST %s %s changed the ledger", tc.path, tc.body)
		}
	}
	if m := ts.admin("GET", "/api/v1/tenants/acme", "").want(200).obj(); m["balance"] != "22.5" {
		t.Errorf("balance %v after rejected credits, want 22.5", m["balance"])
	}
	testLedger(t, ts, "/api/v1/tenants/acme/ledger", []string{"-2.5", "25"})
	ts.admin("GET", "/api/v1/tenants/ghost/ledger", "").wantError(404, rating.ENotFound, "ghost")
}

// testLedger checks a ledger listing whose entries, newest first, have the
// given amounts, all posted today: paging, date and instant bounds.
func testLedger(t *testing.T, ts *testServer, path string, amounts []string) {
	t.Helper()
	items := ts.admin("GET", path, "").want(200).items()
	if len(items) != len(amounts) {
		t.Fatalf("ledger %v, want amounts %v", items, amounts)
	}
	for i, a := range amounts {
		if items[i]["amount"] != a {
			t.Errorf("ledger entry %d amount %v, want %s (newest first)", i, items[i]["amount"], a)
		}
	}

	// One per page, following next.
	var got []any
	after := ""
	for page := 0; page <= len(amounts); page++ {
		var l struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		ts.admin("GET", path+"?limit=1&after="+after, "").want(200).decode(&l)
		if len(l.Items) > 1 {
			t.Fatalf("limit=1 gave %d items", len(l.Items))
		}
		for _, it := range l.Items {
			got = append(got, it["amount"])
		}
		if l.Next == "" {
			break
		}
		after = l.Next
	}
	if len(got) != len(amounts) {
		t.Errorf("paging gave %v, want %v", got, amounts)
	}

	// The bounds are worked out from the entries' own times, so that the
	// test does not depend on when it runs.
	loc := ts.Store.Location()
	newest, err := time.Parse(time.RFC3339Nano, items[0]["time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	oldest, err := time.Parse(time.RFC3339Nano, items[len(items)-1]["time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	date := func(t time.Time, days int) string { return t.In(loc).AddDate(0, 0, days).Format(time.DateOnly) }
	count := func(query string) int { return len(ts.admin("GET", path+"?"+query, "").want(200).items()) }
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"from=" + date(oldest, 0) + "&to=" + date(newest, 0), len(amounts)}, // to is inclusive
		{"to=" + date(newest, 0), len(amounts)},
		{"from=" + date(newest, 1), 0},
		{"to=" + date(oldest, -1), 0},
		{"to=" + url.QueryEscape(newest.Format(time.RFC3339Nano)), len(amounts)}, // inclusive to the instant
		{"from=" + url.QueryEscape(newest.Add(time.Nanosecond).Format(time.RFC3339Nano)), 0},
		{"from=" + url.QueryEscape(oldest.Add(-time.Hour).Format(time.RFC3339)), len(amounts)},
		{"to=" + url.QueryEscape(oldest.Add(-time.Hour).Format(time.RFC3339)), 0},
	} {
		if n := count(tc.query); n != tc.want {
			t.Errorf("ledger?%s: %d entries, want %d", tc.query, n, tc.want)
		}
	}
	day := func(offset int) string { return date(newest, offset) }
	ts.admin("GET", path+"?from=yesterday", "").wantError(400, rating.EInvalid, "from", "yesterday")
	ts.admin("GET", path+"?to=2024-13-01", "").wantError(400, rating.EInvalid, "to", "2024-13-01")
	ts.admin("GET", path+"?from="+day(1)+"&to="+day(-1), "").wantError(400, rating.EInvalid, "from")
	ts.admin("GET", path+"?limit=0", "").wantError(400, rating.EInvalid, "limit")
	ts.admin("GET", path+"?limit=x", "").wantError(400, rating.EInvalid, "limit")
}

// The lists of named records page by ?limit= and ?after=, in name order;
// without limit they answer every record, as before.
func TestNamedListsPage(t *testing.T) {
	ts := mustServe(t)
	for _, n := range []string{"delta", "alpha", "charlie", "bravo", "echo"} {
		ts.admin("POST", "/api/v1/tenants", `{"name":"`+n+`"}`).want(201)
		ts.admin("POST", "/api/v1/providers", `{"name":"`+n+`"}`).want(201)
		ts.admin("POST", "/api/v1/rate-tables", `{"name":"`+n+`","kind":"outbound"}`).want(201)
		ts.admin("POST", "/api/v1/nodes", `{"name":"`+n+`"}`).want(201)
	}
	for _, path := range []string{"/api/v1/tenants", "/api/v1/providers", "/api/v1/rate-tables", "/api/v1/nodes"} {
		var names []string
		next := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("%s: more pages than records", path)
			}
			var page struct {
				Items []struct{ Name string }
				Next  string
			}
			q := "?limit=2"
			if next != "" {
				q += "&after=" + url.QueryEscape(next)
			}
			ts.admin("GET", path+q, "").want(200).decode(&page)
			if len(page.Items) > 2 {
				t.Fatalf("%s%s: %d items, want at most 2", path, q, len(page.Items))
			}
			for _, it := range page.Items {
				names = append(names, it.Name)
			}
			if next = page.Next; next == "" {
				break
			}
		}
		if got := strings.Join(names, ","); got != "alpha,bravo,charlie,delta,echo" {
			t.Errorf("%s paged: %s", path, got)
		}
		if n := len(ts.admin("GET", path, "").want(200).items()); n != 5 {
			t.Errorf("%s without limit: %d items, want all 5", path, n)
		}
		ts.admin("GET", path+"?limit=0", "").wantError(400, "invalid", "limit")
	}
}

// An error names the field it concerns, so that a client, and the admin's
// forms, can show it next to that field without reading the message.
func TestErrorsNameTheirField(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"))
	for body, field := range map[string]string{
		`{"name":"a","credit_limit":"-1"}`:          "credit_limit",
		`{"name":"a","credit_limit":"1.123456789"}`: "credit_limit",
		`{"name":"a","billing_mode":"sometimes"}`:   "billing_mode",
		`{"name":" a"}`: "name",
		`{"name":"a","inbound_rate_table":"retail"}`:    "inbound_rate_table",
		`{"name":"a","low_balance_threshold":"lots"}`:   "low_balance_threshold",
		`{"name":"a","outbound_rate_table":"nonesuch"}`: "outbound_rate_table",
	} {
		if e := ts.admin("POST", "/api/v1/tenants", body).wantError(400, rating.EInvalid); e.Field != field {
			t.Errorf("%s: field %q (%s), want %q", body, e.Field, e.Message, field)
		}
	}
	if e := ts.admin("GET", "/api/v1/cdrs?limit=x", "").wantError(400, rating.EInvalid); e.Field != "limit" {
		t.Errorf("limit: field %q", e.Field)
	}
}
