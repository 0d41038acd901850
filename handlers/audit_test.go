package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pbxbill/rating"
)

// auditLen is the number of entries in the audit trail.
func auditLen(t *testing.T, ts *testServer) int {
	t.Helper()
	n := 0
	for after := ""; ; {
		es, next, err := ts.Store.Audit(after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
		if next == "" {
			return n
		}
		after = next
	}
}

// Every change through the API writes one audit entry, with its actor,
// action and object; a request that fails writes none, and reads write
// nothing.
func TestAuditAPI(t *testing.T) {
	ts := mustServe(t)
	steps := []struct {
		method, path, body string
		status             int
		action, object     string // "" : no entry
	}{
		{"POST", "/api/v1/rate-tables", `{"name": "Docs Demo Retail", "kind": "outbound"}`, 201, "POST /api/v1/rate-tables", "rate-tables"},
		{"POST", "/api/v1/rate-tables", `{"name": "Docs Demo Retail", "kind": "outbound"}`, 409, "", ""},
		{"PUT", "/api/v1/rate-tables/Docs%20Demo%20Retail", `{"decimals": 2}`, 200, "PUT /api/v1/rate-tables/{name}", "rate-tables/Docs Demo Retail"},
		{"POST", "/api/v1/tenants", `{"name": "Docs Demo Acme", "outbound_rate_table": "Docs Demo Retail"}`, 201, "POST /api/v1/tenants", "tenants"},
		{"PUT", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates", "prefix,rate\n44,0.05\n49,0.03\n", 200, "PUT /api/v1/rate-tables/{name}/rates", "rate-tables/Docs Demo Retail/rates"},
		{"PUT", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates", "prefix,rate\n44,cheap\n", 400, "", ""},
		{"PUT", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates?dry_run=1", "prefix,rate\n44,0.06\n", 200, "", ""},
		{"PUT", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates?mode=merge", "prefix,rate\n33,0.04\n", 200, "PUT /api/v1/rate-tables/{name}/rates", "rate-tables/Docs Demo Retail/rates"},
		{"DELETE", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates/49", "", 204, "DELETE /api/v1/rate-tables/{name}/rates/{prefix}", "rate-tables/Docs Demo Retail/rates/49"},
		{"DELETE", "/api/v1/rate-tables/Docs%20Demo%20Retail/rates/49", "", 404, "", ""},
		{"POST", "/api/v1/tenants", `{"name": "Docs Demo Bad", "billing_mode": "sometimes"}`, 400, "", ""},
		{"PUT", "/api/v1/tenants/Docs%20Demo%20Acme", `{"credit_limit": "5"}`, 200, "PUT /api/v1/tenants/{name}", "tenants/Docs Demo Acme"},
		{"POST", "/api/v1/tenants/Docs%20Demo%20Acme/credits", `{"amount": "10", "note": "Docs Demo card"}`, 201, "POST /api/v1/tenants/{name}/credits", "tenants/Docs Demo Acme/credits"},
		{"POST", "/api/v1/tenants/Docs%20Demo%20Acme/credits", `{"amount": "-10"}`, 400, "", ""},
		{"GET", "/api/v1/tenants/Docs%20Demo%20Acme", "", 200, "", ""},
		{"POST", "/api/v1/providers", `{"name": "Docs Demo Carrier"}`, 201, "POST /api/v1/providers", "providers"},
		{"PUT", "/api/v1/providers/Docs%20Demo%20Carrier", `{"trunk": "carrier-a"}`, 200, "PUT /api/v1/providers/{name}", "providers/Docs Demo Carrier"},
		{"POST", "/api/v1/providers/Docs%20Demo%20Carrier/credits", `{"amount": "3"}`, 201, "POST /api/v1/providers/{name}/credits", "providers/Docs Demo Carrier/credits"},
		{"POST", "/api/v1/nodes", `{"name": "docs-demo-pbx"}`, 201, "POST /api/v1/nodes", "nodes"},
		{"DELETE", "/api/v1/nodes/docs-demo-pbx", "", 204, "DELETE /api/v1/nodes/{name}", "nodes/docs-demo-pbx"},
		{"DELETE", "/api/v1/nodes/docs-demo-pbx", "", 404, "", ""},
		{"POST", "/api/v1/cdrs/rerate?status=unrated", "", 200, "POST /api/v1/cdrs/rerate", "cdrs/rerate"},
		{"DELETE", "/api/v1/providers/Docs%20Demo%20Carrier", "", 409, "", ""}, // it has ledger entries
		{"POST", "/api/v1/tenants", `{"name": "Docs Demo Gone"}`, 201, "POST /api/v1/tenants", "tenants"},
		{"DELETE", "/api/v1/tenants/Docs%20Demo%20Gone", "", 204, "DELETE /api/v1/tenants/{name}", "tenants/Docs Demo Gone"},
	}
	for _, st := range steps {
		before := auditLen(t, ts)
		ctype := "application/json"
		if strings.Contains(st.path, "/rates") {
			ctype = "text/csv"
		}
		ts.do(req{method: st.method, path: st.path, token: testToken, body: st.body, ctype: ctype}).want(st.status)
		got := auditLen(t, ts)
		if st.action == "" {
			if got != before {
				t.Errorf("%s %s (%d) wrote %d entries, want none", st.method, st.path, st.status, got-before)
			}
			continue
		}
		if got != before+1 {
			t.Fatalf("%s %s wrote %d entries, want one", st.method, st.path, got-before)
		}
		es, _, _ := ts.Store.Audit("", 1)
		e := es[0]
		if e.Actor != "bootstrap" || e.Action != st.action || e.Object != st.object || e.Time.IsZero() {
			t.Errorf("%s %s: entry %+v, want %s on %s by bootstrap", st.method, st.path, e, st.action, st.object)
		}
		if strings.HasPrefix(st.body, "{") && !strings.Contains(e.Summary, strings.Fields(st.body)[1]) {
			t.Errorf("%s %s: summary %q does not show the body %s", st.method, st.path, e.Summary, st.body)
		}
	}
	items := ts.admin("GET", "/api/v1/audit?limit=2", "").want(200)
	var page struct {
		Items []rating.AuditEntry
		Next  string
	}
	items.decode(&page)
	if len(page.Items) != 2 || page.Items[0].Object != "tenants/Docs Demo Gone" || page.Next == "" {
		t.Fatalf("GET /audit: %+v", page)
	}
	// CDR intake is usage, not a change of this kind.
	before := auditLen(t, ts)
	ts.admin("POST", "/api/v1/cdrs", `{"id": "a1", "tenant": "Docs Demo Acme", "number": "44", "start": "2026-11-29T10:00:00Z", "duration": 5}`).want(200)
	if auditLen(t, ts) != before {
		t.Error("a CDR post wrote an audit entry")
	}
}

// The admin's forms record their user; the Audit page lists them.
func TestAuditUI(t *testing.T) {
	ts := mustServeUI(t, nil)
	seedUI(t, ts)
	b := newBrowser(ts)
	b.login()
	acme := "/tenants/" + url.PathEscape("Docs Demo Acme")
	b.follow(b.post(acme+"/credits", url.Values{"amount": {"7"}, "kind": {"topup"}, "note": {"Docs Demo cash"}, "token": {"t-1"}}))
	b.post(acme+"/credits", url.Values{"amount": {"x"}, "kind": {"topup"}, "token": {"t-2"}}).want(http.StatusBadRequest)
	b.follow(b.post("/users", url.Values{"name": {"docs-demo-ops"}, "password": {"Docs Demo secret"}}))
	es, _, err := ts.Store.Audit("", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Action != "POST /users" || es[0].Actor != "admin:admin" || strings.Contains(es[0].Summary, "secret") ||
		es[1].Action != "POST /tenants/{name}/credits" || !strings.Contains(es[1].Summary, "amount=7") || strings.Contains(es[1].Summary, "t-1") {
		t.Fatalf("entries %+v", es)
	}
	b.get("/audit").want(http.StatusOK).has("admin:admin", "<code>POST /users</code>", "tenants/Docs Demo Acme/credits", "note=Docs Demo cash")
}
