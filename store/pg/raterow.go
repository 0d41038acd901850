package pg

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// DeleteRate deletes one row of table name and returns it. One
// transaction deletes it, counts the table's rows down and sets Updated;
// the live index changes at once, without a rebuild (see changeRows). A
// missing row is ENotFound.
func (s *Store) DeleteRate(name string, key rating.RateKey) (rating.Row, error) {
	if err := rating.ValidatePrefix(key.Prefix); err != nil {
		return rating.Row{}, err
	}
	var old rating.Row
	err := s.changeRows(name, func(ctx context.Context, tx *txn, rec *tableRec) ([]string, error) {
		if err := deleteRow(ctx, tx, rec, key, &old); err != nil {
			return nil, err
		}
		return []string{key.Prefix}, nil
	})
	return old, err
}

// PutRate writes one row into table name: it adds the row, or replaces
// the row of the same prefix, effective_from and times of the week, and
// reports whether it added one. A row whose times clash with another row
// of its week (rating.CheckWeek) is EInvalid, and nothing changes. With
// from set to another key the row moves: the row at from is deleted in
// the same transaction (ENotFound when there is none), and a row already
// at the new key is EConflict rather than overwritten. Like DeleteRate it
// changes the live index without a rebuild.
func (s *Store) PutRate(name string, row rating.Row, from *rating.RateKey) (added bool, err error) {
	key := row.Key()
	moved := from != nil && !from.Same(key)
	err = s.changeRows(name, func(ctx context.Context, tx *txn, rec *tableRec) ([]string, error) {
		if err := row.Validate(rec.Decimals); err != nil {
			return nil, err
		}
		n, err := deleteKeys(ctx, tx, rec, []rating.Row{row})
		if err != nil {
			return nil, err
		}
		added = n == 0
		changed := []string{key.Prefix}
		if moved {
			if !added {
				return nil, &rating.Error{Code: rating.EConflict, Field: "prefix",
					Message: fmt.Sprintf("rate table %q already has a row %s", rec.Name, key)}
			}
			if err := deleteRow(ctx, tx, rec, *from, nil); err != nil {
				return nil, err
			}
			if from.Prefix != key.Prefix {
				changed = append(changed, from.Prefix)
			}
		}
		if err := copyIn(ctx, tx, rec.gen, []rating.Row{row}); err != nil {
			return nil, err
		}
		if added {
			rec.Rows++
		}
		return changed, nil
	})
	return added, err
}

// deleteRow deletes the row at key, counting rec's rows down, and
// returns it in old when old is not nil.
func deleteRow(ctx context.Context, tx *txn, rec *tableRec, key rating.RateKey, old *rating.Row) error {
	rows, err := tx.Query(ctx, `DELETE FROM rates WHERE gen = $1 AND prefix = $2 AND effective_from = $3 AND week = $4
		RETURNING `+rateCols, rec.gen, key.Prefix, effective(key.EffectiveFrom), int32(key.Week.Key()))
	if err != nil {
		return err
	}
	defer rows.Close()
	d := rowDecoder{in: store.Interner{}}
	if err := d.check(rows); err != nil {
		return err
	}
	found := false
	for rows.Next() {
		found = true
		if old != nil {
			if err := d.decode(rows.RawValues(), old); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !found {
		return rating.Errorf(rating.ENotFound, "rate table %q has no row %s", rec.Name, key)
	}
	rec.Rows--
	return nil
}

// changeRows runs fn on the rows of table name in one transaction, with
// the table's row locked, which also sets the table's Updated, moves its
// version and announces it; fn keeps rec.Rows right and returns the
// prefixes whose rows it changed, whose weeks are then checked. Each of
// those prefixes gets its rows as written in the live index, through
// rating.Index.WithPrefixes, when this node's index is of the version the
// change started from and carries few changes; otherwise the index is
// built again from every row, in the transaction.
func (s *Store) changeRows(name string, fn func(ctx context.Context, tx *txn, rec *tableRec) ([]string, error)) error {
	ctx := context.Background()
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	var (
		x           *rating.Index
		id, version int64
	)
	err := s.write(ctx, func(tx *txn) error {
		rec, err := tableByName(ctx, tx, name, true)
		if err != nil {
			return err
		}
		was := rec.version
		changed, err := fn(ctx, tx, &rec)
		if err != nil {
			return err
		}
		rec.Updated = stamp(tx.now)
		if err := tx.QueryRow(ctx, `UPDATE rate_tables SET rows = $2, updated = $3, version = version + 1 WHERE id = $1 RETURNING version`,
			rec.id, rec.Rows, rec.Updated).Scan(&rec.version); err != nil {
			return err
		}
		id, version = rec.id, rec.version
		if x, err = s.amend(ctx, tx, rec, was, changed); err != nil {
			return err
		}
		if x.Overlaid() == 0 {
			return s.announce(ctx, tx, id, version) // rebuilt: the others reload
		}
		return s.announceRows(ctx, tx, id, version, was, changed)
	})
	if err != nil {
		return err
	}
	s.install(id, version, x)
	return nil
}

// amend returns the index of table rec after a change of the rows of
// prefixes, in tx, from version was. The weeks of those prefixes are
// checked first: a change that leaves two defaults or overlapping times
// in a week is EInvalid, and the caller's transaction is not committed.
// The caller holds rates.mu.
func (s *Store) amend(ctx context.Context, tx pgx.Tx, rec tableRec, was int64, prefixes []string) (*rating.Index, error) {
	changes, err := prefixRows(ctx, tx, rec, prefixes)
	if err != nil {
		return nil, err
	}
	live := s.book.Get(rec.Name)
	if have := s.rates.tables[rec.id]; live != nil && have.version == was && have.name == rec.Name &&
		len(prefixes) < s.rates.foldAt-live.Overlaid() {
		return live.WithPrefixes(changes), nil
	}
	return loadIndex(ctx, tx, rec)
}

// prefixRows reads every row of prefixes, each prefix's in key order,
// and checks their weeks.
func prefixRows(ctx context.Context, tx pgx.Tx, rec tableRec, prefixes []string) (map[string][]rating.Row, error) {
	changes := make(map[string][]rating.Row, len(prefixes))
	for _, p := range prefixes {
		changes[p] = nil
	}
	// Sorted here: an ordered scan could not look each prefix up in the
	// index, and would read the whole generation.
	rows, err := tx.Query(ctx, `SELECT `+rateCols+` FROM rates WHERE gen = $1 AND prefix = ANY($2)`, rec.gen, prefixes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	d := rowDecoder{in: store.Interner{}}
	if err := d.check(rows); err != nil {
		return nil, err
	}
	for rows.Next() {
		var r rating.Row
		if err := d.decode(rows.RawValues(), &r); err != nil {
			return nil, err
		}
		changes[r.Prefix] = append(changes[r.Prefix], r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, p := range prefixes {
		slices.SortFunc(changes[p], func(a, b rating.Row) int { return compareKeys(keyOf(&a), keyOf(&b)) })
		if err := rating.CheckWeeks(changes[p]); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// defaultFoldAt is how many changed prefixes a live index carries before
// it is rebuilt: a lookup that the changes may concern costs about one
// more lookup, and a change copies them.
const defaultFoldAt = 1024
