package handlers

import (
	"strings"
	"testing"

	"pbxbill/rating"
)

// TestMetrics counts CDRs and requests, and checks who may scrape them.
func TestMetrics(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	ts.postCDRs(`[{"id":"x1","tenant":"acme","number":"447911123456","start":"2026-03-10T09:00:00Z","duration":60},
		{"id":"x2","tenant":"acme","number":"390612345678","start":"2026-03-10T09:00:00Z","duration":60},
		{"id":"x1","tenant":"acme","number":"447911123456","start":"2026-03-10T09:00:00Z","duration":60}]`)
	ts.postFile("format=asterisk", readTestdata(t, "Master.csv"))
	ts.post(testToken, "/api/v1/cdrs", `{"id":"x3"}`, "").want(400)
	ts.admin("GET", "/api/v1/dashboard/tenants", "").want(200)
	ts.local("/api/v1/authorize?tenant=acme&number=447911123456&format=text").want(200)
	ts.local("/api/v1/price?tenant=acme&number=447911123456").want(400) // no duration

	res := ts.local("/metrics").want(200)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(res.body)
	for _, line := range []string{
		`pbxbill_cdrs_total{status="rated"} 7`, // x1 and the file's 6
		`pbxbill_cdrs_total{status="unrated"} 1`,
		`pbxbill_cdrs_total{status="duplicate"} 1`,
		`pbxbill_cdrs_skipped_total 1`,
		`pbxbill_http_requests_total{handler="cdrs_post",code="200"} 2`,
		`pbxbill_http_requests_total{handler="cdrs_post",code="400"} 1`,
		`pbxbill_http_requests_total{handler="dashboard_tenants",code="200"} 1`,
		`pbxbill_http_requests_total{handler="authorize",code="200"} 1`,
		`pbxbill_http_requests_total{handler="price",code="400"} 1`,
		`pbxbill_http_request_duration_seconds_count{handler="cdrs_post"} 3`,
		`pbxbill_http_request_duration_seconds_bucket{handler="cdrs_post",le="+Inf"} 3`,
		"# TYPE pbxbill_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", line, body)
		}
	}
	// Every series line is a name, optional labels, and a number.
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if f := strings.Fields(l); len(f) != 2 || !strings.HasPrefix(f[0], "pbxbill_") {
			t.Errorf("malformed series line %q", l)
		}
	}

	ts.admin("GET", "/metrics", "").want(200)
	ts.do(req{method: "GET", path: "/metrics", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}}).wantError(401, rating.EUnauthorized)
	var node createdNode
	ts.admin("POST", "/api/v1/nodes", `{"name":"pbx1"}`).want(201).decode(&node)
	ts.do(req{method: "GET", path: "/metrics", token: node.Token}).wantError(403, rating.EForbidden)

	strict := mustServe(t, func(s *server) { s.RatingRequiresToken = true })
	strict.local("/metrics").wantError(401, rating.EUnauthorized)
	strict.admin("GET", "/metrics", "").want(200)
}
