package handlers

import (
	"net/url"
	"strconv"
	"testing"

	"pbxbill/rating"
)

// authorizeServer serves these outbound tables and tenants:
//
//	t60 (4 decimals, half_up, 60/60): 44 0.06; 45 0.06 +0.10; 46 free;
//	    47 6.00
//	t1 (2 decimals, half_up, 1/1): 44 0.5
//
//	pre: prepaid, 1.00, t60          post: postpaid, limit 2, 0.00, t60
//	low: prepaid, 1.00, threshold 5  half: prepaid, 0.10, t1
//	susp: suspended, 100.00          broke: prepaid, 0.00
func authorizeServer(t testing.TB, opts ...func(*server)) *testServer {
	ts := mustServe(t, opts...)
	connect := row(t, "45", "0.06")
	connect.ConnectFee = amt(t, "0.10")
	ts.mustTable(rating.NewTable("t60", rating.Outbound, "EUR"),
		row(t, "44", "0.06"), connect, row(t, "46", "0"), row(t, "47", "6.00"))
	t1 := rating.NewTable("t1", rating.Outbound, "EUR")
	t1.Decimals, t1.InitialIncrement, t1.Increment = 2, 1, 1
	ts.mustTable(t1, row(t, "44", "0.5"))

	ts.mustTenant(rating.Tenant{Name: "pre", OutboundTable: "t60"}, "1.00")
	ts.mustTenant(rating.Tenant{Name: "post", BillingMode: rating.Postpaid, CreditLimit: mustMoney(t, "2"), OutboundTable: "t60"}, "")
	ts.mustTenant(rating.Tenant{Name: "low", LowBalanceThreshold: mustMoney(t, "5"), OutboundTable: "t60"}, "1.00")
	ts.mustTenant(rating.Tenant{Name: "half", OutboundTable: "t1"}, "0.10")
	ts.mustTenant(rating.Tenant{Name: "susp", Status: rating.Suspended, OutboundTable: "t60"}, "100")
	ts.mustTenant(rating.Tenant{Name: "broke", OutboundTable: "t60"}, "")
	return ts
}

type authorizeCase struct {
	tenant, number, kind string
	allowed              bool
	max                  int
	reason, state        string
	rated                bool // the answer carries rate fields
}

// The maximum durations are worked out by hand:
//
//	pre 44: 0.06/min is 0.001/s; 1.00 buys 1000 s; the last whole minute
//	    is 960.
//	pre 45: the connect fee leaves 0.90, 900 s, exactly 15 minutes.
//	post 44: balance 0 + limit 2 buys 2000 s; 1980.
//	half 44: 0.5/min per second, rounded half up to cents: 12 s cost
//	    0.10, 13 s cost 0.1083 → 0.11.
//	pre 47: one minute costs 6.00 > 1.00.
var authorizeCases = []authorizeCase{
	{"pre", "4420", "", true, 960, "ok", "ok", true},
	{"pre", "4520", "", true, 900, "ok", "ok", true},
	{"pre", "4620", "", true, 10800, "ok", "ok", true},
	{"post", "4420", "", true, 1980, "ok", "ok", true},
	{"low", "4420", "", true, 960, "ok", "low", true},
	{"half", "4420", "", true, 12, "ok", "ok", true},
	{"pre", "4720", "", false, 0, "insufficient_credit", "ok", true},
	{"susp", "4420", "", false, 0, "suspended", "suspended", true},
	{"broke", "4420", "", false, 0, "blocked", "blocked", true},
	{"ghost", "4420", "", false, 0, "unknown_tenant", "", false},
	{"pre", "4420", "inbound", false, 0, "no_table", "ok", false},
	{"pre", "44-20-x", "", false, 0, "invalid_number", "ok", false},
	{"pre", "3320", "", false, 0, "unrated", "ok", false},
}

