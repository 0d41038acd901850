// Package handlers turns HTTP requests into store and rating calls: the JSON
// API of API.md under /api/v1, /healthz and the embedded static files.
package handlers

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"pbxbill/assets"
	"pbxbill/rating"
)

// Store is what the handlers need of storage: the nouns' small interfaces,
// each defined in the file of its endpoints, and the installation's
// settings. *store.Store is one; a second backend will be another.
type Store interface {
	tenants
	providers
	rateTables
	rateRows
	nodes
	cdrs
	ledgers
	dashboards
	sessions
	backups
	rejectedLines
	holds
	audits
	schedules
	events
	statements
	// Rater resolves calls against the live rate indexes.
	Rater() *rating.Rater
	Location() *time.Location
	Currency() string
	Now() time.Time
}

// Config is what the HTTP layer needs from main.
type Config struct {
	Store           Store
	MaxCallDuration int
	// Now is the clock; nil means the store's, so that the handlers and
	// the store never disagree on what "now" and "today" are.
	Now                 func() time.Time
	APIToken            string // the bootstrap token; "" disables it
	RatingRequiresToken bool
	Log                 zerolog.Logger
	// Audited returns the store as a handle that records e in the audit
	// trail with the change it makes (store.Store.Audited); nil records
	// nothing, as some tests want.
	Audited func(e rating.AuditEntry) Store
	// PublicURL is where PBX nodes reach this server (-public-url), for
	// the snippets the admin shows; "" shows the address the browser used.
	PublicURL string
	// Hosts are the names, besides localhost and this machine's
	// addresses, that a request's Host may give (the DNS-rebinding guard).
	Hosts []string
	// Installation names the installation on documents such as a
	// statement; "" is "pbxbill".
	Installation string
}

// server holds the configuration and what is derived from it once at start,
// so that no request repeats that work.
type server struct {
	Config
	apiTokenSum [sha256.Size]byte // SHA-256 of APIToken, compared in constant time
	static      fs.FS             // assets.FS below static/
	jsonLimit   int64             // body limits; fields so that tests can lower them
	csvLimit    int64
	metrics     *metrics  // what /metrics exports
	tokens      *throttle // wrong bearer tokens per client address
}

// handlerFunc is an endpoint that reports its failure as an error, so that
// every error reaches the one error writer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns the HTTP handler serving /healthz, /api/v1, and the embedded
// static files at / and /static/.
func New(c Config) http.Handler {
	return newServer(c).handler()
}

func newServer(c Config) *server {
	switch {
	case c.Now != nil:
	case c.Store != nil:
		c.Now = c.Store.Now
	default:
		c.Now = time.Now // a server without storage, as some tests make
	}
	if c.MaxCallDuration <= 0 {
		c.MaxCallDuration = rating.DefaultMaxCallDuration
	}
	s := &server{Config: c, jsonLimit: maxJSONBody, csvLimit: maxCSVBody, metrics: newMetrics(func() rating.HoldStats { return c.Store.HoldStats() }),
		tokens: newThrottle(c.Now, tokenFailures, tokenWindow)}
	if c.APIToken != "" {
		s.apiTokenSum = sha256.Sum256([]byte(c.APIToken))
	}
	static, err := fs.Sub(assets.FS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at compile time
	}
	s.static = static
	return s
}

// handler is the middleware chain: log, recover, guard (Host,
// cross-origin, security headers), route.
func (s *server) handler() http.Handler {
	return s.logRequests(s.recoverPanics(s.guard(s.dispatch())))
}

// ratingRoutes are the read-only endpoints a dialplan calls for every call,
// by path under /api/v1; each answers GET only.
func (s *server) ratingRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"/authorize": s.metrics.observe("authorize", s.rating(s.authorize)),
		"/rate":      s.metrics.observe("rate", s.rating(s.rate)),
		"/price":     s.metrics.observe("price", s.rating(s.price)),
		"/lcr":       s.metrics.observe("lcr", s.rating(s.lcr)),
	}
}

// dispatch sends a GET of a rating endpoint straight to its handler, and
// everything else through the router. mux matches routes by regular
// expression, one after another, and copies the request twice to attach
// its variables; the rating paths have no variables, so a map lookup does
// the same for the hot path at a fraction of the cost. The router still
// knows those routes, for its 405 answers.
func (s *server) dispatch() http.Handler {
	router := s.router()
	fast := map[string]http.Handler{}
	for path, h := range s.ratingRoutes() {
		fast["/api/v1"+path] = h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if h := fast[r.URL.Path]; h != nil {
				h.ServeHTTP(w, r)
				return
			}
		}
		router.ServeHTTP(w, r)
	})
}

