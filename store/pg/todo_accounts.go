package pg

// Stubs of the accounts part, to be replaced by its implementation.

import (
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

var _ = time.Now
var _ store.FollowPos

func (s *Store) Tenants() ([]rating.Tenant, error) {
	panic("pg: Tenants is not built yet")
}

func (s *Store) Tenant(name string) (rating.Tenant, error) {
	panic("pg: Tenant is not built yet")
}

func (s *Store) TenantByAccountCode(code string) (rating.Tenant, error) {
	panic("pg: TenantByAccountCode is not built yet")
}

func (s *Store) TenantByName(name string) (rating.Tenant, error) {
	panic("pg: TenantByName is not built yet")
}

func (s *Store) CreateTenant(t rating.Tenant) (rating.Tenant, error) {
	panic("pg: CreateTenant is not built yet")
}

func (s *Store) UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error) {
	panic("pg: UpdateTenant is not built yet")
}

func (s *Store) DeleteTenant(name string) error {
	panic("pg: DeleteTenant is not built yet")
}

func (s *Store) Providers() ([]rating.Provider, error) {
	panic("pg: Providers is not built yet")
}

func (s *Store) Provider(name string) (rating.Provider, error) {
	panic("pg: Provider is not built yet")
}

func (s *Store) CreateProvider(p rating.Provider) (rating.Provider, error) {
	panic("pg: CreateProvider is not built yet")
}

func (s *Store) UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error) {
	panic("pg: UpdateProvider is not built yet")
}

func (s *Store) DeleteProvider(name string) error {
	panic("pg: DeleteProvider is not built yet")
}

func (s *Store) CreateNode(name string) (rating.Node, string, error) {
	panic("pg: CreateNode is not built yet")
}

func (s *Store) Nodes() ([]rating.Node, error) {
	panic("pg: Nodes is not built yet")
}

func (s *Store) DeleteNode(name string) error {
	panic("pg: DeleteNode is not built yet")
}

func (s *Store) NodeByToken(token string) (rating.Node, error) {
	panic("pg: NodeByToken is not built yet")
}

func (s *Store) EnsureAdmin() (string, error) {
	panic("pg: EnsureAdmin is not built yet")
}

func (s *Store) HasAdmin() (bool, error) {
	panic("pg: HasAdmin is not built yet")
}

func (s *Store) SetAdminPassword(name, password string) error {
	panic("pg: SetAdminPassword is not built yet")
}

func (s *Store) CheckAdminPassword(name, password string) error {
	panic("pg: CheckAdminPassword is not built yet")
}

func (s *Store) Admins() ([]rating.Admin, error) {
	panic("pg: Admins is not built yet")
}

func (s *Store) AddAdmin(name, password string) error {
	panic("pg: AddAdmin is not built yet")
}

func (s *Store) DeleteAdmin(name string) error {
	panic("pg: DeleteAdmin is not built yet")
}

func (s *Store) CreateSession(user string, ttl time.Duration) (string, rating.Session, error) {
	panic("pg: CreateSession is not built yet")
}

func (s *Store) Session(token string) (rating.Session, error) {
	panic("pg: Session is not built yet")
}

func (s *Store) DeleteSession(token string) error {
	panic("pg: DeleteSession is not built yet")
}

func (s *Store) Audit(after string, limit int) ([]rating.AuditEntry, string, error) {
	panic("pg: Audit is not built yet")
}

func (s *Store) Credit(accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	panic("pg: Credit is not built yet")
}

func (s *Store) CreditOnce(key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	panic("pg: CreditOnce is not built yet")
}

func (s *Store) Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error) {
	panic("pg: Ledger is not built yet")
}

func (s *Store) Backup() (rating.Snapshot, error) {
	panic("pg: Backup is not built yet")
}
