package handlers

import (
	"net/http"

	"pbxbill/rating"
)

// statementPage is the data of the printable statement.
type statementPage struct {
	pageBase
	Installation string
	Statement    statementView
	Dec          int
}

// statementView is a statement with the sections that have entries.
type statementView struct {
	Tenant, Month, Period string
	Opening, Closing      shownAmount
	Sections              []sectionView
	Calls                 []rating.StatementCalls
}

type sectionView struct {
	Title   string
	Section *rating.StatementSection
}

// sectionTitles names the sections as a customer reads them.
var sectionTitles = map[string]string{"calls": "Calls", "fees": "Fees", "refills": "Refills",
	"topups": "Top-ups", "adjustments": "Adjustments"}

func (u *ui) statementPage(w http.ResponseWriter, r *http.Request) error {
	st, err := u.statement(r)
	if err != nil {
		return err
	}
	t, err := u.Store.Tenant(st.Tenant)
	if err != nil {
		return err
	}
	v := statementView{Tenant: st.Tenant, Month: st.Month, Opening: st.Opening, Closing: st.Closing, Calls: st.Calls,
		Period: st.From.In(u.loc).Format("2 January 2006") + " – " + st.To.Add(-1).In(u.loc).Format("2 January 2006")}
	for i := range st.Sections {
		if s := &st.Sections[i]; len(s.Entries) > 0 {
			v.Sections = append(v.Sections, sectionView{Title: sectionTitles[s.Kind], Section: s})
		}
	}
	name := u.Installation
	if name == "" {
		name = "pbxbill"
	}
	p := statementPage{pageBase: u.base(w, r, "Statement "+st.Tenant+" "+st.Month, "tenants"), Installation: name,
		Statement: v, Dec: u.tableDecimals(t.OutboundTable)}
	return u.render(w, http.StatusOK, "statement", p)
}
