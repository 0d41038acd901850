package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// sessionRecord is a session as stored under the SHA-256 of its token, so
// a copy of the database holds no usable session.
type sessionRecord = rating.Session

// CreateSession starts a session for user that ends after ttl, and
// returns its token, the cookie value. Expired sessions are dropped in the
// same transaction, which keeps the bucket as small as the live sessions.
func (s *Store) CreateSession(user string, ttl time.Duration) (string, rating.Session, error) {
	if ttl <= 0 {
		return "", rating.Session{}, rating.Errorf(rating.EInvalid, "session lifetime %s: must be positive", ttl)
	}
	token, sum, err := NewSessionToken()
	if err != nil {
		return "", rating.Session{}, err
	}
	var sess rating.Session
	err = s.update(func(tx *txn) error {
		if tx.Bucket(bucketAdmins).Get([]byte(user)) == nil {
			return rating.Errorf(rating.ENotFound, "no admin user %s", rating.Excerpt(user))
		}
		if err := deleteSessions(tx.Tx, func(r *sessionRecord) bool { return !tx.now.Before(r.Expires) }); err != nil {
			return err
		}
		sess = rating.Session{User: user, Created: tx.now, Expires: tx.now.Add(ttl)}
		return putJSON(tx.Bucket(bucketSessions), sum[:], &sess)
	})
	if err != nil {
		return "", rating.Session{}, err
	}
	return token, sess, nil
}

// rating.Session returns the live session of token; EUnauthorized when there is
// none or it has expired.
func (s *Store) Session(token string) (rating.Session, error) {
	if token == "" {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "not logged in")
	}
	sum := TokenSum(token)
	var sess rating.Session
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucketSessions), sum[:], &sess)
		return err
	})
	if err != nil {
		return rating.Session{}, err
	}
	if !found {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "not logged in")
	}
	if !s.now().Before(sess.Expires) {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "the session expired at %s; log in again", sess.Expires.In(s.loc).Format(time.DateTime))
	}
	return sess, nil
}

// DeleteSession ends the session of token; ending one that does not
// exist is not an error, so logging out twice is harmless.
func (s *Store) DeleteSession(token string) error {
	sum := TokenSum(token)
	return s.update(func(tx *txn) error { return tx.Bucket(bucketSessions).Delete(sum[:]) })
}

// deleteSessions deletes every session for which drop is true. Keys are
// collected first: bbolt forbids deleting under a ForEach.
func deleteSessions(tx *bolt.Tx, drop func(*sessionRecord) bool) error {
	b := tx.Bucket(bucketSessions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		if drop(&r) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
