package store

import (
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// tableRecord is a rate table as stored. The id, not the name, keys the
// table's rows, so a rename does not move them.
type tableRecord struct {
	ID uint64 `json:"id"`
	rating.Table
}

// RateTables lists tables of kind k (0: all) by name, with row counts.
func (s *Store) RateTables(k rating.Kind) ([]rating.Table, error) {
	out := []rating.Table{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTableNames).ForEach(func(_, id []byte) error {
			rec, err := getTableByID(tx, btoi(id))
			if err == nil && (k == 0 || rec.Kind == k) {
				out = append(out, rec.Table)
			}
			return err
		})
	})
	return out, err
}

// RateTable reads one table's settings.
func (s *Store) RateTable(name string) (rating.Table, error) {
	var rec tableRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		rec, err = getTable(tx, name)
		return err
	})
	return rec.Table, err
}

// CreateRateTable creates an empty table. Currency is set to the
// installation's. A duplicate name is EConflict.
func (s *Store) CreateRateTable(t rating.Table) (rating.Table, error) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	err := s.update(func(tx *txn) error {
		t.Currency, t.Rows, t.Updated = s.currency, 0, tx.now
		if err := t.Validate(); err != nil {
			return err
		}
		names := tx.Bucket(bucketTableNames)
		if names.Get([]byte(t.Name)) != nil {
			return rating.Errorf(rating.EConflict, "rate table %q already exists", t.Name)
		}
		id, err := nextID(tx.Bucket(bucketTables))
		if err != nil {
			return err
		}
		if _, err := tx.Bucket(bucketRates).CreateBucket(itob(id)); err != nil {
			return fmt.Errorf("create rows of table %d: %w", id, err)
		}
		if err := names.Put([]byte(t.Name), itob(id)); err != nil {
			return err
		}
		return putTable(tx.Tx, &tableRecord{ID: id, Table: t})
	})
	if err != nil {
		return rating.Table{}, err
	}
	s.book.Set(rating.NewIndex(t, nil))
	return t, nil
}

// UpdateRateTable applies fn to the table's settings, validates and saves
// them, and rebuilds the index. A rename updates the tenants and providers
// that use the table; a kind change is refused while the table is in use.
// Currency, Rows and Updated are kept by the store whatever fn does.
func (s *Store) UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	var t rating.Table
	var id uint64
	err := s.update(func(tx *txn) error {
		rec, err := getTable(tx.Tx, name)
		if err != nil {
			return err
		}
		t = rec.Table
		if err := fn(&t); err != nil {
			return err
		}
		t.Currency, t.Rows, t.Updated = rec.Currency, rec.Rows, tx.now
		if err := t.Validate(); err != nil {
			return err
		}
		if t.Kind != rec.Kind {
			users, err := tableUsers(tx.Tx, rec.Name)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				return rating.Errorf(rating.EConflict, "rate table %q is in use by %s; its kind can't change",
					rec.Name, strings.Join(users, ", "))
			}
		}
		if t.Name != rec.Name {
			if err := renameTable(tx.Tx, rec, t.Name); err != nil {
				return err
			}
		}
		id = rec.ID
		return putTable(tx.Tx, &tableRecord{ID: rec.ID, Table: t})
	})
	if err != nil {
		return rating.Table{}, err
	}
	// The index holds rows resolved with the table's defaults, so any
	// settings change means rebuilding it. rateMu keeps the rows as they
	// are while they are read outside the write transaction.
	x, err := s.loadIndex(id, t)
	if err != nil {
		return rating.Table{}, err
	}
	// Install the new name before dropping the old one, so a lookup never
	// finds neither.
	s.book.Set(x)
	if t.Name != name {
		s.book.Delete(name)
	}
	return t, nil
}

