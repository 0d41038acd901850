package pg

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// ReplaceRates replaces every row of the table with rows and swaps in the
// new index; nothing changes on error. It is ImportRates with the whole
// deck as one chunk, so that a replace from memory and an upload go
// through the one mechanism. The caller's rows are left as they are.
func (s *Store) ReplaceRates(name string, rows []rating.Row) error {
	_, err := s.ImportRates(name, func(stage func([]rating.Row) error) error { return stage(rows) })
	return err
}

// MergeRates upserts rows by (prefix, effective_from, times of the week)
// in one transaction. A row whose times clash with a stored row of its
// week is EInvalid, and nothing changes.
// It returns how many rows were added and how many replaced. A merge of a
// few prefixes changes the live index as PutRate does; a larger one
// rebuilds it from all rows of the table. rows is sorted in place.
func (s *Store) MergeRates(name string, rows []rating.Row) (added, replaced int, err error) {
	t, err := s.RateTable(name)
	if err != nil {
		return 0, 0, err
	}
	if err := prepareRows(rows, t.Decimals); err != nil {
		return 0, 0, err
	}
	prefixes := prefixesOf(rows)
	err = s.changeRows(name, func(ctx context.Context, tx *txn, rec *tableRec) ([]string, error) {
		// The decimals are checked again under the table's lock: the
		// table may have changed since it was read.
		if rec.Decimals != t.Decimals {
			for i := range rows {
				if err := rows[i].Validate(rec.Decimals); err != nil {
					return nil, rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
				}
			}
		}
		var err error
		if replaced, err = deleteKeys(ctx, tx, rec, rows); err != nil {
			return nil, err
		}
		if err := copyIn(ctx, tx, rec.gen, rows); err != nil {
			return nil, err
		}
		added = len(rows) - replaced
		rec.Rows += added
		return prefixes, nil
	})
	if err != nil {
		return 0, 0, err
	}
	return added, replaced, nil
}

// prepareRows validates every row, rejects two rows with the same key
// and weeks that DOMAIN.md does not allow (rating.CheckWeeks), and sorts
// rows into key order, with the bbolt store's messages.
func prepareRows(rows []rating.Row, decimals int) error {
	for i := range rows {
		if err := rows[i].Validate(decimals); err != nil {
			return rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
		}
	}
	slices.SortStableFunc(rows, func(a, b rating.Row) int { return compareKeys(keyOf(&a), keyOf(&b)) })
	for i := 1; i < len(rows); i++ {
		if compareKeys(keyOf(&rows[i-1]), keyOf(&rows[i])) == 0 {
			r := &rows[i]
			return rating.Invalidf("prefix", "prefix %q with effective_from %s%s appears twice", r.Prefix, effString(r), weekString(r))
		}
	}
	return rating.CheckWeeks(rows)
}

// compareKeys orders keys as the rows sort.
func compareKeys(a, b rateKey) int {
	if c := strings.Compare(a.prefix, b.prefix); c != 0 {
		return c
	}
	if c := a.eff.Compare(b.eff); c != 0 {
		return c
	}
	switch {
	case a.week < b.week:
		return -1
	case a.week > b.week:
		return 1
	}
	return 0
}

// prefixesOf lists the distinct prefixes of sorted rows.
func prefixesOf(rows []rating.Row) []string {
	ps := []string{}
	for i := range rows {
		if i == 0 || rows[i].Prefix != rows[i-1].Prefix {
			ps = append(ps, rows[i].Prefix)
		}
	}
	return ps
}

