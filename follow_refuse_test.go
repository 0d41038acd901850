package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"pbxbill/rating"
	"pbxbill/store"
)

// refusingStore is a store that refuses every batch holding the CDR with
// id refuse, for good as the balance bound does, and fails the next
// transient commits with a plain error, as a full disk does.
type refusingStore struct {
	*store.Store
	refuse    string
	transient int
}

func (s *refusingStore) PostFollowed(node string, cdrs []rating.CDR, pos store.FollowPos) (rating.Posted, error) {
	if s.transient > 0 {
		s.transient--
		return rating.Posted{}, errors.New("write follow.db: no space left on device")
	}
	for _, c := range cdrs {
		if c.ID == s.refuse {
			return rating.Posted{}, rating.Invalidf("amount", "cdr %q: the balance of \"Acme\" would be beyond its bound", c.ID)
		}
	}
	return s.Store.PostFollowed(node, cdrs, pos)
}

// TestFollowRefusedLine: a line that the store refuses for good is set
// aside, named by its file and line, and the lines around it, in the same
// batch and after it, are billed.
func TestFollowRefusedLine(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	logs := &syncBuffer{}
	rs := &refusingStore{Store: st, refuse: "a.3"}
	fl := testFollower(st, path, logs)
	fl.st = rs
	ctx := context.Background()
	appendTo(t, path, acmeCall("a.1", 11)+acmeCall("a.2", 12)+internal+acmeCall("a.3", 13)+acmeCall("a.4", 14)+"not a CDR\n"+acmeCall("a.5", 15))
	fl.poll(ctx)
	want := map[string]int{"a.1": 11, "a.2": 12, "a.4": 14, "a.5": 15}
	assertBilled(t, st, want)
	if pos := position(t, st, path); pos.Line != 7 {
		t.Errorf("position %+v, want past all 7 lines", pos)
	}
	rejected, err := st.RejectedLines(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 1 || rejected[0].Path != path || rejected[0].Line != 4 ||
		rejected[0].Text+"\n" != acmeCall("a.3", 13) || !strings.Contains(rejected[0].Error, "beyond its bound") {
		t.Errorf("rejected %+v, want line 4 of %s with its text and the store's reason", rejected, path)
	}
	if !strings.Contains(logs.String(), `"line":4`) || !strings.Contains(logs.String(), "refused by the store") {
		t.Errorf("the log does not name the refused line 4:\n%s", logs)
	}

	// A transient failure is retried from the last committed position:
	// nothing is set aside.
	rs.transient = 1
	appendTo(t, path, acmeCall("b.1", 21))
	fl.poll(ctx)
	if pos := position(t, st, path); pos.Line != 7 {
		t.Errorf("position %+v after a failed commit, want it unchanged", pos)
	}
	fl.poll(ctx)
	want["b.1"] = 21
	assertBilled(t, st, want)
	if rejected, _ := st.RejectedLines(0); len(rejected) != 1 {
		t.Errorf("%d rejected lines after a transient failure, want still 1", len(rejected))
	}
	if fl.rejected != 1 || fl.rated != 5 || fl.badLines != 1 {
		t.Errorf("%d rejected, %d rated, %d bad lines; want 1, 5 and 1 (line 6, logged once)", fl.rejected, fl.rated, fl.badLines)
	}
}
