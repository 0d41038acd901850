package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// ReplaceRates replaces every row of the table with rows and swaps in the
// new index; nothing changes on error. It is ImportRates with the whole
// deck as one chunk, so that a replace from memory and an upload go
// through the one mechanism: rows written aside, then swapped in by one
// transaction. The caller's rows are left as they are.
func (s *Store) ReplaceRates(name string, rows []rating.Row) error {
	_, err := s.ImportRates(name, func(stage func([]rating.Row) error) error { return stage(rows) })
	return err
}

// built is the outcome of building an index in a goroutine.
type built struct {
	index *rating.Index
	err   error
}

// MergeRates upserts rows by (prefix, effective_from, times of the week)
// in one transaction. A row whose times clash with a stored row of its
// week is EInvalid, and nothing changes.
// It returns how many rows were added and how many replaced. A merge of a
// few prefixes changes the live index as PutRate does; a larger one
// rebuilds it from all rows of the table. rows is sorted in place.
func (s *Store) MergeRates(name string, rows []rating.Row) (added, replaced int, err error) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	t, err := s.RateTable(name)
	if err != nil {
		return 0, 0, err
	}
	keys, err := prepareRows(rows, t.Decimals)
	if err != nil {
		return 0, 0, err
	}
	var id uint64
	var x *rating.Index
	err = s.update(func(tx *txn) error {
		rec, b, err := tableRows(tx.Tx, name)
		if err != nil {
			return err
		}
		if replaced, err = putRows(b, rows, keys, true); err != nil {
			return err
		}
		added = len(rows) - replaced
		rec.Rows += added
		rec.Updated = tx.now
		t, id = rec.Table, rec.ID
		if err := putTable(tx.Tx, &rec); err != nil {
			return err
		}
		if live := s.book.Get(name); live != nil {
			if ps := prefixesOf(rows, s.foldAt-live.Overlaid()); ps != nil {
				x, err = amend(live, b, ps) // which checks the weeks
				return err
			}
		}
		return checkMergedWeeks(b, rows)
	})
	if err != nil {
		return 0, 0, err
	}
	if x == nil {
		// The rows are read back outside the write transaction, so other
		// writers do not wait for it; rateMu keeps them as committed.
		if x, err = s.loadIndex(id, t); err != nil {
			return 0, 0, err
		}
	}
	s.book.Set(x)
	return added, replaced, nil
}

// checkMergedWeeks checks the weeks that merged rows joined. Only a row
// with times can clash with a stored one: a default replaces the default
// of its version, which has the same key.
func checkMergedWeeks(b *bolt.Bucket, rows []rating.Row) error {
	in := Interner{}
	for i := range rows {
		if !rows[i].Week().Timed() || i > 0 && rows[i].Prefix == rows[i-1].Prefix && rows[i-1].Week().Timed() {
			continue // no times, or the prefix is already checked
		}
		if _, err := prefixRows(b, rows[i].Prefix, in); err != nil {
			return err
		}
	}
	return nil
}

// prefixesOf lists the distinct prefixes of rows, sorted by prefix, or
// returns nil when there are n or more.
func prefixesOf(rows []rating.Row, n int) []string {
	ps := []string{}
	for i := range rows {
		if i > 0 && rows[i].Prefix == rows[i-1].Prefix {
			continue
		}
		if len(ps)+1 >= n {
			return nil
		}
		ps = append(ps, rows[i].Prefix)
	}
	return ps
}

// putRows writes sorted rows, whose sort keys are keys, into b and, when
// count is set, reports how many keys already existed. bbolt keeps a value slice until commit
// instead of copying it, so values are encoded into large shared chunks
// rather than one allocation per row.
func putRows(b *bolt.Bucket, rows []rating.Row, keys []rowKey, count bool) (existed int, err error) {
	const chunk = 1 << 20
	var arena []byte
	key := make([]byte, 0, rateKeyLen)
	for i := range rows {
		r := &rows[i]
		if cap(arena)-len(arena) < 512 {
			arena = make([]byte, 0, chunk)
		}
		start := len(arena)
		arena = appendRowValue(arena, r)
		key = keys[i].appendKey(key[:0], r)
		if count && b.Get(key) != nil {
			existed++
		}
		if err := b.Put(key, arena[start:len(arena):len(arena)]); err != nil {
			return existed, fmt.Errorf("put rate %q: %w", r.Prefix, err)
		}
	}
	return existed, nil
}

