package store

import (
	"encoding/binary"
	"encoding/hex"
	"strings"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// The CDRs are stored by arrival (their sequence); the CDR browser lists
// them by call start, newest first, through an index: start | sequence →
// nothing. Every post writes its entry; a file from before the index gets
// it built once at Open (indexStarts), marked done in the meta bucket.
var (
	bucketCDRStarts = []byte("cdr_starts")
	metaStarts      = []byte("cdr_starts_built")
)

// startKeyLen is the length of an index key: the start's Unix nanoseconds
// with the sign bit flipped, so that the bytes sort as the times do, then
// the sequence.
const startKeyLen = 16

func appendStartKey(dst []byte, start int64, seq uint64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(start)^1<<63)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// indexStarts builds the start index of a file written before it, in
// transactions of startChunk CDRs, so that a large file does not hold one
// huge transaction; it is done once, before the server answers.
func (s *Store) indexStarts() error {
	done := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(metaStarts) != nil
		return nil
	}); err != nil || done {
		return err
	}
	const startChunk = 50000
	var from []byte
	for {
		var last []byte
		err := s.db.Update(func(tx *bolt.Tx) error {
			ix, err := tx.CreateBucketIfNotExists(bucketCDRStarts)
			if err != nil {
				return err
			}
			c := tx.Bucket(bucketCDRs).Cursor()
			k, v := c.First()
			if from != nil {
				if k, v = c.Seek(from); k != nil && string(k) == string(from) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil && n < startChunk; k, v = c.Next() {
				start, _, _, _ := headOf(v)
				if err := ix.Put(appendStartKey(nil, start, btoi(k)), nil); err != nil {
					return err
				}
				last, n = append(last[:0], k...), n+1
			}
			if k == nil {
				return tx.Bucket(bucketMeta).Put(metaStarts, []byte("1"))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if last == nil {
			return nil
		}
		from = last
		var finished bool
		_ = s.db.View(func(tx *bolt.Tx) error { finished = tx.Bucket(bucketMeta).Get(metaStarts) != nil; return nil })
		if finished {
			return nil
		}
	}
}

// startCursor is a position in the start index, as a list's cursor: the
// hex of an index key.
func startCursor(k []byte) string { return hex.EncodeToString(k) }

func parseStartCursor(field, v string) ([]byte, error) {
	k, err := hex.DecodeString(v)
	if err != nil || len(k) != startKeyLen {
		return nil, rating.Invalidf(field, "%s %s: not a cursor this list returned", field, rating.Excerpt(v))
	}
	return k, nil
}

// startWalk walks the CDRs by start, over the index, between the filter's
// bounds. It can go on in a later transaction from pos.
type startWalk struct {
	cdrWalk
	pos    []byte // the walk goes on beyond this key (exclusive); nil: from the end
	older  bool   // towards older starts
	maxSeq uint64 // CDRs stored after the walk began are left out; 0: none are
}

// walk calls fn for each matching CDR beyond w.pos, in w's direction, until
// fn returns false or limit keys have been looked at (limit > 0). w.pos
// moves past every key looked at. more reports that keys remain.
func (w *startWalk) walk(tx *bolt.Tx, limit int, fn func(key []byte, c *rating.CDR) bool) (more bool, err error) {
	ix := tx.Bucket(bucketCDRStarts)
	if ix == nil {
		return false, nil
	}
	cdrs := tx.Bucket(bucketCDRs)
	lo := appendStartKey(nil, w.m.from, 0)
	hi := appendStartKey(nil, w.m.to, 0) // exclusive: to is
	c := ix.Cursor()
	var k []byte
	switch {
	case w.older && w.pos == nil:
		if k, _ = c.Seek(hi); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	case w.older:
		c.Seek(w.pos)
		k, _ = c.Prev()
	case w.pos == nil:
		k, _ = c.Seek(lo)
	default:
		if k, _ = c.Seek(w.pos); k != nil && string(k) == string(w.pos) {
			k, _ = c.Next()
		}
	}
	step := c.Next
	if w.older {
		step = c.Prev
	}
	for n := 0; k != nil; k, _ = step() {
		if string(k) < string(lo) || string(k) >= string(hi) {
			return false, nil
		}
		if limit > 0 && n == limit {
			return true, nil
		}
		n++
		w.pos = append(w.pos[:0], k...)
		seq := binary.BigEndian.Uint64(k[8:])
		if w.maxSeq != 0 && seq > w.maxSeq {
			continue
		}
		v := cdrs.Get(k[8:])
		if v == nil || !w.m.match(v) {
			continue
		}
		cdr, ok, err := w.decode(tx, v)
		if err != nil {
			return false, err
		}
		if ok && !fn(k, &cdr) {
			return true, nil
		}
	}
	return false, nil
}

// decode reads a record that match passed, and applies the number's
// prefix, which needs the record's body.
func (w *cdrWalk) decode(tx *bolt.Tx, v []byte) (rating.CDR, bool, error) {
	var rec cdrRecord
	if err := rec.decode(v); err != nil {
		return rating.CDR{}, false, err
	}
	if w.m.number != "" && !strings.HasPrefix(rec.Number, w.m.number) {
		return rating.CDR{}, false, nil
	}
	cdr := rec.cdr()
	if rec.TenantID != 0 {
		cdr.Tenant = w.name(tx, tenantAcct, rec.TenantID)
	}
	if rec.ProviderID != 0 {
		cdr.Provider = w.name(tx, providerAcct, rec.ProviderID)
	}
	return cdr, true, nil
}
