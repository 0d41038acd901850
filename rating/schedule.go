package rating

import (
	"fmt"
	"strings"
	"time"
)

// Ledger kinds that schedules post (DOMAIN.md "Recurring charges and
// refills").
const (
	Fee    = "fee"
	Refill = "refill"
)

// Schedule is a tenant's recurring fee or refill. Amount < 0 is a fee,
// Amount > 0 a refill; a refill may instead set TopUpTo (Amount NoMoney),
// which adds what brings the balance to that amount. Start and End are
// dates (YYYY-MM-DD) in the installation's zone; End "" runs for ever.
type Schedule struct {
	ID      uint64 `json:"id"`
	Name    string `json:"name"`
	Amount  Money  `json:"amount"`
	TopUpTo Money  `json:"top_up_to"`
	Day     int    `json:"day"`
	Start   string `json:"start"`
	End     string `json:"end"`
	// NextDue is the date of the next occurrence not posted yet, nil when
	// none is left; the store fills it in when it reads a schedule.
	NextDue *string `json:"next_due"`
}

// MaxScheduleName bounds a schedule's name, which every entry's
// statement line repeats.
const MaxScheduleName = 100

// Month is a calendar month, the unit a schedule posts once per.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month of t in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	y, m, _ := t.In(loc).Date()
	return Month{y, m}
}

// ParseMonth parses YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < MinStart().Year() || t.Year() >= MaxStart().Year() {
		return Month{}, Invalidf("month", "month %s: want YYYY-MM from %d to %d", Excerpt(s), MinStart().Year(), MaxStart().Year()-1)
	}
	return Month{t.Year(), t.Month()}, nil
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Next is the month after m.
func (m Month) Next() Month {
	if m.Month == time.December {
		return Month{m.Year + 1, time.January}
	}
	return Month{m.Year, m.Month + 1}
}

// Before reports whether m comes before o.
func (m Month) Before(o Month) bool {
	return m.Year < o.Year || m.Year == o.Year && m.Month < o.Month
}

