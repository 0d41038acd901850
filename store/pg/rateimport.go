package pg

import (
	"context"
	"encoding/binary"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// ImportRates replaces every row of table name by the rows that parse
// hands, chunk by chunk, to the stage function it is given, and swaps in
// the new index; it returns the number of rows. It is ReplaceRates for a
// deck too large to hold as rows: rating.ParseRatesChunks fits parse,
// with stage as its fn. Each chunk is validated when it comes and kept
// encoded as COPY's binary tuples, some 50 bytes a row; the rows stay the
// caller's. If parse or stage returns an error, ImportRates returns it
// and nothing has changed.
//
// Once parse returns, the tuples are sorted into key order, and one
// transaction locks the table, writes them as a new generation of its
// rows with one binary COPY while the index is built from them (finding
// repeated keys and the weeks DOMAIN.md does not allow, as the bbolt
// store's merge does), makes the generation live and announces it:
// readers see the old table or the new one, never a mix, and a failure
// anywhere rolls every row back. Rows written in key order make a
// compact index and a heap in key order, which the other nodes read back
// in one sequential pass. The old generation's rows are deleted after
// the commit. parse runs without any lock, so a slow upload holds no one
// up.
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
	// A generation number is never reused, whether this import commits or
	// not: a sequence is not transactional.
	var gen int64
	if err := s.pool.QueryRow(ctx, `SELECT nextval('rate_gens')`).Scan(&gen); err != nil {
		return 0, dbError(err)
	}
	var d deck
	err = parse(func(rows []rating.Row) error {
		for i := range rows {
			if err := rows[i].Validate(t.Decimals); err != nil {
				return rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", len(d.keys)+i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
			}
		}
		for i := range rows {
			d.add(gen, &rows[i])
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	d.sort()
	n := len(d.keys)

	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	var x *rating.Index
	var rec tableRec
	err = s.write(ctx, func(tx *txn) (err error) {
		if rec, err = tableByName(ctx, tx, name, true); err != nil {
			return err
		}
		if rec.id != t.id {
			// Deleted and created again while the deck was read.
			return rating.Errorf(rating.EConflict, "rate table %q was replaced during the import; import again", name)
		}
		old := rec.gen
		rec.gen, rec.Rows, rec.Updated = gen, n, stamp(tx.now)
		if x, err = d.write(ctx, tx, rec); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE rate_tables SET gen = $2, rows = $3, updated = $4, version = version + 1
			WHERE id = $1 RETURNING version`, rec.id, gen, n, rec.Updated).Scan(&rec.version); err != nil {
			return err
		}
		rec.gen = old // for the deletion after the commit
		return s.announce(ctx, tx, rec.id, rec.version)
	})
	if err != nil {
		return 0, err
	}
	s.install(rec.id, rec.version, x)
	s.dropGeneration(rec.gen)
	return n, nil
}

// deck is an import's rows, encoded as binary COPY tuples in chunks, and
// their sort keys.
type deck struct {
	chunks [][]byte
	keys   []deckKey
}

// deckChunk is the size of one chunk of encoded rows.
const deckChunk = 4 << 20

// deckKey orders one encoded row as the rows sort, without touching its
// tuple for most comparisons: head packs the first 16 prefix characters
// a nibble each (0 for the end, 1 for "*", 2–11 for the digits), which
// orders them as the prefixes do; long marks a longer prefix, whose tie
// needs the whole.
type deckKey struct {
	head uint64
	eff  int64 // effMicros
	week uint32
	long bool
	at   uint64 // chunk<<32 | offset of the tuple
}

// prefixAt is where a tuple's prefix starts: after the field count, the
// generation and the prefix's length.
const prefixAt = 2 + 12 + 4

func (d *deck) add(gen int64, r *rating.Row) {
	if len(d.chunks) == 0 || len(d.chunks[len(d.chunks)-1]) > deckChunk-1024 {
		d.chunks = append(d.chunks, make([]byte, 0, deckChunk))
	}
	c := len(d.chunks) - 1
	k := deckKey{eff: effMicros(r.EffectiveFrom), week: r.Week().Key(), at: uint64(c)<<32 | uint64(len(d.chunks[c]))}
	k.head, k.long = store.PrefixHead(r.Prefix)
	d.chunks[c] = appendCopyRow(d.chunks[c], gen, r)
	d.keys = append(d.keys, k)
}

// tuple is the encoded row that k points at.
func (d *deck) tuple(k *deckKey) []byte { return d.chunks[k.at>>32][uint32(k.at):] }

func (d *deck) prefix(k *deckKey) string {
	b := d.tuple(k)
	n := binary.BigEndian.Uint32(b[prefixAt-4:])
	return string(b[prefixAt : prefixAt+n])
}

func (d *deck) compare(a, b *deckKey) int {
	switch {
	case a.head < b.head:
		return -1
	case a.head > b.head:
		return 1
	}
	if a.long || b.long {
		if c := strings.Compare(d.prefix(a), d.prefix(b)); c != 0 {
			return c
		}
	}
	switch {
	case a.eff < b.eff:
		return -1
	case a.eff > b.eff:
		return 1
	case a.week < b.week:
		return -1
	case a.week > b.week:
		return 1
	}
	return 0
}

// sort puts the keys in key order, as the bbolt store's import does
// (store.SortByHead).
func (d *deck) sort() {
	store.SortByHead(d.keys, func(k *deckKey) uint64 { return k.head }, func(x, y deckKey) int { return d.compare(&x, &y) })
}

// decode reads the row of the tuple k points at into r.
func (d *deck) decode(k *deckKey, dec *rowDecoder, vals [][]byte, r *rating.Row) error {
	b := d.tuple(k)
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	vals = vals[:0]
	for range n {
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l < 0 {
			vals = append(vals, nil)
			continue
		}
		vals = append(vals, b[:l:l])
		b = b[l:]
	}
	return dec.decode(vals[1:], r)
}

// write copies the deck into rec's generation, in key order, while it
// builds rec's index from the same rows: each row is validated again
// against the table's decimals, which may have changed while the deck
// was read, and two rows with one key or a week DOMAIN.md does not allow
// fail the import.
func (d *deck) write(ctx context.Context, tx pgx.Tx, rec tableRec) (*rating.Index, error) {
	r := &deckReader{d: d, head: copyHeader}
	copied := make(chan error, 1)
	go func() {
		_, err := tx.Conn().PgConn().CopyFrom(ctx, r, copyRows)
		copied <- err
	}()
	x, err := d.index(rec)
	if err != nil {
		r.failed.Store(&err)
	}
	if cerr := <-copied; err == nil {
		err = cerr
	}
	return x, err
}

// index builds the index of rec from the sorted deck.
func (d *deck) index(rec tableRec) (*rating.Index, error) {
	b := rating.NewIndexBuilder(rec.Table, len(d.keys))
	dec := rowDecoder{in: store.Interner{}}
	vals := make([][]byte, 0, 14)
	var row rating.Row
	for i := range d.keys {
		k := &d.keys[i]
		if err := d.decode(k, &dec, vals, &row); err != nil {
			return nil, err
		}
		if i > 0 && d.compare(&d.keys[i-1], k) == 0 {
			return nil, rating.Invalidf("prefix", "prefix %q with effective_from %s appears twice", row.Prefix, effString(&row))
		}
		if err := row.Validate(rec.Decimals); err != nil {
			return nil, rating.Invalidf("prefix", "prefix %q with effective_from %s: %s", row.Prefix, effString(&row), rating.ErrorMessage(err))
		}
		b.Add(&row)
	}
	x := b.Build()
	if b.Err() != nil {
		return nil, b.Err()
	}
	return x, nil
}

// deckReader is the binary COPY stream of a sorted deck. It fails once
// failed is set, so that COPY stops as soon as the index finds the deck
// wrong, and nothing is committed.
type deckReader struct {
	d      *deck
	head   []byte // what is left of the header, or of the current tuple
	next   int    // the next key
	done   bool   // the trailer is written
	failed atomic.Pointer[error]
}

func (r *deckReader) Read(p []byte) (int, error) {
	if err := r.failed.Load(); err != nil {
		return 0, *err
	}
	n := 0
	for n < len(p) {
		if len(r.head) == 0 {
			switch {
			case r.next < len(r.d.keys):
				r.head = r.d.tuple(&r.d.keys[r.next])
				r.head = r.head[:tupleLen(r.head)]
				r.next++
			case !r.done:
				r.head, r.done = copyTrailer, true
			default:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
		}
		c := copy(p[n:], r.head)
		n += c
		r.head = r.head[c:]
	}
	return n, nil
}

// tupleLen is the length of the tuple at the start of b.
func tupleLen(b []byte) int {
	n := int(binary.BigEndian.Uint16(b))
	at := 2
	for range n {
		if l := int32(binary.BigEndian.Uint32(b[at:])); l > 0 {
			at += int(l)
		}
		at += 4
	}
	return at
}

// dropGeneration deletes the rows of a generation no longer live, in the
// background: nothing reads them any more, and the import need not wait.
// It waits a few seconds first, so as not to slow the other nodes while
// they load the new rows. Rows that a stop leaves behind are deleted at
// the next Open.
func (s *Store) dropGeneration(gen int64) {
	s.rates.jobs.Add(1)
	go func() {
		defer s.rates.jobs.Done()
		select {
		case <-s.rates.ctx.Done():
			return
		case <-time.After(dropAfter):
		}
		_, _ = s.pool.Exec(s.rates.ctx, `DELETE FROM rates WHERE gen = $1`, gen)
	}()
}

// dropAfter is how long an old generation's rows wait for deletion.
const dropAfter = 5 * time.Second
