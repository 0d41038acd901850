package handlers

import (
	"fmt"
	"testing"
	"time"

	"pbxbill/rating"
)

// TestCDRStartUnixSeconds posts starts as Unix seconds, a JSON number as
// Kamailio's $TV(s) gives it, at the edges of the accepted range
// (rating.MinStart ≤ start < rating.MaxStart) and beyond what an int64
// holds: an edge inside is stored as that instant, one outside is
// malformed and stores nothing.
func TestCDRStartUnixSeconds(t *testing.T) {
	ts := usageServer(t)
	usageFixture(ts)
	minS, maxS := rating.MinStart().Unix(), rating.MaxStart().Unix()
	for i, c := range []struct {
		start string // the JSON value as posted
		want  time.Time
		err   string // a part of the message when refused
	}{
		{start: fmt.Sprint(minS), want: rating.MinStart()},
		{start: fmt.Sprint(maxS - 1), want: rating.MaxStart().Add(-time.Second)},
		{start: "1773133200", want: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)},
		{start: `"1773133200"`, want: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)},
		{start: fmt.Sprint(minS - 1), err: "2000-01-01 to 2200-01-01"},
		{start: fmt.Sprint(maxS), err: "2200-01-01"},
		{start: "0", err: "2000-01-01 to 2200-01-01"},
		{start: "-1773133200", err: "2000-01-01 to 2200-01-01"},
		{start: "9223372036854775807", err: "2000-01-01 to 2200-01-01"},
		{start: "99999999999999999999999", err: "2000-01-01 to 2200-01-01"},
		{start: "1773133200.5", err: "whole Unix seconds"},
		{start: "1.7e9", err: "whole Unix seconds"},
		{start: "true", err: "whole Unix seconds"},
		{start: "null", err: "required"},
		{start: `""`, err: "required"},
		{start: `"yesterday"`, err: "RFC 3339"},
	} {
		body := fmt.Sprintf(`{"id":"u%d","tenant":"acme","number":"447911123456","start":%s,"duration":60}`, i, c.start)
		if c.err != "" {
			ts.post(testToken, "/api/v1/cdrs", body, "application/json").wantError(400, rating.EInvalid, "start", c.err, "nothing was stored")
			continue
		}
		if p := ts.postCDRs(body); p.Rated != 1 {
			t.Errorf("start %s: %+v", c.start, p)
		}
	}
	var list struct {
		Items []rating.CDR `json:"items"`
	}
	ts.admin("GET", "/api/v1/cdrs", "").want(200).decode(&list)
	if len(list.Items) != 4 {
		t.Fatalf("stored %d CDRs, want 4", len(list.Items))
	}
	got := map[string]time.Time{}
	for _, c := range list.Items {
		got[c.ID] = c.Start.UTC()
	}
	for id, want := range map[string]time.Time{"u0": rating.MinStart(), "u1": rating.MaxStart().Add(-time.Second),
		"u2": time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), "u3": time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)} {
		if !got[id].Equal(want) {
			t.Errorf("cdr %s: stored start %s, want %s", id, got[id], want)
		}
	}
}
