package handlers

import (
	"net/http"
	"testing"

	"pbxbill/rating"
	"pbxbill/store"
)

// TestRejectedLines: the follow mode's rejected lines are listed by the
// API, newest first, and on the admin's Usage page, escaped.
func TestRejectedLines(t *testing.T) {
	ts := mustServeUI(t, nil)
	st := ts.Store
	const path = "/var/log/asterisk/cdr-csv/Master.csv"
	for i, text := range []string{`"acme","1001","<b>4420</b>"`, `"acme","1001","4421"`} {
		l := rating.RejectedLine{Path: path, Line: 7 + i, Text: text, Error: `cdr "x": the balance would be beyond its bound`}
		if err := st.RejectFollowed(l, store.FollowPos{Path: path, Line: 7 + i}); err != nil {
			t.Fatal(err)
		}
	}
	ts.do(req{method: http.MethodGet, path: "/api/v1/cdrs/rejected"}).want(http.StatusUnauthorized)
	items := ts.admin(http.MethodGet, "/api/v1/cdrs/rejected", "").want(http.StatusOK).items()
	if len(items) != 2 || items[0]["line"] != float64(8) || items[0]["path"] != path || items[1]["text"] != `"acme","1001","<b>4420</b>"` {
		t.Errorf("rejected lines %v, want lines 8 and 7 with path and text", items)
	}
	if items := ts.admin(http.MethodGet, "/api/v1/cdrs/rejected?limit=1", "").want(http.StatusOK).items(); len(items) != 1 {
		t.Errorf("limit=1 gave %d lines", len(items))
	}
	b := newBrowser(ts)
	b.login()
	b.get("/usage").want(http.StatusOK).has("Rejected lines", path, "&lt;b&gt;4420&lt;/b&gt;", "beyond its bound").hasNot("<b>4420</b>")
}
