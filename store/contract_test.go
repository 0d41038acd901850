package store_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbxbill/store"
	"pbxbill/store/storetest"
)

// The bbolt store keeps the storage contract.
func TestContract(t *testing.T) {
	open := func(t *testing.T, path string, now func() time.Time) *store.Store {
		s, err := store.Open(path, store.Options{TZ: "UTC", Currency: "EUR", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, now func() time.Time) storetest.Backend {
			return open(t, filepath.Join(t.TempDir(), "pbxbill.db"), now)
		},
		// A backup is the file GET /api/v1/backup serves; restoring it is
		// opening that file.
		Restore: func(t *testing.T, b storetest.Backend) storetest.Backend {
			snap, err := b.(*store.Store).Backup()
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			path := filepath.Join(t.TempDir(), "restored.db")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(f, snap); err != nil || n != snap.Size() {
				t.Fatalf("copy %d of %d bytes: %v", n, snap.Size(), err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path, b.(*store.Store).Now)
		},
	})
}