// renameTable moves the table's name index entry and every tenant and
// provider reference to the new name.
func renameTable(tx *bolt.Tx, rec tableRecord, to string) error {
	names := tx.Bucket(bucketTableNames)
	if names.Get([]byte(to)) != nil {
		return rating.Errorf(rating.EConflict, "rate table %q already exists", to)
	}
	if err := names.Delete([]byte(rec.Name)); err != nil {
		return err
	}
	if err := names.Put([]byte(to), itob(rec.ID)); err != nil {
		return err
	}
	from := rec.Name
	swap := func(ref *string) bool {
		if *ref == from {
			*ref = to
			return true
		}
		return false
	}
	if err := eachTenant(tx, func(r *tenantRecord) error {
		a, b, c := swap(&r.OutboundTable), swap(&r.InboundTable), swap(&r.ConferenceTable)
		if a || b || c {
			return putJSON(tx.Bucket(bucketTenants), itob(r.ID), r)
		}
		return nil
	}); err != nil {
		return err
	}
	return eachProvider(tx, func(r *providerRecord) error {
		a, b := swap(&r.OutboundTable), swap(&r.InboundTable)
		if a || b {
			return putJSON(tx.Bucket(bucketProviders), itob(r.ID), r)
		}
		return nil
	})
}

// DeleteRateTable deletes a table and its rows. A table in use is
// EConflict, and the message names its users.
func (s *Store) DeleteRateTable(name string) error {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	err := s.update(func(tx *txn) error {
		rec, err := getTable(tx.Tx, name)
		if err != nil {
			return err
		}
		users, err := tableUsers(tx.Tx, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return rating.Errorf(rating.EConflict, "rate table %q is in use by %s", name, strings.Join(users, ", "))
		}
		if err := tx.Bucket(bucketRates).DeleteBucket(itob(rec.ID)); err != nil {
			return fmt.Errorf("delete rows of table %q: %w", name, err)
		}
		if err := tx.Bucket(bucketTableNames).Delete([]byte(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketTables).Delete(itob(rec.ID))
	})
	if err != nil {
		return err
	}
	s.book.Delete(name)
	return nil
}

// TableUsers names the tenants and providers that use a table, as
// "tenant NAME" and "provider NAME".
func (s *Store) TableUsers(name string) ([]string, error) {
	var users []string
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := getTable(tx, name); err != nil {
			return err
		}
		var err error
		users, err = tableUsers(tx, name)
		return err
	})
	return users, err
}

// tableUsers lists the users of a table, tenants first, each by name.
func tableUsers(tx *bolt.Tx, name string) ([]string, error) {
	users := []string{}
	err := eachTenant(tx, func(r *tenantRecord) error {
		if r.OutboundTable == name || r.InboundTable == name || r.ConferenceTable == name {
			users = append(users, "tenant "+r.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachProvider(tx, func(r *providerRecord) error {
		if r.OutboundTable == name || r.InboundTable == name {
			users = append(users, "provider "+r.Name)
		}
		return nil
	})
	return users, err
}

// checkTableRef checks that the table a tenant or provider field names
// exists and is of kind k. An empty name is no assignment.
func checkTableRef(tx *bolt.Tx, field, name string, k rating.Kind) error {
	if name == "" {
		return nil
	}
	id := tx.Bucket(bucketTableNames).Get([]byte(name))
	if id == nil {
		return rating.Invalidf(field, "%s %s: no such rate table", field, rating.Excerpt(name))
	}
	rec, err := getTableByID(tx, btoi(id))
	if err != nil {
		return err
	}
	if rec.Kind != k {
		return rating.Invalidf(field, "%s %s: the table is %s, want %s", field, rating.Excerpt(name), rec.Kind, k)
	}
	return nil
}

// getTable reads a table by name; a missing one is ENotFound.
func getTable(tx *bolt.Tx, name string) (tableRecord, error) {
	id := tx.Bucket(bucketTableNames).Get([]byte(name))
	if id == nil {
		return tableRecord{}, rating.Errorf(rating.ENotFound, "rate table %s not found", rating.Excerpt(name))
	}
	return getTableByID(tx, btoi(id))
}

// getTableByID reads a table by id.
func getTableByID(tx *bolt.Tx, id uint64) (tableRecord, error) {
	var rec tableRecord
	ok, err := getJSON(tx.Bucket(bucketTables), itob(id), &rec)
	if err == nil && !ok {
		err = fmt.Errorf("rate table %d: name index points to no record", id)
	}
	return rec, err
}

// putTable saves a table record.
func putTable(tx *bolt.Tx, rec *tableRecord) error {
	return putJSON(tx.Bucket(bucketTables), itob(rec.ID), rec)
}
