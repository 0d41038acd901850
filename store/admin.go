package store

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Buckets of the browser admin, created at Open with the others.
var (
	bucketAdmins   = []byte("admins")   // user name → adminRecord JSON
	bucketSessions = []byte("sessions") // SHA-256(session token) → sessionRecord JSON
)

// AdminUser is the administrator that the first start creates and that
// -admin-password sets.
const AdminUser = rating.AdminUser

// MinPasswordLen is the shortest admin password accepted. bcrypt reads at
// most 72 bytes, so a longer one is refused rather than silently cut.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// adminRecord is an admin user as stored: the password only as a bcrypt
// hash, so a copy of the database does not reveal it.
type adminRecord struct {
	Name    string    `json:"name"`
	Hash    []byte    `json:"bcrypt"`
	Changed time.Time `json:"changed"`
}

// EnsureAdmin creates the admin user with a random password when no admin
// user exists yet, and returns that password: the only time it exists
// outside the bcrypt hash. It returns "" when an admin user already
// exists. The password is hashed before the write transaction, because
// bcrypt is slow on purpose and the transaction would block every writer.
func (s *Store) EnsureAdmin() (string, error) {
	if ok, err := s.HasAdmin(); err != nil || ok {
		return "", err
	}
	password, hash, err := NewAdminPassword()
	if err != nil {
		return "", err
	}
	created := false
	err = s.update(func(tx *txn) error {
		b := tx.Bucket(bucketAdmins)
		if k, _ := b.Cursor().First(); k != nil {
			return nil // another start won the race; keep its password
		}
		created = true
		return putJSON(b, []byte(AdminUser), &adminRecord{Name: AdminUser, Hash: hash, Changed: tx.now})
	})
	if err != nil || !created {
		return "", err
	}
	return password, nil
}

// HasAdmin reports whether any admin user exists.
func (s *Store) HasAdmin() (bool, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketAdmins).Cursor().First()
		found = k != nil
		return nil
	})
	return found, err
}

// SetAdminPassword creates the user name or replaces its password, and
// ends every session of that user, so a reset locks out whoever had the
// old password.
func (s *Store) SetAdminPassword(name, password string) error {
	hash, err := AdminHash(name, password)
	if err != nil {
		return err
	}
	return s.update(func(tx *txn) error {
		if err := deleteSessions(tx.Tx, func(r *sessionRecord) bool { return r.User == name }); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAdmins), []byte(name), &adminRecord{Name: name, Hash: hash, Changed: tx.now})
	})
}

// CheckAdminPassword answers nil when password is the user's, and
// EUnauthorized, with the same message whichever is wrong, otherwise.
func (s *Store) CheckAdminPassword(name, password string) error {
	var rec adminRecord
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucketAdmins), []byte(name), &rec)
		return err
	})
	if err != nil {
		return err
	}
	return CheckAdminHash(rec.Hash, found, password)
}
