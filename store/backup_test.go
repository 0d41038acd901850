package store

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"pbxbill/rating"
)

// TestBackup: the copy is made before Backup returns, with no transaction
// left open while it is read; it opens as the same database; and its
// temporary file is gone from the directory at once.
func TestBackup(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "4420", "carrier-a", 60)}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Backup()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if n := openTxs(s); n != 0 {
		t.Errorf("%d transactions open while the copy waits to be read", n)
	}
	dir := filepath.Dir(s.db.Path())
	if names, _ := filepath.Glob(filepath.Join(dir, ".backup-*")); len(names) > 0 {
		t.Errorf("temporary files in the database's directory: %v", names)
	}
	// A change after Backup returned is not in the copy.
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c2", "acme", rating.Outbound, "4420", "carrier-a", 60)}); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(snap)
	if err != nil || int64(len(b)) != snap.Size() {
		t.Fatalf("read %d bytes of %d: %v", len(b), snap.Size(), err)
	}
	if err := snap.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := MustOpenAt(t, path, Options{})
	cdrs, _, err := c.CDRs(rating.CDRFilter{}, "", MaxLimit)
	if err != nil || len(cdrs) != 1 || cdrs[0].ID != "c1" {
		t.Errorf("CDRs in the copy: %v, %+v", err, cdrs)
	}
	if got, want := balance(t, c, rating.TenantAccount, "Acme"), balance(t, s, rating.TenantAccount, "Acme"); got == want {
		t.Errorf("the copy's balance %s is the live one, after a CDR the copy does not hold", got)
	}
}
