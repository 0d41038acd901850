package rating

import (
	"testing"
	"time"
)

// A date means the first instant of that day in the installation's zone
// (DOMAIN.md, "Dates").
func TestDayStart(t *testing.T) {
	for _, c := range []struct {
		zone, date string
		want       string // RFC 3339 in UTC
	}{
		{"UTC", "2026-11-29", "2026-11-29T00:00:00Z"},
		{"Europe/London", "2026-03-29", "2026-03-29T00:00:00Z"},     // the change is at 01:00
		{"Europe/London", "2026-07-01", "2026-06-30T23:00:00Z"},     // summer time
		{"America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z"},  // midnight skipped: 01:00 -03
		{"America/Santiago", "2026-04-05", "2026-04-05T04:00:00Z"},  // 24:00 back to 23:00: one midnight
		{"America/Havana", "2024-03-10", "2024-03-10T05:00:00Z"},    // midnight skipped: 01:00 CDT
		{"Asia/Beirut", "2024-03-31", "2024-03-30T22:00:00Z"},       // midnight skipped: 01:00 +03
		{"America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00Z"}, // midnight skipped: 01:00 -02
		{"America/Sao_Paulo", "2019-02-17", "2019-02-17T03:00:00Z"}, // 00:00 back to 23:00: one midnight
		{"America/Asuncion", "2024-03-24", "2024-03-24T04:00:00Z"},  // 00:00 back to 23:00: one midnight
		{"America/Asuncion", "2024-10-06", "2024-10-06T04:00:00Z"},  // midnight skipped
		{"Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z"},      // a day that does not exist: the next one
		{"Pacific/Apia", "2011-12-31", "2011-12-30T10:00:00Z"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDate(c.date, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got.UTC().Format(time.RFC3339) != c.want {
			t.Errorf("%s %s: %s (%s), want %s", c.zone, c.date, got.UTC().Format(time.RFC3339), got.In(loc), c.want)
		}
	}
}

// The day start is the earliest instant whose date is that day: every
// instant a second before it belongs to an earlier day, on every day of two
// years in zones with unusual changes.
func TestDayStartIsFirstInstant(t *testing.T) {
	for _, zone := range []string{"America/Santiago", "America/Havana", "Asia/Beirut", "Europe/London", "America/Asuncion", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2026; d = d.AddDate(0, 0, 1) {
			s := DayStart(d.Year(), d.Month(), d.Day(), loc)
			y, m, dd := s.In(loc).Date()
			if y != d.Year() || m != d.Month() || dd != d.Day() {
				t.Fatalf("%s %s: start %s is on another day", zone, d.Format(time.DateOnly), s.In(loc))
			}
			py, pm, pd := s.Add(-time.Second).In(loc).Date()
			if py == y && pm == m && pd == dd {
				t.Fatalf("%s %s: %s is on the same day, before the start %s", zone, d.Format(time.DateOnly), s.Add(-time.Second).In(loc), s.In(loc))
			}
		}
	}
}
