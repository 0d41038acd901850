package pg

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// tableRec is a rate table as stored: its settings, its id (which its
// rows and a rename keep), the generation of rows that is live and its
// version, which every committed change moves.
type tableRec struct {
	id, gen, version int64
	rating.Table
}

// tableCols are a rate_tables row's columns in the order scanTable reads
// them.
const tableCols = `id, gen, version, name, kind, currency, decimals, rounding, initial_increment, increment, rows, updated`

func scanTable(row pgx.Row) (tableRec, error) {
	var r tableRec
	var kind, rounding string
	t := &r.Table
	if err := row.Scan(&r.id, &r.gen, &r.version, &t.Name, &kind, &t.Currency, &t.Decimals, &rounding,
		&t.InitialIncrement, &t.Increment, &t.Rows, &t.Updated); err != nil {
		return r, err
	}
	t.Updated = t.Updated.UTC()
	var err error
	if t.Kind, err = rating.ParseKind(kind); err == nil {
		t.Rounding, err = rating.ParseRounding(rounding)
	}
	return r, err
}

// tableByName reads a table by name, with forUpdate locking its row: the
// lock that every change of the table or its rows takes first, on every
// node. A missing table is ENotFound.
func tableByName(ctx context.Context, tx pgx.Tx, name string, forUpdate bool) (tableRec, error) {
	q := `SELECT ` + tableCols + ` FROM rate_tables WHERE name = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	r, err := scanTable(tx.QueryRow(ctx, q, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, rating.Errorf(rating.ENotFound, "rate table %s not found", rating.Excerpt(name))
	}
	return r, err
}

// tableByID reads a table by id; a missing one is pgx.ErrNoRows.
func tableByID(ctx context.Context, tx pgx.Tx, id int64, forUpdate bool) (tableRec, error) {
	q := `SELECT ` + tableCols + ` FROM rate_tables WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	return scanTable(tx.QueryRow(ctx, q, id))
}

// stamp is a transaction's instant as a timestamptz keeps it, so that a
// table returned by a change equals the table read back.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// RateTables lists tables of kind k (0: all) by name, with row counts.
func (s *Store) RateTables(k rating.Kind) ([]rating.Table, error) {
	ctx := context.Background()
	out := []rating.Table{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		kind := ""
		if k != 0 {
			kind = k.String()
		}
		rows, _ := tx.Query(ctx, `SELECT `+tableCols+` FROM rate_tables WHERE $1 = '' OR kind = $1 ORDER BY name COLLATE "C"`, kind)
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rating.Table, error) {
			rec, err := scanTable(r)
			return rec.Table, err
		})
		out = append(out, list...)
		return err
	})
	return out, err
}

// RateTable reads one table's settings.
func (s *Store) RateTable(name string) (rating.Table, error) {
	ctx := context.Background()
	var rec tableRec
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		rec, err = tableByName(ctx, tx, name, false)
		return err
	})
	return rec.Table, err
}

