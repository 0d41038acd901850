package rating

import (
	"testing"
	"time"
)

func sched(day int, start, end string) Schedule {
	return Schedule{ID: 7, Name: "12 seats", Amount: MoneyOf(-60 * 1e8), TopUpTo: NoMoney, Day: day, Start: start, End: end}
}

// DOMAIN.md "Recurring charges and refills": the day of each month, with
// the month-end rule, from the start date to the end date inclusive, and
// no proration.
func TestScheduleDueDate(t *testing.T) {
	for _, c := range []struct {
		what       string
		day        int
		start, end string
		month      Month
		want       string // "" : no occurrence that month
	}{
		{"day 31 in April is the 30th", 31, "2026-01-01", "", Month{2026, time.April}, "2026-04-30"},
		{"day 31 in May is the 31st", 31, "2026-01-01", "", Month{2026, time.May}, "2026-05-31"},
		{"day 30 in February of a leap year is the 29th", 30, "2028-01-01", "", Month{2028, time.February}, "2028-02-29"},
		{"day 29 in February of a common year is the 28th", 29, "2026-01-01", "", Month{2026, time.February}, "2026-02-28"},
		{"day 29 in February of a leap year is the 29th", 29, "2028-01-01", "", Month{2028, time.February}, "2028-02-29"},
		{"day 31 in February 2100, not a leap year", 31, "2100-01-01", "", Month{2100, time.February}, "2100-02-28"},
		{"no proration: starts on the 20th, day 1: nothing that month", 1, "2026-03-20", "", Month{2026, time.March}, ""},
		{"no proration: the 1st of the next month", 1, "2026-03-20", "", Month{2026, time.April}, "2026-04-01"},
		{"the start date itself is due", 20, "2026-03-20", "", Month{2026, time.March}, "2026-03-20"},
		{"before the start month", 5, "2026-03-01", "", Month{2026, time.February}, ""},
		{"the end date itself is due", 15, "2026-01-01", "2026-06-15", Month{2026, time.June}, "2026-06-15"},
		{"after the end date in the end month", 16, "2026-01-01", "2026-06-15", Month{2026, time.June}, ""},
		{"after the end month", 1, "2026-01-01", "2026-06-15", Month{2026, time.July}, ""},
		{"an end on the 30th of April covers a day-31 schedule", 31, "2026-01-01", "2026-04-30", Month{2026, time.April}, "2026-04-30"},
	} {
		s := sched(c.day, c.start, c.end)
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		got, ok := s.DueDate(c.month)
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("%s: due %q, want %q", c.what, got, c.want)
		}
	}
}

