package pg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/store"
)

// EnsureAdmin creates the admin user with a random password when no admin
// user exists yet, and returns that password: the only time it exists
// outside the bcrypt hash. It returns "" when an admin user already
// exists, also when another node starting at the same time created it
// first. The password is hashed before the transaction: bcrypt is slow on
// purpose.
func (s *Store) EnsureAdmin() (string, error) {
	if ok, err := s.HasAdmin(); err != nil || ok {
		return "", err
	}
	password, hash, err := store.NewAdminPassword()
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	created := false
	err = s.write(ctx, func(tx *txn) error {
		tag, err := tx.Exec(ctx, `INSERT INTO admins (name, bcrypt, changed)
			SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM admins) ON CONFLICT (name) DO NOTHING`,
			store.AdminUser, hash, micro(tx.now))
		created = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil || !created {
		return "", err
	}
	return password, nil
}

// HasAdmin reports whether any admin user exists.
func (s *Store) HasAdmin() (bool, error) {
	var found bool
	err := s.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM admins)`).Scan(&found)
	return found, dbError(err)
}

// SetAdminPassword creates the user name or replaces its password, and
// ends every session of that user, so a reset locks out whoever had the
// old password.
func (s *Store) SetAdminPassword(name, password string) error {
	hash, err := store.AdminHash(name, password)
	if err != nil {
		return err
	}
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(ctx, `INSERT INTO admins (name, bcrypt, changed) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET bcrypt = excluded.bcrypt, changed = excluded.changed`,
			name, hash, micro(tx.now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE username = $1`, name)
		return err
	})
}

// CheckAdminPassword answers nil when password is the user's, and
// EUnauthorized, with the same message whichever is wrong, otherwise.
func (s *Store) CheckAdminPassword(name, password string) error {
	var hash []byte
	err := s.pool.QueryRow(context.Background(), `SELECT bcrypt FROM admins WHERE name = $1`, name).Scan(&hash)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return dbError(err)
	}
	return store.CheckAdminHash(hash, found, password)
}
