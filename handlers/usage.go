package handlers

import (
	"net/http"
	"strings"

	"pbxbill/rating"
)

// usageRoutes registers the Usage, dashboard and operations endpoints of
// API.md: CDR intake, listing and re-rating, the dashboards and the backup,
// and /metrics, which counts what these endpoints do. cdr.go takes JSON
// CDRs in, cdrfile.go PBX files, and this file holds the reading side:
// listing, exporting and re-rating what is stored.
func (s *server) usageRoutes(api *prefixed) {
	m := s.metrics
	post := m.observe("cdrs_post", s.node(s.postCDRs(m)))
	api.Handle("/cdrs", post).Methods(http.MethodPost)
	api.Handle("/cdrs", m.observe("cdrs_list", s.admin(s.listCDRs))).Methods(http.MethodGet)
	api.Handle("/cdrs/rerate", m.observe("cdrs_rerate", s.admin(s.rerate))).Methods(http.MethodPost)
	api.Handle("/cdrs/rejected", m.observe("cdrs_rejected", s.admin(s.listRejected))).Methods(http.MethodGet)

	api.Handle("/dashboard/tenants", m.observe("dashboard_tenants", s.admin(s.tenantDashboard))).Methods(http.MethodGet)
	api.Handle("/dashboard/providers", m.observe("dashboard_providers", s.admin(s.providerDashboard))).Methods(http.MethodGet)
	api.Handle("/backup", m.observe("backup", s.admin(s.backup))).Methods(http.MethodGet)

	// /metrics sits outside /api/v1, where Prometheus looks by default.
	api.r.Handle("/metrics", s.scrape(m.serve)).Methods(http.MethodGet)
}

// node wraps an endpoint that a PBX node token may call as well as the
// bootstrap token: CDR intake, which is what a PBX needs besides rating.
// The caller's node becomes the first half of each CDR's idempotency key.
func (s *server) node(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, s.identify(w, r, c))
	})
}

// scrape wraps /metrics with the rating endpoints' rule: a tokenless
// request from this machine is served, as a local Prometheus or node
// exporter would send it; anyone else needs the bootstrap token, because
// the counters describe the whole installation, not one node's share.
func (s *server) scrape(h handlerFunc) http.Handler {
	return s.rating(func(w http.ResponseWriter, r *http.Request) error {
		if c := callerOf(r); c.Node != "" {
			return rating.Errorf(rating.EForbidden, "node %q: /metrics needs the bootstrap token", c.Node)
		}
		return h(w, r)
	})
}

// cdrFilter reads the selectors that listing, exporting and re-rating
// share: tenant, provider, status, and the from/to days or instants.
func (s *server) cdrFilter(r *http.Request) (rating.CDRFilter, error) {
	q := r.URL.Query()
	f := rating.CDRFilter{Tenant: q.Get("tenant"), Provider: q.Get("provider"), Status: q.Get("status"),
		Number: strings.TrimSpace(q.Get("number"))}
	switch f.Status {
	case "", rating.Rated, rating.Unrated:
	default:
		return f, rating.Invalidf("status", "status %s: want rated or unrated", rating.Excerpt(f.Status))
	}
	if k := q.Get("kind"); k != "" {
		var err error
		if f.Kind, err = rating.ParseKind(k); err != nil {
			return f, rating.Invalidf("kind", "kind %s: want outbound, inbound or conference", rating.Excerpt(k))
		}
	}
	if strings.Trim(f.Number, "+0123456789") != "" || len(f.Number) > 32 {
		return f, rating.Invalidf("number", "number %s: want the digits a number starts with", rating.Excerpt(f.Number))
	}
	loc := s.Store.Location()
	var err error
	if f.From, err = parseBound("from", q.Get("from"), loc, false); err != nil {
		return f, err
	}
	if f.To, err = parseBound("to", q.Get("to"), loc, true); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, rating.Invalidf("from", "from %s is after to %s", rating.Excerpt(q.Get("from")), rating.Excerpt(q.Get("to")))
	}
	// A bound of any year is taken into the years a CDR may start in: a
	// from before them means from the first CDR. from=0001-01-01, the
	// zero time, thus still says that a range was given.
	if q.Get("from") != "" {
		f.From = rating.ClampStart(f.From)
	}
	if q.Get("to") != "" {
		f.To = rating.ClampStart(f.To)
	}
	return f, nil
}

// listCDRs lists stored CDRs newest first, a page at a time, or with
// ?format=csv (or Accept: text/csv) exports every one that matches.
func (s *server) listCDRs(w http.ResponseWriter, r *http.Request) error {
	f, err := s.cdrFilter(r)
	if err != nil {
		return err
	}
	switch format := r.URL.Query().Get("format"); format {
	case "csv":
		return s.exportCDRs(w, f)
	case "json":
	case "":
		if strings.Contains(r.Header.Get("Accept"), "text/csv") {
			return s.exportCDRs(w, f)
		}
	default:
		return rating.Errorf(rating.EInvalid, "format %s: want json or csv", rating.Excerpt(format))
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	// By call start, newest first; next pages to older CDRs, and prev
	// (an extension, with before=) to newer ones.
	q := r.URL.Query()
	p, err := s.Store.CDRPage(f, q.Get("after"), q.Get("before"), n)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, struct {
		Items []rating.CDR `json:"items"`
		Next  string       `json:"next"`
		Prev  string       `json:"prev"`
	}{p.CDRs, p.Older, p.Newer})
}

// rerate prices stored CDRs again. It wants a selector, so that a stray
// POST does not walk the whole history: the unrated CDRs, or a range.
func (s *server) rerate(w http.ResponseWriter, r *http.Request) error {
	f, err := s.cdrFilter(r)
	if err != nil {
		return err
	}
	done, err := s.rerateCDRs(r, f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, done)
}

// errRerateWhich refuses a re-rate that selects neither the unrated CDRs
// nor a range: re-rating every CDR stored is never what was meant.
var errRerateWhich = rating.Errorf(rating.EInvalid, "say which CDRs to re-rate: status=unrated or a from/to range (with tenant= or provider= to narrow it)")

// rerateCDRs is the one re-rate of the API's POST and the admin's form,
// which only render its outcome.
func (s *server) rerateCDRs(r *http.Request, f rating.CDRFilter) (rating.Rerated, error) {
	if f.Status == "" && f.From.IsZero() && f.To.IsZero() {
		return rating.Rerated{}, errRerateWhich
	}
	return s.store(r).Rerate(f)
}
