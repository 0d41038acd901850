package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"time"

	"pbxbill/rating"
)

// rowsPerPage is how many rate rows a table page shows at once.
const rowsPerPage = 50

// rowForm is the add/edit row form, as typed. Orig holds the key of the
// row being edited, so that a changed prefix or date replaces it.
type rowForm struct {
	Prefix, Destination, Rate, ConnectFee, InitialIncrement, Increment string
	InitialRate, Grace, MinCost, MaxCost, EffectiveFrom                string
	Days, Hours, Blocked                                               string
	OrigPrefix, OrigEffective, OrigDays, OrigHours                     string
	Errors                                                             formErrors
}

// rowColumns are the CSV columns of a row form, in the order of values.
var rowColumns = []string{"prefix", "destination", "rate", "connect_fee", "initial_increment", "increment",
	"initial_rate", "grace", "min_cost", "max_cost", "effective_from", "days", "hours", "blocked"}

func (f *rowForm) values() []string {
	return []string{f.Prefix, f.Destination, f.Rate, f.ConnectFee, f.InitialIncrement, f.Increment,
		f.InitialRate, f.Grace, f.MinCost, f.MaxCost, f.EffectiveFrom, f.Days, f.Hours, f.Blocked}
}

func readRowForm(r *http.Request) rowForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return rowForm{Prefix: v("prefix"), Destination: v("destination"), Rate: v("rate"), ConnectFee: v("connect_fee"),
		InitialIncrement: v("initial_increment"), Increment: v("increment"), InitialRate: v("initial_rate"),
		Grace: v("grace"), MinCost: v("min_cost"), MaxCost: v("max_cost"), EffectiveFrom: v("effective_from"),
		Days: v("days"), Hours: v("hours"), Blocked: v("blocked"),
		OrigPrefix: v("orig_prefix"), OrigEffective: v("orig_effective"), OrigDays: v("orig_days"), OrigHours: v("orig_hours"),
		Errors: formErrors{}}
}

func newRowForm(row *rating.Row, loc *time.Location) rowForm {
	f := rowForm{Prefix: row.Prefix, Destination: row.Destination, Rate: row.Rate.String(),
		ConnectFee: row.ConnectFee.String(), InitialIncrement: optSeconds(row.InitialIncrement),
		Increment: optSeconds(row.Increment), InitialRate: row.InitialRate.String(), Grace: optSeconds(row.Grace),
		MinCost: row.MinCost.String(), MaxCost: row.MaxCost.String(), OrigPrefix: row.Prefix,
		Days: row.Days.String(), Hours: row.Hours.String(), OrigDays: row.Days.String(), OrigHours: row.Hours.String(),
		Errors: formErrors{}}
	if row.Blocked {
		f.Blocked = "true"
	}
	if !row.EffectiveFrom.IsZero() {
		f.EffectiveFrom = row.EffectiveFrom.In(loc).Format(time.RFC3339)
		f.OrigEffective = row.EffectiveFrom.UTC().Format(time.RFC3339)
	}
	return f
}

// row parses the form as a one-line CSV deck, so a row typed in the form
// follows exactly the rules of an uploaded one, and its error names the
// column, which is the form field. The destination is written as an
// export writes it, so that it is kept as typed, a leading quote included.
func (f *rowForm) row(t rating.Table, loc *time.Location) (rating.Row, bool) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(rowColumns)
	rec := f.values()
	rec[1] = rating.CSVCell(f.Destination)
	_ = cw.Write(rec)
	cw.Flush()
	rows, err := rating.ParseRates(&b, t, loc)
	if err == nil && len(rows) == 0 {
		err = rating.Invalidf("prefix", "prefix: required") // a deck skips a blank line
	}
	if err != nil {
		f.Errors.add(err, rowColumns...)
		return rating.Row{}, false
	}
	return rows[0], true
}

// tableState is what a table page shows besides the table: the forms as
// typed when one was refused, and the results of an upload or a try.
type tableState struct {
	Settings     *tableForm
	Row          *rowForm
	UploadErrors []rating.LineError
	UploadError  string
	Preview      *deckPreview // a deck shown before it replaces the table
}

// tablePage is the data of one rate table's page.
type tablePage struct {
	pageBase
	Kind     rating.Kind
	Table    rating.Table
	Users    []string
	Rows     []rating.Row
	Times    []string // for each row, its times as the table shows them
	Query    string
	Next     string // cursor or page of the next rows; "" on the last page
	Settings tableForm
	Row      rowForm
	Editing  bool
	State    tableState
	Try      *tryResult
}

func (u *ui) tablePage(w http.ResponseWriter, r *http.Request) error {
	k, t, err := u.pageTable(r)
	if err != nil {
		return err
	}
	return u.renderTable(w, r, k, t, http.StatusOK, tableState{})
}