// loadIndex builds the index of table t (id) from its stored rows, read
// one at a time in key order in one read transaction: the rows of a large
// table are never all in memory, only the index they make.
func (s *Store) loadIndex(id uint64, t rating.Table) (*rating.Index, error) {
	b := rating.NewIndexBuilder(t, t.Rows)
	err := s.db.View(func(tx *bolt.Tx) error {
		rows := rateRows(tx, id)
		if rows == nil {
			return nil
		}
		in := Interner{}
		var row rating.Row
		return rows.ForEach(func(k, v []byte) error {
			row = rating.Row{}
			if err := decodeRow(k, v, &row, in); err != nil {
				return err
			}
			b.Add(&row)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return b.Build(), nil
}

// Rates pages through a table's rows in (prefix, effective_from) order,
// only rows whose prefix starts with prefix when it is not empty. after is
// the cursor a previous page returned; next is "" on the last page. A
// limit ≤ 0 is DefaultLimit, and it is at most MaxLimit.
func (s *Store) Rates(name, prefix, after string, limit int) (rows []rating.Row, next string, err error) {
	limit = pageLimit(limit)
	if prefix != "" {
		if err := rating.ValidatePrefix(prefix); err != nil {
			return nil, "", err
		}
	}
	var cursor []byte
	if after != "" {
		if cursor, err = parseRateCursor(after); err != nil {
			return nil, "", err
		}
	}
	rows, more := []rating.Row{}, false
	err = s.db.View(func(tx *bolt.Tx) error {
		rec, err := getTable(tx, name)
		if err != nil {
			return err
		}
		rows, cursor, more, err = ratePage(rateRows(tx, rec.ID), []byte(prefix), cursor, rows, limit, Interner{})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if more {
		next = rateCursor(cursor)
	}
	return rows, next, nil
}

// EachRate calls fn for every row of the table in (prefix,
// effective_from) order. It reads the rows a page at a time, each page in a
// read transaction of its own, and calls fn between transactions: fn may
// be as slow as a client downloading a CSV export, and an open read
// transaction holds up every commit that has to remap a growing file.
//
// The walk is one version of the table all the same: every change of a
// table's rows or settings moves its Updated, and when a later page finds
// the table changed or gone, the walk stops with EConflict, so that an
// export never mixes two decks. The row is reused between calls: fn must
// copy what it keeps. An error from fn stops the walk and is returned.
func (s *Store) EachRate(name string, fn func(*rating.Row) error) error {
	var (
		at    tableRecord // the table as the first page found it
		rows  = make([]rating.Row, 0, s.exportPage)
		after []byte // the key of the last row read
		in    = Interner{}
	)
	for {
		more := false
		err := s.db.View(func(tx *bolt.Tx) (err error) {
			if at.ID == 0 {
				at, err = getTable(tx, name)
			} else {
				err = sameTable(tx, at)
			}
			if err != nil {
				return err
			}
			rows, after, more, err = ratePage(rateRows(tx, at.ID), nil, after, rows[:0], s.exportPage, in)
			return err
		})
		if err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// defaultExportPage is how many rows or CDRs EachRate and EachCDR read in
// one read transaction: enough that a page costs little more than its
// rows, few enough that it takes well under a millisecond.
const defaultExportPage = 1000

// sameTable fails with EConflict unless the table is still as at shows it.
func sameTable(tx *bolt.Tx, at tableRecord) error {
	var rec tableRecord
	switch ok, err := getJSON(tx.Bucket(bucketTables), itob(at.ID), &rec); {
	case err != nil:
		return err
	case !ok:
		return rating.Errorf(rating.EConflict, "rate table %q was deleted while it was being read", at.Name)
	case rec.Rows != at.Rows || !rec.Updated.Equal(at.Updated):
		return rating.Errorf(rating.EConflict, "rate table %q changed while it was being read; read it again", at.Name)
	}
	return nil
}

// ratePage appends to rows up to n rows of b, a table's rows (nil: none),
// whose keys start
// with prefix (every row for an empty one) and follow the key after (from
// the first such row when after is nil or sorts before prefix). It returns
// the key of the last row read, in after's array, and whether more rows of
// the prefix remain. Rates and EachRate both page with it.
func ratePage(b *bolt.Bucket, prefix, after []byte, rows []rating.Row, n int, in Interner) ([]rating.Row, []byte, bool, error) {
	if b == nil {
		return rows, after, false, nil
	}
	c := b.Cursor()
	k, v := c.Seek(prefix)
	if after != nil && bytes.Compare(after, prefix) >= 0 {
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	for start := len(rows); k != nil && bytes.HasPrefix(k, prefix) && len(rows)-start < n; k, v = c.Next() {
		rows = append(rows, rating.Row{})
		if err := decodeRow(k, v, &rows[len(rows)-1], in); err != nil {
			return rows, after, false, err
		}
		after = append(after[:0], k...)
	}
	return rows, after, k != nil && bytes.HasPrefix(k, prefix), nil
}

// rateRows is the bucket of table id's rows, nil for a table that has
// none yet.
func rateRows(tx *bolt.Tx, id uint64) *bolt.Bucket {
	return tx.Bucket(bucketRates).Bucket(itob(id))
}

// tableRows reads the named table's record and opens the bucket of its
// rows, creating it for a table that has none yet.
func tableRows(tx *bolt.Tx, name string) (tableRecord, *bolt.Bucket, error) {
	rec, err := getTable(tx, name)
	if err != nil {
		return rec, nil, err
	}
	b, err := tx.Bucket(bucketRates).CreateBucketIfNotExists(itob(rec.ID))
	if err != nil {
		return rec, nil, fmt.Errorf("rows of table %q: %w", name, err)
	}
	return rec, b, nil
}
