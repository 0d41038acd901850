package handlers

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// rateServer serves tenants over these outbound tables:
//
//	retail (4 decimals, half_up, 60/60): 44 0.02; 447 0.08 +0.01 30/6, and
//	    0.07 from 2030-01-01; 49 0.05 30/6; 39 0.6 +0.05 grace 5; * 0.5
//	uk (2 decimals, up, 1/1): 44 0.05 +0.15
func rateServer(t *testing.T, opts ...func(*server)) *testServer {
	ts := mustServe(t, opts...)
	mobile := row(t, "447", "0.08")
	mobile.Destination, mobile.ConnectFee, mobile.InitialIncrement, mobile.Increment = "UK Mobile", amt(t, "0.01"), 30, 6
	mobile2030 := mobile
	mobile2030.Rate, mobile2030.EffectiveFrom = amt(t, "0.07"), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	de := row(t, "49", "0.05")
	de.InitialIncrement, de.Increment = 30, 6
	it := row(t, "39", "0.6")
	it.ConnectFee, it.Grace = amt(t, "0.05"), 5
	uk := row(t, "44", "0.05")
	uk.ConnectFee = amt(t, "0.15")
	ts.mustTable(rating.NewTable("retail", rating.Outbound, "EUR"),
		row(t, "44", "0.02"), mobile, mobile2030, de, it, row(t, "*", "0.5"))
	ukTable := rating.NewTable("uk", rating.Outbound, "EUR")
	ukTable.Decimals, ukTable.Rounding, ukTable.InitialIncrement, ukTable.Increment = 2, rating.Up, 1, 1
	ts.mustTable(ukTable, uk)
	ts.mustTenant(rating.Tenant{Name: "acme", OutboundTable: "retail"}, "10")
	ts.mustTenant(rating.Tenant{Name: "ukonly", OutboundTable: "uk"}, "10")
	ts.mustTenant(rating.Tenant{Name: "noout"}, "10")
	return ts
}

func TestRate(t *testing.T) {
	ts := rateServer(t)

	m := ts.local("/api/v1/rate?tenant=acme&number=" + url.QueryEscape("+44 (7911) 123-456")).want(200).obj()
	for k, want := range map[string]any{"tenant": "acme", "kind": "outbound", "number": "447911123456",
		"rate_table": "retail", "prefix": "447", "destination": "UK Mobile", "rate": "0.08", "connect_fee": "0.01",
		"initial_increment": 30.0, "increment": 6.0, "initial_rate": "0.08", "grace": 0.0, "min_cost": nil,
		"max_cost": nil, "effective_from": nil, "currency": "EUR"} {
		if v, ok := m[k]; !ok || v != want {
			t.Errorf("rate %s = %#v, want %#v", k, v, want)
		}
	}

	// The row in force at ?at= applies.
	m = ts.local("/api/v1/rate?tenant=acme&number=447911123456&at=2030-06-01T00:00:00Z").want(200).obj()
	if m["rate"] != "0.07" || m["effective_from"] != "2030-01-01T00:00:00Z" {
		t.Errorf("rate at 2030: %v", m)
	}
	m = ts.local("/api/v1/rate?tenant=acme&number=442079460000&kind=outbound").want(200).obj()
	if m["prefix"] != "44" || m["initial_increment"] != 60.0 || m["increment"] != 60.0 {
		t.Errorf("table defaults not applied: %v", m)
	}
	if m = ts.local("/api/v1/rate?tenant=acme&number=3312345").want(200).obj(); m["prefix"] != "*" {
		t.Errorf("wildcard not matched: %v", m)
	}

	for _, tc := range []struct {
		query  string
		status int
		code   string
		parts  []string
	}{
		{"tenant=ghost&number=44", 404, rating.ENotFound, []string{"ghost"}},
		{"tenant=noout&number=44", 404, rating.ENotFound, []string{"tenant noout has no outbound rate table"}},
		{"tenant=acme&number=44&kind=inbound", 404, rating.ENotFound, []string{"tenant acme has no inbound rate table"}},
		{"tenant=ukonly&number=3312345", 404, rating.ENotFound, []string{"no rate for 3312345 in table uk"}},
		{"tenant=acme&number=44x1", 400, rating.EInvalid, []string{"44x1"}},
		{"tenant=acme&number=" + url.QueryEscape("+"), 400, rating.EInvalid, []string{"number"}},
		{"tenant=acme&number=44&kind=sideways", 400, rating.EInvalid, []string{"sideways"}},
		{"tenant=acme&number=44&at=yesterday", 400, rating.EInvalid, []string{"at", "yesterday"}},
		{"number=44", 400, rating.EInvalid, []string{"tenant"}},
		{"tenant=acme", 400, rating.EInvalid, []string{"number"}},
	} {
		ts.local("/api/v1/rate?"+tc.query).wantError(tc.status, tc.code, tc.parts...)
	}

	// International access prefixes are removed once.
	intl := rateServer(t, func(s *server) { s.Store.Rater().Numbering = rating.Numbering{IntlPrefixes: []string{"00", "011"}} })
	if m := intl.local("/api/v1/rate?tenant=acme&number=00447911123456").want(200).obj(); m["number"] != "447911123456" || m["prefix"] != "447" {
		t.Errorf("00 not removed: %v", m)
	}
}

