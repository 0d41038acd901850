package pg

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"pbxbill/rating"
	"pbxbill/store"
)

// dummyHash is checked against when the user does not exist, so that a
// login for an unknown name takes as long as one for a known name and its
// timing does not tell which names exist. It is the bbolt store's.
var dummyHash = []byte("$2a$10$kze/X9iL6VX3ecfW.tjAu.qyKrTEvrZ3OLad3VJwXKrK0G0qaOUk6")

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
	raw := make([]byte, 15)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("admin password: %w", err)
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("admin password: %w", err)
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
	hash, err := adminHash(name, password)
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
	if !found {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !found {
		return rating.Errorf(rating.EUnauthorized, "wrong user name or password")
	}
	return nil
}

// checkPassword applies the password rules of the bbolt store.
func checkPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < store.MinPasswordLen {
		return rating.Invalidf("password", "password: at least %d characters, got %d", store.MinPasswordLen, n)
	}
	if len(password) > store.MaxPasswordLen {
		return rating.Invalidf("password", "password: at most %d bytes, got %d", store.MaxPasswordLen, len(password))
	}
	return nil
}

// adminHash checks a user's name and password and hashes the password,
// outside any transaction: bcrypt is slow on purpose.
func adminHash(name, password string) ([]byte, error) {
	if err := rating.ValidateName("user", name); err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("admin password: %w", err)
	}
	return hash, nil
}