// deleteKeys deletes the stored rows that have the keys of rows, and
// returns how many there were.
func deleteKeys(ctx context.Context, tx *txn, rec *tableRec, rows []rating.Row) (int, error) {
	prefixes := make([]string, len(rows))
	effs := make([]any, len(rows))
	weeks := make([]int32, len(rows))
	for i := range rows {
		prefixes[i], effs[i], weeks[i] = rows[i].Prefix, effective(rows[i].EffectiveFrom), int32(rows[i].Week().Key())
	}
	tag, err := tx.Exec(ctx, `DELETE FROM rates r USING unnest($2::text[], $3::timestamptz[], $4::integer[]) AS k (prefix, eff, week)
		WHERE r.gen = $1 AND r.prefix = k.prefix AND r.effective_from = k.eff AND r.week = k.week`,
		rec.gen, prefixes, effs, weeks)
	return int(tag.RowsAffected()), err
}

// copyIn writes rows into generation gen with one binary COPY.
func copyIn(ctx context.Context, tx pgx.Tx, gen int64, rows []rating.Row) error {
	buf := append([]byte(nil), copyHeader...)
	for i := range rows {
		buf = appendCopyRow(buf, gen, &rows[i])
	}
	buf = append(buf, copyTrailer...)
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), copyRows)
	return err
}

// loadIndex builds the index of table rec from its rows, read in key
// order by one query in tx, as they stream: the rows of a large table are
// never all in memory, only the index they make. The rows are decoded
// in batches that another goroutine adds to the index, so that reading
// and indexing a large table, which another node waits for, overlap.
func loadIndex(ctx context.Context, tx pgx.Tx, rec tableRec) (*rating.Index, error) {
	const batch = 4096
	full := make(chan []rating.Row, 4)
	empty := make(chan []rating.Row, 6)
	built := make(chan *rating.Index, 1)
	go func() {
		b := rating.NewIndexBuilder(rec.Table, rec.Rows)
		for rows := range full {
			for i := range rows {
				b.Add(&rows[i])
			}
			empty <- rows[:0]
		}
		built <- b.Build()
	}()
	for range 5 {
		empty <- make([]rating.Row, 0, batch)
	}
	rows := <-empty
	err := eachRow(ctx, tx, rec, func(r *rating.Row) error {
		if rows = append(rows, *r); len(rows) == batch {
			full <- rows
			rows = <-empty
		}
		return nil
	})
	if len(rows) > 0 && err == nil {
		full <- rows
	}
	close(full)
	x := <-built
	if err != nil {
		return nil, err
	}
	return x, nil
}

