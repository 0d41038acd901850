package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// tenantRecord is a tenant as stored. Ledger entries refer to the id, so a
// rename keeps the tenant's history.
type tenantRecord struct {
	ID uint64 `json:"id"`
	rating.Tenant
}

// Tenants lists every tenant by name.
func (s *Store) Tenants() ([]rating.Tenant, error) {
	out := []rating.Tenant{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachTenant(tx, func(r *tenantRecord) error {
			out = append(out, r.Tenant)
			return nil
		})
	})
	return out, err
}

// Tenant reads one tenant by name.
func (s *Store) Tenant(name string) (rating.Tenant, error) {
	var rec tenantRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		rec, err = getTenant(tx, name)
		return err
	})
	return rec.Tenant, err
}

// TenantByAccountCode reads one tenant by accountcode, falling back to
// name: the order for CDRs, which carry what the PBX wrote.
func (s *Store) TenantByAccountCode(code string) (rating.Tenant, error) {
	return s.tenantByRef(code, bucketTenantCodes, bucketTenantNames)
}

// TenantByName reads one tenant by name, falling back to accountcode: the
// order for rating requests, whose tenant=T is a name (API.md) but which a
// dialplan fills with ${CDR(accountcode)}. One read transaction either way.
func (s *Store) TenantByName(name string) (rating.Tenant, error) {
	return s.tenantByRef(name, bucketTenantNames, bucketTenantCodes)
}

// tenantByRef looks ref up in the first index, then the second.
func (s *Store) tenantByRef(ref string, first, second []byte) (rating.Tenant, error) {
	var rec tenantRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(first).Get([]byte(ref))
		if id == nil {
			id = tx.Bucket(second).Get([]byte(ref))
		}
		if id == nil {
			return rating.Errorf(rating.ENotFound, "no tenant has accountcode or name %s", rating.Excerpt(ref))
		}
		rec, err = getTenantByID(tx, btoi(id))
		return err
	})
	return rec.Tenant, err
}

// CreateTenant creates a tenant with balance 0. AccountCode defaults to the
// name, BillingMode to prepaid and Status to active. Each assigned table
// must exist and be of the right kind.
func (s *Store) CreateTenant(t rating.Tenant) (rating.Tenant, error) {
	err := s.update(func(tx *txn) error {
		t.Balance, t.Created = rating.Money{}, tx.now
		if t.AccountCode == "" {
			t.AccountCode = t.Name
		}
		if t.BillingMode == "" {
			t.BillingMode = rating.Prepaid
		}
		if t.Status == "" {
			t.Status = rating.Active
		}
		if err := checkTenant(tx.Tx, &t); err != nil {
			return err
		}
		if tx.Bucket(bucketTenantNames).Get([]byte(t.Name)) != nil {
			return rating.Errorf(rating.EConflict, "tenant %q already exists", t.Name)
		}
		if err := checkAccountCode(tx.Tx, t.AccountCode); err != nil {
			return err
		}
		id, err := nextID(tx.Bucket(bucketTenants))
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketTenantNames).Put([]byte(t.Name), itob(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTenantCodes).Put([]byte(t.AccountCode), itob(id)); err != nil {
			return err
		}
		return putTenant(tx.Tx, &tenantRecord{ID: id, Tenant: t})
	})
	if err != nil {
		return rating.Tenant{}, err
	}
	return t, nil
}

// UpdateTenant applies fn, validates and saves. fn must not change Balance;
// the store keeps the stored balance (and Created). AccountCode does not
// follow a rename; an AccountCode that fn empties keeps its stored value.
func (s *Store) UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error) {
	var t rating.Tenant
	err := s.update(func(tx *txn) error {
		rec, err := getTenant(tx.Tx, name)
		if err != nil {
			return err
		}
		if t, err = rec.Tenant.Edit(fn); err != nil {
			return err
		}
		if err := checkTenant(tx.Tx, &t); err != nil {
			return err
		}
		if t.Name != rec.Name {
			if err := moveIndex(tx.Bucket(bucketTenantNames), rec.Name, t.Name, rec.ID,
				"tenant %q already exists"); err != nil {
				return err
			}
		}
		if t.AccountCode != rec.AccountCode {
			if err := checkAccountCode(tx.Tx, t.AccountCode); err != nil {
				return err
			}
			if err := moveIndex(tx.Bucket(bucketTenantCodes), rec.AccountCode, t.AccountCode, rec.ID, ""); err != nil {
				return err
			}
		}
		if err := queueStateChange(tx, &rec.Tenant, &t); err != nil {
			return err
		}
		return putTenant(tx.Tx, &tenantRecord{ID: rec.ID, Tenant: t})
	})
	if err != nil {
		return rating.Tenant{}, err
	}
	return t, nil
}

