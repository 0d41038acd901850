package store

// This file fixes the store's API so that handlers and main can be written
// against it. The store implementation replaces every body here and then
// deletes this file.

import (
	"time"

	"pbxbill/rating"
)

// Options are fixed when the database is created; a later Open with a
// different TZ or Currency fails with a clear error.
type Options struct {
	TZ       string           // IANA zone, default "UTC"
	Currency string           // ISO 4217 code, default "EUR"
	Now      func() time.Time // clock, default time.Now; tests fix it
}

// Store is the bbolt-backed store. All methods are safe for concurrent use.
type Store struct{}

// Open opens or creates the database file at path, creates the buckets,
// checks the schema version, TZ and currency, and loads every rate table
// into the Book.
func Open(path string, opt Options) (*Store, error) { panic("TODO") }

// Close closes the database.
func (s *Store) Close() error { panic("TODO") }

// Location is the installation's time zone.
func (s *Store) Location() *time.Location { panic("TODO") }

// Currency is the installation's currency code.
func (s *Store) Currency() string { panic("TODO") }

// Book holds the live index of every rate table; it is swapped after each
// committed change of a table or its rows.
func (s *Store) Book() *rating.Book { panic("TODO") }

// Empty reports whether the store holds no tables, tenants or providers
// (the condition for -demo seeding).
func (s *Store) Empty() (bool, error) { panic("TODO") }

// RateTables lists tables of kind k (0: all) by name, with row counts.
func (s *Store) RateTables(k rating.Kind) ([]rating.Table, error) { panic("TODO") }

// RateTable reads one table's settings.
func (s *Store) RateTable(name string) (rating.Table, error) { panic("TODO") }

// CreateRateTable creates an empty table. Currency is set to the
// installation's. A duplicate name is EConflict.
func (s *Store) CreateRateTable(t rating.Table) (rating.Table, error) { panic("TODO") }

// UpdateRateTable applies fn to the table's settings, validates and saves
// them, and rebuilds the index. A rename updates the tenants and providers
// that use the table; a kind change is refused while the table is in use.
func (s *Store) UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error) {
	panic("TODO")
}

// DeleteRateTable deletes a table and its rows. A table in use is
// EConflict, and the message names its users.
func (s *Store) DeleteRateTable(name string) error { panic("TODO") }

// TableUsers names the tenants and providers that use a table, as
// "tenant NAME" and "provider NAME".
func (s *Store) TableUsers(name string) ([]string, error) { panic("TODO") }

// ReplaceRates replaces every row of the table in one transaction and swaps
// in the new index. Rows are validated first; nothing changes on error.
func (s *Store) ReplaceRates(name string, rows []rating.Row) error { panic("TODO") }

// MergeRates upserts rows by (prefix, effective_from) in one transaction.
// It returns how many rows were added and how many replaced.
func (s *Store) MergeRates(name string, rows []rating.Row) (added, replaced int, err error) {
	panic("TODO")
}

// Rates pages through a table's rows in (prefix, effective_from) order,
// only rows whose prefix starts with prefix when it is not empty. after is
// the cursor a previous page returned; next is "" on the last page.
func (s *Store) Rates(name, prefix, after string, limit int) (rows []rating.Row, next string, err error) {
	panic("TODO")
}

// EachRate calls fn for every row of the table in order, in one read
// transaction.
func (s *Store) EachRate(name string, fn func(*rating.Row) error) error { panic("TODO") }

// Tenants lists every tenant by name.
func (s *Store) Tenants() ([]rating.Tenant, error) { panic("TODO") }

// Tenant reads one tenant by name.
func (s *Store) Tenant(name string) (rating.Tenant, error) { panic("TODO") }

// TenantByAccountCode reads one tenant by accountcode, falling back to name.
func (s *Store) TenantByAccountCode(code string) (rating.Tenant, error) { panic("TODO") }

// CreateTenant creates a tenant with balance 0. AccountCode defaults to the
// name. Each assigned table must exist and be of the right kind.
func (s *Store) CreateTenant(t rating.Tenant) (rating.Tenant, error) { panic("TODO") }

// UpdateTenant applies fn, validates and saves. fn must not change Balance;
// the store keeps the stored balance. AccountCode does not follow a rename.
func (s *Store) UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error) {
	panic("TODO")
}

// DeleteTenant deletes a tenant that has no ledger entries or CDRs; one
// that has is EConflict ("suspend it instead").
func (s *Store) DeleteTenant(name string) error { panic("TODO") }

// Providers lists every provider by name.
func (s *Store) Providers() ([]rating.Provider, error) { panic("TODO") }

// Provider reads one provider by name.
func (s *Store) Provider(name string) (rating.Provider, error) { panic("TODO") }

// CreateProvider creates a provider with balance 0.
func (s *Store) CreateProvider(p rating.Provider) (rating.Provider, error) { panic("TODO") }

// UpdateProvider applies fn, validates and saves.
func (s *Store) UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error) {
	panic("TODO")
}

// DeleteProvider deletes a provider with no ledger entries or CDRs.
func (s *Store) DeleteProvider(name string) error { panic("TODO") }

// Credit posts a topup (amount > 0) or an adjustment (any sign but 0, note
// required) to an account (rating.TenantAccount or rating.ProviderAccount)
// and returns the entry, whose Balance is the new balance.
func (s *Store) Credit(accountType, name string, amount rating.Amount, kind, note string) (rating.Entry, error) {
	panic("TODO")
}

// Ledger lists an account's entries newest first, with from ≤ time < to
// when they are not zero. after is the cursor of a previous page.
func (s *Store) Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error) {
	panic("TODO")
}

// CreateNode creates a PBX node and returns its token, the only time the
// token exists outside the caller: the store keeps only its SHA-256.
func (s *Store) CreateNode(name string) (rating.Node, string, error) { panic("TODO") }

// Nodes lists the nodes by name.
func (s *Store) Nodes() ([]rating.Node, error) { panic("TODO") }

// DeleteNode revokes a node: its token stops working at once.
func (s *Store) DeleteNode(name string) error { panic("TODO") }

// NodeByToken finds the node a token belongs to, comparing hashes. An
// unknown token is EUnauthorized. It records LastSeen, at most once a
// minute per node so that a busy node does not write on every request.
func (s *Store) NodeByToken(token string) (rating.Node, error) { panic("TODO") }
