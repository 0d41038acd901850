package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// ImportRates replaces every row of table name by the rows that parse
// hands, chunk by chunk, to the stage function it is given, and swaps in
// the new index; it returns the number of rows. It is ReplaceRates for a
// deck too large to hold: rating.ParseRatesChunks fits parse, with stage
// as its fn. Each chunk is validated and sorted when it comes and kept on
// disk; the rows stay the caller's. If parse or stage returns an error,
// ImportRates returns it and nothing has changed.
//
// Once parse returns, the chunks are merged in key order into a staging
// bucket (see staging.go) while the index is built from the merged rows,
// and one transaction swaps them in: readers see the old table or the new
// one, never a mix. parse runs without any lock, so a slow upload holds
// no one up; the table's settings are checked again under the lock.
func (s *Store) ImportRates(name string, parse func(stage func([]rating.Row) error) error) (int, error) {
	var rec tableRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		rec, err = getTable(tx, name)
		return err
	})
	if err != nil {
		return 0, err
	}
	runs, err := newRunFile()
	if err != nil {
		return 0, err
	}
	defer runs.close()
	n := 0
	err = parse(func(rows []rating.Row) error {
		for i := range rows {
			if err := rows[i].Validate(rec.Decimals); err != nil {
				return rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", n+i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
			}
		}
		n += len(rows)
		return runs.add(rows)
	})
	if err != nil {
		return 0, err
	}

	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	// rateMu keeps the table's id and settings as read here until the swap.
	err = s.db.View(func(tx *bolt.Tx) error {
		cur, err := getTable(tx, name)
		if err == nil && cur.ID != rec.ID {
			// Deleted and created again while the deck was read.
			err = rating.Errorf(rating.EConflict, "rate table %q was replaced during the import; import again", name)
		}
		rec = cur
		return err
	})
	if err != nil {
		return 0, err
	}
	// The import's one clock reading, so that the stored table and the
	// index's copy of it agree.
	rec.Rows, rec.Updated = n, s.now().UTC()
	x, err := s.stageRuns(rec.ID, rec.Table, runs)
	if err != nil {
		s.unstage(rec.ID)
		return 0, err
	}
	// The swap is the import's change: an audited handle records it here,
	// not in the staging transactions before it.
	err = s.update(func(tx *txn) error {
		cur, err := getTable(tx.Tx, name)
		if err != nil {
			return err
		}
		if err := swapStaged(tx.Tx, rec.ID); err != nil {
			return fmt.Errorf("replace rows of table %q: %w", name, err)
		}
		cur.Rows, cur.Updated = rec.Rows, rec.Updated
		return putTable(tx.Tx, &cur)
	})
	if err != nil {
		s.unstage(rec.ID)
		return 0, err
	}
	s.book.Set(x)
	return n, nil
}

// kv is a rate key and value on their way to the staging bucket.
type kv struct{ k, v []byte }

// stageRuns merges the runs into the staging bucket of table id, in
// transactions of at most stageChunk rows, while another goroutine builds
// the index of t (whose Rows is the row count) from the same rows: the
// two take about as long, and the merge gives the rows in the order the
// builder needs.
func (s *Store) stageRuns(id uint64, t rating.Table, runs *runFile) (*rating.Index, error) {
	batches := make(chan []kv, 1)
	done := make(chan built, 1)
	go indexBatches(t, batches, done)
	err := s.mergeRuns(id, runs, batches)
	x := <-done
	if err != nil {
		return nil, err
	}
	return x.index, x.err
}

// mergeRuns writes the merged runs into the staging bucket of table id and
// sends each batch to batches, which it closes at the end. A batch is not
// touched once sent.
func (s *Store) mergeRuns(id uint64, runs *runFile, batches chan<- []kv) error {
	defer close(batches)
	var (
		arena []byte
		batch []kv
		first = true
	)
	write := func() error {
		batches <- batch
		err := s.db.Update(func(tx *bolt.Tx) error {
			b, err := stagingBucket(tx, id, first)
			if err != nil {
				return err
			}
			// Rows arrive in key order, so pages can be packed full.
			b.FillPercent = 1.0
			for _, e := range batch {
				if err := b.Put(e.k, e.v); err != nil {
					return fmt.Errorf("put rate %x: %w", e.k, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("stage rows of table %d: %w", id, err)
		}
		first, batch, arena = false, nil, nil
		return nil
	}
	err := runs.merge(func(k, v []byte) error {
		// bbolt keeps a value until commit, and the index builder reads
		// the batch meanwhile: both are copied out of the run's buffer.
		if cap(arena)-len(arena) < len(k)+len(v) {
			arena = make([]byte, 0, max(1<<20, len(k)+len(v)))
		}
		start := len(arena)
		arena = append(append(arena, k...), v...)
		if batch == nil {
			batch = make([]kv, 0, s.stageChunk)
		}
		batch = append(batch, kv{arena[start : start+len(k) : start+len(k)], arena[start+len(k) : len(arena) : len(arena)]})
		if len(batch) == s.stageChunk {
			return write()
		}
		return nil
	})
	if err == nil && (first || len(batch) > 0) {
		err = write()
	}
	return err
}

// indexBatches builds the index of t from the rows of batches, in key
// order, and sends it to done once batches is closed. Every row is
// validated again against the table's decimals, which may have changed
// while the deck was read. A panic in the builder becomes an error rather
// than taking the server down.
func indexBatches(t rating.Table, batches <-chan []kv, done chan<- built) {
	var out built
	defer func() {
		if r := recover(); r != nil {
			out = built{err: fmt.Errorf("index table %q: %v", t.Name, r)}
		}
		for range batches { // so that the merge never blocks
		}
		done <- out
	}()
	b := rating.NewIndexBuilder(t, t.Rows)
	var row rating.Row
	in := Interner{}
	for batch := range batches {
		for i := 0; i < len(batch) && out.err == nil; i++ {
			if out.err = decodeRow(batch[i].k, batch[i].v, &row, in); out.err != nil {
				break
			}
			if err := row.Validate(t.Decimals); err != nil {
				out.err = rating.Invalidf("prefix", "prefix %q with effective_from %s: %s",
					row.Prefix, effString(&row), rating.ErrorMessage(err))
				break
			}
			b.Add(&row)
		}
	}
	if out.err == nil {
		// A deck's weeks were checked line by line as it parsed; rows
		// given whole (ReplaceRates) are checked here.
		if out.index = b.Build(); b.Err() != nil {
			out = built{err: b.Err()}
		}
	}
}
