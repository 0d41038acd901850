package rating

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"mon-fri", "mon-fri"},
		{"sat,sun", "sat,sun"},
		{" Sat , SUN ", "sat,sun"},
		{"weekdays", "mon-fri"},
		{"weekend", "sat,sun"},
		{"fri-mon", "fri-mon"}, // across the week's end
		{"sun-sat", "mon-sun"},
		{"mon,tue,wed", "mon-wed"},
		{"mon,wed,fri", "mon,wed,fri"},
		{"monday-friday", "mon-fri"},
		{"sun,mon", "sun,mon"},
		{"mon-fri,fri", "mon-fri"},
		{"sat-sat", "sat"},
	}
	for _, tt := range tests {
		d, err := ParseDays(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDays(%q) = %q, %v; want %q", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"1-5", "mon-", "mo", "mon;tue", "mon-fri-sat", ",", "xmon", "mon,,tue"} {
		if _, err := ParseDays(bad); err == nil || ErrorField(err) != "days" {
			t.Errorf("ParseDays(%q) = %v, want an error about days", bad, err)
		}
	}
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		in       string
		from, to uint16
	}{
		{"08:00-18:00", 480, 1080},
		{"8:00 - 18:00", 480, 1080},
		{"00:00-24:00", 0, 1440},
		{"18:00-08:00", 1080, 480}, // past midnight
		{"22:00-00:00", 1320, 0},
		{"23:59-24:00", 1439, 1440},
	}
	for _, tt := range tests {
		h, err := ParseHours(tt.in)
		if err != nil || h != (Hours{tt.from, tt.to}) {
			t.Errorf("ParseHours(%q) = %v, %v; want %d-%d", tt.in, h, err, tt.from, tt.to)
		}
	}
	for _, bad := range []string{"08:00", "08:00-08:00", "00:00-00:00", "24:00-08:00", "08:60-09:00", "8-18", "08:00-24:01",
		"25:00-26:00", "-1:00-02:00", "08:00-+9:00", "0800-1800", "08:00-18:00-19:00"} {
		if _, err := ParseHours(bad); err == nil || ErrorField(err) != "hours" {
			t.Errorf("ParseHours(%q) = %v, want an error about hours", bad, err)
		}
	}
}

// The parsers read back what String writes, and String writes one form
// for each set.
func FuzzWeek(f *testing.F) {
	for _, s := range []string{"mon-fri", "sat,sun", "fri-mon", "weekdays", "08:00-18:00", "18:00-08:00", "00:00-24:00", "Monday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDays(s); err == nil {
			if d&^AllDays != 0 {
				t.Fatalf("ParseDays(%q) = %b", s, d)
			}
			again, err := ParseDays(d.String())
			if err != nil || again != d {
				t.Fatalf("ParseDays(%q) = %q, read back as %q, %v", s, d, again, err)
			}
		} else if len(err.Error()) > 300 {
			t.Fatalf("error too long: %q", err)
		}
		if h, err := ParseHours(s); err == nil {
			if h.Set() && (h.From >= MinutesPerDay || h.To > MinutesPerDay || h.From == h.To) {
				t.Fatalf("ParseHours(%q) = %v", s, h)
			}
			again, err := ParseHours(h.String())
			if err != nil || again != h {
				t.Fatalf("ParseHours(%q) = %q, read back as %v, %v", s, h, again, err)
			}
		} else if len(err.Error()) > 300 {
			t.Fatalf("error too long: %q", err)
		}
	})
}

// timed is a row with days and hours as a deck writes them.
func timed(tb testing.TB, prefix, rate, days, hours string, from time.Time) Row {
	tb.Helper()
	r := row(tb, prefix, rate, from)
	var err error
	if r.Days, err = ParseDays(days); err != nil {
		tb.Fatal(err)
	}
	if r.Hours, err = ParseHours(hours); err != nil {
		tb.Fatal(err)
	}
	return r
}

