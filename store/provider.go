package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// providerRecord is a provider as stored. Ledger entries refer to the id,
// so a rename keeps the provider's history.
type providerRecord struct {
	ID uint64 `json:"id"`
	rating.Provider
}

// Providers lists every provider by name.
func (s *Store) Providers() ([]rating.Provider, error) {
	out := []rating.Provider{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachProvider(tx, func(r *providerRecord) error {
			out = append(out, r.Provider)
			return nil
		})
	})
	return out, err
}

// Provider reads one provider by name.
func (s *Store) Provider(name string) (rating.Provider, error) {
	var rec providerRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		rec, err = getProvider(tx, name)
		return err
	})
	return rec.Provider, err
}

// CreateProvider creates a provider with balance 0. Status defaults to
// active. Each assigned table must exist and be of the right kind.
func (s *Store) CreateProvider(p rating.Provider) (rating.Provider, error) {
	err := s.update(func(tx *txn) error {
		p.Balance, p.Created = rating.Money{}, tx.now
		if p.Status == "" {
			p.Status = rating.Active
		}
		if err := checkProvider(tx.Tx, &p); err != nil {
			return err
		}
		names := tx.Bucket(bucketProviderNames)
		if names.Get([]byte(p.Name)) != nil {
			return rating.Errorf(rating.EConflict, "provider %q already exists", p.Name)
		}
		id, err := nextID(tx.Bucket(bucketProviders))
		if err != nil {
			return err
		}
		if err := names.Put([]byte(p.Name), itob(id)); err != nil {
			return err
		}
		return putProvider(tx.Tx, &providerRecord{ID: id, Provider: p})
	})
	if err != nil {
		return rating.Provider{}, err
	}
	return p, nil
}

// UpdateProvider applies fn, validates and saves. The store keeps the
// stored Balance and Created whatever fn does.
func (s *Store) UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error) {
	var p rating.Provider
	err := s.update(func(tx *txn) error {
		rec, err := getProvider(tx.Tx, name)
		if err != nil {
			return err
		}
		if p, err = rec.Provider.Edit(fn); err != nil {
			return err
		}
		if err := checkProvider(tx.Tx, &p); err != nil {
			return err
		}
		if p.Name != rec.Name {
			if err := moveIndex(tx.Bucket(bucketProviderNames), rec.Name, p.Name, rec.ID,
				"provider %q already exists"); err != nil {
				return err
			}
		}
		return putProvider(tx.Tx, &providerRecord{ID: rec.ID, Provider: p})
	})
	if err != nil {
		return rating.Provider{}, err
	}
	return p, nil
}

// DeleteProvider deletes a provider with no ledger entries or CDRs.
func (s *Store) DeleteProvider(name string) error {
	return s.update(func(tx *txn) error {
		rec, err := getProvider(tx.Tx, name)
		if err != nil {
			return err
		}
		if hasHistory(tx.Tx, providerAcct, rec.ID) {
			return rating.Errorf(rating.EConflict, "provider %q has ledger entries; suspend it instead", name)
		}
		if err := tx.Bucket(bucketProviderNames).Delete([]byte(rec.Name)); err != nil {
			return err
		}
		return tx.Bucket(bucketProviders).Delete(itob(rec.ID))
	})
}

// checkProvider validates p and its table assignments.
func checkProvider(tx *bolt.Tx, p *rating.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := checkTableRef(tx, "outbound_rate_table", p.OutboundTable, rating.Outbound); err != nil {
		return err
	}
	return checkTableRef(tx, "inbound_rate_table", p.InboundTable, rating.Inbound)
}

// getProvider reads a provider by name; a missing one is ENotFound.
func getProvider(tx *bolt.Tx, name string) (providerRecord, error) {
	id := tx.Bucket(bucketProviderNames).Get([]byte(name))
	if id == nil {
		return providerRecord{}, rating.Errorf(rating.ENotFound, "provider %s not found", rating.Excerpt(name))
	}
	return getProviderByID(tx, btoi(id))
}

// getProviderByID reads a provider by id.
func getProviderByID(tx *bolt.Tx, id uint64) (providerRecord, error) {
	var rec providerRecord
	ok, err := getJSON(tx.Bucket(bucketProviders), itob(id), &rec)
	if err == nil && !ok {
		err = fmt.Errorf("provider %d: no record", id)
	}
	return rec, err
}

// putProvider saves a provider record.
func putProvider(tx *bolt.Tx, rec *providerRecord) error {
	return putJSON(tx.Bucket(bucketProviders), itob(rec.ID), rec)
}

// eachProvider calls fn for every provider in name order. It walks the
// name index, so fn may rewrite the provider records.
func eachProvider(tx *bolt.Tx, fn func(*providerRecord) error) error {
	return tx.Bucket(bucketProviderNames).ForEach(func(_, id []byte) error {
		rec, err := getProviderByID(tx, btoi(id))
		if err != nil {
			return err
		}
		return fn(&rec)
	})
}
