package pg

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// FollowPos returns the stored position for path, the zero position (with
// Path set) when there is none.
func (s *Store) FollowPos(path string) (store.FollowPos, error) {
	pos := store.FollowPos{Path: path}
	err := s.read(context.Background(), func(tx pgx.Tx) error {
		var raw []byte
		err := tx.QueryRow(context.Background(), `SELECT pos FROM follow_positions WHERE path = $1`, path).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &pos)
	})
	return pos, err
}

// PostFollowed is PostCDRs for the follow mode: the CDRs and the new file
// position are committed in one transaction, so a restart resumes exactly
// after the last CDR stored, with nothing lost or counted twice.
func (s *Store) PostFollowed(node string, cdrs []rating.CDR, pos store.FollowPos) (rating.Posted, error) {
	return s.postCDRs(node, cdrs, &pos)
}

// ProviderByTrunk returns a function that maps a trunk or a provider name
// to a provider name, from a snapshot of the providers taken now. A name
// wins over a trunk.
func (s *Store) ProviderByTrunk() (func(trunk string) (string, bool), error) {
	ps, err := s.Providers()
	return rating.ByTrunk(ps), err
}