// rater resolves in table "T" of rows, in zone.
func rater(rows []Row, zone string) *Rater {
	loc, _ := time.LoadLocation(zone)
	var b Book
	b.Set(NewIndex(testTable(), rows))
	return &Rater{Book: &b, Zone: loc}
}

// at is a wall-clock time in zone, "2026-11-27 17:59" (a Friday).
func at(tb testing.TB, zone, s string) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// DOMAIN.md's example, one week of prefix 44, and the cases around it.
func TestWeekDomainExample(t *testing.T) {
	rows := []Row{
		timed(t, "44", "0.02", "mon-fri", "08:00-18:00", time.Time{}), // peak
		timed(t, "44", "0.005", "fri", "22:00-06:00", time.Time{}),    // Friday night
		row(t, "44", "0.01", time.Time{}),                             // the default
	}
	tests := []struct {
		when, rate, why string
	}{
		{"2026-11-27 17:59", "0.02", "Friday 17:59: peak"},
		{"2026-11-27 18:00", "0.01", "Friday 18:00: the end is excluded"},
		{"2026-11-28 05:59", "0.005", "Saturday 05:59: the Friday night window belongs to Friday"},
		{"2026-11-28 06:00", "0.01", "Saturday 06:00"},
		{"2026-11-27 22:00", "0.005", "Friday 22:00: the start is included"},
		{"2026-11-23 08:00", "0.02", "Monday 08:00"},
		{"2026-11-23 07:59", "0.01", "Monday 07:59"},
		{"2026-11-22 05:00", "0.01", "Sunday 05:00: Saturday has no night window"},
		{"2026-11-26 23:00", "0.01", "Thursday 23:00: the night window is Friday's"},
	}
	x := rater(rows, "Europe/London")
	for _, tt := range tests {
		res := x.ResolveIn("T", "447700900123", at(t, "Europe/London", tt.when))
		if !res.Rated() || res.Rate.Rate != amt(t, tt.rate) || !res.Rate.Weekly {
			t.Errorf("%s: rate %s (%q), want %s", tt.why, res.Rate.Rate, res.Reason, tt.rate)
		}
	}
	// The whole call is priced by the row chosen at its start.
	r := x.ResolveIn("T", "4477", at(t, "Europe/London", "2026-11-27 17:59")).Rate
	if got := r.Price(3600).Cost.String(); got != "1.2" {
		t.Errorf("an hour from 17:59 costs %s, want 1.2 at the peak rate", got)
	}
	if r.Days.String() != "mon-fri" || r.Hours.String() != "08:00-18:00" {
		t.Errorf("the peak row says %q %q", r.Days, r.Hours)
	}
}

// The same table read in two zones: the instant is read on the
// installation's wall clock, not in UTC.
func TestWeekReadsTheInstallationsZone(t *testing.T) {
	rows := []Row{timed(t, "1", "0.02", "mon-fri", "09:00-17:00", time.Time{}), row(t, "1", "0.01", time.Time{})}
	utc := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // Monday 10:00 in New York
	if r := rater(rows, "America/New_York").ResolveIn("T", "1212", utc); r.Rate.Rate != amt(t, "0.02") {
		t.Errorf("10:00 in New York: %s, want the peak", r.Rate.Rate)
	}
	if r := rater(rows, "Asia/Tokyo").ResolveIn("T", "1212", utc); r.Rate.Rate != amt(t, "0.01") {
		t.Errorf("00:00 Tuesday in Tokyo: %s, want the default", r.Rate.Rate)
	}
}

