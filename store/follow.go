package store

import (
	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// FollowPos is how far the follow mode has read a PBX CDR file.
type FollowPos struct {
	Path   string `json:"path"`
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"` // bytes consumed
	Line   int    `json:"line"`   // lines consumed
	// Head is a hash of the first HeadLen bytes of the file (its first
	// line, or the start of it), so that a file truncated and written
	// again past the offset is told from the file that was read.
	Head    uint64 `json:"head,omitempty"`
	HeadLen int    `json:"head_len,omitempty"`
}

// FollowPos returns the stored position for path, the zero position (with
// Path set) when there is none.
func (s *Store) FollowPos(path string) (FollowPos, error) {
	pos := FollowPos{Path: path}
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketFollow), []byte(path), &pos)
		return err
	})
	return pos, err
}

// PostFollowed is PostCDRs for the follow mode: the CDRs and the new file
// position are committed in one transaction, so a restart resumes exactly
// after the last CDR stored, with nothing lost or counted twice.
func (s *Store) PostFollowed(node string, cdrs []rating.CDR, pos FollowPos) (rating.Posted, error) {
	return s.postCDRs(node, cdrs, &pos)
}

// ProviderByTrunk returns a function that maps a trunk or a provider name
// to a provider name, from a snapshot of the providers taken now. A name
// wins over a trunk.
func (s *Store) ProviderByTrunk() (func(trunk string) (string, bool), error) {
	ps, err := s.Providers()
	return rating.ByTrunk(ps), err
}
