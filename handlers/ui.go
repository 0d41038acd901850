package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/assets"
	"pbxbill/rating"
)

// ui is the browser admin: its parsed templates and the state its pages
// share. It is built once, when the routes are registered.
type ui struct {
	*server
	pages    map[string]*template.Template
	loc      *time.Location
	currency string
	throttle *throttle
	decks    pendingDecks // previewed decks waiting for their confirmation
}

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// uiRoutes registers the browser admin's pages and forms. Every page needs
// a session except the login page; every form is a plain POST that
// redirects, so a reload never posts twice, and reads a bounded body
// (uiform.go).
func (s *server) uiRoutes(r *mux.Router) {
	u := newUI(s)
	get, post := http.MethodGet, http.MethodPost
	// A mistyped address in a browser gets a page with the navigation,
	// not the API's JSON; the API's own paths, and a client that does not
	// ask for HTML (curl, scripts), keep the JSON answer.
	apiNotFound := r.NotFoundHandler
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/api/") || !strings.Contains(req.Header.Get("Accept"), "text/html") {
			apiNotFound.ServeHTTP(w, req)
			return
		}
		u.page(func(http.ResponseWriter, *http.Request) error {
			return rating.Errorf(rating.ENotFound, "there is no page at %s: check the address, or start from the Tenants Dashboard", rating.Excerpt(req.URL.Path))
		}).ServeHTTP(w, req)
	})
	r.Handle("/login", u.page(u.loginPage)).Methods(get, http.MethodHead)
	r.Handle("/login", u.page(u.form(loginFormLimit, u.login))).Methods(post)
	r.Handle("/logout", u.page(u.form(loginFormLimit, u.logout))).Methods(post)

	r.Handle("/tenants", u.auth(u.tenantsPage)).Methods(get)
	r.Handle("/tenants", u.auth(u.form(formLimit, u.createTenant))).Methods(post)
	r.Handle("/tenants/new", u.auth(u.newTenantPage)).Methods(get)
	r.Handle("/tenants/{name}", u.auth(u.tenantPage)).Methods(get)
	r.Handle("/tenants/{name}", u.auth(u.form(formLimit, u.updateTenant))).Methods(post)
	r.Handle("/tenants/{name}/credits", u.auth(u.form(formLimit, u.credit(rating.TenantAccount)))).Methods(post)

	r.Handle("/providers", u.auth(u.providersPage)).Methods(get)
	r.Handle("/providers", u.auth(u.form(formLimit, u.createProvider))).Methods(post)
	r.Handle("/providers/new", u.auth(u.newProviderPage)).Methods(get)
	r.Handle("/providers/{name}", u.auth(u.providerPage)).Methods(get)
	r.Handle("/providers/{name}", u.auth(u.form(formLimit, u.updateProvider))).Methods(post)
	r.Handle("/providers/{name}/credits", u.auth(u.form(formLimit, u.credit(rating.ProviderAccount)))).Methods(post)

	r.Handle("/rates/{kind}", u.auth(u.tablesPage)).Methods(get)
	r.Handle("/rates/{kind}", u.auth(u.form(formLimit, u.createTable))).Methods(post)
	r.Handle("/rates/{kind}/{table}", u.auth(u.tablePage)).Methods(get)
	r.Handle("/rates/{kind}/{table}/settings", u.auth(u.form(formLimit, u.updateTable))).Methods(post)
	r.Handle("/rates/{kind}/{table}/delete", u.auth(u.form(formLimit, u.deleteTable))).Methods(post)
	r.Handle("/rates/{kind}/{table}/rows", u.auth(u.form(formLimit, u.saveRow))).Methods(post)
	r.Handle("/rates/{kind}/{table}/rows/delete", u.auth(u.form(formLimit, u.deleteRow))).Methods(post)
	r.Handle("/rates/{kind}/{table}/upload", u.auth(u.upload(u.csvUpload, u.uploadRates))).Methods(post)
	r.Handle("/rates/{kind}/{table}/download", u.auth(u.downloadRates)).Methods(get)
	r.Handle("/rates/{kind}/{table}/margins", u.auth(u.marginsPage)).Methods(get)
	r.Handle("/rates/{kind}/{table}/upload/confirm", u.auth(u.form(formLimit, u.confirmUpload))).Methods(post)

	r.Handle("/usage", u.auth(u.usagePage)).Methods(get)
	r.Handle("/usage/export", u.auth(u.exportCDRs)).Methods(get)
	r.Handle("/usage/cdr", u.auth(u.cdrDetail)).Methods(get)
	r.Handle("/usage/rerate", u.auth(u.form(formLimit, u.rerate))).Methods(post)
	r.Handle("/usage/upload", u.auth(u.uploadPage)).Methods(get)
	r.Handle("/usage/upload", u.auth(u.upload(u.csvUpload, u.uploadCDRs))).Methods(post)

	r.Handle("/audit", u.auth(u.auditPage)).Methods(get)
	r.Handle("/users", u.auth(u.usersPage)).Methods(get)
	r.Handle("/users", u.auth(u.form(formLimit, u.addUser))).Methods(post)
	r.Handle("/users/{name}/password", u.auth(u.form(formLimit, u.resetUser))).Methods(post)
	r.Handle("/users/{name}/remove", u.auth(u.form(formLimit, u.removeUser))).Methods(post)

	r.Handle("/nodes", u.auth(u.nodesPage)).Methods(get)
	r.Handle("/nodes", u.auth(u.form(formLimit, u.createNode))).Methods(post)
	r.Handle("/nodes/{name}/revoke", u.auth(u.form(formLimit, u.revokeNode))).Methods(post)
	u.moneyRoutes(r)
}