func TestWeekCases(t *testing.T) {
	always := time.Time{}
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		rows   []Row
		when   string // UTC wall clock
		prefix string // "" = unrated
		rate   string
	}{
		{"whole day 00:00-24:00", []Row{timed(t, "44", "0.03", "sat", "00:00-24:00", always)}, "2026-11-28 23:59", "44", "0.03"},
		{"whole day starts at midnight", []Row{timed(t, "44", "0.03", "sat", "00:00-24:00", always)}, "2026-11-28 00:00", "44", "0.03"},
		{"not the day after", []Row{timed(t, "44", "0.03", "sat", "00:00-24:00", always)}, "2026-11-29 00:00", "", ""},
		{"a gap falls through to a shorter prefix",
			[]Row{timed(t, "447", "0.20", "mon-fri", "08:00-18:00", always), row(t, "44", "0.05", always)},
			"2026-11-28 12:00", "44", "0.05"},
		{"no gap: the longer prefix wins",
			[]Row{timed(t, "447", "0.20", "mon-fri", "08:00-18:00", always), row(t, "44", "0.05", always)},
			"2026-11-27 12:00", "447", "0.20"},
		{"a gap falls through to * with times",
			[]Row{timed(t, "447", "0.20", "mon-fri", "", always), timed(t, "*", "0.90", "sat,sun", "", always)},
			"2026-11-28 12:00", "*", "0.90"},
		{"* with times has gaps too",
			[]Row{timed(t, "447", "0.20", "mon-fri", "", always), timed(t, "*", "0.90", "sat", "", always)},
			"2026-11-29 12:00", "", ""},
		{"past midnight on Sunday runs into Monday",
			[]Row{timed(t, "44", "0.004", "sun", "20:00-07:00", always), row(t, "44", "0.01", always)},
			"2026-11-30 06:59", "44", "0.004"},
		{"past midnight: not the day before",
			[]Row{timed(t, "44", "0.004", "sun", "20:00-07:00", always), row(t, "44", "0.01", always)},
			"2026-11-29 06:59", "44", "0.01"},
		{"hours without days: every day",
			[]Row{timed(t, "44", "0.004", "", "20:00-07:00", always), row(t, "44", "0.01", always)},
			"2026-11-25 03:00", "44", "0.004"},
		{"a new effective_from replaces the whole week",
			[]Row{timed(t, "44", "0.004", "sat,sun", "", always), row(t, "44", "0.01", always),
				row(t, "44", "0.02", june), row(t, "4", "0.50", always)},
			"2026-11-28 12:00", "44", "0.02"},
		{"an old week still prices the calls before",
			[]Row{timed(t, "44", "0.004", "sat,sun", "", always), row(t, "44", "0.01", always),
				row(t, "44", "0.02", june)},
			"2026-05-30 12:00", "44", "0.004"},
		{"a new week without a default has gaps the old one filled",
			[]Row{row(t, "44", "0.01", always), timed(t, "44", "0.02", "mon-fri", "", june), row(t, "4", "0.50", always)},
			"2026-11-28 12:00", "4", "0.50"},
		{"a long prefix with times",
			[]Row{timed(t, "12345678901234567", "0.30", "sat", "", always), row(t, "1234", "0.10", always)},
			"2026-11-27 12:00", "1234", "0.10"},
		{"a long prefix with times, in its window",
			[]Row{timed(t, "12345678901234567", "0.30", "sat", "", always), row(t, "1234", "0.10", always)},
			"2026-11-28 12:00", "12345678901234567", "0.30"},
	}
	for _, tt := range tests {
		res := rater(tt.rows, "UTC").ResolveIn("T", numberFor(tt.rows), at(t, "UTC", tt.when))
		if tt.prefix == "" {
			if res.Rated() {
				t.Errorf("%s: rated at %s by %s, want unrated", tt.name, res.Rate.Rate, res.Rate.Prefix)
			}
			continue
		}
		if !res.Rated() || res.Rate.Prefix != tt.prefix || res.Rate.Rate != amt(t, tt.rate) {
			t.Errorf("%s: %q %s (%s), want %q %s", tt.name, res.Rate.Prefix, res.Rate.Rate, res.Reason, tt.prefix, tt.rate)
		}
	}
}

