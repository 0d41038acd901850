package main

import (
	"errors"
	"fmt"
	"slices"

	"pbxbill/rating"
)

// moneyCheck is the part of "pbxbill check" that concerns schedules and
// statements, fed one tenant's ledger newest first: each (schedule, month)
// is posted at most once, and each month's statement closes on the
// balance the ledger has at the month's end.
type moneyCheck struct {
	st         backend
	typ, name  string
	refs       map[string]int
	monthEnd   map[rating.Month]rating.Money // the balance after each month's last entry
	duplicates []string
}

func newMoneyCheck(st backend, typ, name string) *moneyCheck {
	return &moneyCheck{st: st, typ: typ, name: name, refs: map[string]int{}, monthEnd: map[rating.Month]rating.Money{}}
}

// entry takes one entry; newest first, so a month's first one seen is
// its last one posted.
func (c *moneyCheck) entry(e rating.Entry) {
	if c.typ != rating.TenantAccount {
		return
	}
	m := rating.MonthOf(e.Time, c.st.Location())
	if _, ok := c.monthEnd[m]; !ok {
		c.monthEnd[m] = e.Balance
	}
	if e.Kind != rating.Fee && e.Kind != rating.Refill {
		return
	}
	if c.refs[e.Ref]++; c.refs[e.Ref] == 2 {
		c.duplicates = append(c.duplicates, e.Ref)
	}
}

// check compares what entry gathered with the statements.
func (c *moneyCheck) check() error {
	var problems []error
	for _, ref := range c.duplicates {
		problems = append(problems, fmt.Errorf("tenant %q: %s posted %d times", c.name, ref, c.refs[ref]))
	}
	months := make([]rating.Month, 0, len(c.monthEnd))
	for m := range c.monthEnd {
		months = append(months, m)
	}
	slices.SortFunc(months, func(a, b rating.Month) int { return int(a.Int()) - int(b.Int()) })
	for _, m := range months {
		if len(problems) >= maxProblems {
			break
		}
		st, err := c.st.Statement(c.name, m)
		if err != nil {
			problems = append(problems, fmt.Errorf("tenant %q: statement %s: %w", c.name, m, err))
			continue
		}
		if want := c.monthEnd[m]; st.Closing != want {
			problems = append(problems, fmt.Errorf("tenant %q: statement %s closes at %s, but the ledger's balance at the month's end is %s",
				c.name, m, st.Closing, want))
		}
	}
	return errors.Join(problems...)
}