func newUI(s *server) *ui {
	u := &ui{server: s, loc: s.Store.Location(), currency: s.Store.Currency(), throttle: newThrottle(s.Now, loginFailures, loginWindow)}
	pages, err := parsePages(assets.FS, u.funcs())
	if err != nil {
		panic(err) // the embedded templates are fixed at compile time; a test catches this
	}
	u.pages = pages
	return u
}

// parsePages parses the layout and partials once, then each page on its
// own copy of them, so that every page can define the same blocks.
func parsePages(fsys fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(n[len("templates/pages/"):], ".html")] = t
	}
	return pages, nil
}

// pageBase is what the layout needs: every page's data embeds it.
type pageBase struct {
	Title    string
	Section  string // the navigation entry to highlight
	User     string
	Flash    *flash
	Currency string
	Zone     string
}

// flash is a one-time message shown after a redirect.
type flash struct {
	Kind    string // ok or error
	Message string
}

// base builds the layout data for r and consumes its flash message.
func (u *ui) base(w http.ResponseWriter, r *http.Request, title, section string) pageBase {
	b := pageBase{Title: title, Section: section, User: userOf(r), Currency: u.currency, Zone: u.loc.String()}
	if c, err := r.Cookie(flashCookie); err == nil {
		if v, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			kind, msg, _ := strings.Cut(string(v), "|")
			b.Flash = &flash{Kind: kind, Message: msg}
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return b
}

const flashCookie = "pbxbill_flash"

// redirect answers a form post: 303 to target with a flash message for
// the next page (POST-redirect-GET).
func (u *ui) redirect(w http.ResponseWriter, r *http.Request, target, kind, msg string) error {
	if msg != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + msg)),
			Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// render executes a page into a buffer first, so that a template error
// becomes a clean error page instead of half a page.
func (u *ui) render(w http.ResponseWriter, status int, page string, data any) error {
	t := u.pages[page]
	if t == nil {
		return rating.Errorf(rating.EInternal, "no template for page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// errorPage is the data of the error page.
type errorPage struct {
	pageBase
	Status  int
	Message string
}

// page adapts a page handler and answers its error as an HTML page: the
// message of a *rating.Error, or "internal error" with the details logged.
func (u *ui) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		pr := problemOf(err)
		status, msg := pr.Status, pr.Message
		if pr.Internal {
			u.Log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("internal error")
			msg = "internal error: the details are in the server log"
		}
		if started(w) {
			return
		}
		if userOf(r) == "" { // the error of a page behind auth, or a mistyped address: keep the navigation
			if user, ok := u.sessionUser(r); ok {
				r = r.WithContext(context.WithValue(r.Context(), userKey{}, user))
			}
		}
		p := errorPage{pageBase: u.base(w, r, http.StatusText(status), ""), Status: status, Message: msg}
		if err := u.render(w, status, "error", p); err != nil {
			http.Error(w, msg, status)
		}
	})
}

type userKey struct{}

// userOf is the logged-in admin of r, "" on the login page.
func userOf(r *http.Request) string {
	v, _ := r.Context().Value(userKey{}).(string)
	return v
}

// auth wraps a page that needs a session; without one, a GET goes to the
// login page and comes back after it, and a POST is refused there too.
func (u *ui) auth(h handlerFunc) http.Handler {
	return u.page(func(w http.ResponseWriter, r *http.Request) error {
		user, ok := u.sessionUser(r)
		if !ok {
			if r.Method == http.MethodGet {
				return u.redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), "", "")
			}
			// A form posted after the session ended: its input cannot be
			// trusted without one, so say so, and come back to the page
			// the form was on after the log-in.
			next := "/tenants"
			if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
				next = localPath(ref.RequestURI())
			}
			return u.redirect(w, r, "/login?next="+url.QueryEscape(next), "error",
				"Your session had ended, so the form was not saved. Log in, then send it again.")
		}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, user))
		return h(w, u.audited(r, "admin:"+user))
	})
}
