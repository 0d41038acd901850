package rating

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Times of the week (DOMAIN.md "Rate rows"): a row's days and hours say
// when it applies. A row with neither is its week's default.

// Days is a set of weekdays, bit 0 Monday … bit 6 Sunday, the order of
// the European week that decks write (mon-fri, sat,sun). The zero value is
// "not set": every day.
type Days uint8

// AllDays is every day of the week.
const AllDays Days = 1<<7 - 1

var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// MinutesPerDay is the end of a day's window, 24:00.
const MinutesPerDay = 24 * 60

// Hours is a window of the day in minutes since midnight, From included,
// To excluded. To = 1440 is 24:00; To < From runs past midnight, and the
// part after midnight belongs to the day it started on. The zero value is
// "not set": all day. From = To is never a window (ParseHours refuses it),
// so the zero value cannot be mistaken for one.
type Hours struct{ From, To uint16 }

// Set reports whether h is a window rather than "all day".
func (h Hours) Set() bool { return h != Hours{} }

// Week is the times of the week of one row.
type Week struct {
	Days  Days
	Hours Hours
}

// Timed reports whether the row has days or hours: a row without either
// is its week's default.
func (w Week) Timed() bool { return w.Days != 0 || w.Hours.Set() }

// Week returns the row's times of the week.
func (r *Row) Week() Week { return Week{r.Days, r.Hours} }

// String writes the days as ParseDays reads them, in the shortest form: runs of
// three days or more as a range (mon-fri, and fri-mon across the week's
// end), shorter ones day by day (sat,sun). "" for none.
func (d Days) String() string {
	d &= AllDays
	switch d {
	case 0:
		return ""
	case AllDays:
		return "mon-sun"
	}
	// Start on Monday, or, when a run goes on across Sunday night, after
	// the week's last day not in the set, so that the run is one range.
	start := 0
	if d&1 != 0 && d&(1<<6) != 0 {
		for start = 6; d&(1<<start) != 0; start-- {
		}
		start++
	}
	var parts []string
	for i := 0; i < 7; {
		day := (start + i) % 7
		if d&(1<<day) == 0 {
			i++
			continue
		}
		n := 0
		for i+n < 7 && d&(1<<((start+i+n)%7)) != 0 {
			n++
		}
		last := (day + n - 1) % 7
		switch n {
		case 1:
			parts = append(parts, dayNames[day])
		case 2:
			parts = append(parts, dayNames[day], dayNames[last])
		default:
			parts = append(parts, dayNames[day]+"-"+dayNames[last])
		}
		i += n
	}
	return strings.Join(parts, ",")
}

// Has reports whether the set holds weekday w (Go's, Sunday 0).
func (d Days) Has(w time.Weekday) bool {
	return d == 0 || d&(1<<((int(w)+6)%7)) != 0
}

// MarshalText writes the days as a deck does.
func (d Days) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the days as a deck's cell is read.
func (d *Days) UnmarshalText(b []byte) (err error) {
	*d, err = ParseDays(string(b))
	return err
}

// MarshalText writes the window as a deck does.
func (h Hours) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads the window as a deck's cell is read.
func (h *Hours) UnmarshalText(b []byte) (err error) {
	*h, err = ParseHours(string(b))
	return err
}

// String writes the window as HH:MM-HH:MM, "" for none.
func (h Hours) String() string {
	if !h.Set() {
		return ""
	}
	return clock(h.From) + "-" + clock(h.To)
}

func clock(m uint16) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// String writes the week as the admin shows it: "mon-fri 08:00-18:00",
// "sat,sun", "18:00-08:00", or "" for a default.
func (w Week) String() string {
	return strings.TrimSpace(w.Days.String() + " " + w.Hours.String())
}

// ParseDays reads a days cell: day names (mon…sun, or written out in
// full), comma-separated, with ranges (mon-fri) that may run across the
// week's end (fri-mon is fri,sat,sun,mon), and the words weekdays
// (mon-fri) and weekend (sat,sun). Case and spaces do not matter; "" is
// "not set". Numbers are refused: decks count weekdays from Sunday or
// from Monday, and a guess would price the wrong day.
func ParseDays(s string) (Days, error) {
	d, msg := parseDays(s)
	if msg != "" {
		return 0, Invalidf("days", "days %s: %s", Excerpt(s), msg)
	}
	return d, nil
}

