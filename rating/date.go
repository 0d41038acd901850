package rating

import "time"

// DayStart returns the first instant of the date y-m-d in loc, as DOMAIN.md
// defines a date given for an instant: its midnight, or, where a change of
// summer time skips midnight, the first minute that exists that day. Out of
// range values of m and d are normalised as time.Date does.
//
// time.Date alone is not enough: for a skipped midnight it may answer an
// instant of the previous day (America/Santiago, 2026-09-06, gives 23:00 on
// the 5th), and for a midnight that happens twice it does not promise the
// first.
func DayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	wy, wm, wd := want.Date()
	sameDay := func(t time.Time) bool {
		ty, tm, td := t.In(loc).Date()
		return ty == wy && tm == wm && td == wd
	}
	t := time.Date(wy, wm, wd, 0, 0, 0, 0, loc)
	if !sameDay(t) {
		// An instant before the change that skipped midnight: the day
		// starts where that zone period ends.
		_, end := t.ZoneBounds()
		return end
	}
	start, _ := t.ZoneBounds()
	if local := t.In(loc); local.Hour() != 0 || local.Minute() != 0 {
		// After the change: the day starts with this zone period.
		if !start.IsZero() && sameDay(start) {
			return start
		}
		return t
	}
	// Midnight exists; when the previous zone period had a midnight of the
	// same date too, the clock went back over it, and that one came first.
	if !start.IsZero() {
		_, off := start.Add(-time.Second).Zone()
		if e := want.Add(-time.Duration(off) * time.Second); e.Before(start) && sameDay(e) {
			return e
		}
	}
	return t
}

// StartOfDay returns the first instant of t's calendar day in loc.
func StartOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return DayStart(y, m, d, loc)
}

// ParseDate parses a YYYY-MM-DD date as the first instant of that day in
// loc. The error is time.Parse's; callers name the field.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, err
	}
	return DayStart(t.Year(), t.Month(), t.Day(), loc), nil
}
