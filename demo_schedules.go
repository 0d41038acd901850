package main

import (
	"fmt"
	"time"

	"pbxbill/rating"
)

// seedDemoSchedules gives the Docs Demo tenants their monthly fees and a
// refill. Each starts on the first day of next month, so a fresh demo
// shows their next due dates and the balances the README's examples use
// stay as they are until then.
func seedDemoSchedules(st backend, now time.Time) error {
	n := now.In(st.Location())
	start := time.Date(n.Year(), n.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	for _, d := range []struct {
		tenant, name, amount, topUpTo string
		day                           int
	}{
		{demoPrepaid, "3 seats", "-15.00", "", 1},
		{demoPrepaid, "Monthly plan refill", "", "25.00", 1},
		{demoPostpaid, "12 seats", "-60.00", "", 1},
		{demoPostpaid, "DID +44 20 7946 0000", "-2.50", "", 15},
	} {
		s := rating.Schedule{Name: d.name, Day: d.day, Start: start, Amount: rating.NoMoney, TopUpTo: rating.NoMoney}
		var err error
		if d.amount != "" {
			s.Amount, err = rating.ParseMoney(d.amount)
		} else {
			s.TopUpTo, err = rating.ParseMoney(d.topUpTo)
		}
		if err != nil {
			return err
		}
		if _, err := st.CreateSchedule(d.tenant, s); err != nil {
			return fmt.Errorf("tenant %s: schedule %s: %w", d.tenant, d.name, err)
		}
	}
	return nil
}
