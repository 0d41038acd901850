package store

import (
	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// bucketRejected holds the follow mode's rejected lines: sequence →
// rating.RejectedLine JSON.
var bucketRejected = []byte("follow_rejected")

// maxRejected bounds the rejected lines kept; past it the oldest go. A
// file that has thousands of them has one cause to fix, and the log has
// every one.
const maxRejected = 1000

// RejectFollowed records line as refused and moves the follow position of
// its file past it, in one transaction: the line is skipped once, and kept
// where the operator can see it (RejectedLines). Only the newest
// maxRejected lines are kept.
func (s *Store) RejectFollowed(line rating.RejectedLine, pos FollowPos) error {
	return s.update(func(tx *txn) error {
		b := tx.Bucket(bucketRejected)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		line.At, line.Text, line.Error = tx.now, rating.CutText(line.Text), rating.CutText(line.Error)
		if err := putJSON(b, itob(seq), line); err != nil {
			return err
		}
		// Keys are sequences, so the oldest come first, and only the
		// last maxRejected sequences stay.
		c := b.Cursor()
		for k, _ := c.First(); k != nil && btoi(k)+maxRejected <= seq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketFollow), []byte(pos.Path), pos)
	})
}

// RejectedLines lists the kept rejected lines, newest first, at most limit
// (DefaultLimit when ≤ 0, MaxLimit at most).
func (s *Store) RejectedLines(limit int) ([]rating.RejectedLine, error) {
	limit = pageLimit(limit)
	var out []rating.RejectedLine
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRejected)
		if b == nil { // a file from an older build, opened read-only
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < limit; k, _ = c.Prev() {
			var l rating.RejectedLine
			if _, err := getJSON(b, k, &l); err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}
