package handlers

import (
	"net"
	"net/http"
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"pbxbill/rating"
)

// sessions is what the admin's log-in asks of the store.
type sessions interface {
	CheckAdminPassword(name, password string) error
	CreateSession(user string, ttl time.Duration) (string, rating.Session, error)
	Session(token string) (rating.Session, error)
	DeleteSession(token string) error
	// The admin users (the Users page).
	Admins() ([]rating.Admin, error)
	AddAdmin(name, password string) error
	DeleteAdmin(name string) error
	SetAdminPassword(name, password string) error
}

// sessionCookie holds the session token. It is HttpOnly so that no script
// can read it, and SameSite=Lax so that other sites' forms do not send it.
const sessionCookie = "pbxbill_session"

// sessionUser returns the admin of r's session cookie.
func (u *ui) sessionUser(r *http.Request) (string, bool) {
	return sessionUser(u.server, r)
}

func sessionUser(s *server, r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	sess, err := s.Store.Session(c.Value)
	if err != nil {
		return "", false
	}
	return sess.User, true
}

// loginPage is the data of the login form.
type loginPage struct {
	pageBase
	Name  string
	Next  string
	Error string
}

func (u *ui) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := u.sessionUser(r); ok {
		return u.redirect(w, r, localPath(r.URL.Query().Get("next")), "", "")
	}
	p := loginPage{pageBase: u.base(w, r, "Log in", "login"), Name: rating.AdminUser, Next: localPath(r.URL.Query().Get("next"))}
	return u.render(w, http.StatusOK, "login", p)
}

// login checks the password, throttled per client address, and starts a
// session. The message does not say whether the name or the password was
// wrong.
func (u *ui) login(w http.ResponseWriter, r *http.Request) error {
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	p := loginPage{pageBase: u.base(w, r, "Log in", "login"), Name: name, Next: localPath(r.PostFormValue("next"))}
	client := clientAddr(r)
	if wait := u.throttle.wait(client); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		p.Error = "Too many failed logins from your address: try again in " + roundUp(wait) + "."
		return u.render(w, http.StatusTooManyRequests, "login", p)
	}
	err := u.Store.CheckAdminPassword(name, password)
	if rating.ErrorCode(err) == rating.EUnauthorized {
		u.throttle.fail(client)
		u.Log.Warn().Str("user", name).Str("client", client).Msg("failed admin login")
		p.Error = "Wrong user name or password."
		return u.render(w, http.StatusUnauthorized, "login", p)
	}
	if err != nil {
		return err
	}
	u.throttle.reset(client)
	token, sess, err := u.Store.CreateSession(name, sessionTTL)
	// MaxAge rather than Expires: relative, so a browser whose clock is
	// off still keeps the cookie as long as the store keeps the session.
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sess.Expires.Sub(sess.Created).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	u.Log.Info().Str("user", name).Str("client", client).Msg("admin logged in")
	return u.redirect(w, r, p.Next, "", "")
}

func (u *ui) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := u.Store.DeleteSession(c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return u.redirect(w, r, "/login", "ok", "You are logged out.")
}

// localPath keeps a ?next= target on this site: a clean path, else the
// tenants page. Browsers read "//evil.example" and "/\evil.example" as
// hosts, and drop tabs and newlines before they do, so "/\t/evil.example"
// is one too; so a target must start with exactly one '/', and hold no
// backslash, no control character and no white space anywhere.
func localPath(p string) string {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/tenants"
	}
	for _, c := range p {
		if c == '\\' || c == utf8.RuneError || unicode.IsControl(c) || unicode.IsSpace(c) {
			return "/tenants"
		}
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/tenants"
	}
	return p
}

// clientAddr is the socket peer's address, without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func roundUp(d time.Duration) string {
	if d <= time.Minute {
		return "a minute"
	}
	return d.Round(time.Minute).String()
}

// Failed logins: after loginFailures failures from one address within
// loginWindow, that address must wait until the window has passed since
// its first failure. bcrypt already makes each guess slow; this makes a
// guessing run hopeless.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
)
