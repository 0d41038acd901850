package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"pbxbill/rating"
)

// params is a raw query string. Its Get reads one key without building
// url.Values: the rating endpoints read four or five keys per call, and the
// map with a slice per key costs more than scanning a short string.
type params string

// Get returns the first value of key, unescaped, like url.Values.Get. A
// pair whose escaping is broken is skipped, as url.ParseQuery skips it.
func (q params) Get(key string) string {
	s := string(q)
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				continue
			}
			return u
		}
		return v
	}
	return ""
}

// parseKind defaults to outbound, what nearly every call asks for.
func parseKind(v string) (rating.Kind, error) {
	if v == "" || v == "outbound" {
		return rating.Outbound, nil
	}
	return rating.ParseKind(v)
}

// parseAt parses ?at=, the instant whose rates apply; now by default.
func parseAt(v string, now func() time.Time) (time.Time, error) {
	if v == "" {
		return now(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, rating.Invalidf("at", "at %s: want an RFC 3339 time such as 2024-05-01T10:00:00Z", rating.Excerpt(v))
	}
	return t, nil
}

// Page sizes of the paged lists.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// limit parses ?limit=, defaulting to defaultLimit.
func limit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, rating.Invalidf("limit", "limit %s: want a whole number from 1 to %d", rating.Excerpt(s), maxLimit)
	}
	return n, nil
}
