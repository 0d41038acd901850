package pg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// seenEvery is how often a node's LastSeen is written at most. A busy node
// calls the API many times a second; a write per call would be a commit
// per request.
const seenEvery = time.Minute

// CreateNode creates a PBX node and returns its token, the only time the
// token exists outside the caller: the store keeps only its SHA-256.
func (s *Store) CreateNode(name string) (rating.Node, string, error) {
	if err := rating.ValidateName("name", name); err != nil {
		return rating.Node{}, "", err
	}
	token, sum, err := store.NewNodeToken()
	if err != nil {
		return rating.Node{}, "", err
	}
	ctx := context.Background()
	var n rating.Node
	err = s.write(ctx, func(tx *txn) error {
		n = rating.Node{Name: name, Created: micro(tx.now)}
		tag, err := tx.Exec(ctx, `INSERT INTO nodes (name, token_sha256, created) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, sum[:], n.Created)
		if err == nil && tag.RowsAffected() == 0 {
			return rating.Errorf(rating.EConflict, "node %q already exists", name)
		}
		return err
	})
	if err != nil {
		return rating.Node{}, "", err
	}
	return n, token, nil
}

// Nodes lists the nodes by name, in byte order.
func (s *Store) Nodes() ([]rating.Node, error) {
	rows, _ := s.pool.Query(context.Background(), `SELECT name, created, last_seen FROM nodes ORDER BY name COLLATE "C"`)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.Node, error) {
		return scanNode(row)
	})
	if err != nil {
		return nil, dbError(err)
	}
	if out == nil {
		out = []rating.Node{}
	}
	return out, nil
}

func scanNode(row pgx.Row) (rating.Node, error) {
	var n rating.Node
	var seen *time.Time
	err := row.Scan(&n.Name, &n.Created, &seen)
	n.Created = n.Created.UTC()
	if seen != nil {
		n.LastSeen = seen.UTC()
	}
	return n, err
}

// DeleteNode revokes a node: its token stops working at once, on every
// node, since each request reads the token's row.
func (s *Store) DeleteNode(name string) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		tag, err := tx.Exec(ctx, `DELETE FROM nodes WHERE name = $1`, name)
		if err == nil && tag.RowsAffected() == 0 {
			return rating.Errorf(rating.ENotFound, "node %s not found", rating.Excerpt(name))
		}
		return err
	})
}

// NodeByToken finds the node a token belongs to, comparing hashes. An
// unknown token is EUnauthorized. It records LastSeen at most once a
// minute per node, across every pbxbill sharing the database: a request
// reads one row, and only one whose node was last seen a minute ago or
// more writes. Concurrent writers re-check the condition on the locked
// row, so one of them writes.
//
// The lookup is by SHA-256 of the token, so its timing tells a caller
// nothing about any stored token.
func (s *Store) NodeByToken(token string) (rating.Node, error) {
	sum := store.TokenSum(token)
	ctx := context.Background()
	n, err := scanNode(s.pool.QueryRow(ctx, `SELECT name, created, last_seen FROM nodes WHERE token_sha256 = $1`, sum[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Node{}, rating.Errorf(rating.EUnauthorized, "unknown or revoked token")
	}
	if err != nil {
		return rating.Node{}, dbError(err)
	}
	now := micro(s.now().UTC())
	if !n.LastSeen.IsZero() && now.Sub(n.LastSeen) < seenEvery && !now.Before(n.LastSeen) {
		return n, nil
	}
	// A single statement: a transaction of its own, without the round
	// trips of BEGIN and COMMIT. No row updated means another request
	// wrote it first, or the node was revoked meanwhile: this request
	// came before the revocation, and is answered as such.
	tag, err := s.pool.Exec(ctx, `UPDATE nodes SET last_seen = $2 WHERE token_sha256 = $1
		AND (last_seen IS NULL OR last_seen <= $3 OR last_seen > $2)`, sum[:], now, now.Add(-seenEvery))
	if err != nil {
		return rating.Node{}, dbError(err)
	}
	if tag.RowsAffected() == 1 {
		n.LastSeen = now
	}
	return n, nil
}
