package main

import (
	"fmt"

	"pbxbill/handlers"
	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
)

// backend is what main needs of a store: the handlers' Store and the work
// main does around them. *store.Store (a bbolt file, the default) and
// *pg.Store (PostgreSQL, shared by several nodes) are the two.
type backend interface {
	handlers.Store
	followedStore
	scheduled
	outbox
	Close() error
	Created() bool
	Empty() (bool, error)
	EnsureAdmin() (string, error)
	SetAdminPassword(name, password string) error
	ExpireHolds() ([]rating.Hold, error)
	CreateSchedule(tenant string, s rating.Schedule) (rating.Schedule, error)
	ReplaceRates(name string, rows []rating.Row) error
	Check() error
}

var (
	_ backend = (*store.Store)(nil)
	_ backend = (*pg.Store)(nil)
)

// opened is an open backend with what differs between the two.
type opened struct {
	backend
	// audited is the store as a handle that records an audit entry with
	// its change (Audited of either store).
	audited func(rating.AuditEntry) handlers.Store
	// name is the database for logs and errors: the file's path, or the
	// URL without its password.
	name string
	// shared is true on PostgreSQL, where other nodes may share the
	// database.
	shared bool
}

// openBackend opens the database -db names: a postgres:// URL is
// PostgreSQL, anything else the path of a bbolt file.
func openBackend(db string, opt store.Options) (opened, error) {
	if pg.IsURL(db) {
		name := pg.Redact(db)
		st, err := pg.Open(db, opt)
		if err != nil {
			return opened{}, fmt.Errorf("open database %s: %w", name, err)
		}
		return opened{backend: st, name: name, shared: true,
			audited: func(e rating.AuditEntry) handlers.Store { return st.Audited(e) }}, nil
	}
	st, err := store.Open(db, opt)
	if err != nil {
		return opened{}, fmt.Errorf("open database %s: %w", db, err)
	}
	return opened{backend: st, name: db,
		audited: func(e rating.AuditEntry) handlers.Store { return st.Audited(e) }}, nil
}
