package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Snapshot is a consistent copy of the database in a temporary file: a
// complete bbolt file, as of one moment, to be read from its start.
type Snapshot struct {
	f    *os.File
	size int64
}

// Backup copies the database, as of one read transaction, into a
// temporary file beside it, and returns the copy to be read. The read
// transaction lasts as long as the local copy takes, not as long as a
// client takes to download it, so writers go on meanwhile and a commit
// that grows the file waits for a disk-to-disk copy at most. The file's
// directory needs room for one more copy of the database.
//
// The file is unlinked at once where the system allows it, so that even a
// crash leaves nothing behind; the caller must Close the snapshot to free
// its space.
func (s *Store) Backup() (rating.Snapshot, error) {
	f, err := os.CreateTemp(filepath.Dir(s.db.Path()), ".backup-*.db")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	_ = os.Remove(f.Name())
	snap := &Snapshot{f: f}
	err = s.db.View(func(tx *bolt.Tx) error {
		snap.size, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		snap.Close()
		return nil, fmt.Errorf("backup: %w", err)
	}
	return snap, nil
}

// Size is the copy's length in bytes.
func (b *Snapshot) Size() int64 { return b.size }

// Read reads the copy from where the last Read stopped.
func (b *Snapshot) Read(p []byte) (int, error) { return b.f.Read(p) }

// Close closes the copy and removes its file, where Backup could not.
func (b *Snapshot) Close() error {
	err := b.f.Close()
	if rerr := os.Remove(b.f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
