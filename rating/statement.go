package rating

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Statement is a tenant's statement for a calendar month (DOMAIN.md
// "Statements"): read from the ledger, so it always agrees with the
// balances.
type Statement struct {
	Tenant   string             `json:"tenant"`
	Month    string             `json:"month"`
	Currency string             `json:"currency"`
	From     time.Time          `json:"from"` // the month's first instant in the zone
	To       time.Time          `json:"to"`   // the next month's
	Opening  Money              `json:"opening"`
	Closing  Money              `json:"closing"`
	Sections []StatementSection `json:"sections"`
	Calls    []StatementCalls   `json:"calls"`
}

// StatementSection is the month's entries of one kind of statement line.
type StatementSection struct {
	Kind    string  `json:"kind"`
	Total   Money   `json:"total"`
	Entries []Entry `json:"entries"`
}

// StatementCalls sums the calls behind the month's charges for one call
// kind and destination. A correction adds its amount to the cost of its
// call's line but not to the count or the minutes, which were counted in
// the month the call was charged.
type StatementCalls struct {
	Kind          string  `json:"kind"`
	Destination   string  `json:"destination"`
	Count         int64   `json:"count"`
	BilledMinutes Minutes `json:"billed_minutes"`
	Cost          Money   `json:"cost"`
}

// Minutes is a number of seconds shown as minutes with two decimals,
// rounded half up, written as a JSON number.
type Minutes int64

func (m Minutes) String() string {
	c := (int64(m)*100 + 30) / 60 // hundredths of a minute
	return strconv.FormatInt(c/100, 10) + "." + string([]byte{byte('0' + c%100/10), byte('0' + c%10)})
}

// MarshalJSON writes the minutes as a number.
func (m Minutes) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads the number MarshalJSON writes, to the nearest second.
func (m *Minutes) UnmarshalJSON(b []byte) error {
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return Invalidf("billed_minutes", "billed_minutes %s: want a number of minutes", Excerpt(string(b)))
	}
	*m = Minutes(d.Mul(decimal.NewFromInt(60)).Round(0).IntPart())
	return nil
}

// The statement's sections, in their order, and the ledger kinds each
// takes.
var statementSections = []struct{ kind string }{{"calls"}, {"fees"}, {"refills"}, {"topups"}, {"adjustments"}}

// StatementSectionOf names the section of a ledger kind.
func StatementSectionOf(kind string) string {
	switch kind {
	case Charge, Correction:
		return "calls"
	case Fee:
		return "fees"
	case Refill:
		return "refills"
	case Topup:
		return "topups"
	}
	return "adjustments"
}

// NewStatement starts the statement of tenant for month m, whose opening
// balance is opening.
func NewStatement(tenant, currency string, m Month, loc *time.Location, opening Money) *Statement {
	st := &Statement{Tenant: tenant, Month: m.String(), Currency: currency, From: m.Start(loc), To: m.Next().Start(loc),
		Opening: opening, Closing: opening, Calls: []StatementCalls{}}
	for _, s := range statementSections {
		st.Sections = append(st.Sections, StatementSection{Kind: s.kind, Total: Money{}, Entries: []Entry{}})
	}
	return st
}

// Add adds one of the month's entries, in posting order. call is the CDR
// of a charge or correction, nil when there is none to show, and
// destination its destination.
func (st *Statement) Add(e Entry, call *CDR, destination string) {
	sec := StatementSectionOf(e.Kind)
	for i := range st.Sections {
		if s := &st.Sections[i]; s.Kind == sec {
			s.Total = s.Total.Add(e.Amount)
			s.Entries = append(s.Entries, e)
		}
	}
	st.Closing = st.Closing.Add(e.Amount)
	if sec != "calls" {
		return
	}
	kind := ""
	if call != nil {
		kind = call.Kind.String()
	}
	i := slices.IndexFunc(st.Calls, func(c StatementCalls) bool { return c.Kind == kind && c.Destination == destination })
	if i < 0 {
		st.Calls = append(st.Calls, StatementCalls{Kind: kind, Destination: destination})
		i = len(st.Calls) - 1
	}
	c := &st.Calls[i]
	c.Cost = c.Cost.Add(e.Amount.Neg())
	if e.Kind == Charge {
		c.Count++
		if call != nil {
			c.BilledMinutes += Minutes(call.Billed)
		}
	}
}

// Finish orders the calls by kind, then destination.
func (st *Statement) Finish() {
	slices.SortFunc(st.Calls, func(a, b StatementCalls) int {
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) - kindOrder(b.Kind)
		}
		switch {
		case a.Destination < b.Destination:
			return -1
		case a.Destination > b.Destination:
			return 1
		}
		return 0
	})
}

func kindOrder(k string) int {
	for i, x := range Kinds {
		if x.String() == k {
			return i
		}
	}
	return len(Kinds)
}
