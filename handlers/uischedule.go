package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// moneyRoutes registers the admin's pages of schedules, alerts and
// statements.
func (u *ui) moneyRoutes(r *mux.Router) {
	get, post := http.MethodGet, http.MethodPost
	r.Handle("/tenants/{name}/schedules", u.auth(u.form(formLimit, u.saveSchedule))).Methods(post)
	r.Handle("/tenants/{name}/schedules/{id}", u.auth(u.schedulePage)).Methods(get)
	r.Handle("/tenants/{name}/schedules/{id}", u.auth(u.form(formLimit, u.saveSchedule))).Methods(post)
	r.Handle("/tenants/{name}/schedules/{id}/delete", u.auth(u.form(formLimit, u.deleteSchedule))).Methods(post)
	r.Handle("/tenants/{name}/statements/{month}", u.auth(u.statementPage)).Methods(get)
	r.Handle("/events", u.auth(u.eventsPage)).Methods(get)
	r.Handle("/events/test", u.auth(u.form(formLimit, u.sendTestEvent))).Methods(post)
}

// scheduleForm is the admin's schedule form, as typed. The amount is typed
// without a sign; the kind says which way it goes: a fee takes it off, a
// refill adds it, a top-up adds what brings the balance to it.
type scheduleForm struct {
	ID                             uint64
	Name, Kind, Amount, Day, Start string
	End                            string
	// Token is a new schedule's one-time token: a form sent twice must
	// not add the fee twice.
	Token  string
	Errors formErrors
}

// The kinds of the form's select.
const (
	formFee     = "fee"
	formRefill  = "refill"
	formTopUpTo = "top_up_to"
)

var scheduleFields = []string{"name", "amount", "top_up_to", "day", "start", "end"}

func newScheduleForm(s rating.Schedule) scheduleForm {
	f := scheduleForm{ID: s.ID, Name: s.Name, Kind: formFee, Day: strconv.Itoa(s.Day), Start: s.Start, End: s.End, Errors: formErrors{}}
	switch {
	case s.TopUpTo.Set():
		f.Kind, f.Amount = formTopUpTo, s.TopUpTo.String()
	case s.Amount.Set() && s.Amount.Sign() > 0:
		f.Kind, f.Amount = formRefill, s.Amount.String()
	case s.Amount.Set():
		f.Amount = s.Amount.Neg().String()
	}
	if s.Day == 0 {
		f.Day = ""
	}
	return f
}

func readScheduleForm(r *http.Request) scheduleForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return scheduleForm{Name: v("name"), Kind: v("kind"), Amount: v("amount"), Day: v("day"), Start: v("start"),
		End: v("end"), Token: r.PostFormValue("token"), Errors: formErrors{}}
}

// apply sets s from the form; the store validates the rest. The form's
// amount must be above 0: its kind gives the sign.
func (f *scheduleForm) apply(s *rating.Schedule) bool {
	s.Name, s.Start, s.End = f.Name, f.Start, f.End
	day, err := strconv.Atoi(f.Day)
	if err != nil {
		f.Errors["day"] = "day " + rating.Excerpt(f.Day) + ": want a day of the month, 1 to 31"
	}
	s.Day = day
	a, err := rating.ParseMoney(f.Amount)
	switch {
	case f.Amount == "":
		f.Errors["amount"] = "amount: required"
	case err != nil:
		f.Errors["amount"] = "amount: " + rating.ErrorMessage(err)
	case a.Sign() <= 0:
		f.Errors["amount"] = "amount " + a.String() + ": want an amount above 0; the kind says whether it is taken or added"
	}
	s.Amount, s.TopUpTo = a, rating.NoMoney
	switch f.Kind {
	case formFee:
		s.Amount = a.Neg()
	case formRefill:
	case formTopUpTo:
		s.Amount, s.TopUpTo = rating.NoMoney, a
	default:
		f.Errors["kind"] = "kind " + rating.Excerpt(f.Kind) + ": want fee, refill or top_up_to"
	}
	return len(f.Errors) == 0
}