// Days is the number of days of m.
func (m Month) Days() int {
	return time.Date(m.Year, m.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Start is the first instant of m in loc.
func (m Month) Start(loc *time.Location) time.Time { return DayStart(m.Year, m.Month, 1, loc) }

// Int is m as YYYYMM, the form keys sort by.
func (m Month) Int() uint32 { return uint32(m.Year*100 + int(m.Month)) }

// MonthFromInt is the inverse of Int.
func MonthFromInt(v uint32) Month { return Month{int(v / 100), time.Month(v % 100)} }

// Validate checks the fields a caller sets: a name, exactly one of a
// non-zero amount and a positive top_up_to, a day 1–31, a start date and
// an end date not before it, all within the bounds of every stored value.
func (s *Schedule) Validate() error {
	switch n := strings.TrimSpace(s.Name); {
	case n == "":
		return Invalidf("name", "name: required")
	case len(s.Name) > MaxScheduleName:
		return Invalidf("name", "name: longer than %d characters", MaxScheduleName)
	}
	switch {
	case s.Amount.Set() && s.TopUpTo.Set():
		return Invalidf("top_up_to", "top_up_to: give either amount or top_up_to, not both")
	case s.TopUpTo.Set():
		if s.TopUpTo.Sign() <= 0 || !s.TopUpTo.InRange() {
			return Invalidf("top_up_to", "top_up_to %s: want an amount above 0 and within %s", s.TopUpTo, MaxMoney)
		}
	case !s.Amount.Set():
		return Invalidf("amount", "amount: required (below 0 for a fee, above 0 for a refill), or top_up_to")
	case s.Amount.Sign() == 0:
		return Invalidf("amount", "amount: 0 posts nothing; below 0 is a fee, above 0 a refill")
	case !s.Amount.InRange():
		return Invalidf("amount", "amount %s: beyond ±%s", s.Amount, MaxMoney)
	}
	if s.Day < 1 || s.Day > 31 {
		return Invalidf("day", "day %d: want a day of the month, 1 to 31", s.Day)
	}
	start, err := parseScheduleDate("start", s.Start)
	if err != nil {
		return err
	}
	if s.End != "" {
		end, err := parseScheduleDate("end", s.End)
		if err != nil {
			return err
		}
		if end.Before(start) {
			return Invalidf("end", "end %s: before start %s", s.End, s.Start)
		}
	}
	return nil
}

// parseScheduleDate reads a civil date within the years CDRs may start in.
func parseScheduleDate(field, v string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Before(MinStart()) || !t.Before(MaxStart()) {
		return time.Time{}, Invalidf(field, "%s %s: want a date YYYY-MM-DD from %s to %d-12-31", field, Excerpt(v),
			MinStart().Format(time.DateOnly), MaxStart().Year()-1)
	}
	return t, nil
}

// Kind is the ledger kind of the schedule's entries.
func (s *Schedule) Kind() string {
	if s.Amount.Set() && s.Amount.Sign() < 0 {
		return Fee
	}
	return Refill
}

// FirstMonth is the month of the start date. The schedule must be valid.
func (s *Schedule) FirstMonth() Month {
	t, _ := time.Parse(time.DateOnly, s.Start)
	return Month{t.Year(), t.Month()}
}

// DueDate is the date of m's occurrence, with DOMAIN.md's month-end rule:
// a day the month lacks is its last day (31 → 30 April, 29 or 28
// February). ok is false when that date falls outside start–end, both
// inclusive: a schedule that starts on the 20th with day 1 has no
// occurrence in its first month (no proration).
func (s *Schedule) DueDate(m Month) (date string, ok bool) {
	d := fmt.Sprintf("%s-%02d", m, min(s.Day, m.Days()))
	// YYYY-MM-DD strings of four-digit years compare as dates.
	return d, d >= s.Start && (s.End == "" || d <= s.End)
}

// DueAt is the instant m's occurrence is due: the first instant of its
// date in loc (DOMAIN.md "Dates").
func (s *Schedule) DueAt(m Month, loc *time.Location) (time.Time, bool) {
	d, ok := s.DueDate(m)
	if !ok {
		return time.Time{}, false
	}
	t, _ := time.Parse(time.DateOnly, d)
	return DayStart(t.Year(), t.Month(), t.Day(), loc), true
}

// Ended reports whether no occurrence is left from month m on.
func (s *Schedule) Ended(m Month) bool {
	if s.End == "" {
		return false
	}
	e, _ := time.Parse(time.DateOnly, s.End)
	return Month{e.Year(), e.Month()}.Before(m)
}

// Occurrence is what one due month posts.
type Occurrence struct {
	Amount Money  // 0: nothing to post, the month still counts as done
	Kind   string // Fee or Refill
	Ref    string // "schedule <id> <YYYY-MM>"
}

// Post decides what m's occurrence posts to a tenant whose balance is
// balance: the amount, or for top_up_to what brings the balance to it,
// never below 0 (an entry of 0 is never written).
func (s *Schedule) Post(m Month, balance Money) Occurrence {
	o := Occurrence{Amount: s.Amount, Kind: s.Kind(), Ref: ScheduleRef(s.ID, m)}
	if s.TopUpTo.Set() {
		o.Amount = Money{}
		if d := s.TopUpTo.Sub(balance); d.Sign() > 0 {
			o.Amount = d
		}
	}
	return o
}

// ScheduleRef is the ledger reference of schedule id's occurrence in m.
func ScheduleRef(id uint64, m Month) string { return fmt.Sprintf("schedule %d %s", id, m) }

// ParseScheduleRef reads a reference ScheduleRef wrote.
func ParseScheduleRef(ref string) (id uint64, m Month, ok bool) {
	var ms string
	if n, err := fmt.Sscanf(ref, "schedule %d %s", &id, &ms); err != nil || n != 2 {
		return 0, Month{}, false
	}
	m, err := ParseMonth(ms)
	return id, m, err == nil && ScheduleRef(id, m) == ref
}

// Pending finds the schedule's first occurrence not yet posted, walking
// from the month from (the zero Month: its first month) while posted
// reports a month done: its month and due instant in loc, ok false when
// none is left. settled is the month a store's cursor may move to, past
// months without an occurrence or already posted. The walk ends at the
// first occurrence not posted, so it takes one step for a schedule that
// is up to date.
func (s *Schedule) Pending(from Month, loc *time.Location, posted func(Month) bool) (m Month, due time.Time, settled Month, ok bool) {
	m = from
	if m == (Month{}) {
		m = s.FirstMonth()
	}
	settled = m
	for i := 0; i < 12*300 && !s.Ended(m); i, m = i+1, m.Next() {
		at, has := s.DueAt(m, loc)
		if has && !posted(m) {
			return m, at, settled, true
		}
		settled = m.Next()
	}
	return m, time.Time{}, settled, false
}

// WithNextDue is the schedule with its next due date (nil when none is
// left), as Pending finds it.
func (s Schedule) WithNextDue(from Month, loc *time.Location, posted func(Month) bool) Schedule {
	s.NextDue = nil
	if m, _, _, ok := s.Pending(from, loc, posted); ok {
		d, _ := s.DueDate(m)
		s.NextDue = &d
	}
	return s
}
