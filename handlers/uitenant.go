package handlers

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// tenantForm is the tenant edit and new-tenant form, as typed.
type tenantForm struct {
	Name, AccountCode, BillingMode, CreditLimit, LowBalanceThreshold, Status string
	OutboundTable, InboundTable, ConferenceTable                             string
	Errors                                                                   formErrors
}

var tenantFields = []string{"name", "accountcode", "billing_mode", "credit_limit", "low_balance_threshold",
	"status", "outbound_rate_table", "inbound_rate_table", "conference_rate_table"}

func newTenantForm(t rating.Tenant) tenantForm {
	return tenantForm{Name: t.Name, AccountCode: t.AccountCode, BillingMode: t.BillingMode,
		CreditLimit: t.CreditLimit.String(), LowBalanceThreshold: t.LowBalanceThreshold.String(), Status: t.Status,
		OutboundTable: t.OutboundTable, InboundTable: t.InboundTable, ConferenceTable: t.ConferenceTable, Errors: formErrors{}}
}

func readTenantForm(r *http.Request) tenantForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return tenantForm{Name: v("name"), AccountCode: v("accountcode"), BillingMode: v("billing_mode"),
		CreditLimit: v("credit_limit"), LowBalanceThreshold: v("low_balance_threshold"), Status: v("status"),
		OutboundTable: v("outbound_rate_table"), InboundTable: v("inbound_rate_table"),
		ConferenceTable: v("conference_rate_table"), Errors: formErrors{}}
}

// apply sets t from the form; the store checks the rest. Empty money is 0.
func (f *tenantForm) apply(t *rating.Tenant) bool {
	t.Name, t.AccountCode, t.BillingMode, t.Status = f.Name, f.AccountCode, f.BillingMode, f.Status
	t.OutboundTable, t.InboundTable, t.ConferenceTable = f.OutboundTable, f.InboundTable, f.ConferenceTable
	for _, m := range []struct {
		field, v string
		dst      *rating.Amount
	}{{"credit_limit", f.CreditLimit, &t.CreditLimit}, {"low_balance_threshold", f.LowBalanceThreshold, &t.LowBalanceThreshold}} {
		if m.v == "" {
			*m.dst = 0
			continue
		}
		a, err := rating.ParseAmount(m.v)
		if err != nil {
			f.Errors[m.field] = m.field + ": " + rating.ErrorMessage(err)
			continue
		}
		*m.dst = a
	}
	return len(f.Errors) == 0
}

// tenantRow is one row of the Tenants Dashboard.
type tenantRow struct {
	rating.TenantFigures
	Decimals int
	Spark    chart
}

// tenantsPage is the data of the Tenants Dashboard.
type tenantsPage struct {
	pageBase
	Rows   []tenantRow
	Totals rating.TenantFigures
	Dec    int
	State  string
	Search string
	States []rating.State
}

func (u *ui) tenantsPage(w http.ResponseWriter, r *http.Request) error {
	figs, err := u.Store.TenantDashboard()
	if err != nil {
		return err
	}
	ts, err := u.Store.Tenants()
	if err != nil {
		return err
	}
	out := map[string]string{}
	for _, t := range ts {
		out[t.Name] = t.OutboundTable
	}
	q := r.URL.Query()
	p := tenantsPage{pageBase: u.base(w, r, "Tenants Dashboard", "tenants"), State: q.Get("state"),
		Search: strings.TrimSpace(q.Get("q")), States: []rating.State{rating.StateOK, rating.StateLow, rating.StateBlocked, rating.StateSuspended}}
	to := u.today()
	for _, f := range figs {
		if p.State != "" && string(f.State) != p.State {
			continue
		}
		if p.Search != "" && !strings.Contains(strings.ToLower(f.Name), strings.ToLower(p.Search)) {
			continue
		}
		days, err := u.Store.DailyUsage(rating.TenantAccount, f.Name, to.AddDate(0, 0, -29), to)
		if err != nil {
			return err
		}
		spend := make([]int64, len(days))
		for i, d := range days {
			spend[i] = int64(d.Usage.Sell)
		}
		dec := u.tableDecimals(out[f.Name])
		p.Dec = max(p.Dec, dec)
		p.Rows = append(p.Rows, tenantRow{TenantFigures: f, Decimals: dec, Spark: sparkline(spend)})
		t := &p.Totals
		t.Balance += f.Balance
		t.CreditLimit += f.CreditLimit
		t.Available += f.Available
		t.Exposure += f.Exposure
		t.SpendToday += f.SpendToday
		t.SpendMonth += f.SpendMonth
		t.AvgDailySpend += f.AvgDailySpend
		t.CallsToday += f.CallsToday
	}
	if p.Dec == 0 {
		p.Dec = defaultDecimals
	}
	sort.SliceStable(p.Rows, func(i, j int) bool { return p.Rows[i].Name < p.Rows[j].Name })
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
	t, err := u.Store.CreateTenant(t)
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
	p := tenantPage{pageBase: u.base(w, r, t.Name, "tenants"), Tenant: newTenantOut(t), Form: f, Tables: tables}
	if p.Account, err = u.loadAccount(r, rating.TenantAccount, t.Name, u.tableDecimals(t.OutboundTable), cf); err != nil {
		return err
	}
	if p.CDRs, err = u.recentCDRs(rating.CDRFilter{Tenant: t.Name}); err != nil {
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
	t, err := u.Store.UpdateTenant(old.Name, func(x *rating.Tenant) error {
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
