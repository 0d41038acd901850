package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// The schedules API of API.md: create answers 201 with id and next_due,
// a PUT keeps what it leaves out, a bad body names its field and changes
// nothing, DELETE answers 204.
func TestSchedulesAPI(t *testing.T) {
	c := &clock{t: time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	ts.admin("POST", "/api/v1/tenants", `{"name": "Acme"}`).want(http.StatusCreated)
	base := "/api/v1/tenants/Acme/schedules"

	var sc map[string]any
	ts.admin("POST", base, `{"name": "12 seats", "amount": "-60", "day": 31}`).want(http.StatusCreated).decode(&sc)
	if sc["id"] != 1.0 || sc["next_due"] != "2026-04-30" || sc["start"] != "2026-04-10" || sc["amount"] != "-60" || sc["top_up_to"] != nil {
		t.Errorf("created %v", sc)
	}
	ts.admin("POST", base, `{"name": "plan", "top_up_to": 25, "day": 1, "start": "2026-05-01", "end": "2026-12-31"}`).want(http.StatusCreated)

	for _, c := range []struct{ body, field string }{
		{`{"name": "x", "amount": "0", "day": 1}`, "amount"},
		{`{"name": "x", "day": 1}`, "amount"},
		{`{"name": "x", "amount": "-1", "top_up_to": "5", "day": 1}`, "top_up_to"},
		{`{"name": "x", "amount": "-1", "day": 32}`, "day"},
		{`{"name": "x", "amount": "-1", "day": 1, "start": "2026-02-30"}`, "start"},
		{`{"name": "x", "amount": "-1", "day": 1, "start": "2026-05-01", "end": "2026-04-01"}`, "end"},
		{`{"name": "", "amount": "-1", "day": 1}`, "name"},
		{`{"name": "x", "amount": "abc", "day": 1}`, "amount"},
	} {
		e := ts.admin("POST", base, c.body).wantError(http.StatusBadRequest, "invalid", c.field)
		if e.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.body, e.Field, c.field)
		}
	}

	var put map[string]any
	ts.admin("PUT", base+"/1", `{"amount": "-72"}`).want(http.StatusOK).decode(&put)
	if put["amount"] != "-72" || put["name"] != "12 seats" || put["day"] != 31.0 || put["next_due"] != "2026-04-30" {
		t.Errorf("updated %v", put)
	}
	// A refill may turn from an amount into a top-up and back.
	ts.admin("PUT", base+"/2", `{"amount": "20"}`).want(http.StatusOK).decode(&put)
	if put["amount"] != "20" || put["top_up_to"] != nil {
		t.Errorf("top-up turned into an amount: %v", put)
	}
	ts.admin("PUT", base+"/2", `{"day": 0}`).wantError(http.StatusBadRequest, "invalid", "day")

	var list struct{ Items []map[string]any }
	ts.admin("GET", base, "").want(http.StatusOK).decode(&list)
	if len(list.Items) != 2 || list.Items[1]["day"] != 1.0 || list.Items[1]["next_due"] != "2026-05-01" {
		t.Errorf("list %v", list.Items)
	}
	ts.admin("DELETE", base+"/2", "").want(http.StatusNoContent)
	audit := string(ts.admin("GET", "/api/v1/audit", "").want(http.StatusOK).body)
	for _, want := range []string{`"action":"POST /api/v1/tenants/{name}/schedules"`, `"action":"PUT /api/v1/tenants/{name}/schedules/{id}"`,
		`"action":"DELETE /api/v1/tenants/{name}/schedules/{id}"`, `"object":"tenants/Acme/schedules/2"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %s:\n%s", want, audit)
		}
	}
	ts.admin("DELETE", base+"/2", "").wantError(http.StatusNotFound, "not_found")
	ts.admin("PUT", base+"/x", `{}`).wantError(http.StatusNotFound, "not_found")
	ts.admin("GET", "/api/v1/tenants/nobody/schedules", "").wantError(http.StatusNotFound, "not_found")
	ts.do(req{method: "GET", path: base}).wantError(http.StatusUnauthorized, "unauthorized")
}

// GET /statements/{YYYY-MM} as JSON and as CSV; a bad month is 400.
func TestStatementsAPI(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	seedUI(t, ts) // Docs Demo Acme: a top-up of 25 and a call of 0.04
	c.Add(30 * 24 * time.Hour)
	ts.admin("POST", "/api/v1/tenants/Docs%20Demo%20Acme/credits", `{"amount": "-1.5", "kind": "adjustment", "note": "=cmd goodwill"}`).want(http.StatusCreated)

	var st rating.Statement
	ts.admin("GET", "/api/v1/tenants/Docs%20Demo%20Acme/statements/2026-03", "").want(http.StatusOK).decode(&st)
	if st.Tenant != "Docs Demo Acme" || st.Month != "2026-03" || st.Currency != "EUR" || st.Opening.Sign() != 0 ||
		st.Closing.String() != "24.96" || len(st.Calls) != 1 || st.Calls[0].Destination != "United Kingdom" || st.Calls[0].Count != 1 {
		t.Errorf("March: %+v", st)
	}
	var apr map[string]any
	ts.admin("GET", "/api/v1/tenants/Docs%20Demo%20Acme/statements/2026-04", "").want(http.StatusOK).decode(&apr)
	if apr["opening"] != "24.96" || apr["closing"] != "23.46" {
		t.Errorf("April: %v", apr)
	}
	res := ts.admin("GET", "/api/v1/tenants/Docs%20Demo%20Acme/statements/2026-04?format=csv", "").want(http.StatusOK)
	body := string(res.body)
	if !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(body, "opening,,2026-04-01T00:00:00Z,,,,,,,24.96\n") ||
		!strings.Contains(body, "entry,adjustments,2026-04-09T09:00:00Z,adjustment,'=cmd goodwill,,,,-1.5,23.46\n") ||
		!strings.Contains(body, "closing,,2026-05-01T00:00:00Z,,,,,,,23.46\n") {
		t.Errorf("CSV:\n%s", body)
	}
	ts.admin("GET", "/api/v1/tenants/Docs%20Demo%20Acme/statements/2026-13", "").wantError(http.StatusBadRequest, "invalid", "month")
	ts.admin("GET", "/api/v1/tenants/nobody/statements/2026-03", "").wantError(http.StatusNotFound, "not_found")
}

// GET /events lists the outbox oldest first with its delivery state; the
// admin page lists it and queues a test event.
func TestEventsAPIAndPage(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	ts.admin("POST", "/api/v1/tenants", `{"name": "Acme", "low_balance_threshold": "5"}`).want(http.StatusCreated)
	ts.admin("POST", "/api/v1/tenants/Acme/credits", `{"amount": "3"}`).want(http.StatusCreated) // blocked → low
	b := newBrowser(ts)
	b.login()
	b.follow(b.post("/events/test", url.Values{})).has("Queued test event ev_2_", "tenant.state", "queued")

	var list struct {
		Items []rating.Event
		Next  string
	}
	ts.admin("GET", "/api/v1/events?limit=1", "").want(http.StatusOK).decode(&list)
	if len(list.Items) != 1 || list.Items[0].Type != rating.EventTenantState || list.Next != "1" ||
		!strings.Contains(string(list.Items[0].Data), `"from":"blocked","to":"low"`) {
		t.Fatalf("first page %+v", list)
	}
	ts.admin("GET", "/api/v1/events?after=1", "").want(http.StatusOK).decode(&list)
	if len(list.Items) != 1 || list.Items[0].Type != rating.EventTest || list.Next != "" {
		t.Fatalf("second page %+v", list)
	}
	ts.admin("GET", "/api/v1/events?limit=0", "").wantError(http.StatusBadRequest, "invalid", "limit")
}

// The tenant page's Recurring section lists each schedule with its next
// due date; its forms add, edit and delete, and a bad form comes back with
// what was typed and the error by its field.
func TestRecurringSection(t *testing.T) {
	c := &clock{t: time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	ts.admin("POST", "/api/v1/tenants", `{"name": "Acme"}`).want(http.StatusCreated)
	b := newBrowser(ts)
	b.login()
	b.get("/tenants/Acme").want(http.StatusOK).has(`id="recurring"`, "No recurring fees or refills.", `href="/tenants/Acme/statements/2026-04"`)
	form := url.Values{"name": {"12 seats"}, "kind": {"fee"}, "amount": {"60"}, "day": {"31"}, "start": {"2026-04-10"}}
	b.follow(b.post("/tenants/Acme/schedules", form)).has("Saved schedule 12 seats: next due 2026-04-30.", "<b>2026-04-30</b>", "-60.0000 EUR")
	form.Set("amount", "-5")
	b.post("/tenants/Acme/schedules", form).want(http.StatusBadRequest).has("want an amount above 0", `value="12 seats"`)
	form.Set("amount", "25")
	form.Set("kind", "top_up_to")
	form.Set("end", "2026-01-01")
	b.post("/tenants/Acme/schedules/1", form).want(http.StatusBadRequest).has("end 2026-01-01: before start")
	form.Set("end", "")
	b.follow(b.post("/tenants/Acme/schedules/1", form)).has("to 25.0000 EUR", "top up")
	b.get("/tenants/Acme/schedules/1").want(http.StatusOK).has(`value="25"`, `<option value="top_up_to" selected>`)
	b.follow(b.post("/tenants/Acme/schedules/1/delete", url.Values{})).has("Deleted the schedule", "No recurring fees or refills.")
	b.get("/tenants/Acme/schedules/1").want(http.StatusNotFound)
}

// The statement page is a document: the installation, the customer, the
// period, the opening balance, the sections and the closing balance, with
// a print stylesheet.
func TestStatementPage(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c, func(s *server) { s.Installation = "pbx.example.net" })
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	b.get("/tenants/Docs%20Demo%20Acme/statements/2026-03").want(http.StatusOK).has("pbx.example.net", "Statement of account",
		"Docs Demo Acme", "1 March 2026 – 31 March 2026", "Opening balance", "0.0000 EUR", "Top-ups", "Calls",
		"United Kingdom", "Closing balance", "24.9600 EUR", "data-print")
	b.get("/tenants/Docs%20Demo%20Acme/statements/2026-02").want(http.StatusOK).has("No entries in this period.")
	css := b.get("/static/style.css").want(http.StatusOK)
	css.has("@media print", ".noprint")
}

// A schedule form sent twice, or an API create sent again with the same
// Idempotency-Key, adds one schedule: a second would charge the fee twice.
func TestScheduleCreatedOnce(t *testing.T) {
	c := &clock{t: time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)}
	ts := mustServeUI(t, c)
	ts.admin("POST", "/api/v1/tenants", `{"name": "Acme"}`).want(http.StatusCreated)
	b := newBrowser(ts)
	b.login()
	page := b.get("/tenants/Acme").want(http.StatusOK)
	tokens := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(tokens) == 0 {
		t.Fatal("no one-time token on the tenant page")
	}
	form := url.Values{"name": {"12 seats"}, "kind": {"fee"}, "amount": {"60"}, "day": {"1"}, "start": {"2026-05-01"},
		"token": {tokens[len(tokens)-1][1]}}
	b.follow(b.post("/tenants/Acme/schedules", form)).has("Saved schedule 12 seats")
	b.follow(b.post("/tenants/Acme/schedules", form)).has("the second sending added nothing")

	h := map[string]string{"Idempotency-Key": "docs-demo-7"}
	body := `{"name": "DID", "amount": "-2", "day": 1}`
	ts.do(req{method: "POST", path: "/api/v1/tenants/Acme/schedules", token: testToken, body: body, ctype: "application/json", header: h}).want(http.StatusCreated)
	ts.do(req{method: "POST", path: "/api/v1/tenants/Acme/schedules", token: testToken, body: body, ctype: "application/json", header: h}).
		wantError(http.StatusConflict, "conflict")
	var list struct{ Items []rating.Schedule }
	ts.admin("GET", "/api/v1/tenants/Acme/schedules", "").want(http.StatusOK).decode(&list)
	if len(list.Items) != 2 {
		t.Errorf("%d schedules, want 2", len(list.Items))
	}
}
