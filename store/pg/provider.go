package pg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// providerCols are a provider row's columns in the order scanProvider
// reads them.
const providerCols = `id, name, coalesce(trunk, ''), balance, status, outbound_table, inbound_table, created`

// providerRow is a provider with its row id, which the ledger and the
// roll-ups refer to, so that a rename keeps its history.
type providerRow struct {
	ID int64
	rating.Provider
}

func scanProvider(row pgx.Row) (providerRow, error) {
	var r providerRow
	p := &r.Provider
	err := row.Scan(&r.ID, &p.Name, &p.Trunk, scanMoney(&p.Balance), &p.Status, &p.OutboundTable, &p.InboundTable, &p.Created)
	p.Created = p.Created.UTC()
	return r, err
}

// Providers lists every provider by name, in byte order.
func (s *Store) Providers() ([]rating.Provider, error) {
	ctx := context.Background()
	var out []rating.Provider
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		rows, _ := tx.Query(ctx, `SELECT `+providerCols+` FROM providers ORDER BY name COLLATE "C"`)
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.Provider, error) {
			r, err := scanProvider(row)
			return r.Provider, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []rating.Provider{}
	}
	return out, nil
}

// Provider reads one provider by name.
func (s *Store) Provider(name string) (rating.Provider, error) {
	r, err := providerNamed(context.Background(), s.pool, name, false)
	if err != nil {
		return rating.Provider{}, dbError(err)
	}
	return r.Provider, nil
}

// CreateProvider creates a provider with balance 0. Status defaults to
// active. Each assigned table must exist and be of the right kind. A
// trunk another provider has is refused: a CDR's trunk names one carrier
// (the bbolt store let the later name win).
func (s *Store) CreateProvider(p rating.Provider) (rating.Provider, error) {
	ctx := context.Background()
	in := p
	err := s.write(ctx, func(tx *txn) error {
		p = in
		p.Balance, p.Created = rating.Money{}, micro(tx.now)
		if p.Status == "" {
			p.Status = rating.Active
		}
		if err := checkProvider(ctx, tx, &p); err != nil {
			return err
		}
		if err := providerTaken(ctx, tx, &p, 0); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO providers (name, trunk, balance, status, outbound_table, inbound_table, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
			p.Name, nullString(p.Trunk), money(p.Balance), p.Status, p.OutboundTable, p.InboundTable, p.Created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Another node's provider committed meanwhile.
			if err := providerTaken(ctx, tx, &p, 0); err != nil {
				return err
			}
			return rating.Errorf(rating.EConflict, "provider %q already exists", p.Name)
		}
		return err
	})
	if err != nil {
		return rating.Provider{}, err
	}
	return p, nil
}

// UpdateProvider applies fn, validates and saves, with the provider's row
// locked. The store keeps the stored Balance and Created whatever fn does.
func (s *Store) UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error) {
	ctx := context.Background()
	var p rating.Provider
	err := s.write(ctx, func(tx *txn) error {
		rec, err := providerNamed(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if p, err = rec.Provider.Edit(fn); err != nil {
			return err
		}
		if err := checkProvider(ctx, tx, &p); err != nil {
			return err
		}
		if err := providerTaken(ctx, tx, &p, rec.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE providers SET name = $2, trunk = $3, status = $4, outbound_table = $5,
			inbound_table = $6 WHERE id = $1`, rec.ID, p.Name, nullString(p.Trunk), p.Status, p.OutboundTable, p.InboundTable)
		switch {
		case isUnique(err, "providers_name_key"):
			return rating.Errorf(rating.EConflict, "provider %q already exists", p.Name)
		case isUnique(err, "providers_trunk_key"):
			return rating.Errorf(rating.EConflict, "trunk %q is already used by another provider", p.Trunk)
		}
		return err
	})
	if err != nil {
		return rating.Provider{}, err
	}
	return p, nil
}

// DeleteProvider deletes a provider with no ledger entries or CDRs.
func (s *Store) DeleteProvider(name string) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		rec, err := providerNamed(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if used, err := hasHistory(ctx, tx, providerAcct, rec.ID); err != nil || used {
			if err == nil {
				err = rating.Errorf(rating.EConflict, "provider %q has ledger entries; suspend it instead", name)
			}
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM providers WHERE id = $1`, rec.ID)
		return err
	})
}

// providerNamed reads a provider by name, locking its row with
// forUpdate; a missing one is ENotFound.
func providerNamed(ctx context.Context, q querier, name string, forUpdate bool) (providerRow, error) {
	sql := `SELECT ` + providerCols + ` FROM providers WHERE name = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanProvider(q.QueryRow(ctx, sql, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, rating.Errorf(rating.ENotFound, "provider %s not found", rating.Excerpt(name))
	}
	return r, err
}

// checkProvider validates p and its table assignments.
func checkProvider(ctx context.Context, tx pgx.Tx, p *rating.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := checkTableRef(ctx, tx, "outbound_rate_table", p.OutboundTable, rating.Outbound); err != nil {
		return err
	}
	return checkTableRef(ctx, tx, "inbound_rate_table", p.InboundTable, rating.Inbound)
}

// providerTaken refuses p's name or trunk when another provider than id
// (0: any) holds it.
func providerTaken(ctx context.Context, tx pgx.Tx, p *rating.Provider, id int64) error {
	var byName, byTrunk string
	err := tx.QueryRow(ctx, `SELECT coalesce((SELECT name FROM providers WHERE name = $1 AND id <> $3), ''),
		coalesce((SELECT name FROM providers WHERE trunk = $2 AND id <> $3), '')`,
		p.Name, p.Trunk, id).Scan(&byName, &byTrunk)
	switch {
	case err != nil:
		return err
	case byName != "":
		return rating.Errorf(rating.EConflict, "provider %q already exists", p.Name)
	case byTrunk != "":
		return rating.Errorf(rating.EConflict, "trunk %q is already used by provider %q", p.Trunk, byTrunk)
	}
	return nil
}
