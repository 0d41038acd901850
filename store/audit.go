package store

import (
	"encoding/json"
	"strconv"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// bucketAudit holds the audit trail: sequence → rating.AuditEntry JSON.
var bucketAudit = []byte("audit")

// auditNote is the entry an audited handle writes with its change.
type auditNote struct {
	entry   rating.AuditEntry
	written atomic.Bool // an update that wrote it has committed
}

// Audited returns a handle on the same store whose changes record e: the
// entry is written in the transaction of the first change that commits,
// with that transaction's time, so that a change and its record are never
// apart, and a request that changed nothing leaves no record. A change
// made in several transactions (a re-rate in chunks) records once.
func (s *Store) Audited(e rating.AuditEntry) *Store {
	return &Store{state: s.state, note: &auditNote{entry: e}}
}

// write puts the note's entry in tx, unless an earlier transaction of the
// same handle did.
func (n *auditNote) write(tx *txn) error {
	if n == nil || n.written.Load() {
		return nil
	}
	b := tx.Bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e := n.entry
	e.ID, e.Time = seq, tx.now
	if err := putJSON(b, itob(seq), &e); err != nil {
		return err
	}
	tx.OnCommit(func() { n.written.Store(true) })
	return nil
}

// Audit lists the audit trail newest first, a page at a time; after is the
// cursor a previous page returned.
func (s *Store) Audit(after string, limit int) ([]rating.AuditEntry, string, error) {
	limit = pageLimit(limit)
	before := uint64(1<<64 - 1)
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
		}
		before = v
	}
	out, next := []rating.AuditEntry{}, ""
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil { // an older file, opened read-only
			return nil
		}
		c := b.Cursor()
		var v []byte
		k, _ := c.Seek(itob(before))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				next = strconv.FormatUint(btoi(k)+1, 10)
				break
			}
			var e rating.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, next, err
}
