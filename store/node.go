package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// nodeRecord is a PBX node as stored: the token itself is never kept,
// only its SHA-256, so a copy of the database grants no access.
type nodeRecord struct {
	rating.Node
	TokenHash []byte `json:"token_sha256"`
}

// seenEvery is how often a node's LastSeen is written at most. A busy node
// calls the API many times a second; a write per call would serialise
// every request behind bbolt's single writer.
const seenEvery = time.Minute

// nodeSeen remembers when each node's LastSeen was last written.
type nodeSeen struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether name's LastSeen should be written at now, and if so
// claims the write, so concurrent requests of one node write once.
func (n *nodeSeen) due(name string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.last[name]; ok && now.Sub(t) < seenEvery && !now.Before(t) {
		return false
	}
	if n.last == nil {
		n.last = map[string]time.Time{}
	}
	n.last[name] = now
	return true
}

func (n *nodeSeen) forget(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.last, name)
}

// CreateNode creates a PBX node and returns its token, the only time the
// token exists outside the caller: the store keeps only its SHA-256.
func (s *Store) CreateNode(name string) (rating.Node, string, error) {
	if err := rating.ValidateName("name", name); err != nil {
		return rating.Node{}, "", err
	}
	token, sum, err := NewNodeToken()
	if err != nil {
		return rating.Node{}, "", err
	}
	var n rating.Node
	err = s.update(func(tx *txn) error {
		nodes := tx.Bucket(bucketNodes)
		if nodes.Get([]byte(name)) != nil {
			return rating.Errorf(rating.EConflict, "node %q already exists", name)
		}
		n = rating.Node{Name: name, Created: tx.now}
		if err := tx.Bucket(bucketNodeTokens).Put(sum[:], []byte(name)); err != nil {
			return err
		}
		return putJSON(nodes, []byte(name), &nodeRecord{Node: n, TokenHash: sum[:]})
	})
	if err != nil {
		return rating.Node{}, "", err
	}
	s.seen.forget(name) // a node re-created under an old name starts afresh
	return n, token, nil
}

// Nodes lists the nodes by name.
func (s *Store) Nodes() ([]rating.Node, error) {
	out := []rating.Node{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
			var rec nodeRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode node %q: %w", k, err)
			}
			out = append(out, rec.Node)
			return nil
		})
	})
	return out, err
}

// DeleteNode revokes a node: its token stops working at once.
func (s *Store) DeleteNode(name string) error {
	err := s.update(func(tx *txn) error {
		rec, err := getNode(tx.Tx, name)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketNodeTokens).Delete(rec.TokenHash); err != nil {
			return err
		}
		return tx.Bucket(bucketNodes).Delete([]byte(name))
	})
	if err == nil {
		s.seen.forget(name)
	}
	return err
}

// NodeByToken finds the node a token belongs to, comparing hashes. An
// unknown token is EUnauthorized. It records LastSeen, at most once a
// minute per node so that a busy node does not write on every request.
//
// The lookup is by SHA-256 of the token, so its timing tells a caller
// nothing about any stored token.
func (s *Store) NodeByToken(token string) (rating.Node, error) {
	sum := TokenSum(token)
	var rec nodeRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		name := tx.Bucket(bucketNodeTokens).Get(sum[:])
		if name == nil {
			return rating.Errorf(rating.EUnauthorized, "unknown or revoked token")
		}
		var err error
		rec, err = getNode(tx, string(name))
		return err
	})
	if err != nil {
		return rating.Node{}, err
	}
	now := s.now().UTC()
	if !s.seen.due(rec.Name, now) {
		return rec.Node, nil
	}
	err = s.update(func(tx *txn) error {
		cur, err := getNode(tx.Tx, rec.Name)
		if rating.ErrorCode(err) == rating.ENotFound || (err == nil && string(cur.TokenHash) != string(sum[:])) {
			return rating.Errorf(rating.EUnauthorized, "unknown or revoked token") // revoked meanwhile
		} else if err != nil {
			return err
		}
		cur.LastSeen = tx.now
		rec = cur
		return putJSON(tx.Bucket(bucketNodes), []byte(cur.Name), &cur)
	})
	if err != nil {
		return rating.Node{}, err
	}
	return rec.Node, nil
}

// getNode reads a node by name; a missing one is ENotFound.
func getNode(tx *bolt.Tx, name string) (nodeRecord, error) {
	var rec nodeRecord
	ok, err := getJSON(tx.Bucket(bucketNodes), []byte(name), &rec)
	if err == nil && !ok {
		err = rating.Errorf(rating.ENotFound, "node %s not found", rating.Excerpt(name))
	}
	return rec, err
}
