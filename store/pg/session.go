package pg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pbxbill/rating"
	"pbxbill/store"
)

// CreateSession starts a session for user that ends after ttl, and
// returns its token, the cookie value. The store keeps only the token's
// SHA-256, so a copy of the database holds no usable session. Expired
// sessions are dropped in the same transaction, which keeps the table as
// small as the live sessions.
func (s *Store) CreateSession(user string, ttl time.Duration) (string, rating.Session, error) {
	if ttl <= 0 {
		return "", rating.Session{}, rating.Errorf(rating.EInvalid, "session lifetime %s: must be positive", ttl)
	}
	token, sum, err := store.NewSessionToken()
	if err != nil {
		return "", rating.Session{}, err
	}
	ctx := context.Background()
	var sess rating.Session
	err = s.write(ctx, func(tx *txn) error {
		now := micro(tx.now)
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, now); err != nil {
			return err
		}
		sess = rating.Session{User: user, Created: now, Expires: micro(now.Add(ttl))}
		// The user's row is checked by the foreign key, which also holds
		// it against a removal until this transaction ends.
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_sha256, username, created, expires) VALUES ($1, $2, $3, $4)`,
			sum[:], user, sess.Created, sess.Expires)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
			return rating.Errorf(rating.ENotFound, "no admin user %s", rating.Excerpt(user))
		}
		return err
	})
	if err != nil {
		return "", rating.Session{}, err
	}
	return token, sess, nil
}

// Session returns the live session of token; EUnauthorized when there is
// none or it has expired.
func (s *Store) Session(token string) (rating.Session, error) {
	if token == "" {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "not logged in")
	}
	sum := store.TokenSum(token)
	var sess rating.Session
	err := s.pool.QueryRow(context.Background(), `SELECT username, created, expires FROM sessions WHERE token_sha256 = $1`,
		sum[:]).Scan(&sess.User, &sess.Created, &sess.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "not logged in")
	}
	if err != nil {
		return rating.Session{}, dbError(err)
	}
	sess.Created, sess.Expires = sess.Created.UTC(), sess.Expires.UTC()
	if !s.now().Before(sess.Expires) {
		return rating.Session{}, rating.Errorf(rating.EUnauthorized, "the session expired at %s; log in again", sess.Expires.In(s.loc).Format(time.DateTime))
	}
	return sess, nil
}

// DeleteSession ends the session of token; ending one that does not
// exist is not an error, so logging out twice is harmless.
func (s *Store) DeleteSession(token string) error {
	sum := store.TokenSum(token)
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_sha256 = $1`, sum[:])
		return err
	})
}