// parseDays is ParseDays, saying what is wrong for a deck's message.
func parseDays(s string) (Days, string) {
	if strings.TrimSpace(s) == "" {
		return 0, ""
	}
	var d Days
	for _, part := range strings.Split(strings.ToLower(s), ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "weekdays":
			d |= 0b0011111
			continue
		case "weekend", "weekends":
			d |= 0b1100000
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		from, ok := parseDay(strings.TrimSpace(a))
		to := from
		if ok && isRange {
			to, ok = parseDay(strings.TrimSpace(b))
		}
		if !ok {
			return 0, "want mon…sun, comma-separated, or a range such as mon-fri"
		}
		for i := from; ; i = (i + 1) % 7 {
			d |= 1 << i
			if i == to {
				break
			}
		}
	}
	return d, ""
}

// parseDay reads mon…sun, or the day's full name.
func parseDay(s string) (int, bool) {
	for i, n := range dayNames {
		if s == n || s == strings.ToLower(time.Weekday((i+1)%7).String()) {
			return i, true
		}
	}
	return 0, false
}

// ParseHours reads an hours cell: HH:MM-HH:MM in the installation's
// zone, start included, end excluded; 00:00-24:00 is the whole day, and a
// window whose end comes before its start runs past midnight
// (18:00-08:00). "" is "not set". A window that starts where it ends is
// refused: it would be empty, or the whole day written ambiguously.
func ParseHours(s string) (Hours, error) {
	h, msg := parseHours(s)
	if msg != "" {
		return Hours{}, Invalidf("hours", "hours %s: %s", Excerpt(s), msg)
	}
	return h, nil
}

// parseHours is ParseHours, saying what is wrong for a deck's message.
func parseHours(s string) (Hours, string) {
	if strings.TrimSpace(s) == "" {
		return Hours{}, ""
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Hours{}, "want HH:MM-HH:MM, such as 08:00-18:00"
	}
	return window(strings.TrimSpace(a), strings.TrimSpace(b))
}

// window reads a window's start and end, as the hours column or the
// time_from and time_to columns give them.
func window(a, b string) (Hours, string) {
	from, okA := parseClock(a)
	to, okB := parseClock(b)
	switch {
	case !okA || !okB:
		return Hours{}, "want HH:MM-HH:MM, such as 08:00-18:00"
	case from == MinutesPerDay:
		return Hours{}, "a window starts at 23:59 at the latest"
	case from == to:
		return Hours{}, "starts where it ends; 00:00-24:00 is the whole day"
	}
	return Hours{from, to}, ""
}

// parseClock reads one time of day, HH:MM (or H:MM, or HH:MM:00 as some
// decks write it), 00:00 to 24:00, in minutes.
func parseClock(s string) (uint16, bool) {
	parts := strings.Split(s, ":")
	if len(parts) == 3 && parts[2] == "00" {
		parts = parts[:2]
	}
	if len(parts) != 2 {
		return 0, false
	}
	h, m := parts[0], parts[1]
	if len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || hh == 24 && mm != 0 {
		return 0, false
	}
	return uint16(hh*60 + mm), true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseBlocked reads a blocked cell: true or false ("" is false), and
// the yes/no and 1/0 that spreadsheets write for them.
func parseBlocked(s string) (bool, string) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, ""
	case "", "false", "no", "0":
		return false, ""
	}
	return false, "want true or false"
}

// span is one stretch of the week, in minutes since Monday 00:00, From
// included, To excluded, that one row of a week covers. A row covers one
// span a day, two for a window past midnight.
type span struct {
	from, to uint16
	row      uint32 // the row's index in its week
}

// appendSpans appends the spans that week w covers, each naming row. A
// default (untimed) week covers none.
func appendSpans(dst []span, w Week, row uint32) []span {
	if !w.Timed() {
		return dst
	}
	days, h := w.Days, w.Hours
	if days == 0 {
		days = AllDays
	}
	if !h.Set() {
		h = Hours{0, MinutesPerDay}
	}
	for d := uint16(0); d < 7; d++ {
		if days&(1<<d) == 0 {
			continue
		}
		base := d * MinutesPerDay
		if h.From < h.To {
			dst = append(dst, span{base + h.From, base + h.To, row})
			continue
		}
		// Past midnight: the rest of the day, then the next morning, which
		// after Sunday is Monday's.
		dst = append(dst, span{base + h.From, base + MinutesPerDay, row})
		if h.To > 0 {
			next := (d + 1) % 7 * MinutesPerDay
			dst = append(dst, span{next, next + h.To, row})
		}
	}
	return dst
}

