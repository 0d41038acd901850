package handlers

import (
	"testing"

	"pbxbill/rating"
)

func TestRateTableCRUD(t *testing.T) {
	ts := mustServe(t)

	// Left-out settings take rating.NewTable's defaults.
	m := ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail"}`).want(201).obj()
	def := rating.NewTable("retail", rating.Outbound, "EUR")
	for k, want := range map[string]any{"name": "retail", "kind": "outbound", "currency": "EUR",
		"decimals": float64(def.Decimals), "rounding": def.Rounding.String(),
		"initial_increment": float64(def.InitialIncrement), "increment": float64(def.Increment)} {
		if m[k] != want {
			t.Errorf("created table %s = %#v, want %#v", k, m[k], want)
		}
	}
	m = ts.admin("POST", "/api/v1/rate-tables",
		`{"name":"dids","kind":"inbound","decimals":2,"rounding":"up","initial_increment":0,"increment":6}`).want(201).obj()
	for k, want := range map[string]any{"kind": "inbound", "decimals": 2.0, "rounding": "up", "initial_increment": 0.0, "increment": 6.0} {
		if m[k] != want {
			t.Errorf("created table %s = %#v, want %#v", k, m[k], want)
		}
	}

	// PUT changes only what it names.
	m = ts.admin("PUT", "/api/v1/rate-tables/retail", `{"decimals":2,"rounding":"down"}`).want(200).obj()
	for k, want := range map[string]any{"kind": "outbound", "decimals": 2.0, "rounding": "down", "initial_increment": 60.0, "increment": 60.0} {
		if m[k] != want {
			t.Errorf("updated table %s = %#v, want %#v", k, m[k], want)
		}
	}
	if got := ts.admin("GET", "/api/v1/rate-tables/retail", "").want(200).obj(); got["rounding"] != "down" {
		t.Errorf("GET after PUT: %v", got)
	}

	if items := ts.admin("GET", "/api/v1/rate-tables", "").want(200).items(); len(items) != 2 {
		t.Errorf("all tables: %v", items)
	}
	items := ts.admin("GET", "/api/v1/rate-tables?kind=inbound", "").want(200).items()
	if len(items) != 1 || items[0]["name"] != "dids" {
		t.Errorf("inbound tables: %v", items)
	}
	ts.admin("GET", "/api/v1/rate-tables?kind=sideways", "").wantError(400, rating.EInvalid, "sideways")

	before := ts.admin("GET", "/api/v1/rate-tables", "").want(200).body
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
		parts              []string
	}{
		{"POST", "/api/v1/rate-tables", `{"name":"retail"}`, 409, rating.EConflict, []string{"retail"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","decimals":9}`, 400, rating.EInvalid, []string{"decimals", "9"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","decimals":-1}`, 400, rating.EInvalid, []string{"decimals"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","increment":0}`, 400, rating.EInvalid, []string{"increment", "0"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","increment":3601}`, 400, rating.EInvalid, []string{"increment", "3601"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","initial_increment":-1}`, 400, rating.EInvalid, []string{"initial_increment"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","kind":"sideways"}`, 400, rating.EInvalid, []string{"kind", "sideways"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","rounding":"bankers"}`, 400, rating.EInvalid, []string{"rounding", "bankers"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","decimals":"4"}`, 400, rating.EInvalid, []string{`"decimals"`, "whole number"}},
		{"POST", "/api/v1/rate-tables", `{"name":"x","currency":"USD"}`, 400, rating.EInvalid, []string{`unknown field "currency"`}},
		{"POST", "/api/v1/rate-tables", `{"name":""}`, 400, rating.EInvalid, []string{"name"}},
		{"POST", "/api/v1/rate-tables", `{"name":"a/b"}`, 400, rating.EInvalid, []string{"name"}},
		{"PUT", "/api/v1/rate-tables/retail", `{"increment":0}`, 400, rating.EInvalid, []string{"increment"}},
		{"PUT", "/api/v1/rate-tables/retail", `{"decimals":12}`, 400, rating.EInvalid, []string{"decimals", "12"}},
		{"PUT", "/api/v1/rate-tables/retail", `{"name":"dids"}`, 409, rating.EConflict, []string{"dids"}},
		{"PUT", "/api/v1/rate-tables/ghost", `{"decimals":2}`, 404, rating.ENotFound, []string{"ghost"}},
		{"GET", "/api/v1/rate-tables/ghost", ``, 404, rating.ENotFound, []string{"ghost"}},
		{"DELETE", "/api/v1/rate-tables/ghost", ``, 404, rating.ENotFound, []string{"ghost"}},
	} {
		ts.admin(tc.method, tc.path, tc.body).wantError(tc.status, tc.code, tc.parts...)
		if after := ts.admin("GET", "/api/v1/rate-tables", "").want(200).body; string(after) != string(before) {
			t.Fatalf("%s %s %s changed the tables:\n%s\nto\n%s", tc.method, tc.path, tc.body, before, after)
		}
	}
}

func TestRateTableInUse(t *testing.T) {
	ts := mustServe(t)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"retail"}`).want(201)
	ts.admin("POST", "/api/v1/tenants", `{"name":"acme","outbound_rate_table":"retail"}`).want(201)
	ts.admin("POST", "/api/v1/providers", `{"name":"carrier1","outbound_rate_table":"retail"}`).want(201)

	var got struct {
		UsedBy []string `json:"used_by"`
	}
	ts.admin("GET", "/api/v1/rate-tables/retail", "").want(200).decode(&got)
	if len(got.UsedBy) != 2 {
		t.Errorf("used_by %v, want the tenant and the provider", got.UsedBy)
	}

	ts.admin("DELETE", "/api/v1/rate-tables/retail", "").wantError(409, rating.EConflict, "tenant acme", "provider carrier1")
	ts.admin("PUT", "/api/v1/rate-tables/retail", `{"kind":"inbound"}`).wantError(409, rating.EConflict, "acme")
	if m := ts.admin("GET", "/api/v1/rate-tables/retail", "").want(200).obj(); m["kind"] != "outbound" {
		t.Errorf("kind changed to %v while in use", m["kind"])
	}

	// A rename follows into the users.
	ts.admin("PUT", "/api/v1/rate-tables/retail", `{"name":"retail-2024"}`).want(200)
	if m := ts.admin("GET", "/api/v1/tenants/acme", "").want(200).obj(); m["outbound_rate_table"] != "retail-2024" {
		t.Errorf("tenant's table after rename: %v", m["outbound_rate_table"])
	}

	ts.admin("PUT", "/api/v1/tenants/acme", `{"outbound_rate_table":""}`).want(200)
	ts.admin("DELETE", "/api/v1/rate-tables/retail-2024", "").wantError(409, rating.EConflict, "provider carrier1")
	ts.admin("PUT", "/api/v1/providers/carrier1", `{"outbound_rate_table":""}`).want(200)
	ts.admin("DELETE", "/api/v1/rate-tables/retail-2024", "").want(204)
	ts.admin("GET", "/api/v1/rate-tables/retail-2024", "").wantError(404, rating.ENotFound)
}
