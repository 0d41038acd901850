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

// The three rate pages (Outbound Call Rates, Inbound Call Rates,
// Conference Rooms Rates) are one implementation filtered by the kind in
// the path.

// tableForm is the new-table and table-settings form, as typed.
type tableForm struct {
	Name, Decimals, Rounding, InitialIncrement, Increment string
	Errors                                                formErrors
}

func newTableForm(t rating.Table) tableForm {
	return tableForm{Name: t.Name, Decimals: strconv.Itoa(t.Decimals), Rounding: t.Rounding.String(),
		InitialIncrement: strconv.Itoa(t.InitialIncrement), Increment: strconv.Itoa(t.Increment), Errors: formErrors{}}
}

func readTableForm(r *http.Request) tableForm {
	return tableForm{Name: strings.TrimSpace(r.PostFormValue("name")), Decimals: r.PostFormValue("decimals"),
		Rounding: r.PostFormValue("rounding"), InitialIncrement: r.PostFormValue("initial_increment"),
		Increment: r.PostFormValue("increment"), Errors: formErrors{}}
}

// apply sets t's settings from the form, or files the errors.
func (f *tableForm) apply(t *rating.Table) bool {
	t.Name = f.Name
	ints := []struct {
		field, v string
		dst      *int
	}{{"decimals", f.Decimals, &t.Decimals}, {"initial_increment", f.InitialIncrement, &t.InitialIncrement},
		{"increment", f.Increment, &t.Increment}}
	for _, x := range ints {
		n, err := strconv.Atoi(strings.TrimSpace(x.v))
		if err != nil {
			f.Errors[x.field] = x.field + " " + rating.Excerpt(x.v) + ": want a whole number"
			continue
		}
		*x.dst = n
	}
	rd, err := rating.ParseRounding(f.Rounding)
	if err != nil {
		f.Errors["rounding"] = rating.ErrorMessage(err)
	}
	t.Rounding = rd
	if len(f.Errors) == 0 {
		if err := t.Validate(); err != nil {
			f.Errors.add(err, "name", "decimals", "rounding", "initial_increment", "increment")
		}
	}
	return len(f.Errors) == 0
}

// tableItem is one row of a rate page's list of tables.
type tableItem struct {
	rating.Table
	Users []string
	// Shown are the first users, More how many the list leaves out: a
	// table that many tenants use must not widen the page.
	Shown []string
	More  int
}

// tablesPage is the data of a rate page.
type tablesPage struct {
	pageBase
	Kind   rating.Kind
	Tables []tableItem
	Form   tableForm
}

// pageKind reads the kind of a rate page from its path.
func pageKind(r *http.Request) (rating.Kind, error) {
	k, err := rating.ParseKind(mux.Vars(r)["kind"])
	if err != nil || mux.Vars(r)["kind"] != k.String() {
		return 0, rating.Errorf(rating.ENotFound, "no rate page %s: want outbound, inbound or conference", rating.Excerpt(mux.Vars(r)["kind"]))
	}
	return k, nil
}

func (u *ui) tablesPage(w http.ResponseWriter, r *http.Request) error {
	k, err := pageKind(r)
	if err != nil {
		return err
	}
	t := rating.NewTable("", k, u.currency)
	return u.renderTables(w, r, k, http.StatusOK, newTableForm(t))
}

func (u *ui) renderTables(w http.ResponseWriter, r *http.Request, k rating.Kind, status int, f tableForm) error {
	ts, err := u.Store.RateTables(k)
	if err != nil {
		return err
	}
	p := tablesPage{pageBase: u.base(w, r, kindTitle(k), "rates-"+k.String()), Kind: k, Form: f}
	for _, t := range ts {
		users, err := u.Store.TableUsers(t.Name)
		if err != nil {
			return err
		}
		it := tableItem{Table: t, Users: users, Shown: users}
		if len(users) > shownUsers {
			it.Shown, it.More = users[:shownUsers], len(users)-shownUsers
		}
		p.Tables = append(p.Tables, it)
	}
	return u.render(w, status, "ratetables", p)
}

