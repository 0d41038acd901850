package store

import (
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// TestRejectFollowed: a rejected line moves the position past it in the
// same transaction, is listed newest first with its text cut, and only the
// newest maxRejected are kept.
func TestRejectFollowed(t *testing.T) {
	s := MustOpen(t)
	const path = "/var/log/asterisk/cdr-csv/Master.csv"
	long := strings.Repeat("é", rating.MaxRejectedText) // 2 bytes each
	for i := 1; i <= maxRejected+2; i++ {
		text := "line"
		if i == maxRejected+2 {
			text = long
		}
		l := rating.RejectedLine{Path: path, Line: i, Text: text, Error: "refused"}
		if err := s.RejectFollowed(l, FollowPos{Path: path, Inode: 7, Offset: int64(10 * i), Line: i}); err != nil {
			t.Fatal(err)
		}
	}
	if pos, err := s.FollowPos(path); err != nil || pos.Line != maxRejected+2 || pos.Offset != 10*(maxRejected+2) {
		t.Errorf("position %+v, %v: want past the last rejected line", pos, err)
	}
	all, err := s.RejectedLines(MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != maxRejected || all[0].Line != maxRejected+2 || all[len(all)-1].Line != 3 {
		t.Fatalf("%d rejected lines kept, newest line %d, oldest %d; want %d, %d and 3",
			len(all), all[0].Line, all[len(all)-1].Line, maxRejected, maxRejected+2)
	}
	if got := all[0].Text; len(got) != rating.MaxRejectedText || !strings.HasPrefix(long, got) {
		t.Errorf("a long line kept as %d bytes, want its first %d", len(got), rating.MaxRejectedText)
	}
	if all[0].Path != path || all[0].Error != "refused" || all[0].At.IsZero() {
		t.Errorf("rejected line %+v: want its path, error and time", all[0])
	}
	if page, _ := s.RejectedLines(0); len(page) != DefaultLimit {
		t.Errorf("a limit of 0 gave %d lines, want %d", len(page), DefaultLimit)
	}
}

// TestRejectedBucketFromAnOlderBuild: a file written before the rejected
// lines were kept, a backup say, still opens read-only and checks; it has
// no rejected line. Open adds the bucket.
func TestRejectedBucketFromAnOlderBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "older.db")
	s := MustOpenAt(t, path, Options{})
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketRejected) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatalf("a file without the %s bucket: %v", bucketRejected, err)
	}
	if lines, err := r.RejectedLines(0); err != nil || len(lines) != 0 {
		t.Errorf("rejected lines %v, %v; want none", lines, err)
	}
	if err := r.Check(); err != nil {
		t.Error(err)
	}
	r.Close()
	s = MustOpenAt(t, path, Options{})
	if err := s.RejectFollowed(rating.RejectedLine{Path: "x", Line: 1}, FollowPos{Path: "x", Line: 1}); err != nil {
		t.Errorf("after Open added the bucket: %v", err)
	}
}
