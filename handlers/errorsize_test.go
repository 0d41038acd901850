package handlers

import (
	"strings"
	"testing"
)

// maxErrorBody bounds an error answer about one huge bad value: the
// message quotes a short excerpt of it, never the whole.
const maxErrorBody = 4 << 10

// TestErrorQuotesAnExcerpt sends one huge bad value in each place a
// caller can put one and checks that the answer names it briefly.
func TestErrorQuotesAnExcerpt(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	ts.admin("POST", "/api/v1/rate-tables", `{"name":"huge"}`).want(201)
	ctl := strings.Repeat(`\u0001`, 1<<18) // 256 Ki control characters, JSON-escaped
	raw := strings.Repeat("\x01", 1<<18)
	big := strings.Repeat("9", 1<<18)
	fs := `"Alice","1001","4479","default","2026-03-10 12:00:00","","2026-03-10 12:01:05","65","60","NORMAL_CLEARING","u1","","acme-pbx","PCMA","PCMA"`
	for name, r := range map[string]response{
		"json start":    ts.post(testToken, "/api/v1/cdrs", `{"id":"1","tenant":"acme","start":"`+ctl+`","duration":1}`, "application/json"),
		"json id":       ts.post(testToken, "/api/v1/cdrs", `[{"id":"`+ctl+`","tenant":"acme","start":"2026-03-10T09:00:00Z","duration":1}]`, "application/json"),
		"json id start": ts.post(testToken, "/api/v1/cdrs", `[{"id":"`+big+`","start":"x","duration":1}]`, "application/json"),
		"json number":   ts.post(testToken, "/api/v1/cdrs", `{"id":"1","number":"`+big+`","start":"2026-03-10T09:00:00Z","duration":1}`, "application/json"),
		"json duration": ts.post(testToken, "/api/v1/cdrs", `{"id":"1","start":"2026-03-10T09:00:00Z","duration":"`+ctl+`"}`, "application/json"),
		"json kind":     ts.post(testToken, "/api/v1/cdrs", `{"id":"1","kind":"`+ctl+`","start":"2026-03-10T09:00:00Z","duration":1}`, "application/json"),
		"json field":    ts.post(testToken, "/api/v1/cdrs", `{"id":"1","`+big+`":1}`, "application/json"),
		"json tenant":   ts.admin("POST", "/api/v1/tenants", `{"name":"`+ctl+`","billing_mode":"prepaid"}`),
		"json mode":     ts.admin("POST", "/api/v1/tenants", `{"name":"x","billing_mode":"`+ctl+`"}`),
		"json decimals": ts.admin("POST", "/api/v1/rate-tables", `{"name":"x","decimals":`+big+`}`),
		"deck cell":     ts.putRates("huge", "", "prefix,destination,rate\n44,UK,"+raw+"\n"),
		"deck prefix":   ts.putRates("huge", "", "prefix,destination,rate\n"+big+",UK,0.1\n"),
		"deck name":     ts.putRates("huge", "", "prefix,destination,rate\n44,"+raw+",0.1\n"),
		"deck column":   ts.putRates("huge", "", "prefix,rate,"+big+"\n44,0.1,1\n"),
		"asterisk":      ts.post(testToken, "/api/v1/cdrs?format=asterisk", strings.Repeat("a,", 9)+raw+strings.Repeat(",1", 8), "text/csv"),
		"freeswitch":    ts.post(testToken, "/api/v1/cdrs?format=freeswitch", strings.Replace(fs, `"60"`, `"`+big+`"`, 1), "text/csv"),
		"freeswitch id": ts.post(testToken, "/api/v1/cdrs?format=freeswitch", strings.Replace(fs, `"u1"`, `"`+big+`"`, 1), "text/csv"),
		"pbx quote":     ts.post(testToken, "/api/v1/cdrs?format=freeswitch", "a"+raw+`"`, "text/csv"),
		"list from":     ts.admin("GET", "/api/v1/cdrs?from="+big, ""),
		"tenant path":   ts.admin("GET", "/api/v1/tenants/"+big[:1<<12], ""),
	} {
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d", name, r.status)
		}
		if len(r.body) > maxErrorBody {
			t.Errorf("%s: a %d-byte answer: %.300s…", name, len(r.body), r.body)
		}
	}
}