// A date is the first instant of its day in the installation's zone,
// also where summer time skips midnight.
func TestScheduleDueAtZone(t *testing.T) {
	for _, c := range []struct {
		zone  string
		day   int
		month Month
		want  string
	}{
		{"UTC", 1, Month{2026, time.March}, "2026-03-01T00:00:00Z"},
		{"Europe/Berlin", 1, Month{2026, time.March}, "2026-02-28T23:00:00Z"},
		{"Europe/Berlin", 31, Month{2026, time.July}, "2026-07-30T22:00:00Z"},
		// Chile moves its clocks from 00:00 to 01:00 on 2026-09-06.
		{"America/Santiago", 6, Month{2026, time.September}, "2026-09-06T04:00:00Z"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		s := sched(c.day, "2026-01-01", "")
		at, ok := s.DueAt(c.month, loc)
		if !ok || at.UTC().Format(time.RFC3339) != c.want {
			t.Errorf("%s day %d of %s: due %s, want %s", c.zone, c.day, c.month, at.UTC().Format(time.RFC3339), c.want)
		}
		if local := at.In(loc); local.Day() != c.day {
			t.Errorf("%s: %s is not on day %d there", c.zone, local, c.day)
		}
	}
}

func TestSchedulePost(t *testing.T) {
	m := Month{2026, time.May}
	fee := sched(1, "2026-01-01", "")
	if o := fee.Post(m, MoneyOf(10*1e8)); o.Amount != MoneyOf(-60*1e8) || o.Kind != Fee || o.Ref != "schedule 7 2026-05" {
		t.Errorf("fee: %+v", o)
	}
	// A fee is posted whatever the balance.
	if o := fee.Post(m, MoneyOf(-1000*1e8)); o.Amount != MoneyOf(-60*1e8) {
		t.Errorf("fee on a negative balance: %+v", o)
	}
	refill := Schedule{ID: 8, Name: "plan", Amount: MoneyOf(20 * 1e8), TopUpTo: NoMoney, Day: 1, Start: "2026-01-01"}
	if o := refill.Post(m, MoneyOf(1e8)); o.Amount != MoneyOf(20*1e8) || o.Kind != Refill {
		t.Errorf("refill: %+v", o)
	}
	top := Schedule{ID: 9, Name: "plan", Amount: NoMoney, TopUpTo: MoneyOf(25 * 1e8), Day: 1, Start: "2026-01-01"}
	for _, c := range []struct{ balance, want int64 }{
		{7, 18}, {-5, 30}, {25, 0}, {40, 0}, {0, 25},
	} {
		if o := top.Post(m, MoneyOf(c.balance*1e8)); o.Amount != MoneyOf(c.want*1e8) || o.Kind != Refill {
			t.Errorf("top up to 25 from %d: %+v, want %d", c.balance, o, c.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	ok := sched(1, "2026-01-01", "")
	for _, c := range []struct {
		field string
		edit  func(*Schedule)
	}{
		{"name", func(s *Schedule) { s.Name = " " }},
		{"amount", func(s *Schedule) { s.Amount = Money{} }},
		{"amount", func(s *Schedule) { s.Amount = NoMoney }},
		{"top_up_to", func(s *Schedule) { s.TopUpTo = MoneyOf(1) }},
		{"top_up_to", func(s *Schedule) { s.Amount, s.TopUpTo = NoMoney, MoneyOf(-1) }},
		{"day", func(s *Schedule) { s.Day = 0 }},
		{"day", func(s *Schedule) { s.Day = 32 }},
		{"start", func(s *Schedule) { s.Start = "2026-02-30" }},
		{"start", func(s *Schedule) { s.Start = "1999-12-31" }},
		{"start", func(s *Schedule) { s.Start = "" }},
		{"end", func(s *Schedule) { s.End = "2025-12-31" }},
		{"end", func(s *Schedule) { s.End = "tomorrow" }},
	} {
		s := ok
		c.edit(&s)
		if err := s.Validate(); ErrorField(err) != c.field {
			t.Errorf("%+v: error %v, want one about %s", s, err, c.field)
		}
	}
}

func TestScheduleRef(t *testing.T) {
	id, m, ok := ParseScheduleRef(ScheduleRef(42, Month{2026, time.February}))
	if !ok || id != 42 || m != (Month{2026, time.February}) {
		t.Errorf("round trip: %d %v %v", id, m, ok)
	}
	for _, bad := range []string{"schedule 1 2026-13", "schedule x 2026-01", "bank transfer", "schedule 01 2026-01"} {
		if _, _, ok := ParseScheduleRef(bad); ok {
			t.Errorf("%q read as a schedule reference", bad)
		}
	}
}

func TestMinutes(t *testing.T) {
	for s, want := range map[int64]string{0: "0.00", 60: "1.00", 96: "1.60", 1: "0.02", 3599: "59.98", 29: "0.48"} {
		if got := Minutes(s).String(); got != want {
			t.Errorf("%d s: %s, want %s", s, got, want)
		}
	}
}

// Pending walks from the first month, skips the months posted, and stops
// at the end date; WithNextDue answers its date.
func TestSchedulePending(t *testing.T) {
	s := Schedule{Name: "seats", Amount: MoneyOf(-1e8), TopUpTo: NoMoney, Day: 31, Start: "2025-01-15", End: "2025-03-31"}
	done := map[Month]bool{{2025, time.January}: true}
	posted := func(m Month) bool { return done[m] }
	m, due, settled, ok := s.Pending(Month{}, time.UTC, posted)
	if !ok || m != (Month{2025, time.February}) || !due.Equal(time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC)) || settled != (Month{2025, time.February}) {
		t.Fatalf("pending %v %v %v %v", m, due, settled, ok)
	}
	if n := s.WithNextDue(Month{}, time.UTC, posted).NextDue; n == nil || *n != "2025-02-28" {
		t.Fatalf("next due %v", n)
	}
	done[Month{2025, time.February}], done[Month{2025, time.March}] = true, true
	if _, _, settled, ok := s.Pending(Month{2025, time.February}, time.UTC, posted); ok || settled != (Month{2025, time.April}) {
		t.Fatalf("after the end: settled %v, ok %v", settled, ok)
	}
	if s.WithNextDue(Month{}, time.UTC, posted).NextDue != nil {
		t.Fatal("a schedule with every month posted has a next due date")
	}
}
