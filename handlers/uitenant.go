package handlers

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// tenantForm is the tenant edit and new-tenant form, as typed.
type tenantForm struct {
	Name, AccountCode, BillingMode, CreditLimit, LowBalanceThreshold, Status string
	OutboundTable, InboundTable, ConferenceTable                             string
	// The limits; empty is none (the installation's for MaxCallDuration).
	MaxCalls, DailySpendLimit, MaxCallDuration, Email string
	Errors                                            formErrors
}

var tenantFields = []string{"name", "accountcode", "billing_mode", "credit_limit", "low_balance_threshold",
	"status", "outbound_rate_table", "inbound_rate_table", "conference_rate_table",
	"max_calls", "daily_spend_limit", "max_call_duration", "email"}

func newTenantForm(t rating.Tenant) tenantForm {
	f := tenantForm{Name: t.Name, AccountCode: t.AccountCode, BillingMode: t.BillingMode,
		CreditLimit: t.CreditLimit.String(), LowBalanceThreshold: t.LowBalanceThreshold.String(), Status: t.Status,
		OutboundTable: t.OutboundTable, InboundTable: t.InboundTable, ConferenceTable: t.ConferenceTable,
		Email: t.Email, Errors: formErrors{}}
	if t.MaxCalls > 0 {
		f.MaxCalls = strconv.Itoa(t.MaxCalls)
	}
	if l, ok := t.SpendLimit(); ok {
		f.DailySpendLimit = l.String()
	}
	if t.MaxCallDuration > 0 {
		f.MaxCallDuration = strconv.Itoa(t.MaxCallDuration)
	}
	return f
}

func readTenantForm(r *http.Request) tenantForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return tenantForm{Name: v("name"), AccountCode: v("accountcode"), BillingMode: v("billing_mode"),
		CreditLimit: v("credit_limit"), LowBalanceThreshold: v("low_balance_threshold"), Status: v("status"),
		OutboundTable: v("outbound_rate_table"), InboundTable: v("inbound_rate_table"),
		ConferenceTable: v("conference_rate_table"), MaxCalls: v("max_calls"), DailySpendLimit: v("daily_spend_limit"),
		MaxCallDuration: v("max_call_duration"), Email: v("email"), Errors: formErrors{}}
}

// apply sets t from the form; the store checks the rest. Empty money is 0,
// an empty limit none.
func (f *tenantForm) apply(t *rating.Tenant) bool {
	t.Name, t.AccountCode, t.BillingMode, t.Status = f.Name, f.AccountCode, f.BillingMode, f.Status
	t.OutboundTable, t.InboundTable, t.ConferenceTable = f.OutboundTable, f.InboundTable, f.ConferenceTable
	t.Email = f.Email
	for _, m := range []struct {
		field, v string
		dst      *rating.Money
	}{{"credit_limit", f.CreditLimit, &t.CreditLimit}, {"low_balance_threshold", f.LowBalanceThreshold, &t.LowBalanceThreshold},
		{"daily_spend_limit", f.DailySpendLimit, &t.DailySpendLimit}} {
		if m.v == "" {
			*m.dst = rating.Money{}
			continue
		}
		a, err := rating.ParseMoney(m.v)
		if err != nil {
			f.Errors[m.field] = m.field + ": " + rating.ErrorMessage(err)
			continue
		}
		*m.dst = a
	}
	for _, n := range []struct {
		field, v string
		dst      *int
	}{{"max_calls", f.MaxCalls, &t.MaxCalls}, {"max_call_duration", f.MaxCallDuration, &t.MaxCallDuration}} {
		*n.dst = 0
		if n.v == "" {
			continue
		}
		i, err := strconv.Atoi(n.v)
		if err != nil {
			f.Errors[n.field] = n.field + ": want a whole number, or empty for none"
			continue
		}
		*n.dst = i
	}
	return len(f.Errors) == 0
}

