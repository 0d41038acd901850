package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// providerForm is the provider edit and new-provider form, as typed.
type providerForm struct {
	Name, Trunk, Status, OutboundTable, InboundTable string
	Errors                                           formErrors
}

var providerFields = []string{"name", "trunk", "status", "outbound_rate_table", "inbound_rate_table"}

func newProviderForm(p rating.Provider) providerForm {
	return providerForm{Name: p.Name, Trunk: p.Trunk, Status: p.Status, OutboundTable: p.OutboundTable,
		InboundTable: p.InboundTable, Errors: formErrors{}}
}

func readProviderForm(r *http.Request) providerForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return providerForm{Name: v("name"), Trunk: v("trunk"), Status: v("status"),
		OutboundTable: v("outbound_rate_table"), InboundTable: v("inbound_rate_table"), Errors: formErrors{}}
}

func (f *providerForm) apply(p *rating.Provider) {
	p.Name, p.Trunk, p.Status, p.OutboundTable, p.InboundTable = f.Name, f.Trunk, f.Status, f.OutboundTable, f.InboundTable
}

// maxRangeDays bounds the Providers Dashboard's range, and with it the
// work of one page view.
const maxRangeDays = 366

// quickRange is a link to a preset From/To range.
type quickRange struct {
	Label, From, To string
}

// providersPage is the data of the Providers Dashboard.
type providersPage struct {
	pageBase
	From, To string
	Quick    []quickRange
	Rows     []rating.ProviderFigures
	Totals   rating.ProviderFigures
	Dec      int
	Minutes  chart
	Cost     chart
	Error    string
}

func (u *ui) providersPage(w http.ResponseWriter, r *http.Request) error {
	today := u.today()
	q := r.URL.Query()
	p := providersPage{pageBase: u.base(w, r, "Providers Dashboard", "providers"), Dec: defaultDecimals}
	first := rating.DayStart(today.Year(), today.Month(), 1, u.loc)
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	p.Quick = []quickRange{
		{"Today", day(today), day(today)},
		{"Last 7 days", day(today.AddDate(0, 0, -6)), day(today)},
		{"This month", day(first), day(today)},
		{"Last month", day(first.AddDate(0, -1, 0)), day(first.AddDate(0, 0, -1))},
	}
	from, to := today.AddDate(0, 0, -6), today
	status := http.StatusOK
	if v := q.Get("from"); v != "" {
		if t, err := rating.ParseDate(v, u.loc); err == nil {
			from = t
		} else {
			p.Error, status = "From "+v+": want a date YYYY-MM-DD", http.StatusBadRequest
		}
	}
	if v := q.Get("to"); v != "" {
		if t, err := rating.ParseDate(v, u.loc); err == nil {
			to = t
		} else {
			p.Error, status = "To "+v+": want a date YYYY-MM-DD", http.StatusBadRequest
		}
	}
	if to.Before(from) {
		p.Error, status = "From "+day(from)+" is after To "+day(to)+": showing To alone", http.StatusBadRequest
		from = to
	}
	if to.Sub(from) > maxRangeDays*24*time.Hour {
		p.Error, status = "the range is longer than a year: showing the year up to To", http.StatusBadRequest
		from = to.AddDate(0, 0, -maxRangeDays+1)
	}
	p.From, p.To = day(from), day(to)
	var err error
	if p.Rows, p.Totals, err = u.Store.ProviderDashboard(from, to); err != nil {
		return err
	}
	ps, err := u.Store.Providers()
	if err != nil {
		return err
	}
	// The legend gives each provider's figures as the table does.
	rows := map[string]*rating.ProviderFigures{}
	for i := range p.Rows {
		rows[p.Rows[i].Name] = &p.Rows[i]
	}
	var names, minTotals, costTotals []string
	var minutes, cost [][]int64
	var days []time.Time
	for _, pr := range ps {
		p.Dec = max(p.Dec, u.tableDecimals(pr.OutboundTable))
		du, err := u.Store.DailyUsage(rating.ProviderAccount, pr.Name, from, to)
		if err != nil {
			return err
		}
		m, c := make([]int64, len(du)), make([]rating.Money, len(du))
		days = days[:0]
		for i, d := range du {
			m[i], c[i] = d.Usage.Seconds, d.Usage.Buy
			days = append(days, d.Day)
		}
		names, minutes, cost = append(names, pr.Name), append(minutes, m), append(cost, moneyPoints(c, 2))
	}
	for _, name := range names { // after the loop: p.Dec is the table's now
		if f := rows[name]; f != nil {
			minTotals = append(minTotals, f.Minutes.String()+" min")
			costTotals = append(costTotals, f.Cost.Fixed(p.Dec))
		} else {
			minTotals, costTotals = append(minTotals, "—"), append(costTotals, "—")
		}
	}
	p.Minutes = lineChart(days, names, minutes, minutesUnit, minutesPoint, minTotals, minutesSpan)
	p.Cost = lineChart(days, names, cost, u.moneyUnit(2), u.moneyUnit(2), costTotals, moneySpan(2))
	return u.render(w, status, "providers", p)
}

// providerPage is the data of one provider's page and the new form.
type providerPage struct {
	pageBase
	Provider rating.Provider
	Form     providerForm
	Tables   map[string][]string
	Account  accountPart
	CDRs     []rating.CDR
	New      bool
}

func (u *ui) newProviderPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderNewProvider(w, r, http.StatusOK, newProviderForm(rating.Provider{Status: rating.Active}))
}

func (u *ui) renderNewProvider(w http.ResponseWriter, r *http.Request, status int, f providerForm) error {
	tables, err := u.tableChoices()
	if err != nil {
		return err
	}
	p := providerPage{pageBase: u.base(w, r, "New provider", "providers"), Form: f, Tables: tables, New: true}
	return u.render(w, status, "provider", p)
}

func (u *ui) createProvider(w http.ResponseWriter, r *http.Request) error {
	f := readProviderForm(r)
	var p rating.Provider
	f.apply(&p)
	p, err := u.store(r).CreateProvider(p)
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, providerFields...)
		return u.renderNewProvider(w, r, http.StatusBadRequest, f)
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/providers/"+url.PathEscape(p.Name), "ok", "Created provider "+p.Name+".")
}

func (u *ui) providerPage(w http.ResponseWriter, r *http.Request) error {
	p, err := u.Store.Provider(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	return u.renderProvider(w, r, p, http.StatusOK, newProviderForm(p), nil)
}

func (u *ui) renderProvider(w http.ResponseWriter, r *http.Request, pr rating.Provider, status int, f providerForm, cf *creditForm) error {
	tables, err := u.tableChoices()
	if err != nil {
		return err
	}
	p := providerPage{pageBase: u.base(w, r, pr.Name, "providers"), Provider: pr, Form: f, Tables: tables}
	if p.Account, err = u.loadAccount(r, rating.ProviderAccount, pr.Name, u.tableDecimals(pr.OutboundTable), cf); err != nil {
		return err
	}
	if p.CDRs, err = u.recentCDRs(rating.CDRFilter{Provider: pr.Name}); err != nil {
		return err
	}
	return u.render(w, status, "provider", p)
}

func (u *ui) updateProvider(w http.ResponseWriter, r *http.Request) error {
	old, err := u.Store.Provider(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	f := readProviderForm(r)
	p, err := u.store(r).UpdateProvider(old.Name, func(x *rating.Provider) error {
		f.apply(x)
		return nil
	})
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, providerFields...)
		return u.renderProvider(w, r, old, http.StatusBadRequest, f, nil)
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/providers/"+url.PathEscape(p.Name), "ok", "Saved provider "+p.Name+".")
}