// CreateRateTable creates an empty table. Currency is set to the
// installation's. A duplicate name is EConflict.
func (s *Store) CreateRateTable(t rating.Table) (rating.Table, error) {
	ctx := context.Background()
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	var id, version int64
	in := t
	err := s.write(ctx, func(tx *txn) error {
		t = in
		t.Currency, t.Rows, t.Updated = s.currency, 0, stamp(tx.now)
		if err := t.Validate(); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO rate_tables (name, kind, currency, decimals, rounding, initial_increment, increment, rows, updated, gen)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, nextval('rate_gens'))
			ON CONFLICT (name) DO NOTHING RETURNING id, version`,
			t.Name, t.Kind.String(), t.Currency, t.Decimals, t.Rounding.String(), t.InitialIncrement, t.Increment, t.Updated).Scan(&id, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return rating.Errorf(rating.EConflict, "rate table %q already exists", t.Name)
		}
		if err != nil {
			return err
		}
		return s.announce(ctx, tx, id, version)
	})
	if err != nil {
		return rating.Table{}, err
	}
	s.install(id, version, rating.NewIndex(t, nil))
	return t, nil
}

// UpdateRateTable applies fn to the table's settings, validates and saves
// them, and rebuilds the index. A rename updates the tenants and providers
// that use the table; a kind change is refused while the table is in use.
// Currency, Rows and Updated are kept by the store whatever fn does.
//
// The index is rebuilt from the rows inside the transaction, whose lock
// on the table keeps them as they are; fn may run more than once, should
// the database ask for the transaction to be retried.
func (s *Store) UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error) {
	ctx := context.Background()
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	var (
		t           rating.Table
		id, version int64
		x           *rating.Index
	)
	err := s.write(ctx, func(tx *txn) error {
		rec, err := tableByName(ctx, tx, name, true)
		if err != nil {
			return err
		}
		t = rec.Table
		if err := fn(&t); err != nil {
			return err
		}
		t.Currency, t.Rows, t.Updated = rec.Currency, rec.Rows, stamp(tx.now)
		if err := t.Validate(); err != nil {
			return err
		}
		if t.Kind != rec.Kind {
			users, err := tableUsers(ctx, tx, rec.Name)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				return rating.Errorf(rating.EConflict, "rate table %q is in use by %s; its kind can't change",
					rec.Name, strings.Join(users, ", "))
			}
		}
		if t.Name != rec.Name {
			if err := renameTable(ctx, tx, rec.Name, t.Name); err != nil {
				return err
			}
		}
		id = rec.id
		if err := tx.QueryRow(ctx, `UPDATE rate_tables SET name = $2, kind = $3, decimals = $4, rounding = $5,
			initial_increment = $6, increment = $7, updated = $8, version = version + 1 WHERE id = $1 RETURNING version`,
			id, t.Name, t.Kind.String(), t.Decimals, t.Rounding.String(), t.InitialIncrement, t.Increment, t.Updated).Scan(&version); err != nil {
			if isUnique(err, "rate_tables_name_key") {
				return rating.Errorf(rating.EConflict, "rate table %q already exists", t.Name)
			}
			return err
		}
		// The index holds rows resolved with the table's defaults, so any
		// settings change means rebuilding it.
		if x, err = loadIndex(ctx, tx, tableRec{id: id, gen: rec.gen, version: version, Table: t}); err != nil {
			return err
		}
		return s.announce(ctx, tx, id, version)
	})
	if err != nil {
		return rating.Table{}, err
	}
	s.install(id, version, x)
	return t, nil
}

// renameTable moves every tenant and provider reference to the table
// from one name to another, after checking the new name is free.
func renameTable(ctx context.Context, tx *txn, from, to string) error {
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rate_tables WHERE name = $1)`, to).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return rating.Errorf(rating.EConflict, "rate table %q already exists", to)
	}
	if _, err := tx.Exec(ctx, `UPDATE tenants SET
		outbound_table = CASE WHEN outbound_table = $1 THEN $2 ELSE outbound_table END,
		inbound_table = CASE WHEN inbound_table = $1 THEN $2 ELSE inbound_table END,
		conference_table = CASE WHEN conference_table = $1 THEN $2 ELSE conference_table END
		WHERE $1 IN (outbound_table, inbound_table, conference_table)`, from, to); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE providers SET
		outbound_table = CASE WHEN outbound_table = $1 THEN $2 ELSE outbound_table END,
		inbound_table = CASE WHEN inbound_table = $1 THEN $2 ELSE inbound_table END
		WHERE $1 IN (outbound_table, inbound_table)`, from, to)
	return err
}

// DeleteRateTable deletes a table and its rows. A table in use is
// EConflict, and the message names its users.
func (s *Store) DeleteRateTable(name string) error {
	ctx := context.Background()
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	var id int64
	err := s.write(ctx, func(tx *txn) error {
		rec, err := tableByName(ctx, tx, name, true)
		if err != nil {
			return err
		}
		users, err := tableUsers(ctx, tx, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return rating.Errorf(rating.EConflict, "rate table %q is in use by %s", name, strings.Join(users, ", "))
		}
		id = rec.id
		if _, err := tx.Exec(ctx, `DELETE FROM rates WHERE gen = $1`, rec.gen); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rate_tables WHERE id = $1`, id); err != nil {
			return err
		}
		return s.announce(ctx, tx, id, rec.version+1)
	})
	if err != nil {
		return err
	}
	s.dropIndex(id, name)
	return nil
}

// TableUsers names the tenants and providers that use a table, as
// "tenant NAME" and "provider NAME".
func (s *Store) TableUsers(name string) ([]string, error) {
	ctx := context.Background()
	var users []string
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := tableByName(ctx, tx, name, false); err != nil {
			return err
		}
		var err error
		users, err = tableUsers(ctx, tx, name)
		return err
	})
	return users, err
}

// tableUsers lists the users of a table, tenants first, each kind by name.
func tableUsers(ctx context.Context, tx pgx.Tx, name string) ([]string, error) {
	rows, _ := tx.Query(ctx, `SELECT who FROM (
			SELECT 1 AS k, name, 'tenant ' || name AS who FROM tenants
			WHERE $1 IN (outbound_table, inbound_table, conference_table)
			UNION ALL
			SELECT 2, name, 'provider ' || name FROM providers WHERE $1 IN (outbound_table, inbound_table)) u
		ORDER BY k, name COLLATE "C"`, name)
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if users == nil {
		users = []string{}
	}
	return users, err
}

// checkTableRef checks that the table a tenant or provider field names
// exists and is of kind k. An empty name is no assignment. It locks the
// table's row FOR SHARE until tx ends, so that a delete, a rename or a
// kind change of the table on any node waits for tx and then sees its
// reference.
func checkTableRef(ctx context.Context, tx pgx.Tx, field, name string, k rating.Kind) error {
	if name == "" {
		return nil
	}
	var kind string
	err := tx.QueryRow(ctx, `SELECT kind FROM rate_tables WHERE name = $1 FOR SHARE`, name).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Invalidf(field, "%s %s: no such rate table", field, rating.Excerpt(name))
	}
	if err != nil {
		return err
	}
	if kind != k.String() {
		return rating.Invalidf(field, "%s %s: the table is %s, want %s", field, rating.Excerpt(name), kind, k)
	}
	return nil
}