// tenantRow writes the cells of one row of the Tenants Dashboard. A page
// of a thousand tenants is mostly these rows, and in html/template every
// action of a row costs a call through reflection, and another for its
// escaper: with rows of template actions the page took 2–2.5 times as long
// as the JSON dashboard (5 times with the cells formatted by template
// functions), with rows written here about 1.3 times.
func (u *ui) tenantRow(f *rating.TenantFigures, decimals int, spend []int64, scale int64) template.HTML {
	b := make([]byte, 0, 1024)
	b = append(b, `<td><a href="/tenants/`...)
	b = append(b, html.EscapeString(url.PathEscape(f.Name))...)
	b = append(b, `">`...)
	b = append(b, html.EscapeString(f.Name)...)
	b = append(b, `</a><br><small class="muted">`...)
	b = append(b, html.EscapeString(f.BillingMode)...)
	b = append(b, `</small></td><td data-sort="`...)
	b = append(b, f.State...) // a State is one lower-case word
	b = append(b, `"><span class="badge badge-`...)
	b = append(append(append(b, f.State...), `">`...), f.State...)
	b = append(b, `</span></td>`...)
	// The figures are numbers, and the currency code three capital
	// letters: there is nothing to escape.
	// opt marks a column that a phone's screen leaves out (style.css).
	opt := false
	cell := func(text, sort string) {
		if opt {
			b = append(b, `<td class="num opt"`...)
		} else {
			b = append(b, `<td class="num"`...)
		}
		if sort != "" {
			b = append(append(append(b, ` data-sort="`...), sort...), '"')
		}
		b = append(append(append(b, '>'), text...), "</td>"...)
	}
	money := func(a rating.Money) { cell(a.Fixed(decimals), a.String()) } // the header names the currency
	money(f.Balance)
	opt = true
	money(f.CreditLimit)
	opt = false
	money(f.Available)
	opt = true
	money(f.Exposure)
	util := showRatio(f.Utilisation)
	if f.Exposure.Sign() > 0 && f.Utilisation != nil && util == "0.0%" {
		util = "< 0.1%" // owing something is never 0 %
	}
	cell(html.EscapeString(util), "")
	opt = false
	money(f.SpendToday)
	opt = true
	money(f.SpendMonth)
	money(f.AvgDailySpend)
	cell(html.EscapeString(showRunway(f.RunwayDays)), "")
	cell(strconv.FormatInt(f.CallsToday, 10), "")
	opt = false
	cell(strconv.Itoa(f.CallsInProgress), "")
	c := sparkline(spend, scale)
	b = fmt.Appendf(b, `<td class="opt"><svg class="spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img"><title>`, c.W, c.H, c.W, c.H)
	b = append(b, "Spend a day over 30 days, up to "...)
	b = append(b, rating.MoneyOf(maxOf(spend)*1_000_000).Fixed(2)...)
	b = append(append(b, ' '), u.currency...)
	b = append(b, "; every row's line is drawn to the same scale</title>"...)
	b = append(append(append(b, `<polyline class="line s0" points="`...), c.Series[0].Points...), `"/></svg></td>`...)
	return template.HTML(b)
}

// tenantsPage is the data of the Tenants Dashboard.
type tenantsPage struct {
	pageBase
	Rows   []template.HTML // the cells of each row
	Totals rating.TenantFigures
	Dec    int
	State  string
	Search string
	States []rating.State
}

// tenantsPage draws the figures of GET /api/v1/dashboard/tenants, read by
// the same one store call.
func (u *ui) tenantsPage(w http.ResponseWriter, r *http.Request) error {
	figs, err := u.Store.TenantDashboard()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := tenantsPage{pageBase: u.base(w, r, "Tenants Dashboard", "tenants"), State: q.Get("state"),
		Search: strings.TrimSpace(q.Get("q")), States: []rating.State{rating.StateOK, rating.StateLow, rating.StateBlocked, rating.StateSuspended}}
	sort.SliceStable(figs, func(i, j int) bool { return figs[i].Name < figs[j].Name })
	var shown []rating.TenantFigures
	for _, f := range figs {
		if p.State != "" && string(f.State) != p.State {
			continue
		}
		if p.Search != "" && !strings.Contains(strings.ToLower(f.Name), strings.ToLower(p.Search)) {
			continue
		}
		shown = append(shown, f)
	}
	// One scale for every sparkline: the largest day of any tenant shown.
	spend := make([][]int64, len(shown))
	var scale int64
	for i := range shown {
		spend[i] = moneyPoints(shown[i].Spend, 2)
		scale = max(scale, maxOf(spend[i]))
	}
	// Totals add only what adds up across prepaid and postpaid tenants:
	// what they owe, spend and calls. A sum of prepaid credit and postpaid
	// debt, or of credit limits as if they were money, means nothing.
	for i := range shown {
		f := &shown[i]
		dec := u.tableDecimals(f.OutboundTable)
		p.Dec = max(p.Dec, dec)
		p.Rows = append(p.Rows, u.tenantRow(f, dec, spend[i], scale))
		t := &p.Totals
		t.Exposure = t.Exposure.Add(f.Exposure)
		t.SpendToday = t.SpendToday.Add(f.SpendToday)
		t.SpendMonth = t.SpendMonth.Add(f.SpendMonth)
		t.AvgDailySpend = t.AvgDailySpend.Add(f.AvgDailySpend)
		t.CallsToday += f.CallsToday
		t.CallsInProgress += f.CallsInProgress
	}
	if p.Dec == 0 {
		p.Dec = defaultDecimals
	}
	return u.render(w, http.StatusOK, "tenants", p)
}

