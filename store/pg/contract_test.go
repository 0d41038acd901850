package pg_test

import (
	"sync"
	"testing"
	"time"

	"pbxbill/handlers"
	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
	"pbxbill/store/storetest"
)

// The PostgreSQL store is what the handlers and the contract need.
var (
	_ handlers.Store                    = (*pg.Store)(nil)
	_ storetest.Backend                 = (*pg.Store)(nil)
	_ func(rating.AuditEntry) *pg.Store = (*pg.Store)(nil).Audited
)

// open opens a store on a new empty database, closed when t ends.
func open(t *testing.T, url string, now func() time.Time) *pg.Store {
	t.Helper()
	s, err := pg.Open(url, store.Options{TZ: "UTC", Currency: "EUR", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the storage contract against PostgreSQL. A backup is
// the operator's pg_dump, restored with pg_restore.
func TestContract(t *testing.T) {
	srv := pgtest.Shared(t)
	var mu sync.Mutex
	urls := map[storetest.Backend]string{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, now func() time.Time) storetest.Backend {
			url := srv.NewDatabase(t)
			s := open(t, url, now)
			mu.Lock()
			urls[s] = url
			mu.Unlock()
			return s
		},
		Restore: func(t *testing.T, b storetest.Backend) storetest.Backend {
			mu.Lock()
			url := urls[b]
			mu.Unlock()
			return open(t, srv.Restore(t, url), b.(*pg.Store).Now)
		},
	})
}

// TestPeers runs the contract of two nodes on one database: a second
// store opened on the same URL is the second node.
func TestPeers(t *testing.T) {
	srv := pgtest.Shared(t)
	var mu sync.Mutex
	urls := map[storetest.Backend]string{}
	storetest.RunPeers(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		url := srv.NewDatabase(t)
		s := open(t, url, now)
		mu.Lock()
		urls[s] = url
		mu.Unlock()
		return s
	}, func(t *testing.T, b storetest.Backend, now func() time.Time) storetest.Backend {
		mu.Lock()
		url := urls[b]
		mu.Unlock()
		return open(t, url, now)
	})
}
