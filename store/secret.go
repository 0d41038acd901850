package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"pbxbill/rating"
)

// The secrets of an installation and the rules they follow, the same for
// every store: node and session tokens are kept only as their SHA-256,
// admin passwords only as bcrypt hashes, so a copy of a database grants
// no access.

// tokenPrefix marks pbxbill node tokens, so a leaked one is recognisable.
const tokenPrefix = "pbx_"

// TokenSum is what a store keeps of a node or session token.
func TokenSum(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// NewNodeToken makes a PBX node's token and its sum.
func NewNodeToken() (token string, sum [32]byte, err error) {
	token, err = randomToken(32)
	if err != nil {
		return "", sum, fmt.Errorf("node token: %w", err)
	}
	token = tokenPrefix + token
	return token, TokenSum(token), nil
}

// NewSessionToken makes an admin session's token (its cookie) and its sum.
func NewSessionToken() (token string, sum [32]byte, err error) {
	token, err = randomToken(32)
	if err != nil {
		return "", sum, fmt.Errorf("session token: %w", err)
	}
	return token, TokenSum(token), nil
}

func randomToken(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// NewAdminPassword makes the first admin user's random password and its
// hash, before any transaction: bcrypt is slow on purpose.
func NewAdminPassword() (password string, hash []byte, err error) {
	if password, err = randomToken(15); err == nil {
		hash, err = bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	}
	if err != nil {
		return "", nil, fmt.Errorf("admin password: %w", err)
	}
	return password, hash, nil
}

// AdminHash checks a user's name and password by the rules and hashes the
// password, outside any transaction.
func AdminHash(name, password string) ([]byte, error) {
	if err := rating.ValidateName("user", name); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return nil, rating.Invalidf("password", "password: at least %d characters, got %d", MinPasswordLen, n)
	}
	if len(password) > MaxPasswordLen {
		return nil, rating.Invalidf("password", "password: at most %d bytes, got %d", MaxPasswordLen, len(password))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("admin password: %w", err)
	}
	return hash, nil
}

// dummyHash is checked against when the user does not exist, so that a
// login for an unknown name takes as long as one for a known name and its
// timing does not tell which names exist.
var dummyHash = []byte("$2a$10$kze/X9iL6VX3ecfW.tjAu.qyKrTEvrZ3OLad3VJwXKrK0G0qaOUk6")

// CheckAdminHash answers nil when password matches hash, the stored hash
// of a user that was found, and EUnauthorized otherwise, with the same
// message and about the same time whichever was wrong.
func CheckAdminHash(hash []byte, found bool, password string) error {
	if !found {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !found {
		return rating.Errorf(rating.EUnauthorized, "wrong user name or password")
	}
	return nil
}

// MaxOnceKey is the longest one-time key (a form's token, an API
// Idempotency-Key) a store keeps.
const MaxOnceKey = 200

// CheckOnceKey refuses a one-time key longer than MaxOnceKey.
func CheckOnceKey(key string) error {
	if len(key) > MaxOnceKey {
		return rating.Invalidf("key", "idempotency key %s: at most %d bytes", rating.Excerpt(key), MaxOnceKey)
	}
	return nil
}

// EventID names the outbox event of sequence seq, with a random part so
// that ids of two installations never meet at a receiver.
func EventID(seq uint64) string {
	var r [6]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand)
	return "ev_" + strconv.FormatUint(seq, 10) + "_" + hex.EncodeToString(r[:])
}
