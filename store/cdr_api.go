package store

// This file fixes the store's CDR API (issue 3) so that handlers and the
// follow mode can be written against it while it is implemented.

import (
	"io"
	"time"

	"pbxbill/rating"
)

// Posted is the outcome of a CDR batch.
type Posted struct {
	// Results holds every posted CDR in order, with Status, Reason, Cost,
	// ProviderCost, Billed, and Tenant/Provider resolved to names.
	Results   []rating.CDR
	Rated     int
	Duplicate int
	Unrated   int
}

// PostCDRs processes a batch of CDRs posted by node ("" for the bootstrap
// token and the admin) in one transaction: each is stored under the
// idempotency key (node, id), priced from the tenant's and the provider's
// tables of its kind, charged to the ledger, and rolled up by day. The
// tenant is matched by name or accountcode, the provider by name or trunk.
// A malformed CDR (rating.CDR.Validate, or an unknown provider) rejects
// the whole batch with EInvalid naming it, and nothing is stored. A
// duplicate changes nothing; a CDR that cannot be priced is stored as
// unrated. Concurrent single-CDR posts are grouped into shared commits.
func (s *Store) PostCDRs(node string, cdrs []rating.CDR) (Posted, error) { panic("TODO") }

// FollowPos is how far the follow mode has read a PBX CDR file.
type FollowPos struct {
	Path   string
	Inode  uint64
	Offset int64 // bytes consumed
	Line   int   // lines consumed
}

// FollowPos returns the stored position for path, the zero position (with
// Path set) when there is none.
func (s *Store) FollowPos(path string) (FollowPos, error) { panic("TODO") }

// PostFollowed is PostCDRs for the follow mode: the CDRs and the new file
// position are committed in one transaction, so a restart resumes exactly
// after the last CDR stored.
func (s *Store) PostFollowed(node string, cdrs []rating.CDR, pos FollowPos) (Posted, error) {
	panic("TODO")
}

// ProviderByTrunk returns a function that maps a trunk (or a provider
// name) to a provider name, from a snapshot of the providers taken now.
func (s *Store) ProviderByTrunk() (func(trunk string) (string, bool), error) { panic("TODO") }

// CDRFilter selects stored CDRs. Zero fields select everything; From and
// To bound the start time (From ≤ start < To).
type CDRFilter struct {
	Tenant   string // name
	Provider string // name
	Status   string // rated or unrated
	From, To time.Time
}

// CDRs lists CDRs matching f, newest first, a page at a time.
func (s *Store) CDRs(f CDRFilter, after string, limit int) ([]rating.CDR, string, error) {
	panic("TODO")
}

// EachCDR calls fn for every CDR matching f, newest first.
func (s *Store) EachCDR(f CDRFilter, fn func(*rating.CDR) error) error { panic("TODO") }

// Rerated counts what a re-rate did.
type Rerated struct {
	Rated     int `json:"rated"`     // unrated CDRs that now have a price
	Corrected int `json:"corrected"` // rated CDRs whose price changed
	Unchanged int `json:"unchanged"`
}

// Rerate prices the CDRs matching f again with the tables as they are now,
// in chunks of at most 1000 CDRs per transaction (DOMAIN.md "Re-rating").
func (s *Store) Rerate(f CDRFilter) (Rerated, error) { panic("TODO") }

// TenantDashboard computes every tenant's figures from balances and the
// daily roll-ups, never from CDRs; today is in the installation's zone.
func (s *Store) TenantDashboard() ([]rating.TenantFigures, error) { panic("TODO") }

// ProviderDashboard sums every provider's roll-ups over the inclusive days
// from..to (dates in the installation's zone), with a totals row.
func (s *Store) ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error) {
	panic("TODO")
}

// DayUsage is one day of an account's roll-up.
type DayUsage struct {
	Day   time.Time // midnight in the installation's zone
	Usage rating.Usage
}

// DailyUsage returns an account's roll-ups for each day from..to
// inclusive, zero days included, for charts.
func (s *Store) DailyUsage(accountType, name string, from, to time.Time) ([]DayUsage, error) {
	panic("TODO")
}

// Backup writes a consistent copy of the database to w while the server
// keeps running, and returns its size.
func (s *Store) Backup(w io.Writer) (int64, error) { panic("TODO") }

// Check verifies every account's balance against its ledger and every
// roll-up against the CDRs. It returns an error describing the first
// mismatches.
func (s *Store) Check() error { panic("TODO") }
