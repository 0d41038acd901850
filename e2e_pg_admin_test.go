package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"pbxbill/store/pg/pgtest"
)

var hrefs = regexp.MustCompile(`href="(/[^"#]*)"`)

// TestAdminPostgres logs in to the browser admin of a node on PostgreSQL
// and follows every link it shows, from the Tenants Dashboard on, after a
// few CDRs and a call in progress: each page answers 200, so every page
// reads what it needs from the PostgreSQL store.
func TestAdminPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	bin := buildBinary(t)
	p := start(t, bin, "-db", pgtest.URL(t), "-demo", "-api-token", nodesToken, "-admin-password", "admin-pass-0123")
	base := "http://" + p.addr
	do(t, base, "POST", "/api/v1/cdrs", `[{"id": "a1", "tenant": "docs-demo-prepaid", "number": "447700900123", "provider": "carrier-a", "start": "2026-11-29T10:00:00Z", "duration": 95},
		{"id": "a2", "tenant": "Docs Demo Postpaid", "number": "9999", "start": "2026-11-29T11:00:00Z", "duration": 30}]`, http.StatusOK)
	q := "/api/v1/authorize?tenant=docs-demo-prepaid&number=%2B41791234567&call=in-progress&format=text"
	if code, body := call(t, http.MethodGet, base+q, nodesToken, nil); code != http.StatusOK || body == "0\n" {
		t.Fatalf("authorize: %d %q", code, body)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := client.PostForm(base+"/login", url.Values{"name": {"admin"}, "password": {"admin-pass-0123"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("log in: %d at %s", res.StatusCode, res.Request.URL)
	}
	seen := map[string]bool{}
	queue := []string{"/tenants"}
	for len(queue) > 0 && len(seen) < 300 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %.300s", path, res.StatusCode, body)
			continue
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue // a CSV export, a download
		}
		for _, m := range hrefs.FindAllStringSubmatch(string(body), -1) {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			if strings.HasPrefix(link, "/static/") || strings.HasPrefix(link, "/logout") || strings.HasPrefix(link, "/api/") {
				continue
			}
			queue = append(queue, link)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("followed only %d pages: %v", len(seen), seen)
	}
	t.Logf("%d admin pages answered on PostgreSQL", len(seen))
}
