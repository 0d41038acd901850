package pg

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// copyBatch is how many bytes of encoded rows one COPY statement sends:
// a deck's chunks are gathered to about this size, so that a parser's
// small chunks do not cost a round trip each.
const copyBatch = 4 << 20

// ImportRates replaces every row of table name by the rows that parse
// hands, chunk by chunk, to the stage function it is given, and swaps in
// the new index; it returns the number of rows. It is ReplaceRates for a
// deck too large to hold: rating.ParseRatesChunks fits parse, with stage
// as its fn. Each chunk is validated when it comes and encoded for
// COPY; the rows stay the caller's. If parse or stage returns an error,
// ImportRates returns it and nothing has changed.
//
// The rows go into a new generation of the table's rows, by binary COPY
// in a goroutine while parse goes on, all in one transaction. Once parse
// returns, the transaction locks the table, reads the new rows back in
// key order to build the index (finding repeated keys and the weeks
// DOMAIN.md does not allow, as the bbolt store's merge does), makes the
// generation live and announces it: readers see the old table or the new
// one, never a mix, and a failure anywhere rolls every row back. The old
// generation's rows are deleted after the commit. parse runs without the
// table's lock, so a slow upload holds no one up.
func (s *Store) ImportRates(name string, parse func(stage func([]rating.Row) error) error) (int, error) {
	ctx := context.Background()
	var t tableRec // as the import starts; its settings are read again under the lock
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		t, err = tableByName(ctx, tx, name, false)
		return err
	})
	if err != nil {
		return 0, err
	}
	id := t.id
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, dbError(err)
	}
	defer conn.Release()
	ptx, err := conn.Begin(ctx)
	if err != nil {
		return 0, dbError(err)
	}
	defer ptx.Rollback(context.Background())
	var gen int64
	if err := ptx.QueryRow(ctx, `SELECT nextval('rate_gens')`).Scan(&gen); err != nil {
		return 0, dbError(err)
	}

	// The copier sends each batch while the next is parsed.
	batches := make(chan []byte, 1)
	copied := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err == nil {
				_, err = ptx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(b), copyRows)
			}
		}
		copied <- err
	}()
	var buf []byte
	flush := func() {
		if len(buf) > 0 {
			batches <- append(buf, copyTrailer...)
			buf = nil
		}
	}
	n := 0
	err = parse(func(rows []rating.Row) error {
		for i := range rows {
			if err := rows[i].Validate(t.Decimals); err != nil {
				return rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", n+i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
			}
		}
		for i := range rows {
			if buf == nil {
				buf = append(make([]byte, 0, copyBatch+copyBatch/4), copyHeader...)
			}
			buf = appendCopyRow(buf, id, gen, &rows[i])
			if len(buf) >= copyBatch {
				flush()
			}
		}
		n += len(rows)
		return nil
	})
	if err == nil {
		flush()
	}
	close(batches)
	if cerr := <-copied; err == nil && cerr != nil {
		err = dbError(fmt.Errorf("import rows of table %q: %w", name, cerr))
	}
	if err != nil {
		return 0, err
	}

	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	tx := &txn{Tx: ptx, now: s.now().UTC()}
	rec, err := tableByName(ctx, tx, name, true)
	if err != nil {
		return 0, dbError(err)
	}
	if rec.id != id {
		// Deleted and created again while the deck was read.
		return 0, rating.Errorf(rating.EConflict, "rate table %q was replaced during the import; import again", name)
	}
	old := rec.gen
	rec.gen, rec.Rows, rec.Updated = gen, n, stamp(tx.now)
	x, err := buildImported(ctx, tx, rec)
	if err != nil {
		return 0, dbError(err)
	}
	if err := tx.QueryRow(ctx, `UPDATE rate_tables SET gen = $2, rows = $3, updated = $4, version = version + 1
		WHERE id = $1 RETURNING version`, id, gen, n, rec.Updated).Scan(&rec.version); err != nil {
		return 0, dbError(err)
	}
	if err := s.announce(ctx, tx, id, rec.version); err != nil {
		return 0, dbError(err)
	}
	// The swap is the import's change: an audited handle records it here.
	if err := s.note.write(ctx, tx); err != nil {
		return 0, dbError(err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return 0, dbError(err)
	}
	s.note.done()
	s.install(id, rec.version, x)
	s.dropGeneration(id, old)
	return n, nil
}

// buildImported builds the index of rec, whose rows are the imported
// generation, reading them back in key order. Every row is validated
// again against the table's decimals, which may have changed while the
// deck was read; two rows with one key, or a week DOMAIN.md does not
// allow, fail the import.
func buildImported(ctx context.Context, tx pgx.Tx, rec tableRec) (*rating.Index, error) {
	b := rating.NewIndexBuilder(rec.Table, rec.Rows)
	var last rateKey
	first := true
	err := eachRow(ctx, tx, rec, func(r *rating.Row) error {
		k := keyOf(r)
		if !first && compareKeys(last, k) == 0 {
			return rating.Invalidf("prefix", "prefix %q with effective_from %s appears twice", r.Prefix, effString(r))
		}
		first, last = false, k
		if err := r.Validate(rec.Decimals); err != nil {
			return rating.Invalidf("prefix", "prefix %q with effective_from %s: %s", r.Prefix, effString(r), rating.ErrorMessage(err))
		}
		b.Add(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	x := b.Build()
	if b.Err() != nil {
		return nil, b.Err()
	}
	return x, nil
}

// dropGeneration deletes the rows of a generation no longer live, in the
// background: nothing reads them any more, and the import need not wait.
// Rows that a stop leaves behind are deleted at the next Open.
func (s *Store) dropGeneration(id, gen int64) {
	s.rates.jobs.Add(1)
	go func() {
		defer s.rates.jobs.Done()
		_, _ = s.pool.Exec(s.rates.ctx, `DELETE FROM rates WHERE table_id = $1 AND gen = $2`, id, gen)
	}()
}
