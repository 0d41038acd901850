package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowStartOutOfRange follows a file whose middle lines start in
// 2300 and in 1999: they are logged and skipped, the lines around them
// are billed, and the books still balance.
func TestFollowStartOutOfRange(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	appendTo(t, path, acmeCall("1795511702.1", 10))
	appendTo(t, path, strings.ReplaceAll(acmeCall("1795511702.2", 11), "2026-11-24", "2300-01-01"))
	appendTo(t, path, strings.ReplaceAll(acmeCall("1795511702.3", 12), "2026-11-24", "1999-12-31"))
	appendTo(t, path, acmeCall("1795511702.4", 13))
	logs := &syncBuffer{}
	r := startTest(testFollower(st, path, logs))
	waitStored(t, st, 2)
	waitFor(t, logs, `"line":3`)
	r.stop()
	assertBilled(t, st, map[string]int{"1795511702.1": 10, "1795511702.4": 13})
	for _, want := range []string{`"line":2`, `"line":3`, "outside the times pbxbill accepts"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %s:\n%s", want, logs)
		}
	}
	if err := st.Check(); err != nil {
		t.Error(err)
	}
}