// A blocked row answers blocked, timed or not, packed or in an overlay.
func TestLookupBlocked(t *testing.T) {
	plain, night := row(t, "449", "1.5", time.Time{}), timed(t, "44", "0.01", "", "20:00-08:00", time.Time{})
	plain.Blocked, night.Blocked = true, true
	rows := []Row{plain, night, row(t, "44", "0.02", time.Time{})}
	for _, x := range []*Index{NewIndex(testTable(), rows), NewIndex(testTable(), nil).WithPrefixes(map[string][]Row{"449": rows[:1], "44": rows[1:]})} {
		for _, tc := range []struct {
			number  string
			hour    int
			blocked bool
		}{{"4491", 12, true}, {"4421", 21, true}, {"4421", 12, false}} {
			if r, _ := x.Lookup(tc.number, time.Date(2026, 11, 27, tc.hour, 0, 0, 0, time.UTC)); r.Blocked != tc.blocked {
				t.Errorf("%s at %02d:00: blocked %v", tc.number, tc.hour, r.Blocked)
			}
		}
	}
}

// numberFor is a number that every prefix of rows starts: the longest
// prefix, extended.
func numberFor(rows []Row) string {
	n := ""
	for _, r := range rows {
		if r.Prefix != Wildcard && len(r.Prefix) > len(n) {
			n = r.Prefix
		}
	}
	return n + "0011"
}

// A window on the days daylight saving skips it and repeats it: it never
// applies on the first, and applies both times on the second. London
// skips and repeats 01:00-02:00; New York skips 02:00-03:00 and repeats
// 01:00-02:00.
func TestWeekDaylightSaving(t *testing.T) {
	for _, tt := range []struct {
		zone, skipped, spring, autumn string // the window skipped; the days it is skipped, 01:30 repeated
	}{
		{"Europe/London", "01:30-01:45", "2026-03-29", "2026-10-25"},
		{"America/New_York", "02:30-02:45", "2026-03-08", "2026-11-01"},
	} {
		x := func(hours string) *Rater {
			return rater([]Row{timed(t, "1", "0.50", "", hours, time.Time{}), row(t, "1", "0.01", time.Time{})}, tt.zone)
		}
		loc, _ := time.LoadLocation(tt.zone)
		// count counts the minutes of the day the window applies in.
		count := func(x *Rater, date string) int {
			day, _ := time.ParseInLocation(time.DateOnly, date, loc)
			end := day.AddDate(0, 0, 1)
			n := 0
			for m := day; m.Before(end); m = m.Add(time.Minute) {
				if r := x.ResolveIn("T", "1555", m); r.Rate.Rate == amt(t, "0.50") {
					n++
				}
			}
			return n
		}
		if n := count(x(tt.skipped), tt.spring); n != 0 {
			t.Errorf("%s %s: the window %s applied %d minutes, want none: it does not exist", tt.zone, tt.spring, tt.skipped, n)
		}
		if n := count(x(tt.skipped), "2026-04-15"); n != 15 {
			t.Errorf("%s on an ordinary day: %d minutes, want 15", tt.zone, n)
		}
		if n := count(x("01:30-01:45"), tt.autumn); n != 30 {
			t.Errorf("%s %s: the window 01:30-01:45 applied %d minutes, want 30 (twice)", tt.zone, tt.autumn, n)
		}
	}
}