// router maps every path to its handler.
func (s *server) router() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return rating.Errorf(rating.ENotFound, "no such endpoint: %s", rating.Excerpt(r.URL.Path))
	})
	r.MethodNotAllowedHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return rating.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s", rating.Excerpt(r.Method), rating.Excerpt(r.URL.Path))
	})

	// Full paths on the root router rather than a /api/v1 subrouter: a
	// subrouter's routes repeat its prefix matcher, and in mux 1.8.1 each
	// match of that prefix forgets an earlier method mismatch, so a wrong
	// method would answer 404 instead of 405.
	api := &prefixed{r, "/api/v1"}
	for path, h := range s.ratingRoutes() {
		api.Handle(path, h).Methods(http.MethodGet)
	}

	api.Handle("/tenants", s.admin(s.listTenants)).Methods(http.MethodGet)
	api.Handle("/tenants", s.admin(s.createTenant)).Methods(http.MethodPost)
	api.Handle("/tenants/{name}", s.admin(s.getTenant)).Methods(http.MethodGet)
	api.Handle("/tenants/{name}", s.admin(s.updateTenant)).Methods(http.MethodPut)
	api.Handle("/tenants/{name}", s.admin(s.deleteTenant)).Methods(http.MethodDelete)
	api.Handle("/tenants/{name}/credits", s.admin(s.credit(rating.TenantAccount))).Methods(http.MethodPost)
	api.Handle("/tenants/{name}/ledger", s.admin(s.ledger(rating.TenantAccount))).Methods(http.MethodGet)

	api.Handle("/providers", s.admin(s.listProviders)).Methods(http.MethodGet)
	api.Handle("/providers", s.admin(s.createProvider)).Methods(http.MethodPost)
	api.Handle("/providers/{name}", s.admin(s.getProvider)).Methods(http.MethodGet)
	api.Handle("/providers/{name}", s.admin(s.updateProvider)).Methods(http.MethodPut)
	api.Handle("/providers/{name}", s.admin(s.deleteProvider)).Methods(http.MethodDelete)
	api.Handle("/providers/{name}/credits", s.admin(s.credit(rating.ProviderAccount))).Methods(http.MethodPost)
	api.Handle("/providers/{name}/ledger", s.admin(s.ledger(rating.ProviderAccount))).Methods(http.MethodGet)

	api.Handle("/rate-tables", s.admin(s.listRateTables)).Methods(http.MethodGet)
	api.Handle("/rate-tables", s.admin(s.createRateTable)).Methods(http.MethodPost)
	api.Handle("/rate-tables/{name}", s.admin(s.getRateTable)).Methods(http.MethodGet)
	api.Handle("/rate-tables/{name}", s.admin(s.updateRateTable)).Methods(http.MethodPut)
	api.Handle("/rate-tables/{name}", s.admin(s.deleteRateTable)).Methods(http.MethodDelete)
	api.Handle("/rate-tables/{name}/rates", s.admin(s.importRates)).Methods(http.MethodPut)
	api.Handle("/rate-tables/{name}/rates", s.admin(s.exportRates)).Methods(http.MethodGet)
	api.Handle("/rate-tables/{name}/rates/{prefix}", s.admin(s.deleteRate)).Methods(http.MethodDelete)

	api.Handle("/margins", s.admin(s.listMargins)).Methods(http.MethodGet)
	api.Handle("/audit", s.admin(s.listAudit)).Methods(http.MethodGet)
	api.Handle("/holds", s.admin(s.listHolds)).Methods(http.MethodGet)
	api.Handle("/holds/{call}", s.metrics.observe("release_hold", s.rating(s.releaseHold))).Methods(http.MethodDelete)
	api.Handle("/tenants/{name}/schedules", s.admin(s.listSchedules)).Methods(http.MethodGet)
	api.Handle("/tenants/{name}/schedules", s.admin(s.createSchedule)).Methods(http.MethodPost)
	api.Handle("/tenants/{name}/schedules/{id}", s.admin(s.updateSchedule)).Methods(http.MethodPut)
	api.Handle("/tenants/{name}/schedules/{id}", s.admin(s.deleteSchedule)).Methods(http.MethodDelete)
	api.Handle("/tenants/{name}/statements/{month}", s.admin(s.getStatement)).Methods(http.MethodGet)
	api.Handle("/events", s.admin(s.listEvents)).Methods(http.MethodGet)

	api.Handle("/nodes", s.admin(s.listNodes)).Methods(http.MethodGet)
	api.Handle("/nodes", s.admin(s.createNode)).Methods(http.MethodPost)
	api.Handle("/nodes/{name}", s.admin(s.deleteNode)).Methods(http.MethodDelete)

	s.usageRoutes(api)
	s.uiRoutes(r)

	r.HandleFunc("/healthz", healthz).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/", s.handle(s.index)).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/static/").Handler(s.handle(s.staticFile)).Methods(http.MethodGet, http.MethodHead)
	return r
}

// prefixed registers routes under a path prefix.
type prefixed struct {
	r      *mux.Router
	prefix string
}

func (p *prefixed) Handle(path string, h http.Handler) *mux.Route {
	return p.r.Handle(p.prefix+path, h)
}

// handle adapts a handlerFunc to http.Handler.
func (s *server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.error(w, r, err)
		}
	})
}

// recoverPanics turns a panic in a handler into a 500 answer, so that one
// bad request neither kills the connection silently nor goes unlogged.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			if rec, ok := w.(*recorder); ok && rec.wrote {
				// Part of the answer is out; cutting the connection is
				// the only way to tell the client it is incomplete.
				s.Log.Error().Interface("panic", v).Str("path", r.URL.Path).Msg("panic after the answer started")
				panic(http.ErrAbortHandler)
			}
			s.error(w, r, panicError{v})
		}()
		next.ServeHTTP(w, r)
	})
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// index sends "/" to the Tenants Dashboard, the admin's home page; it
// asks for a login first when there is no session.
func (s *server) index(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/tenants", http.StatusSeeOther)
	return nil
}

// staticFile serves one file under /static/; directories are not listed.
func (s *server) staticFile(w http.ResponseWriter, r *http.Request) error {
	return s.serveAsset(w, r, strings.TrimPrefix(r.URL.Path, "/static/"))
}

// serveAsset serves one embedded file with http.ServeContent, which sets the
// type from the extension and answers ranges and conditional requests.
// http.ServeFileFS is not used because it redirects any path ending in
// index.html.
func (s *server) serveAsset(w http.ResponseWriter, r *http.Request, name string) error {
	notFound := rating.Errorf(rating.ENotFound, "no such file: %s", rating.Excerpt(r.URL.Path))
	if !fs.ValidPath(name) {
		return notFound
	}
	f, err := s.static.Open(name)
	if err != nil {
		return notFound
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return notFound
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("embedded file %s cannot seek", name)
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
	return nil
}