// DeleteTenant deletes a tenant that has no ledger entries or CDRs; one
// that has is EConflict ("suspend it instead").
func (s *Store) DeleteTenant(name string) error {
	return s.update(func(tx *txn) error {
		rec, err := getTenant(tx.Tx, name)
		if err != nil {
			return err
		}
		if hasHistory(tx.Tx, tenantAcct, rec.ID) {
			return rating.Errorf(rating.EConflict, "tenant %q has ledger entries; suspend it instead", name)
		}
		if err := tx.Bucket(bucketTenantNames).Delete([]byte(rec.Name)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketTenantCodes).Delete([]byte(rec.AccountCode)); err != nil {
			return err
		}
		return tx.Bucket(bucketTenants).Delete(itob(rec.ID))
	})
}

// checkTenant validates t and its table assignments.
func checkTenant(tx *bolt.Tx, t *rating.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := checkTableRef(tx, "outbound_rate_table", t.OutboundTable, rating.Outbound); err != nil {
		return err
	}
	if err := checkTableRef(tx, "inbound_rate_table", t.InboundTable, rating.Inbound); err != nil {
		return err
	}
	return checkTableRef(tx, "conference_rate_table", t.ConferenceTable, rating.Conference)
}

// checkAccountCode refuses an accountcode another tenant holds.
func checkAccountCode(tx *bolt.Tx, code string) error {
	id := tx.Bucket(bucketTenantCodes).Get([]byte(code))
	if id == nil {
		return nil
	}
	other, err := getTenantByID(tx, btoi(id))
	if err != nil {
		return err
	}
	return rating.Errorf(rating.EConflict, "accountcode %q is already used by tenant %q", code, other.Name)
}

// moveIndex re-keys a unique index entry from one key to another.
// conflict is the message for a key that is taken, formatted with it.
func moveIndex(b *bolt.Bucket, from, to string, id uint64, conflict string) error {
	if conflict != "" && b.Get([]byte(to)) != nil {
		return rating.Errorf(rating.EConflict, conflict, to)
	}
	if err := b.Delete([]byte(from)); err != nil {
		return err
	}
	return b.Put([]byte(to), itob(id))
}

// getTenant reads a tenant by name; a missing one is ENotFound.
func getTenant(tx *bolt.Tx, name string) (tenantRecord, error) {
	id := tx.Bucket(bucketTenantNames).Get([]byte(name))
	if id == nil {
		return tenantRecord{}, rating.Errorf(rating.ENotFound, "tenant %s not found", rating.Excerpt(name))
	}
	return getTenantByID(tx, btoi(id))
}

// getTenantByID reads a tenant by id.
func getTenantByID(tx *bolt.Tx, id uint64) (tenantRecord, error) {
	var rec tenantRecord
	ok, err := getJSON(tx.Bucket(bucketTenants), itob(id), &rec)
	if err == nil && !ok {
		err = fmt.Errorf("tenant %d: no record", id)
	}
	return rec, err
}

// putTenant saves a tenant record.
func putTenant(tx *bolt.Tx, rec *tenantRecord) error {
	return putJSON(tx.Bucket(bucketTenants), itob(rec.ID), rec)
}

// eachTenant calls fn for every tenant in name order. It walks the name
// index, so fn may rewrite the tenant records.
func eachTenant(tx *bolt.Tx, fn func(*tenantRecord) error) error {
	return tx.Bucket(bucketTenantNames).ForEach(func(_, id []byte) error {
		rec, err := getTenantByID(tx, btoi(id))
		if err != nil {
			return err
		}
		return fn(&rec)
	})
}
