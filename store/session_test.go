package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

const time1h = time.Hour

func TestSessionExpires(t *testing.T) {
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "s.db"), Options{Now: c.Now})
	if err := s.SetAdminPassword(AdminUser, "Docs Demo secret"); err != nil {
		t.Fatal(err)
	}
	tok, sess, err := s.CreateSession(AdminUser, time1h)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Expires.Equal(epoch.Add(time1h)) || sess.User != AdminUser {
		t.Fatalf("session %+v", sess)
	}
	c.Add(59 * time.Minute)
	if got, err := s.Session(tok); err != nil || got.User != AdminUser {
		t.Fatalf("before expiry: %+v, %v", got, err)
	}
	c.Add(time.Minute)
	_, err = s.Session(tok)
	wantCode(t, err, rating.EUnauthorized, "expired")

	// The next login drops the expired session from the file.
	if _, _, err := s.CreateSession(AdminUser, time1h); err != nil {
		t.Fatal(err)
	}
	if n := sessionCount(t, s); n != 1 {
		t.Fatalf("%d sessions stored, want only the live one", n)
	}
}

func TestSessionLogout(t *testing.T) {
	s := MustOpen(t)
	if err := s.SetAdminPassword(AdminUser, "Docs Demo secret"); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.CreateSession(AdminUser, time1h)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.CreateSession(AdminUser, time1h)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two sessions share a token")
	}
	if err := s.DeleteSession(a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(a); err != nil {
		t.Fatalf("logging out twice: %v", err)
	}
	_, err = s.Session(a)
	wantCode(t, err, rating.EUnauthorized)
	if _, err := s.Session(b); err != nil {
		t.Fatalf("the other session ended too: %v", err)
	}
	_, err = s.Session("")
	wantCode(t, err, rating.EUnauthorized)
	_, _, err = s.CreateSession("nobody", time1h)
	wantCode(t, err, rating.ENotFound)
}

func sessionCount(tb testing.TB, s *Store) int {
	tb.Helper()
	n := 0
	if err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketSessions).Stats().KeyN
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return n
}
