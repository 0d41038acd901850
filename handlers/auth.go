package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"pbxbill/rating"
)

// Who may call what. API.md lets any token call any endpoint; we narrow
// that, as an extension of the contract: a PBX node token may call the
// rating endpoints (and later the CDR endpoints), which is all a PBX needs,
// but not manage tenants, providers, rate tables or nodes, which answers
// 403 forbidden. A leaked node token then cannot move money or mint more
// tokens. The bootstrap token may call everything.

// Wrong bearer tokens: tokens are long and random, so a short window is
// enough to make guessing hopeless (at most 14,400 guesses a day from one
// address), and keeps a PBX that shares its address with a bad client
// locked out for a minute at most.
const (
	tokenFailures = 10
	tokenWindow   = time.Minute
)

// caller is who made a request, once authenticated.
type caller struct {
	Node      string // the PBX node whose token was used; "" otherwise
	Bootstrap bool   // the bootstrap token or an admin session was used
	Admin     string // the admin whose browser session was used; "" otherwise
}

type callerKey struct{}

// callerOf returns who made r; the zero caller for a tokenless local
// rating request.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// admin wraps an endpoint that only the bootstrap token may call.
func (s *server) admin(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if !c.Bootstrap {
			return rating.Errorf(rating.EForbidden, "node %s: a node token may only call the rating and CDR endpoints", rating.Excerpt(c.Node))
		}
		return h(w, s.audited(s.identify(w, r, c), actorOf(c)))
	})
}

// rating wraps a read-only rating endpoint. Without a token, it is open to
// a process on this machine, which is how a dialplan on the PBX box calls
// it. A request that names a proxy hop is not trusted as local even when
// its socket peer is, because a reverse proxy on the same box would make
// every remote caller look local.
func (s *server) rating(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if r.Header["Authorization"] == nil && !s.RatingRequiresToken && localPeer(r) {
			return h(w, r)
		}
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, s.identify(w, r, c))
	})
}

// authenticate checks the bearer token: the bootstrap token first, then
// the node tokens; or HTTP Basic credentials, a node's name and token. After tokenFailures wrong tokens from one address in
// tokenWindow, that address is answered 429 until the window has passed,
// good tokens included: a guess must not learn whether it was right. A
// good token is never counted, so it waits at most tokenWindow.
func (s *server) authenticate(r *http.Request) (caller, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		// An admin's browser session works as the bootstrap token does
		// (API.md), so the admin pages' own calls need no token. The
		// guard middleware has already refused it from another site.
		if user, ok := sessionUser(s, r); ok {
			return caller{Bootstrap: true, Admin: user}, nil
		}
		if hasProxyHeader(r) {
			return caller{}, rating.Errorf(rating.EUnauthorized, "missing bearer token: a request that came through a proxy (Forwarded or X-Forwarded-For) needs one")
		}
		return caller{}, rating.Errorf(rating.EUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	// A PBX module that can send only HTTP Basic credentials (FreeSWITCH's
	// mod_json_cdr cred) sends a node token as the password, and the
	// node's name as the user (API.md). Only a node token is taken so:
	// the bootstrap token has no node name to match.
	user, basic := "", false
	if ok && strings.EqualFold(scheme, "Basic") {
		user, token, basic = basicCredentials(token)
		ok = basic
	}
	if !ok || !basic && !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, rating.Errorf(rating.EUnauthorized, "Authorization: want Bearer <token>, or Basic with a node's name and token")
	}
	// Wrong tokens are throttled per address, as failed logins are, but
	// not those of the PBX box itself: a lockout of its dialplan would
	// stop its calls, and a process there is already inside.
	client, counted := clientAddr(r), !localPeer(r)
	if counted {
		if wait := s.tokens.wait(client); wait > 0 {
			return caller{}, &retryLater{after: wait, err: rating.Errorf(codeTooManyRequests,
				"too many wrong bearer tokens from %s: try again in %s s", client, retryAfter(wait))}
		}
	}
	if s.APIToken != "" && !basic {
		// Comparing digests keeps the comparison constant-time in the
		// token's length as well as its content.
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], s.apiTokenSum[:]) == 1 {
			return caller{Bootstrap: true}, nil
		}
	}
	n, err := s.Store.NodeByToken(token)
	if err != nil {
		if rating.ErrorCode(err) == rating.EUnauthorized || rating.ErrorCode(err) == rating.ENotFound {
			if counted {
				s.tokens.fail(client)
			}
			if basic {
				return caller{}, errBadBasic
			}
			return caller{}, rating.Errorf(rating.EUnauthorized, "invalid bearer token")
		}
		return caller{}, err
	}
	if basic && subtle.ConstantTimeCompare([]byte(user), []byte(n.Name)) != 1 {
		// A token under another node's name is a wrong credential, and
		// counts as a guess: the pair is what Basic authenticates.
		if counted {
			s.tokens.fail(client)
		}
		return caller{}, errBadBasic
	}
	return caller{Node: n.Name}, nil
}

var errBadBasic = rating.Errorf(rating.EUnauthorized,
	"invalid Basic credentials: want a node's name as the user and its token as the password, or send Authorization: Bearer <token>")

// basicCredentials decodes the credentials of an HTTP Basic
// Authorization header; ok is false when they are not base64 of
// user:password.
func basicCredentials(encoded string) (user, password string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(b), ":")
}

// identify records the caller for the request log and for the endpoints.
func (s *server) identify(w http.ResponseWriter, r *http.Request, c caller) *http.Request {
	if rec, ok := w.(*recorder); ok {
		rec.node = c.Node
	}
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

// localPeer reports whether r came straight from this machine: a loopback
// socket peer, and no proxy header.
func localPeer(r *http.Request) bool {
	if hasProxyHeader(r) {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func hasProxyHeader(r *http.Request) bool {
	return r.Header["Forwarded"] != nil || r.Header["X-Forwarded-For"] != nil
}