func (u *ui) createTable(w http.ResponseWriter, r *http.Request) error {
	k, err := pageKind(r)
	if err != nil {
		return err
	}
	f := readTableForm(r)
	t := rating.NewTable("", k, u.currency)
	if !f.apply(&t) {
		return u.renderTables(w, r, k, http.StatusBadRequest, f)
	}
	if _, err := u.store(r).CreateRateTable(t); err != nil {
		if code := rating.ErrorCode(err); code != rating.EInvalid && code != rating.EConflict {
			return err
		}
		f.Errors.add(err, "name", "decimals", "rounding", "initial_increment", "increment")
		if rating.ErrorCode(err) == rating.EConflict {
			f.Errors["name"] = rating.ErrorMessage(err)
			delete(f.Errors, "")
		}
		return u.renderTables(w, r, k, http.StatusBadRequest, f)
	}
	return u.redirect(w, r, tableURL(k, t.Name), "ok", "Created rate table "+t.Name+". Add rows below or upload a CSV deck.")
}

func tableURL(k rating.Kind, name string) string {
	return "/rates/" + k.String() + "/" + url.PathEscape(name)
}

// pageTable reads the kind and the table of a table page, and checks that
// the table is of that kind.
func (u *ui) pageTable(r *http.Request) (rating.Kind, rating.Table, error) {
	k, err := pageKind(r)
	if err != nil {
		return 0, rating.Table{}, err
	}
	t, err := u.Store.RateTable(mux.Vars(r)["table"])
	if err != nil {
		return 0, t, err
	}
	if t.Kind != k {
		return 0, t, rating.Errorf(rating.ENotFound, "rate table %q is %s, not %s", t.Name, t.Kind, k)
	}
	return k, t, nil
}

func (u *ui) updateTable(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	f := readTableForm(r)
	nt := t
	if !f.apply(&nt) {
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{Settings: &f})
	}
	updated, err := u.store(r).UpdateRateTable(t.Name, func(x *rating.Table) error {
		x.Name, x.Decimals, x.Rounding, x.InitialIncrement, x.Increment = nt.Name, nt.Decimals, nt.Rounding, nt.InitialIncrement, nt.Increment
		return nil
	})
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		f.Errors.add(err, "name", "decimals", "rounding", "initial_increment", "increment")
		return u.renderTable(w, r, k, t, http.StatusBadRequest, tableState{Settings: &f})
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, tableURL(k, updated.Name), "ok", "Saved the settings of "+updated.Name+".")
}

// shownUsers is how many users of a table its row of the list names.
const shownUsers = 3

// deleteTable refuses a table in use, naming its users: the manual's
// "check what depends on a record before deleting it".
func (u *ui) deleteTable(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	users, err := u.Store.TableUsers(t.Name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return u.redirect(w, r, tableURL(k, t.Name), "error",
			"Cannot delete "+t.Name+": it is used by "+strings.Join(users, ", ")+". Assign those another table first.")
	}
	if err := u.store(r).DeleteRateTable(t.Name); err != nil {
		if rating.ErrorCode(err) == rating.EConflict {
			return u.redirect(w, r, tableURL(k, t.Name), "error", rating.ErrorMessage(err))
		}
		return err
	}
	return u.redirect(w, r, "/rates/"+k.String(), "ok", "Deleted rate table "+t.Name+".")
}

// tryResult is the "Try a number" answer, with its arithmetic spelled out.
type tryResult struct {
	Number, Normalised, Duration, At string
	Time                             string // HH:MM as typed
	When                             string // the instant tried, on the installation's clock
	Week                             string // which row of the week applied, and why
	Error                            string
	Rate                             *rating.Rate
	Billed                           int
	Cost                             rating.Money
	Steps                            []string
}

// parseTryAt reads the instant to try: a date and a time of day in the
// installation's zone; a date alone is its midday, clear of any change at
// midnight; a time alone is today's; neither is now.
func parseTryAt(v, clock string, loc *time.Location, now func() time.Time) (time.Time, error) {
	if clock != "" {
		if v == "" {
			v = now().In(loc).Format(time.DateOnly)
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", v+" "+clock, loc)
		if err != nil {
			return t, rating.Errorf(rating.EInvalid, "date and time %s %s: want YYYY-MM-DD and HH:MM", rating.Excerpt(v), rating.Excerpt(clock))
		}
		return t, nil
	}
	if v == "" {
		return now(), nil
	}
	if t, err := rating.ParseDate(v, loc); err == nil {
		return t.Add(12 * time.Hour), nil // midday: clear of any change at midnight
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, rating.Errorf(rating.EInvalid, "date %s: want YYYY-MM-DD", rating.Excerpt(v))
	}
	return t, nil
}
