package pg

import (
	"context"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// Admins lists the admin users by name, in byte order.
func (s *Store) Admins() ([]rating.Admin, error) {
	rows, _ := s.pool.Query(context.Background(), `SELECT name, changed FROM admins ORDER BY name COLLATE "C"`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.Admin, error) {
		var a rating.Admin
		err := row.Scan(&a.Name, &a.Changed)
		a.Changed = a.Changed.UTC()
		return a, err
	})
	if err != nil {
		return nil, dbError(err)
	}
	if out == nil {
		out = []rating.Admin{}
	}
	return out, nil
}

// AddAdmin creates an admin user; EConflict when the name is taken.
func (s *Store) AddAdmin(name, password string) error {
	hash, err := store.AdminHash(name, password)
	if err != nil {
		return err
	}
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		tag, err := tx.Exec(ctx, `INSERT INTO admins (name, bcrypt, changed) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, hash, micro(tx.now))
		if err == nil && tag.RowsAffected() == 0 {
			return rating.Errorf(rating.EConflict, "user %s exists already: reset its password instead", rating.Excerpt(name))
		}
		return err
	})
}

// DeleteAdmin removes an admin user and ends its sessions (the sessions'
// foreign key cascades). The last user cannot be removed: nobody could
// log in to add another. Every admin row is locked, in name order, before
// counting, so two nodes removing the last two users at once remove one.
func (s *Store) DeleteAdmin(name string) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		rows, _ := tx.Query(ctx, `SELECT name FROM admins ORDER BY name FOR UPDATE`)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		found := false
		for _, n := range names {
			found = found || n == name
		}
		if !found {
			return rating.Errorf(rating.ENotFound, "user %s not found", rating.Excerpt(name))
		}
		if len(names) <= 1 {
			return rating.Errorf(rating.EConflict, "user %s is the only one: add another before removing it", rating.Excerpt(name))
		}
		_, err = tx.Exec(ctx, `DELETE FROM admins WHERE name = $1`, name)
		return err
	})
}
