package handlers

import (
	"net/http"
	"time"

	"pbxbill/rating"
)

// dashboards is what the dashboards and the usage charts ask of the store.
type dashboards interface {
	TenantDashboard() ([]rating.TenantFigures, error)
	ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error)
	DailyUsage(accountType, name string, from, to time.Time) ([]rating.DayUsage, error)
}

// Both dashboards are served from balances and the daily roll-ups, never
// from CDRs, so that their cost does not grow with the traffic.

// maxDashboardDays bounds the providers dashboard's range: a year, leap
// day included, is what an operator compares; more is a typo.
const maxDashboardDays = 366

// defaultDashboardDays is the range without ?from=: the last week.
const defaultDashboardDays = 7

type tenantDashboardOut struct {
	Tenants []rating.TenantFigures `json:"tenants"`
}

func (s *server) tenantDashboard(w http.ResponseWriter, r *http.Request) error {
	figs, err := s.Store.TenantDashboard()
	if err != nil {
		return err
	}
	if figs == nil {
		figs = []rating.TenantFigures{}
	}
	return reply(w, http.StatusOK, tenantDashboardOut{Tenants: figs})
}

type providerDashboardOut struct {
	From      string                   `json:"from"`
	To        string                   `json:"to"`
	Providers []rating.ProviderFigures `json:"providers"`
	Totals    rating.ProviderFigures   `json:"totals"`
}

// providerDashboard answers the figures over the inclusive days ?from= and
// ?to=, by default the 7 days ending today in the installation's zone.
func (s *server) providerDashboard(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	loc := s.Store.Location()
	now := s.Now().In(loc)
	today := rating.StartOfDay(now, loc)
	from, to := time.Time{}, today
	var err error
	if v := q.Get("to"); v != "" {
		if to, err = parseDay("to", v, loc); err != nil {
			return err
		}
	}
	if v := q.Get("from"); v != "" {
		if from, err = parseDay("from", v, loc); err != nil {
			return err
		}
	} else {
		from = to.AddDate(0, 0, 1-defaultDashboardDays)
	}
	days := daysBetween(from, to) + 1
	switch {
	case days < 1:
		return rating.Invalidf("from", "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	case days > maxDashboardDays:
		return rating.Invalidf("from", "from %s to %s is %d days; the dashboard covers at most %d",
			from.Format(time.DateOnly), to.Format(time.DateOnly), days, maxDashboardDays)
	}
	figs, totals, err := s.Store.ProviderDashboard(from, to)
	if err != nil {
		return err
	}
	if figs == nil {
		figs = []rating.ProviderFigures{}
	}
	return reply(w, http.StatusOK, providerDashboardOut{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		Providers: figs, Totals: totals})
}

// parseDay parses a YYYY-MM-DD date as midnight in loc.
func parseDay(field, v string, loc *time.Location) (time.Time, error) {
	t, err := rating.ParseDate(v, loc)
	if err != nil {
		return t, rating.Invalidf(field, "%s %s: want a date YYYY-MM-DD", field, rating.Excerpt(v))
	}
	return t, nil
}

// daysBetween counts calendar days from a to b, both midnights. It counts
// on the dates rather than the hours between them, which a change to or
// from summer time makes 23 or 25 a day.
func daysBetween(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua).Hours() / 24)
}
