package handlers

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// statements is what the statement endpoint and page ask of the store.
type statements interface {
	Statement(tenant string, m rating.Month) (rating.Statement, error)
}

// statement reads the {name} and {month} of the path.
func (s *server) statement(r *http.Request) (rating.Statement, error) {
	m, err := rating.ParseMonth(mux.Vars(r)["month"])
	if err != nil {
		return rating.Statement{}, err
	}
	return s.Store.Statement(mux.Vars(r)["name"], m)
}

// getStatement answers a month's statement as JSON, or with ?format=csv
// as one CSV table.
func (s *server) getStatement(w http.ResponseWriter, r *http.Request) error {
	st, err := s.statement(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "csv" {
		return reply(w, http.StatusOK, st)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="statement-`+url.PathEscape(st.Tenant)+"-"+st.Month+`.csv"`)
	return writeStatementCSV(w, &st)
}

// writeStatementCSV writes the statement as one table, a line a row: the
// opening balance, each section's entries and total, the calls, the
// closing balance. Text from outside (a note, a destination) is
// neutralised against spreadsheet formulas; money stays a number.
func writeStatementCSV(w http.ResponseWriter, st *rating.Statement) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"line", "section", "time", "kind", "reference", "destination", "count", "billed_minutes", "amount", "balance"})
	_ = cw.Write([]string{"opening", "", st.From.Format(time.RFC3339), "", "", "", "", "", "", st.Opening.String()})
	for _, sec := range st.Sections {
		for _, e := range sec.Entries {
			_ = cw.Write([]string{"entry", sec.Kind, e.Time.Format(time.RFC3339), e.Kind, rating.CSVCell(e.Ref), "", "", "", e.Amount.String(), e.Balance.String()})
		}
		_ = cw.Write([]string{"total", sec.Kind, "", "", "", "", "", "", sec.Total.String(), ""})
	}
	for _, c := range st.Calls {
		_ = cw.Write([]string{"calls", "calls", "", c.Kind, "", rating.CSVCell(c.Destination), strconv.FormatInt(c.Count, 10), c.BilledMinutes.String(), c.Cost.String(), ""})
	}
	_ = cw.Write([]string{"closing", "", st.To.Format(time.RFC3339), "", "", "", "", "", "", st.Closing.String()})
	cw.Flush()
	return cw.Error()
}