// recurringPart is the tenant page's Recurring section: the schedules with
// their next due dates, the form to add one, and the recent statements.
type recurringPart struct {
	Tenant    string
	Schedules []rating.Schedule
	Form      scheduleForm
	Months    []string // statements to link, this month first
}

func (u *ui) recurring(tenant string) (recurringPart, error) {
	ss, err := u.Store.Schedules(tenant)
	if err != nil {
		return recurringPart{}, err
	}
	now := u.Now().In(u.loc)
	f := newScheduleForm(rating.Schedule{Amount: rating.NoMoney, TopUpTo: rating.NoMoney, Start: now.Format(time.DateOnly), Day: 1})
	f.Token = newFormToken()
	p := recurringPart{Tenant: tenant, Schedules: ss, Form: f}
	m := rating.MonthOf(now, u.loc)
	for range 3 {
		p.Months = append(p.Months, m.String())
		m = rating.MonthOf(m.Start(u.loc).Add(-time.Hour), u.loc)
	}
	return p, nil
}

// schedulePage is the data of the page that edits one schedule, and that
// shows a form that failed with what was typed.
type schedulePage struct {
	pageBase
	Tenant string
	Form   scheduleForm
	New    bool
}

func (u *ui) renderSchedule(w http.ResponseWriter, r *http.Request, tenant string, status int, f scheduleForm) error {
	title := "New schedule"
	if f.ID != 0 {
		title = "Schedule " + f.Name
	}
	return u.render(w, status, "schedule", schedulePage{pageBase: u.base(w, r, title, "tenants"), Tenant: tenant, Form: f, New: f.ID == 0})
}

func (u *ui) schedulePage(w http.ResponseWriter, r *http.Request) error {
	tenant := mux.Vars(r)["name"]
	id, err := scheduleID(r)
	if err != nil {
		return err
	}
	ss, err := u.Store.Schedules(tenant)
	if err != nil {
		return err
	}
	for _, s := range ss {
		if s.ID == id {
			return u.renderSchedule(w, r, tenant, http.StatusOK, newScheduleForm(s))
		}
	}
	return rating.Errorf(rating.ENotFound, "tenant %q has no schedule %d", tenant, id)
}

// saveSchedule creates a schedule, or with an {id} in the path updates it.
func (u *ui) saveSchedule(w http.ResponseWriter, r *http.Request) error {
	tenant := mux.Vars(r)["name"]
	f := readScheduleForm(r)
	var id uint64
	if mux.Vars(r)["id"] != "" {
		var err error
		if id, err = scheduleID(r); err != nil {
			return err
		}
	}
	f.ID = id
	var s rating.Schedule
	if !f.apply(&s) {
		return u.renderSchedule(w, r, tenant, http.StatusBadRequest, f)
	}
	var err error
	if id == 0 {
		s, err = u.store(r).CreateScheduleOnce(f.Token, tenant, s)
	} else {
		s, err = u.store(r).UpdateSchedule(tenant, id, func(x *rating.Schedule) error { *x = s; return nil })
	}
	back := "/tenants/" + url.PathEscape(tenant) + "#recurring"
	if code := rating.ErrorCode(err); code == rating.EConflict && f.Token != "" {
		return u.redirect(w, r, back, "ok", "This form had been sent already and the schedule added then; the second sending added nothing.")
	} else if code == rating.EInvalid {
		f.Errors.add(err, scheduleFields...)
		if msg, ok := f.Errors["top_up_to"]; ok {
			f.Errors["amount"] = msg
		}
		return u.renderSchedule(w, r, tenant, http.StatusBadRequest, f)
	} else if err != nil {
		return err
	}
	next := "no occurrence left"
	if s.NextDue != nil {
		next = "next due " + *s.NextDue
	}
	return u.redirect(w, r, back, "ok", "Saved schedule "+s.Name+": "+next+".")
}

func (u *ui) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	tenant := mux.Vars(r)["name"]
	id, err := scheduleID(r)
	if err != nil {
		return err
	}
	if err := u.store(r).DeleteSchedule(tenant, id); err != nil {
		return err
	}
	return u.redirect(w, r, "/tenants/"+url.PathEscape(tenant)+"#recurring", "ok", "Deleted the schedule; the entries it posted stay.")
}
