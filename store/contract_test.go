package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"pbxbill/store"
	"pbxbill/store/storetest"
)

// The bbolt store keeps the storage contract.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "pbxbill.db"), store.Options{TZ: "UTC", Currency: "EUR", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}