func TestAuthorize(t *testing.T) {
	ts := authorizeServer(t)
	for _, tc := range authorizeCases {
		q := url.Values{"tenant": {tc.tenant}, "number": {tc.number}}
		if tc.kind != "" {
			q.Set("kind", tc.kind)
		}
		m := ts.local("/api/v1/authorize?" + q.Encode()).want(200).obj()
		name := tc.tenant + " " + tc.number
		if m["allowed"] != tc.allowed || m["max_duration"] != float64(tc.max) || m["reason"] != tc.reason {
			t.Errorf("%s: allowed %v max %v reason %v, want %v %d %s", name, m["allowed"], m["max_duration"], m["reason"],
				tc.allowed, tc.max, tc.reason)
		}
		if tc.state == "" {
			if m["state"] != nil || m["available"] != nil {
				t.Errorf("%s: state %v available %v, want null", name, m["state"], m["available"])
			}
		} else if m["state"] != tc.state || m["available"] == nil {
			t.Errorf("%s: state %v available %v, want %s", name, m["state"], m["available"], tc.state)
		}
		if _, ok := m["rate"]; ok != tc.rated {
			t.Errorf("%s: rate fields present %v, want %v: %v", name, ok, tc.rated, m)
		}
		if m["tenant"] != tc.tenant {
			t.Errorf("%s: tenant %v", name, m["tenant"])
		}

		q.Set("format", "text")
		r := ts.local("/api/v1/authorize?" + q.Encode()).want(200)
		if want := strconv.Itoa(tc.max) + "\n"; string(r.body) != want {
			t.Errorf("%s text: %q, want %q", name, r.body, want)
		}
	}

	m := ts.local("/api/v1/authorize?tenant=pre&number=%2B44%2020").want(200).obj()
	if m["number"] != "4420" || m["prefix"] != "44" || m["rate"] != "0.06" || m["available"] != "1" || m["rate_table"] != "t60" {
		t.Errorf("authorize fields: %v", m)
	}

	// The text form answers 0, status 200, to any failure.
	for _, query := range []string{"tenant=pre", "number=44", "tenant=pre&number=44&kind=sideways", "tenant=pre&number=44&at=now"} {
		r := ts.local("/api/v1/authorize?" + query + "&format=text").want(200)
		if string(r.body) != "0\n" {
			t.Errorf("%s: %q, want 0", query, r.body)
		}
		if query == "tenant=pre" {
			continue // an empty number is an answer, below
		}
		ts.local("/api/v1/authorize?"+query).wantError(400, rating.EInvalid)
	}
	// An empty number is DOMAIN.md's reason invalid_number, not a bad
	// request; an unknown tenant still comes first.
	for query, reason := range map[string]string{"tenant=pre": "invalid_number", "tenant=pre&number=": "invalid_number",
		"tenant=nobody&number=": "unknown_tenant"} {
		if m := ts.local("/api/v1/authorize?" + query).want(200).obj(); m["reason"] != reason || m["allowed"] != false {
			t.Errorf("%s: %v, want reason %s", query, m, reason)
		}
	}
}

// TestAuthorizeMaxCallDuration: the installation's cap bounds every answer.
func TestAuthorizeMaxCallDuration(t *testing.T) {
	ts := authorizeServer(t, func(s *server) { s.MaxCallDuration = 600 })
	for number, want := range map[string]string{"4420": "600\n", "4620": "600\n", "4720": "0\n"} {
		r := ts.local("/api/v1/authorize?tenant=pre&format=text&number=" + number).want(200)
		if string(r.body) != want {
			t.Errorf("%s capped at 600: %q, want %q", number, r.body, want)
		}
	}
	// half's 12 s is below the cap.
	if r := ts.local("/api/v1/authorize?tenant=half&number=44&format=text").want(200); string(r.body) != "12\n" {
		t.Errorf("half: %q", r.body)
	}
}

// The dialplan has ${CDR(accountcode)}, not the tenant's name: both work,
// and the answer names the tenant.
func TestAuthorizeByAccountCode(t *testing.T) {
	ts := authorizeServer(t)
	ts.mustTenant(rating.Tenant{Name: "Docs Demo Acme", AccountCode: "acme-pbx", OutboundTable: "t60"}, "1.00")
	r := ts.local("/api/v1/authorize?tenant=acme-pbx&number=4420")
	var out struct {
		Tenant      string `json:"tenant"`
		MaxDuration int    `json:"max_duration"`
	}
	r.want(200).decode(&out)
	if out.Tenant != "Docs Demo Acme" || out.MaxDuration != 960 {
		t.Errorf("by accountcode: %+v, want Docs Demo Acme and 960 s", out)
	}
	if body := string(ts.local("/api/v1/authorize?tenant=acme-pbx&number=4420&format=text").want(200).body); body != "960\n" {
		t.Errorf("text form %q", body)
	}
}