// tenantPage is the data of one tenant's page and of the new-tenant form.
type tenantPage struct {
	pageBase
	Tenant  tenantOut
	Form    tenantForm
	Tables  map[string][]string
	Account accountPart
	CDRs    []rating.CDR
	New     bool
	// Holds are its calls in progress; Expired the last holds that
	// expired without a CDR, each a PBX that did not send one.
	Holds, Expired []rating.Hold
	// Recurring is the schedules section (uischedule.go).
	Recurring recurringPart
}

func (u *ui) newTenantPage(w http.ResponseWriter, r *http.Request) error {
	f := newTenantForm(rating.Tenant{BillingMode: rating.Prepaid, Status: rating.Active})
	return u.renderNewTenant(w, r, http.StatusOK, f)
}

func (u *ui) renderNewTenant(w http.ResponseWriter, r *http.Request, status int, f tenantForm) error {
	tables, err := u.tableChoices()
	if err != nil {
		return err
	}
	p := tenantPage{pageBase: u.base(w, r, "New tenant", "tenants"), Form: f, Tables: tables, New: true}
	return u.render(w, status, "tenant", p)
}

func (u *ui) createTenant(w http.ResponseWriter, r *http.Request) error {
	f := readTenantForm(r)
	var t rating.Tenant
	if !f.apply(&t) {
		return u.renderNewTenant(w, r, http.StatusBadRequest, f)
	}
	t, err := u.store(r).CreateTenant(t)
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, tenantFields...)
		return u.renderNewTenant(w, r, http.StatusBadRequest, f)
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/tenants/"+url.PathEscape(t.Name), "ok", "Created tenant "+t.Name+". Top it up below before it calls.")
}

func (u *ui) tenantPage(w http.ResponseWriter, r *http.Request) error {
	t, err := u.Store.Tenant(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	return u.renderTenant(w, r, t, http.StatusOK, newTenantForm(t), nil)
}

func (u *ui) renderTenant(w http.ResponseWriter, r *http.Request, t rating.Tenant, status int, f tenantForm, cf *creditForm) error {
	tables, err := u.tableChoices()
	if err != nil {
		return err
	}
	p := tenantPage{pageBase: u.base(w, r, t.Name, "tenants"), Form: f, Tables: tables}
	if p.Tenant, err = u.tenantOut(t); err != nil {
		return err
	}
	if p.Holds, err = u.Store.Holds(t.Name); err != nil {
		return err
	}
	if p.Expired, err = u.Store.ExpiredHolds(t.Name, 10); err != nil {
		return err
	}
	if p.Account, err = u.loadAccount(r, rating.TenantAccount, t.Name, u.tableDecimals(t.OutboundTable), cf); err != nil {
		return err
	}
	if p.CDRs, err = u.recentCDRs(rating.CDRFilter{Tenant: t.Name}); err != nil {
		return err
	}
	if p.Recurring, err = u.recurring(t.Name); err != nil {
		return err
	}
	return u.render(w, status, "tenant", p)
}

func (u *ui) updateTenant(w http.ResponseWriter, r *http.Request) error {
	old, err := u.Store.Tenant(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	f := readTenantForm(r)
	nt := old
	if !f.apply(&nt) {
		return u.renderTenant(w, r, old, http.StatusBadRequest, f, nil)
	}
	t, err := u.store(r).UpdateTenant(old.Name, func(x *rating.Tenant) error {
		balance, created := x.Balance, x.Created
		*x = nt
		x.Balance, x.Created = balance, created
		return nil
	})
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, tenantFields...)
		return u.renderTenant(w, r, old, http.StatusBadRequest, f, nil)
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/tenants/"+url.PathEscape(t.Name), "ok", "Saved tenant "+t.Name+".")
}