// renderTable draws a table page from the query (search, paging, the
// row being edited, a number to try) and st.
func (u *ui) renderTable(w http.ResponseWriter, r *http.Request, k rating.Kind, t rating.Table, status int, st tableState) error {
	q := r.URL.Query()
	p := tablePage{pageBase: u.base(w, r, t.Name, "rates-"+k.String()), Kind: k, Table: t,
		Query: strings.TrimSpace(q.Get("q")), State: st, Settings: newTableForm(t),
		Row: rowForm{Errors: formErrors{}}}
	var err error
	if p.Users, err = u.Store.TableUsers(t.Name); err != nil {
		return err
	}
	if st.Settings != nil {
		p.Settings = *st.Settings
	}
	if p.Rows, p.Next, err = u.findRows(t.Name, p.Query, q.Get("after")); err != nil {
		return err
	}
	p.Times = rowTimes(p.Rows)
	if st.Row != nil {
		p.Row, p.Editing = *st.Row, st.Row.OrigPrefix != ""
	} else if pre := q.Get("edit"); pre != "" {
		row, err := u.findRow(t.Name, pre, q.Get("eff"), q.Get("days"), q.Get("hours"))
		if err != nil {
			return err
		}
		p.Row, p.Editing = newRowForm(&row, u.loc), true
	}
	if q.Get("try_number") != "" {
		p.Try = u.try(t, q.Get("try_number"), q.Get("try_duration"), q.Get("try_date"), q.Get("try_time"))
	}
	return u.render(w, status, "ratetable", p)
}

// findRows returns a page of rows: by prefix through the store's own
// paging when q is digits, by destination text otherwise, scanning the
// table and skipping the pages already shown.
func (u *ui) findRows(table, q, after string) ([]rating.Row, string, error) {
	if q == "" || rating.ValidatePrefix(q) == nil {
		return u.Store.Rates(table, strings.TrimSuffix(q, "*"), after, rowsPerPage)
	}
	skip := 0
	if after != "" {
		if n, err := parseInt("after", after); err == nil && n > 0 {
			skip = n
		}
	}
	needle := strings.ToLower(q)
	var rows []rating.Row
	seen, more := 0, false
	stop := errors.New("page full")
	err := u.Store.EachRate(table, func(row *rating.Row) error {
		if !strings.Contains(strings.ToLower(row.Destination), needle) {
			return nil
		}
		seen++
		if seen <= skip {
			return nil
		}
		if len(rows) == rowsPerPage {
			more = true
			return stop
		}
		rows = append(rows, *row)
		return nil
	})
	if err != nil && err != stop {
		return nil, "", err
	}
	next := ""
	if more {
		next = itoa(skip + rowsPerPage)
	}
	return rows, next, nil
}

// rowTimes says when each row applies, for the table: its days and hours,
// "other times" for the default of a week that has timed rows (among the
// rows shown), "" for a row without times of the week.
func rowTimes(rows []rating.Row) []string {
	out := make([]string, len(rows))
	timed := map[rating.RateKey]bool{} // versions with times, by prefix and effective_from
	for i := range rows {
		if w := rows[i].Week(); w.Timed() {
			out[i] = w.String()
			timed[rating.RateKey{Prefix: rows[i].Prefix, EffectiveFrom: rows[i].EffectiveFrom}] = true
		}
	}
	for i := range rows {
		if out[i] == "" && timed[rating.RateKey{Prefix: rows[i].Prefix, EffectiveFrom: rows[i].EffectiveFrom}] {
			out[i] = "other times"
		}
	}
	return out
}

// findRow returns the row of prefix with the given effective_from
// (RFC 3339, "" for always), days and hours (as a deck writes them, ""
// for none).
func (u *ui) findRow(table, prefix, eff, days, hours string) (rating.Row, error) {
	rows, _, err := u.Store.Rates(table, prefix, "", maxLimit)
	if err != nil {
		return rating.Row{}, err
	}
	for _, row := range rows {
		if row.Prefix == prefix && effString(row.EffectiveFrom) == eff && row.Days.String() == days && row.Hours.String() == hours {
			return row, nil
		}
	}
	return rating.Row{}, rating.Errorf(rating.ENotFound, "table %s has no row %s effective %s with times %s", table,
		rating.Excerpt(prefix), rating.Excerpt(eff), rating.Excerpt(strings.TrimSpace(days+" "+hours)))
}

func effString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func parseInt(field, v string) (int, error) {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 1e8 {
			return 0, rating.Invalidf(field, "%s %s: want a whole number", field, rating.Excerpt(v))
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