func TestCheckWeek(t *testing.T) {
	always := time.Time{}
	tests := []struct {
		name string
		rows []Row
		err  string // "" = fine
	}{
		{"the example", []Row{timed(t, "44", "1", "mon-fri", "08:00-18:00", always), timed(t, "44", "1", "fri", "22:00-06:00", always), row(t, "44", "1", always)}, ""},
		{"two defaults", []Row{row(t, "44", "1", always), row(t, "44", "2", always)}, "a second row without days or hours"},
		{"overlapping hours", []Row{timed(t, "44", "1", "mon-fri", "08:00-18:00", always), timed(t, "44", "2", "fri", "17:00-19:00", always)}, "overlap"},
		{"past midnight into the next day's window", []Row{timed(t, "44", "1", "fri", "22:00-06:00", always), timed(t, "44", "2", "sat", "05:00-07:00", always)}, "overlap"},
		{"Sunday night into Monday", []Row{timed(t, "44", "1", "sun", "22:00-06:00", always), timed(t, "44", "2", "mon", "", always)}, "overlap"},
		{"touching windows", []Row{timed(t, "44", "1", "", "08:00-18:00", always), timed(t, "44", "2", "", "18:00-08:00", always)}, ""},
		{"days without hours", []Row{timed(t, "44", "1", "mon-fri", "", always), timed(t, "44", "2", "sat,sun", "", always)}, ""},
		{"hours without days overlap days", []Row{timed(t, "44", "1", "", "08:00-09:00", always), timed(t, "44", "2", "sun", "", always)}, "overlap"},
	}
	for _, tt := range tests {
		err := CheckWeek(tt.rows)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
		b := NewIndexBuilder(testTable(), len(tt.rows))
		slices.SortFunc(tt.rows, func(a, b Row) int { return compareRows(&a, &b) })
		for i := range tt.rows {
			b.Add(&tt.rows[i])
		}
		b.Build()
		if (b.Err() == nil) != (tt.err == "") {
			t.Errorf("%s: the builder says %v", tt.name, b.Err())
		}
	}
}

// The index against a brute-force reading of DOMAIN.md on random tables
// with times, and random instants.
func TestWeekLookupMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	hours := []string{"", "", "08:00-18:00", "18:00-08:00", "00:00-24:00", "22:00-06:00", "12:00-13:00", "06:00-08:00"}
	days := []string{"", "", "mon-fri", "sat,sun", "fri", "sun", "fri-mon", "wed"}
	for round := 0; round < 60; round++ {
		var rows []Row
		for n := rng.IntN(150); n > 0; n-- {
			p := strconv.Itoa(1 + rng.IntN(9))
			for l := rng.IntN(4); l > 0; l-- {
				p += strconv.Itoa(rng.IntN(4))
			}
			if rng.IntN(40) == 0 {
				p = Wildcard
			}
			if rng.IntN(40) == 0 {
				p = "12345678901234567"
			}
			from := time.Time{}
			if rng.IntN(3) == 0 {
				from = day1.Add(time.Duration(rng.IntN(30)) * 24 * time.Hour)
			}
			r := timed(t, p, strconv.Itoa(1+rng.IntN(100)), days[rng.IntN(len(days))], hours[rng.IntN(len(hours))], from)
			// Keep the week sound, as every write path does.
			if CheckWeek(append(sameVersion(rows, &r), r)) == nil {
				rows = append(rows, r)
			}
		}
		x := NewIndex(testTable(), rows)
		// The same rows, some prefixes given through an overlay.
		var packed []Row
		changed := map[string][]Row{}
		for _, r := range rows {
			if len(r.Prefix)%2 == 0 {
				changed[r.Prefix] = append(changed[r.Prefix], r)
			} else {
				packed = append(packed, r)
			}
		}
		y := NewIndex(testTable(), packed).WithPrefixes(changed)
		if y.Table().Rows != len(rows) || y.Len() != x.Len() {
			t.Fatalf("round %d: the overlaid index has %d rows, %d prefixes; want %d, %d", round, y.Table().Rows, y.Len(), len(rows), x.Len())
		}
		loc, _ := time.LoadLocation("Europe/London")
		for q := 0; q < 400; q++ {
			number := strconv.Itoa(1 + rng.IntN(9))
			for l := rng.IntN(6); l > 0; l-- {
				number += strconv.Itoa(rng.IntN(4))
			}
			if rng.IntN(20) == 0 {
				number = "123456789012345670"
			}
			when := day1.Add(time.Duration(rng.IntN(40*24*60)) * time.Minute).In(loc)
			want, wantOK := bruteWeek(rows, number, when)
			for _, idx := range []*Index{x, y} {
				got, ok := idx.Lookup(number, when)
				if ok != wantOK || ok && (got.Prefix != want.Prefix || got.Rate != want.Rate || got.Days != want.Days || got.Hours != want.Hours) {
					t.Fatalf("round %d: Lookup(%s, %s) = %q %s %v; brute force %q %s %v", round, number, when, got.Prefix, got.Rate, ok, want.Prefix, want.Rate, wantOK)
				}
			}
		}
	}
}

