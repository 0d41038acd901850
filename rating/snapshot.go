package rating

import "io"

// Snapshot is a consistent copy of the books, read once and then closed:
// what GET /api/v1/backup serves, whatever the storage.
type Snapshot interface {
	io.ReadCloser
	// Size is the copy's length in bytes.
	Size() int64
}