// inKeyOrder makes the rest of tx read rows in the order of the key's
// index rather than sort them. The planner, whose statistics seldom know
// yet of a deck just imported, would otherwise fetch every row of the
// generation and sort them, for a page of a hundred rows as for a whole
// table of a million (on disk, then). An imported deck's rows lie in key
// order, so the index scan reads them in one pass.
func inKeyOrder(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`)
	return err
}

// eachRow calls fn with every row of table rec in key order, read by one
// query in tx. The row is reused between calls.
func eachRow(ctx context.Context, tx pgx.Tx, rec tableRec, fn func(*rating.Row) error) error {
	if err := inKeyOrder(ctx, tx); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT `+rateCols+` FROM rates WHERE gen = $1 ORDER BY `+rateOrder, rec.gen)
	if err != nil {
		return err
	}
	defer rows.Close()
	d := rowDecoder{in: store.Interner{}}
	if err := d.check(rows); err != nil {
		return err
	}
	var row rating.Row
	for rows.Next() {
		if err := d.decode(rows.RawValues(), &row); err != nil {
			return err
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rates pages through a table's rows in (prefix, effective_from) order,
// only rows whose prefix starts with prefix when it is not empty. after is
// the cursor a previous page returned; next is "" on the last page. A
// limit ≤ 0 is DefaultLimit, and it is at most MaxLimit.
func (s *Store) Rates(name, prefix, after string, limit int) (rows []rating.Row, next string, err error) {
	ctx := context.Background()
	limit = pageLimit(limit)
	if prefix != "" {
		if err := rating.ValidatePrefix(prefix); err != nil {
			return nil, "", err
		}
	}
	var cursor *rateKey
	if after != "" {
		k, err := parseRateCursor(after)
		if err != nil {
			return nil, "", err
		}
		cursor = &k
	}
	rows = []rating.Row{}
	more := false
	err = s.read(ctx, func(tx pgx.Tx) error {
		rec, err := tableByName(ctx, tx, name, false)
		if err != nil {
			return err
		}
		rows, more, err = ratePage(ctx, tx, rec, prefix, cursor, rows[:0], limit)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if more {
		next = keyOf(&rows[len(rows)-1]).cursor()
	}
	return rows, next, nil
}

// ratePage appends to rows up to n rows of table rec whose prefix starts
// with prefix ("" for all), after the key after (nil: from the first),
// and reports whether more such rows follow.
func ratePage(ctx context.Context, tx pgx.Tx, rec tableRec, prefix string, after *rateKey, rows []rating.Row, n int) ([]rating.Row, bool, error) {
	q := `SELECT ` + rateCols + ` FROM rates WHERE gen = $1`
	args := []any{rec.gen}
	if prefix != "" {
		// Prefixes are digits or "*", nothing LIKE reads specially.
		q += ` AND prefix LIKE $2`
		args = append(args, prefix+"%")
	}
	if after != nil {
		q += ` AND (prefix, effective_from, week) > ($` + itoa(len(args)+1) + `, $` + itoa(len(args)+2) + `, $` + itoa(len(args)+3) + `)`
		args = append(args, after.prefix, effective(after.eff), int32(after.week))
	}
	q += ` ORDER BY ` + rateOrder + ` LIMIT ` + itoa(n+1)
	if err := inKeyOrder(ctx, tx); err != nil {
		return rows, false, err
	}
	res, err := tx.Query(ctx, q, args...)
	if err != nil {
		return rows, false, err
	}
	defer res.Close()
	d := rowDecoder{in: store.Interner{}}
	if err := d.check(res); err != nil {
		return rows, false, err
	}
	start, more := len(rows), false
	for res.Next() {
		if len(rows)-start == n {
			more = true
			break
		}
		rows = append(rows, rating.Row{})
		if err := d.decode(res.RawValues(), &rows[len(rows)-1]); err != nil {
			return rows, false, err
		}
	}
	return rows, more, res.Err()
}

// EachRate calls fn for every row of the table in (prefix,
// effective_from) order. It reads the rows a page at a time, each page in
// a read transaction of its own, and calls fn between transactions: fn
// may be as slow as a client downloading a CSV export.
//
// The walk is one version of the table all the same: when a later page
// finds the table changed or gone, the walk stops with EConflict, so that
// an export never mixes two decks. The row is reused between calls: fn
// must copy what it keeps. An error from fn stops the walk and is
// returned.
func (s *Store) EachRate(name string, fn func(*rating.Row) error) error {
	ctx := context.Background()
	var (
		at    tableRec // the table as the first page found it
		first = true
		rows  = make([]rating.Row, 0, s.rates.exportPage)
		after *rateKey
	)
	for {
		more := false
		err := s.read(ctx, func(tx pgx.Tx) (err error) {
			if first {
				at, err = tableByName(ctx, tx, name, false)
			} else {
				err = sameTable(ctx, tx, at)
			}
			if err != nil {
				return err
			}
			rows, more, err = ratePage(ctx, tx, at, "", after, rows[:0], s.rates.exportPage)
			return err
		})
		if err != nil {
			return err
		}
		first = false
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		k := keyOf(&rows[len(rows)-1])
		after = &k
	}
}

// sameTable fails with EConflict unless the table is still as at shows it.
func sameTable(ctx context.Context, tx pgx.Tx, at tableRec) error {
	rec, err := tableByID(ctx, tx, at.id, false)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rating.Errorf(rating.EConflict, "rate table %q was deleted while it was being read", at.Name)
	case err != nil:
		return err
	case rec.version != at.version:
		return rating.Errorf(rating.EConflict, "rate table %q changed while it was being read; read it again", at.Name)
	}
	return nil
}

// defaultExportPage is how many rows EachRate reads in one read
// transaction.
const defaultExportPage = 1000