// A week too large for its header's spans: an hour's row for each of the
// 24 hours of every day, in a version after an older untimed one.
func TestWeekManyRows(t *testing.T) {
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rows := []Row{row(t, "44", "9", time.Time{})}
	for h := 0; h < 24; h++ {
		rows = append(rows, timed(t, "44", strconv.Itoa(h+1), "", fmt.Sprintf("%02d:00-%02d:00", h, h+1), june))
	}
	for _, x := range []*Index{NewIndex(testTable(), rows), NewIndex(testTable(), rows[:1]).WithPrefix("44", rows)} {
		if x.Table().Rows != 25 {
			t.Errorf("%d rows", x.Table().Rows)
		}
		for h := 0; h < 24; h++ {
			r, ok := x.Lookup("441", time.Date(2026, 11, 28, h, 59, 0, 0, time.UTC))
			if !ok || r.Rate != amt(t, strconv.Itoa(h+1)) {
				t.Errorf("%02d:59: %s %v", h, r.Rate, ok)
			}
		}
		if r, _ := x.Lookup("441", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)); r.Rate != amt(t, "9") {
			t.Errorf("before June: %s", r.Rate)
		}
	}
}

func sameVersion(rows []Row, r *Row) []Row {
	var out []Row
	for _, o := range rows {
		if o.Prefix == r.Prefix && o.EffectiveFrom.Equal(r.EffectiveFrom) {
			out = append(out, o)
		}
	}
	return out
}

// bruteWeek reads DOMAIN.md literally: for each prefix of number, longest
// first and "*" last, the rows of its latest effective_from ≤ at; the
// timed row whose days and hours hold at's wall clock, else the default.
func bruteWeek(rows []Row, number string, at time.Time) (Row, bool) {
	prefixes := []string{}
	for l := len(number); l > 0; l-- {
		prefixes = append(prefixes, number[:l])
	}
	prefixes = append(prefixes, Wildcard)
	for _, p := range prefixes {
		var latest time.Time
		found := false
		for _, r := range rows {
			if r.Prefix == p && !r.EffectiveFrom.After(at) && (!found || r.EffectiveFrom.After(latest)) {
				latest, found = r.EffectiveFrom, true
			}
		}
		if !found {
			continue
		}
		var def *Row
		for i := range rows {
			r := &rows[i]
			if r.Prefix != p || !r.EffectiveFrom.Equal(latest) {
				continue
			}
			if !r.Week().Timed() {
				def = r
			} else if applies(r.Week(), at) {
				return *r, true
			}
		}
		if def != nil {
			return *def, true
		}
	}
	return Row{}, false
}

// applies is "t falls on one of its days and inside its hours", with a
// window past midnight belonging to the day it started on.
func applies(w Week, t time.Time) bool {
	h, m, _ := t.Clock()
	now := uint16(h*60 + m)
	hours := w.Hours
	if !hours.Set() {
		hours = Hours{0, MinutesPerDay}
	}
	if hours.From < hours.To {
		return w.Days.Has(t.Weekday()) && now >= hours.From && now < hours.To
	}
	return w.Days.Has(t.Weekday()) && now >= hours.From || w.Days.Has((t.Weekday()+6)%7) && now < hours.To
}