// sortSpans sorts spans by start.
func sortSpans(s []span) {
	slices.SortFunc(s, func(a, b span) int { return int(a.from) - int(b.from) })
}

// weekConflict finds two rows of one week that cannot stand together
// (DOMAIN.md): two defaults, or two timed rows whose times overlap. It
// returns their indexes in ws, a < b, or -1, -1. spans is scratch space.
func weekConflict(ws []Week, spans []span) (a, b int, _ []span) {
	def := -1
	spans = spans[:0]
	for i, w := range ws {
		if !w.Timed() {
			if def >= 0 {
				return def, i, spans
			}
			def = i
		}
		spans = appendSpans(spans, w, uint32(i))
	}
	sortSpans(spans)
	reach := -1 // the span reaching furthest so far
	for i := range spans {
		if reach >= 0 && spans[i].from < spans[reach].to {
			x, y := int(spans[reach].row), int(spans[i].row)
			return min(x, y), max(x, y), spans
		}
		if reach < 0 || spans[i].to > spans[reach].to {
			reach = i
		}
	}
	return -1, -1, spans
}

// weekSet gathers the rows of one week one at a time, to tell each row
// that clashes with one gathered before it: a deck names every bad line,
// not one a week.
type weekSet struct {
	spans []span // gathered, sorted, never overlapping
	def   int    // the default's row, -1 for none
	mine  []span // scratch
}

func (ws *weekSet) reset() { ws.spans, ws.def = ws.spans[:0], -1 }

// add gathers week w as row and returns -1, or leaves it out and returns
// the gathered row it clashes with.
func (ws *weekSet) add(w Week, row int) int {
	if !w.Timed() {
		if ws.def >= 0 {
			return ws.def
		}
		ws.def = row
		return -1
	}
	ws.mine = appendSpans(ws.mine[:0], w, uint32(row))
	for _, m := range ws.mine {
		// The first gathered span that ends after m starts; being sorted
		// and apart, the spans end in order too.
		i := sort.Search(len(ws.spans), func(i int) bool { return ws.spans[i].to > m.from })
		if i < len(ws.spans) && ws.spans[i].from < m.to {
			return int(ws.spans[i].row)
		}
	}
	for _, m := range ws.mine {
		i, _ := slices.BinarySearchFunc(ws.spans, m.from, func(s span, t uint16) int { return int(s.from) - int(t) })
		ws.spans = slices.Insert(ws.spans, i, m)
	}
	return -1
}

// CheckWeek checks the rows of one prefix and effective_from, its week:
// at most one default, and no two timed rows whose times overlap. The
// error names the prefix, the version and both rows' times.
func CheckWeek(rows []Row) error {
	if len(rows) < 2 {
		return nil
	}
	ws := make([]Week, len(rows))
	for i := range rows {
		ws[i] = rows[i].Week()
	}
	a, b, _ := weekConflict(ws, nil)
	if a < 0 {
		return nil
	}
	return Invalidf("days", "%s: %s", rows[b].Key(), conflictWhy(ws[a], ws[b]))
}

// conflictWhy says why the row of week b cannot join the row of week a.
func conflictWhy(a, b Week) string {
	if !a.Timed() && !b.Timed() {
		return "a second row without days or hours; a week has one default"
	}
	return fmt.Sprintf("days/hours %s overlap the row of %s", describe(b), describe(a))
}

// describe names a timed week for a message, with what "not set" means.
func describe(w Week) string {
	days, hours := w.Days.String(), w.Hours.String()
	if days == "" {
		days = "every day"
	}
	if hours == "" {
		hours = "all day"
	}
	return days + " " + hours
}

// CheckWeeks checks every week of rows sorted in the store's order
// (prefix, effective_from, then times): each run of one prefix and
// effective_from goes through CheckWeek.
func CheckWeeks(rows []Row) error {
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].Prefix == rows[i].Prefix && rows[j].EffectiveFrom.Equal(rows[i].EffectiveFrom) {
			j++
		}
		if err := CheckWeek(rows[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// minuteOfWeek reads at in its own location: minutes since Monday 00:00
// of the wall clock. A wall-clock time that a daylight-saving change skips
// never comes; one that it repeats comes twice.
func minuteOfWeek(at time.Time) uint16 {
	h, m, _ := at.Clock()
	return uint16((int(at.Weekday())+6)%7*MinutesPerDay + h*60 + m)
}