func TestPrice(t *testing.T) {
	ts := rateServer(t)
	for _, tc := range []struct {
		tenant, number string
		duration       int
		billed         int
		cost           string
	}{
		// DOMAIN.md's examples.
		{"acme", "4930123", 45, 48, "0.0400"},
		{"acme", "3906123", 5, 0, "0.0000"},
		{"acme", "3906123", 6, 60, "0.6500"},
		{"acme", "3906123", 0, 0, "0.0000"},
		{"ukonly", "4420123", 25, 25, "0.18"},
		// 60/60 at 0.02: a minute started is a minute billed.
		{"acme", "4420123", 61, 120, "0.0400"},
	} {
		q := url.Values{"tenant": {tc.tenant}, "number": {tc.number}, "duration": {strconv.Itoa(tc.duration)}}
		m := ts.local("/api/v1/price?" + q.Encode()).want(200).obj()
		if m["billed_seconds"] != float64(tc.billed) || m["cost"] != tc.cost {
			t.Errorf("%s %s %ds: billed %v cost %v, want %d %s", tc.tenant, tc.number, tc.duration,
				m["billed_seconds"], m["cost"], tc.billed, tc.cost)
		}
		if m["rate_table"] == nil || m["prefix"] == nil || m["currency"] != "EUR" {
			t.Errorf("price lacks the rate fields: %v", m)
		}
	}
	for _, d := range []string{"-1", "1.5", "abc", "", "99999999999"} {
		ts.local("/api/v1/price?tenant=acme&number=44&duration="+url.QueryEscape(d)).wantError(400, rating.EInvalid, "duration")
	}
	ts.local("/api/v1/price?tenant=ghost&number=44&duration=60").wantError(404, rating.ENotFound, "ghost")
	ts.local("/api/v1/price?tenant=ukonly&number=33&duration=60").wantError(404, rating.ENotFound, "no rate for 33")
}

func TestLCR(t *testing.T) {
	ts := mustServe(t)
	at2030 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cheap2030 := row(t, "44", "0.001")
	cheap2030.EffectiveFrom = at2030
	c2 := row(t, "44", "0.008")
	c2.ConnectFee, c2.Destination = amt(t, "0.01"), "UK"
	ts.mustTable(rating.NewTable("buy1", rating.Outbound, "EUR"), row(t, "44", "0.010"), cheap2030)
	ts.mustTable(rating.NewTable("buy2", rating.Outbound, "EUR"), c2)
	ts.mustTable(rating.NewTable("buy3", rating.Outbound, "EUR"), row(t, "44", "0.005"))
	ts.mustTable(rating.NewTable("buy5", rating.Outbound, "EUR"), row(t, "33", "0.001"))
	ts.mustTable(rating.NewTable("buy6", rating.Outbound, "EUR"), row(t, "4420", "0.010"))
	for _, p := range []rating.Provider{
		{Name: "c1", Trunk: "trunk1", Status: rating.Active, OutboundTable: "buy1"},
		{Name: "c2", Trunk: "trunk2", Status: rating.Active, OutboundTable: "buy2"},
		{Name: "c3", Status: rating.Suspended, OutboundTable: "buy3"},
		{Name: "c4", Status: rating.Active},
		{Name: "c5", Status: rating.Active, OutboundTable: "buy5"},
		{Name: "c6", Status: rating.Active, OutboundTable: "buy6"},
	} {
		if _, err := ts.Store.CreateProvider(p); err != nil {
			t.Fatal(err)
		}
	}

	var l struct {
		Items []lcrItem `json:"items"`
		Next  *string   `json:"next"`
	}
	ts.local("/api/v1/lcr?number=" + url.QueryEscape("+44 20 7946 0000")).want(200).decode(&l)
	var order []string
	for _, it := range l.Items {
		order = append(order, it.Provider)
	}
	// Cheapest rate first; equal rates by connect fee, then by name. The
	// suspended c3 is left out although it is cheapest.
	if want := "c2 c1 c6"; strings.Join(order, " ") != want || l.Next == nil || *l.Next != "" {
		t.Fatalf("lcr order %v, want %s (%+v)", order, want, l)
	}
	want := lcrItem{Provider: "c2", Trunk: "trunk2", rateFields: rateFields{RateTable: "buy2", Prefix: "44",
		Destination: "UK", Rate: amt(t, "0.008"), ConnectFee: amt(t, "0.01"), InitialIncrement: 60, Increment: 60,
		InitialRate: amt(t, "0.008"), MinCost: rating.NoAmount, MaxCost: rating.NoAmount, Currency: "EUR"}}
	if l.Items[0] != want {
		t.Errorf("lcr item %+v, want %+v", l.Items[0], want)
	}
	if l.Items[2].Prefix != "4420" {
		t.Errorf("c6 offer prefix %q, want the longest, 4420", l.Items[2].Prefix)
	}

	ts.local("/api/v1/lcr?number=4420&at=2030-02-01T00:00:00Z").want(200).decode(&l)
	if len(l.Items) != 3 || l.Items[0].Provider != "c1" || l.Items[0].Rate != amt(t, "0.001") {
		t.Errorf("lcr in 2030: %+v", l.Items)
	}
	ts.local("/api/v1/lcr?number=999").want(200).decode(&l)
	if len(l.Items) != 0 {
		t.Errorf("lcr for an unrated number: %+v", l.Items)
	}
	ts.local("/api/v1/lcr").wantError(400, rating.EInvalid, "number")
	ts.local("/api/v1/lcr?number=44abc").wantError(400, rating.EInvalid, "44abc")
	ts.local("/api/v1/lcr?number=44&at=2030").wantError(400, rating.EInvalid, "at")
}
