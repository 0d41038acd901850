package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// OpenReadOnly opens the database file at path for reading only, as
// `pbxbill check` does. Open writes even to a file that needs nothing: it
// commits a transaction, and every commit writes a meta page. This writes
// nothing, so the file stays byte for byte as it was, and it takes a
// shared lock, so it fails while a server holds the file. The file must
// be a complete pbxbill database with the TZ and currency of opt: it
// creates no bucket, writes no meta value and drops no staged rows, and
// refuses a file that lacks what Open would add. Every change through the
// Store fails.
//
// Open's check of the file (checkFile) refuses an empty one, which bbolt
// would try to write the first pages of, and a missing one.
func OpenReadOnly(path string, opt Options) (*Store, error) {
	return open(path, opt, true)
}

// laterBucket reports whether a file from an older build may lack bucket
// name, because the bucket came later and what it holds is not checked:
// `pbxbill check` still reads a backup taken before the upgrade. Every
// reader treats such a bucket as empty when it is missing.
func laterBucket(name []byte) bool {
	return laterBuckets[string(name)]
}

// laterBuckets are the buckets laterBucket names.
var laterBuckets = map[string]bool{
	string(bucketRejected):       true,
	string(bucketHolds):          true,
	string(bucketExpired):        true,
	string(bucketCDRStarts):      true,
	string(bucketAudit):          true,
	string(bucketSchedules):      true,
	string(bucketSchedulePosted): true,
	string(bucketOutbox):         true,
	string(bucketOutboxPending):  true,
}

// verify is init for a file opened read-only: it checks what init would
// create or write, and refuses a file without it.
func (s *Store) verify(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("not a pbxbill database: it has no %s bucket", bucketMeta)
	}
	if err := s.checkMeta(meta); err != nil {
		return err
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil && !laterBucket(name) {
			return fmt.Errorf("the database has no %s bucket: the file is damaged, or an older pbxbill wrote it; starting the server on it once adds the bucket", name)
		}
	}
	return nil
}
