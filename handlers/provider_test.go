package handlers

import (
	"testing"

	"pbxbill/rating"
)

func TestProviderCRUD(t *testing.T) {
	ts := mustServe(t)
	ts.mustTable(rating.NewTable("carrier1-buy", rating.Outbound, "EUR"))
	ts.mustTable(rating.NewTable("carrier1-did", rating.Inbound, "EUR"))

	m := ts.admin("POST", "/api/v1/providers", `{"name":"carrier1","trunk":"c1","outbound_rate_table":"carrier1-buy"}`).want(201).obj()
	for k, want := range map[string]any{"name": "carrier1", "trunk": "c1", "status": "active", "balance": "0",
		"outbound_rate_table": "carrier1-buy", "inbound_rate_table": ""} {
		if m[k] != want {
			t.Errorf("created provider %s = %#v, want %#v", k, m[k], want)
		}
	}
	m = ts.admin("PUT", "/api/v1/providers/carrier1", `{"inbound_rate_table":"carrier1-did","status":"suspended"}`).want(200).obj()
	for k, want := range map[string]any{"trunk": "c1", "status": "suspended", "outbound_rate_table": "carrier1-buy",
		"inbound_rate_table": "carrier1-did"} {
		if m[k] != want {
			t.Errorf("updated provider %s = %#v, want %#v", k, m[k], want)
		}
	}
	if got := ts.admin("GET", "/api/v1/providers/carrier1", "").want(200).obj(); got["status"] != "suspended" {
		t.Errorf("GET after PUT: %v", got)
	}
	ts.admin("POST", "/api/v1/providers", `{"name":"carrier2"}`).want(201)
	items := ts.admin("GET", "/api/v1/providers", "").want(200).items()
	if len(items) != 2 || items[0]["name"] != "carrier1" || items[1]["name"] != "carrier2" {
		t.Errorf("providers list: %v", items)
	}

	before := ts.admin("GET", "/api/v1/providers", "").want(200).body
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
		parts              []string
	}{
		{"POST", "/api/v1/providers", `{"name":"carrier1"}`, 409, rating.EConflict, []string{"carrier1"}},
		{"POST", "/api/v1/providers", `{"name":"x","outbound_rate_table":"ghost"}`, 400, rating.EInvalid, []string{"outbound_rate_table", "ghost"}},
		{"POST", "/api/v1/providers", `{"name":"x","outbound_rate_table":"carrier1-did"}`, 400, rating.EInvalid, []string{"outbound_rate_table", "carrier1-did"}},
		{"POST", "/api/v1/providers", `{"name":"x","trunk":7}`, 400, rating.EInvalid, []string{`"trunk"`}},
		{"POST", "/api/v1/providers", `{"name":"x","conference_rate_table":"t"}`, 400, rating.EInvalid, []string{`"conference_rate_table"`}},
		{"PUT", "/api/v1/providers/carrier1", `{"status":"maybe"}`, 400, rating.EInvalid, []string{"status"}},
		{"PUT", "/api/v1/providers/carrier1", `{"balance":"5"}`, 400, rating.EInvalid, []string{"balance"}},
		{"PUT", "/api/v1/providers/carrier1", `{"inbound_rate_table":"carrier1-buy"}`, 400, rating.EInvalid, []string{"inbound_rate_table"}},
		{"PUT", "/api/v1/providers/carrier1", `{"name":"carrier2"}`, 409, rating.EConflict, []string{"carrier2"}},
		{"PUT", "/api/v1/providers/ghost", `{"trunk":"g"}`, 404, rating.ENotFound, []string{"ghost"}},
		{"GET", "/api/v1/providers/ghost", ``, 404, rating.ENotFound, []string{"ghost"}},
		{"DELETE", "/api/v1/providers/ghost", ``, 404, rating.ENotFound, []string{"ghost"}},
	} {
		ts.admin(tc.method, tc.path, tc.body).wantError(tc.status, tc.code, tc.parts...)
		if after := ts.admin("GET", "/api/v1/providers", "").want(200).body; string(after) != string(before) {
			t.Fatalf("%s %s %s changed the providers:\n%s\nto\n%s", tc.method, tc.path, tc.body, before, after)
		}
	}

	ts.admin("DELETE", "/api/v1/providers/carrier2", "").want(204)
	ts.admin("GET", "/api/v1/providers/carrier2", "").wantError(404, rating.ENotFound)
}

func TestProviderCreditsAndLedger(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/providers", `{"name":"carrier1"}`).want(201)
	var c struct {
		Entry   rating.Entry `json:"entry"`
		Balance string       `json:"balance"`
	}
	ts.admin("POST", "/api/v1/providers/carrier1/credits", `{"amount":"100","kind":"topup","note":"wire 7"}`).want(201).decode(&c)
	if c.Balance != "100" || c.Entry.AccountType != rating.ProviderAccount || c.Entry.Ref != "wire 7" {
		t.Errorf("provider topup answered %+v", c)
	}
	// An adjustment needs a note; the refusal changes nothing.
	ts.admin("POST", "/api/v1/providers/carrier1/credits", `{"amount":"-10","kind":"adjustment"}`).
		wantError(400, rating.EInvalid, "note")
	ts.admin("POST", "/api/v1/providers/carrier1/credits", `{"amount":"-10","kind":"adjustment","note":"dispute"}`).want(201).decode(&c)
	if c.Balance != "90" {
		t.Errorf("provider balance %s after -10, want 90", c.Balance)
	}
	testLedger(t, ts, "/api/v1/providers/carrier1/ledger", []string{"-10", "100"})
	ts.admin("GET", "/api/v1/providers/ghost/ledger", "").wantError(404, rating.ENotFound, "ghost")
	ts.admin("DELETE", "/api/v1/providers/carrier1", "").wantError(409, rating.EConflict, "suspend")
}
