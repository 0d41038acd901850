package store

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"pbxbill/rating"
)

// sum is the SHA-256 of the file at path.
func sum(tb testing.TB, path string) [sha256.Size]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOpenReadOnly: a database opened read-only reads as it does opened
// for writing, refuses every change, and is left byte for byte as it was.
func TestOpenReadOnly(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "4420", "carrier-a", 60)}); err != nil {
		t.Fatal(err)
	}
	path := s.db.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := sum(t, path)
	r, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Error(err)
	}
	if tn, err := r.Tenant("Acme"); err != nil || tn.Balance.Sign() >= 0 {
		t.Errorf("tenant: %+v, %v", tn, err)
	}
	if x := r.Book().Get("Sell Out"); x == nil || x.Table().Rows != 2 {
		t.Errorf("the book does not hold the tables")
	}
	if _, err := r.CreateTenant(rating.Tenant{Name: "Beta", BillingMode: rating.Prepaid, Status: rating.Active}); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("a change: %v", err)
	}
	// One CDR goes through the group commit.
	if _, err := r.PostCDRs("", []rating.CDR{cdr("c2", "acme", rating.Outbound, "4420", "carrier-a", 60)}); !errors.Is(err, berrors.ErrDatabaseReadOnly) {
		t.Errorf("a post: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if sum(t, path) != before {
		t.Error("the file changed")
	}
}

// TestOpenReadOnlyRefuses: what Open would create or fix, a read-only
// open refuses with an error that says what is wrong.
func TestOpenReadOnlyRefuses(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, fill func(path string)) string {
		path := filepath.Join(dir, name)
		fill(path)
		return path
	}
	write := func(b []byte) func(string) {
		return func(path string) {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	bbolt := func(fn func(tx *bolt.Tx) error) func(string) {
		return func(path string) {
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(fn); err != nil {
				t.Fatal(err)
			}
		}
	}
	pbxbill := func(fn func(tx *bolt.Tx) error) func(string) {
		return func(path string) {
			s, err := Open(path, Options{TZ: "Europe/Berlin"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if fn != nil {
				bbolt(fn)(path)
			}
		}
	}
	for _, tc := range []struct {
		name, path string
		opt        Options
		want       string
	}{
		{"missing", filepath.Join(dir, "missing.db"), Options{}, "no such file"},
		{"empty", file("empty.db", write(nil)), Options{}, "the file is empty"},
		{"not bbolt", file("text.db", write([]byte(strings.Repeat("not a database\n", 1000)))), Options{}, "not a pbxbill database"},
		{"another bbolt file", file("other.db", bbolt(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("things"))
			return err
		})), Options{}, "no meta bucket"},
		{"no schema version", file("noversion.db", bbolt(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket(bucketMeta)
			return err
		})), Options{}, "no schema version"},
		{"a newer schema", file("newer.db", pbxbill(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaVersion, []byte("99"))
		})), Options{TZ: "Europe/Berlin"}, "newer"},
		{"a missing bucket", file("nofollow.db", pbxbill(func(tx *bolt.Tx) error {
			return tx.DeleteBucket(bucketFollow)
		})), Options{TZ: "Europe/Berlin"}, "no follow bucket"},
		{"another zone", file("berlin.db", pbxbill(nil)), Options{}, "Europe/Berlin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before [sha256.Size]byte
			if tc.name != "missing" {
				before = sum(t, tc.path)
			}
			s, err := OpenReadOnly(tc.path, tc.opt)
			if err == nil {
				s.Close()
				t.Fatalf("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.name == "missing" {
				if _, err := os.Stat(tc.path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the missing file was created: %v", err)
				}
			} else if sum(t, tc.path) != before {
				t.Errorf("the file changed")
			}
		})
	}
}

// TestOpenReadOnlyLocked: a file a server holds is refused, not read.
func TestOpenReadOnlyLocked(t *testing.T) {
	s := MustOpen(t)
	if r, err := OpenReadOnly(s.db.Path(), Options{}); err == nil {
		r.Close()
		t.Fatal("a read-only open of a file in use succeeded")
	} else if !strings.Contains(err.Error(), "locked") {
		t.Errorf("error %q does not say the file is locked", err)
	}
}
