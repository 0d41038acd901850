package storetest

import (
	"time"

	"pbxbill/rating"
)

// Backend is what the contract asks of a storage backend: the operations
// the handlers call, by noun. A backend decides nothing about money; it
// keeps what rating decided, and keeps it whole.
type Backend interface {
	// Tenants.
	Tenants() ([]rating.Tenant, error)
	Tenant(name string) (rating.Tenant, error)
	TenantByName(nameOrAccountCode string) (rating.Tenant, error)
	CreateTenant(rating.Tenant) (rating.Tenant, error)
	UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error)
	DeleteTenant(name string) error

	// Providers.
	Providers() ([]rating.Provider, error)
	Provider(name string) (rating.Provider, error)
	CreateProvider(rating.Provider) (rating.Provider, error)
	UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error)
	DeleteProvider(name string) error

	// Rate tables, their rows, and the live resolution of calls.
	RateTables(rating.Kind) ([]rating.Table, error)
	RateTable(name string) (rating.Table, error)
	CreateRateTable(rating.Table) (rating.Table, error)
	UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error)
	DeleteRateTable(name string) error
	ReplaceRates(name string, rows []rating.Row) error
	MergeRates(name string, rows []rating.Row) (added, replaced int, err error)
	PutRate(name string, row rating.Row, from *rating.RateKey) (added bool, err error)
	DeleteRate(name string, key rating.RateKey) (rating.Row, error)
	Rates(name, prefix, after string, limit int) ([]rating.Row, string, error)
	Rater() *rating.Rater

	// PBX nodes.
	CreateNode(name string) (rating.Node, string, error)
	Nodes() ([]rating.Node, error)
	NodeByToken(token string) (rating.Node, error)
	DeleteNode(name string) error

	// CDRs, the ledger and re-rating.
	PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error)
	CDRs(f rating.CDRFilter, after string, limit int) ([]rating.CDR, string, error)
	Credit(accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error)
	CreditOnce(key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error)
	Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error)
	Rerate(rating.CDRFilter) (rating.Rerated, error)

	// Holds of calls in progress (DOMAIN.md): decided under one lock per
	// installation, stored before the answer, released by the CDR of the
	// same (node, id) in the transaction that bills it.
	Authorize(rating.CallQuery) (rating.CallAnswer, error)
	Commitments(tenant string) (rating.Commitments, error)
	AllCommitments() (map[string]rating.Commitments, error)
	Holds(tenant string) ([]rating.Hold, error)
	ExpiredHolds(tenant string, limit int) ([]rating.Hold, error)
	ReleaseHold(node, call string) error
	ExpireHolds() ([]rating.Hold, error)

	// Dashboards, from the roll-ups.
	TenantDashboard() ([]rating.TenantFigures, error)
	ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error)

	// Schedules, the outbox of alerts, and statements.
	Schedules(tenant string) ([]rating.Schedule, error)
	CreateSchedule(tenant string, s rating.Schedule) (rating.Schedule, error)
	UpdateSchedule(tenant string, id uint64, fn func(*rating.Schedule) error) (rating.Schedule, error)
	DeleteSchedule(tenant string, id uint64) error
	PostDueSchedules() (int, error)
	Events(after string, limit int) ([]rating.Event, string, error)
	PendingEvents(after uint64, limit int) ([]rating.Event, error)
	SaveDelivery(seq uint64, deliveries []rating.Delivery, done bool) error
	Statement(tenant string, m rating.Month) (rating.Statement, error)

	// Check verifies the books: balances equal their ledgers, roll-ups
	// their CDRs.
	Check() error
}
