package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// defaultStageChunk is how many rows one staging transaction writes.
//
// bbolt keeps every key and value a transaction writes in memory until it
// commits, and then every dirty page as well: about 150 bytes a row. A
// million-row deck in one transaction would hold some 150 MB on top of the
// parsed rows; in chunks of 64k rows the import holds about 10 MB.
const defaultStageChunk = 1 << 16

// stagingBucket returns the bucket that stages table id's rows: a fresh
// one for the first chunk, dropping any rows a failed import left there,
// and the same one for the chunks after it.
func stagingBucket(tx *bolt.Tx, id uint64, first bool) (*bolt.Bucket, error) {
	key := itob(id)
	staging := tx.Bucket(bucketStaging)
	if !first {
		if b := staging.Bucket(key); b != nil {
			return b, nil
		}
		return nil, fmt.Errorf("staged rows of table %d vanished", id)
	}
	if staging.Bucket(key) != nil {
		if err := staging.DeleteBucket(key); err != nil {
			return nil, err
		}
	}
	return staging.CreateBucket(key)
}

// swapStaged replaces the rows of table id by its staged rows, in the
// caller's transaction. The staged bucket must not have been written in
// this transaction: bbolt moves a bucket as last committed.
func swapStaged(tx *bolt.Tx, id uint64) error {
	key := itob(id)
	rates := tx.Bucket(bucketRates)
	if err := rates.DeleteBucket(key); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return tx.Bucket(bucketStaging).MoveBucket(key, rates)
}

// unstage drops the staged rows of a failed import. A failure here only
// leaves garbage that the next import or Open removes.
func (s *Store) unstage(id uint64) {
	_ = s.db.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketStaging).DeleteBucket(itob(id))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}
