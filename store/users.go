package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Admins lists the admin users by name.
func (s *Store) Admins() ([]rating.Admin, error) {
	out := []rating.Admin{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAdmins).ForEach(func(_, v []byte) error {
			var rec adminRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rating.Admin{Name: rec.Name, Changed: rec.Changed})
			return nil
		})
	})
	return out, err
}

// AddAdmin creates an admin user; EConflict when the name is taken.
func (s *Store) AddAdmin(name, password string) error {
	hash, err := AdminHash(name, password)
	if err != nil {
		return err
	}
	return s.update(func(tx *txn) error {
		b := tx.Bucket(bucketAdmins)
		if b.Get([]byte(name)) != nil {
			return rating.Errorf(rating.EConflict, "user %s exists already: reset its password instead", rating.Excerpt(name))
		}
		return putJSON(b, []byte(name), &adminRecord{Name: name, Hash: hash, Changed: tx.now})
	})
}

// DeleteAdmin removes an admin user and ends its sessions. The last user
// cannot be removed: nobody could log in to add another.
func (s *Store) DeleteAdmin(name string) error {
	return s.update(func(tx *txn) error {
		b := tx.Bucket(bucketAdmins)
		if b.Get([]byte(name)) == nil {
			return rating.Errorf(rating.ENotFound, "user %s not found", rating.Excerpt(name))
		}
		if b.Stats().KeyN <= 1 {
			return rating.Errorf(rating.EConflict, "user %s is the only one: add another before removing it", rating.Excerpt(name))
		}
		if err := deleteSessions(tx.Tx, func(r *sessionRecord) bool { return r.User == name }); err != nil {
			return err
		}
		return b.Delete([]byte(name))
	})
}
