package store

import (
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
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
	err := s.changeRows(name, func(b *bolt.Bucket, rec *tableRecord) ([]string, error) {
		if err := deleteRow(b, rec, key, &old); err != nil {
			return nil, err
		}
		return []string{key.Prefix}, nil
	})
	return old, err
}

// PutRate writes one row into table name: it adds the row, or replaces
// the row of the same prefix, effective_from and times of the week, and
// reports whether it added one. A row whose times clash with another row
// of its week (rating.CheckWeek) is EInvalid, and nothing changes. With from set to another key the row moves: the row at from
// is deleted in the same transaction (ENotFound when there is none), and
// a row already at the new key is EConflict rather than overwritten. Like
// DeleteRate it changes the live index without a rebuild.
func (s *Store) PutRate(name string, row rating.Row, from *rating.RateKey) (added bool, err error) {
	key := row.Key()
	moved := from != nil && !from.Same(key)
	err = s.changeRows(name, func(b *bolt.Bucket, rec *tableRecord) ([]string, error) {
		if err := row.Validate(rec.Decimals); err != nil {
			return nil, err
		}
		k := appendRateKey(nil, key.Prefix, key.EffectiveFrom, key.Week.Key())
		added = b.Get(k) == nil
		changed := []string{key.Prefix}
		if moved {
			if !added {
				return nil, &rating.Error{Code: rating.EConflict, Field: "prefix",
					Message: fmt.Sprintf("rate table %q already has a row %s", rec.Name, key)}
			}
			if err := deleteRow(b, rec, *from, nil); err != nil {
				return nil, err
			}
			if from.Prefix != key.Prefix {
				changed = append(changed, from.Prefix)
			}
		}
		if err := b.Put(k, appendRowValue(nil, &row)); err != nil {
			return nil, fmt.Errorf("put rate %q: %w", row.Prefix, err)
		}
		if added {
			rec.Rows++
		}
		return changed, nil
	})
	return added, err
}

// deleteRow deletes the row at key from b, counting rec's rows down, and
// decodes it into old when old is not nil.
func deleteRow(b *bolt.Bucket, rec *tableRecord, key rating.RateKey, old *rating.Row) error {
	k := appendRateKey(nil, key.Prefix, key.EffectiveFrom, key.Week.Key())
	v := b.Get(k)
	if v == nil {
		return rating.Errorf(rating.ENotFound, "rate table %q has no row %s", rec.Name, key)
	}
	if old != nil {
		if err := decodeRow(k, v, old, Interner{}); err != nil {
			return err
		}
	}
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("delete rate %q: %w", key.Prefix, err)
	}
	rec.Rows--
	return nil
}

// changeRows runs fn on the rows of table name in one write transaction,
// which also sets the table's Updated and saves its record; fn keeps
// rec.Rows right and returns the prefixes whose rows it changed. Each of
// those prefixes then gets its rows as written in the live index, through
// rating.Index.WithPrefix: a change of one row costs the same for a table
// of ten rows or a million, and no second index is ever built for it.
// Once the index carries foldAt changed prefixes it is rebuilt in the
// background (fold).
func (s *Store) changeRows(name string, fn func(b *bolt.Bucket, rec *tableRecord) ([]string, error)) error {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	var x *rating.Index
	var id uint64
	err := s.update(func(tx *txn) error {
		rec, b, err := tableRows(tx.Tx, name)
		if err != nil {
			return err
		}
		changed, err := fn(b, &rec)
		if err != nil {
			return err
		}
		rec.Updated = tx.now
		if err := putTable(tx.Tx, &rec); err != nil {
			return err
		}
		// rateMu keeps the live index as the committed rows made it.
		if x = s.book.Get(name); x == nil {
			return fmt.Errorf("rate table %q has no live index", name)
		}
		id = rec.ID
		x, err = amend(x, b, changed)
		return err
	})
	if err != nil {
		return err
	}
	s.book.Set(x)
	if x.Overlaid() >= s.foldAt {
		s.fold(id)
	}
	return nil
}

// amend gives each of prefixes its rows in b, as the caller's transaction
// sees them, in a copy of x made in one step (rating.Index.WithPrefixes).
// The weeks of those rows are checked first: a change that leaves two
// defaults or overlapping times in a week is EInvalid, and the caller's
// transaction is not committed.
func amend(x *rating.Index, b *bolt.Bucket, prefixes []string) (*rating.Index, error) {
	in := Interner{}
	changes := make(map[string][]rating.Row, len(prefixes))
	for _, p := range prefixes {
		rows, err := prefixRows(b, p, in)
		if err != nil {
			return nil, err
		}
		changes[p] = rows
	}
	return x.WithPrefixes(changes), nil
}

// prefixRows reads every row of prefix from b, in key order, and checks
// their weeks.
func prefixRows(b *bolt.Bucket, prefix string, in Interner) ([]rating.Row, error) {
	// A row's key is its prefix, a 0 byte, its effective_from and times.
	rows, _, _, err := ratePage(b, append([]byte(prefix), 0), nil, nil, math.MaxInt, in)
	if err != nil {
		return nil, err
	}
	return rows, rating.CheckWeeks(rows)
}

// defaultFoldAt is how many changed prefixes a live index carries before
// it is rebuilt. A lookup that the changes may concern costs about one
// more lookup, and a change copies them; rebuilding a 10^6-row table takes
// some 0.5 s and, for that time, the memory of a second index.
const defaultFoldAt = 1024

// fold rebuilds the index of table id from its rows in the background,
// folding away the changed prefixes it carries. The caller holds rateMu.
// The rebuild takes rateMu too, as every change of the table's rows does,
// so no change falls between its read and its swap; it finds the table
// by id, which a rename keeps. A table deleted or imported meanwhile
// needs nothing, and a failed rebuild leaves the changes in place for the
// next change to try again.
func (s *Store) fold(id uint64) {
	if s.folding[id] {
		return
	}
	s.folding[id] = true
	s.folds.Add(1)
	go func() {
		defer s.folds.Done()
		s.rateMu.Lock()
		defer s.rateMu.Unlock()
		delete(s.folding, id)
		var rec tableRecord
		err := s.db.View(func(tx *bolt.Tx) (err error) {
			rec, err = getTableByID(tx, id)
			return err
		})
		if err != nil {
			return
		}
		if x := s.book.Get(rec.Name); x == nil || x.Overlaid() == 0 {
			return
		}
		if x, err := s.loadIndex(id, rec.Table); err == nil {
			s.book.Set(x)
		}
	}()
}
