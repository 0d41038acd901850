package rating

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The columns of a rate deck, in the order RateWriter writes them.
const (
	colPrefix = iota
	colDestination
	colRate
	colConnectFee
	colInitialIncrement
	colIncrement
	colInitialRate
	colGrace
	colMinCost
	colMaxCost
	colEffectiveFrom
	colDays
	colHours
	colBlocked
	// The columns after these are read, never written: time_from and
	// time_to are a carrier's way of writing hours.
	colTimeFrom
	colTimeTo
	numColumns
)

// numWritten is how many columns RateWriter writes.
const numWritten = colTimeFrom

// rateAliases names each column, in column order, then its aliases.
const rateAliases = "prefix code dialprefix;destination description country;rate cost price;" +
	"connect_fee setup connection_cost;initial_increment initblock;increment billingblock;" +
	"initial_rate;grace;min_cost;max_cost;effective_from effective_date;" +
	"days weekdays;hours;blocked;time_from;time_to"

// rateColumn maps a lower-cased header name to its column, or -1.
func rateColumn(name string) int {
	for c, names := range strings.Split(rateAliases, ";") {
		if slices.Contains(strings.Fields(names), name) {
			return c
		}
	}
	return -1
}

// columnName is the canonical name of column c.
func columnName(c int) string { return strings.Fields(strings.Split(rateAliases, ";")[c])[0] }

// columnList lists the names a header may use, for error messages.
func columnList() string {
	groups := strings.Split(rateAliases, ";")
	for c, g := range groups {
		if name, aliases, ok := strings.Cut(g, " "); ok {
			groups[c] = name + " (or " + strings.ReplaceAll(aliases, " ", ", ") + ")"
		}
	}
	return strings.Join(groups, ", ")
}

// ParseRates reads a CSV rate deck (API.md "Rate CSV") for table t. Dates
// without a time are midnight in loc. It returns every row, or an *Error
// with code EInvalid whose Lines list up to 100 problems with line numbers.
//
// A deck is all or nothing, so that a typo never prices calls silently;
// scanning goes on after a problem to list the others. Rows come in file
// order, every cell trimmed of spaces, a destination without the quote
// that an export puts before a formula (CSVCell), effective_from in UTC.
// Errors from r itself are returned as they are. ParseRatesChunks reads
// the same decks without holding every row.
func ParseRates(r io.Reader, t Table, loc *time.Location) ([]Row, error) {
	// Chunks are kept and joined once at the end: appending to one slice
	// would copy a million rows again and again as it grew.
	var chunks [][]Row
	n, err := parseRates(r, t, loc, 8192, true, func(chunk []Row) error {
		chunks = append(chunks, chunk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, n)
	for i, c := range chunks {
		rows = append(rows, c...)
		chunks[i] = nil // the collector may take it back at once
	}
	return rows, nil
}

// detectComma picks the delimiter that occurs most often, outside quotes,
// in the first line that has more than spaces and delimiters; ties go to
// the earlier of , ; tab |.
func detectComma(b []byte) byte {
	const delims = ",;\t|"
	var line []byte
	for len(b) > 0 && len(bytes.Trim(line, " \r"+delims)) == 0 {
		line, b, _ = bytes.Cut(b, []byte{'\n'})
	}
	var n [len(delims)]int
	quoted := false
	for _, c := range line {
		if c == '"' {
			quoted = !quoted
		} else if i := strings.IndexByte(delims, c); i >= 0 && !quoted {
			n[i]++
		}
	}
	best := 0
	for i := range n {
		if n[i] > n[best] {
			best = i
		}
	}
	return delims[best]
}

// blankRecord reports a line of nothing but spaces and delimiters, as
// spreadsheets leave at the end of an export.
func blankRecord(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// rateParser holds the state of one ParseRatesChunks call.
type rateParser struct {
	t            Table
	loc          *time.Location
	decimalComma bool
	cols         []int // file column → col*
	names        [numColumns]string

	// What the file-wide duplicate check needs of every valid row is kept
	// in chunks, not in a slice that append would copy again and again as
	// a million rows come in; the rows themselves only until fn has them.
	keys   [][]dupKey
	n      int
	rows   []Row // the chunk being filled
	text   *strings.Builder
	chunk  int
	fresh  bool // a new slice for each chunk
	fn     func([]Row) error
	fnErr  error
	last   dupKey   // of the row before, to share its prefix
	longs  []string // digits after the 16th of long prefixes; longs[0] is ""
	dests  []string // interned destinations; dests[0] is ""
	destID map[string]uint32
	// One-entry caches of the cells decks repeat: dates, days, hours.
	date  lastCell[time.Time]
	days  lastCell[Days]
	hours lastCell[Hours]

	nerr int
	errs []LineError
}

// slot is a valid row as the parser packs it: the prefix as the index
// packs it (packKey; "*" is 0), the destination as an interned id.
type slot struct {
	dupKey
	rate, connectFee, initialRate, minCost, maxCost Amount
	dest                                            uint32
	initialIncrement, increment, grace              int32
	blocked                                         bool
}

// dupKey is what the duplicate check keeps of each row until the end: 32
// bytes and no pointers, so the collector never scans a million of them,
// and the check hashes integers. week is the row's times (Week.order).
type dupKey struct {
	key              uint64
	from             int64
	long, line, week uint32
}

// fail records a problem; col is -1 for one not about a cell.
func (p *rateParser) fail(line, col int, format string, args ...any) {
	if p.nerr++; len(p.errs) < 100 {
		e := LineError{Line: line, Message: fmt.Sprintf(format, args...)}
		if col >= 0 {
			e.Column = p.names[col]
		}
		p.errs = append(p.errs, e)
	}
}

func (p *rateParser) err() error {
	first, noun, at := p.errs[0], "errors", ""
	if p.nerr == 1 {
		noun = "error"
	}
	if first.Column != "" {
		at = ", column " + first.Column
	}
	return &Error{Code: EInvalid, Lines: p.errs, Message: fmt.Sprintf("%d %s in rate CSV; first: line %d%s: %s",
		p.nerr, noun, first.Line, at, first.Message)}
}

// header maps the file's columns, reporting every unknown or repeated one.
func (p *rateParser) header(rec []string, line int) bool {
	p.cols = make([]int, len(rec))
	var seen [numColumns]string
	for i, h := range rec {
		c := rateColumn(strings.ToLower(strings.TrimSpace(h)))
		switch {
		case c < 0:
			p.fail(line, -1, "unknown column %s (column %d); the columns are %s", Excerpt(h), i+1, columnList())
		case seen[c] != "":
			p.fail(line, c, "column %s given twice, as %s and %s", p.names[c], Excerpt(seen[c]), Excerpt(h))
		default:
			seen[c] = h
		}
		p.cols[i] = c
	}
	for _, c := range []int{colPrefix, colRate} {
		if seen[c] == "" {
			p.fail(line, c, "missing column %s; the columns are %s", p.names[c], columnList())
		}
	}
	switch from, to := seen[colTimeFrom] != "", seen[colTimeTo] != ""; {
	case (from || to) && seen[colHours] != "":
		p.fail(line, colHours, "columns hours and time_from/time_to both give the hours; keep one")
	case from && !to:
		p.fail(line, colTimeFrom, "column time_from needs a column time_to")
	case to && !from:
		p.fail(line, colTimeTo, "column time_to needs a column time_from")
	}
	return p.nerr == 0
}

// row parses one record, keeps it if valid, and reports each bad cell.
func (p *rateParser) row(rec []string, line int) {
	if len(rec) != len(p.cols) {
		p.fail(line, -1, "%d cells, but the header has %d columns", len(rec), len(p.cols))
		return
	}
	row, bad := NewRow("", NoAmount), false
	var timeFrom, timeTo string
	for i, cell := range rec {
		if cell = strings.TrimSpace(cell); cell == "" {
			continue // the default
		}
		var msg string
		switch c := p.cols[i]; c {
		case colPrefix:
			row.Prefix = cell
		case colDestination:
			row.Destination = fromCSVCell(cell) // the quote of an export
		case colEffectiveFrom:
			row.EffectiveFrom, msg = p.instant(cell)
		case colInitialIncrement:
			row.InitialIncrement, msg = parseSeconds(cell)
		case colIncrement:
			row.Increment, msg = parseSeconds(cell)
		case colGrace:
			row.Grace, msg = parseSeconds(cell)
		case colRate:
			row.Rate, msg = p.money(cell)
		case colConnectFee:
			row.ConnectFee, msg = p.money(cell)
		case colInitialRate:
			row.InitialRate, msg = p.money(cell)
		case colMinCost:
			row.MinCost, msg = p.money(cell)
		case colMaxCost:
			row.MaxCost, msg = p.money(cell)
		case colDays:
			row.Days, msg = p.days.get(cell, parseDays)
		case colHours:
			row.Hours, msg = p.hours.get(cell, parseHours)
		case colBlocked:
			row.Blocked, msg = parseBlocked(cell)
		case colTimeFrom:
			timeFrom = cell
		case colTimeTo:
			timeTo = cell
		}
		if msg != "" {
			bad = true
			p.fail(line, p.cols[i], "%s %s: %s", p.names[p.cols[i]], Excerpt(cell), msg)
		}
	}
	if timeFrom != "" || timeTo != "" {
		var msg string
		if row.Hours, msg = window(timeFrom, timeTo); msg != "" {
			bad = true
			p.fail(line, colTimeFrom, "time_from %s, time_to %s: %s", Excerpt(timeFrom), Excerpt(timeTo), msg)
		}
	}
	if bad {
		// The prefix too, so that a form shows every field's error at
		// once; the rest of Validate needs the cells that failed.
		if err := ValidatePrefix(row.Prefix); err != nil {
			p.fail(line, colPrefix, "%s", ErrorMessage(err))
		}
		return
	}
	if err := row.Validate(p.t.Decimals); err != nil {
		// Validate's messages start with the field they are about.
		msg := ErrorMessage(err)
		field, _, _ := strings.Cut(msg, " ")
		p.fail(line, slices.Index(p.names[:], strings.TrimSuffix(field, ":")), "%s", msg)
		return
	}
	s := slot{dupKey: dupKey{from: alwaysUnix, line: uint32(line)}, rate: row.Rate, connectFee: row.ConnectFee, initialRate: row.InitialRate,
		minCost: row.MinCost, maxCost: row.MaxCost, initialIncrement: int32(row.InitialIncrement),
		increment: int32(row.Increment), grace: int32(row.Grace), blocked: row.Blocked}
	s.week = row.Week().Key()
	if row.Prefix != Wildcard {
		s.key = packKey(row.Prefix)
	}
	if len(row.Prefix) > keyDigits {
		s.long = uint32(len(p.longs))
		p.longs = append(p.longs, strings.Clone(row.Prefix[keyDigits:]))
	}
	if !row.EffectiveFrom.IsZero() {
		s.from = row.EffectiveFrom.Unix()
	}
	id, ok := p.destID[row.Destination]
	if !ok {
		id = uint32(len(p.dests))
		p.dests = append(p.dests, strings.Clone(row.Destination))
		p.destID[p.dests[id]] = id
	}
	s.dest = id
	p.keep(&s)
}

// money parses a price; a decimal comma is only unambiguous when the
// delimiter is not a comma.
func (p *rateParser) money(s string) (Amount, string) {
	sep := byte('.')
	if p.decimalComma && strings.IndexByte(s, ',') >= 0 {
		sep = ','
	}
	v, msg := parseAmount(s, sep)
	if msg != "" {
		return NoAmount, msg
	}
	return v, ""
}

// parseSeconds parses a whole number of seconds; Validate checks the
// upper bound. A negative one is refused here: a Row holds -1 for "the
// table's default", which only an empty cell means.
func parseSeconds(s string) (int, string) {
	v, err := strconv.Atoi(s)
	switch {
	case err != nil || v < -1e9 || v > 1e9:
		return -1, "not a whole number of seconds"
	case v < 0:
		return -1, "must not be negative"
	}
	return v, ""
}

// lastCell remembers the last cell a parse accepted, and its value.
type lastCell[T any] struct {
	cell string
	v    T
}

// get parses s with parse, or answers the remembered value when s is the
// last cell accepted.
func (c *lastCell[T]) get(s string, parse func(string) (T, string)) (T, string) {
	if s == c.cell && s != "" {
		return c.v, ""
	}
	v, msg := parse(s)
	if msg == "" {
		c.cell, c.v = strings.Clone(s), v
	}
	return v, msg
}

// instant parses effective_from in the deck's zone.
func (p *rateParser) instant(s string) (time.Time, string) {
	return p.date.get(s, func(s string) (time.Time, string) { return parseInstant(s, p.loc) })
}

// ParseEffectiveFrom parses an effective_from as a deck's cell is read:
// RFC 3339, or YYYY-MM-DD for the first instant of that day in loc; the
// instant is in UTC. The error names the field and the value.
func ParseEffectiveFrom(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, msg := parseInstant(s, loc)
	if msg != "" {
		return t, Invalidf("effective_from", "effective_from %s: %s", Excerpt(s), msg)
	}
	return t, nil
}

// parseInstant parses an effective_from, or says what is wrong with it.
// Whole seconds only, as the index keeps Unix seconds; instants in the
// years 1800–9999 UTC, so that a typo such as 0225 is caught and
// RateWriter can write every instant back.
func parseInstant(s string, loc *time.Location) (time.Time, string) {
	var t time.Time
	var err error
	if len(s) == len(time.DateOnly) {
		t, err = ParseDate(s, loc)
	} else {
		t, err = time.Parse(time.RFC3339, s)
	}
	switch t = t.UTC(); {
	case err != nil:
		return time.Time{}, "want RFC 3339 (2025-07-01T00:00:00Z) or YYYY-MM-DD"
	case t.Nanosecond() != 0:
		return time.Time{}, "fractions of a second are not supported"
	case t.Year() < 1800 || t.Year() > 9999:
		return time.Time{}, "out of range: years 1800 to 9999"
	}
	return t, ""
}

func (p *rateParser) samePrefix(a, b *dupKey) bool {
	return a.key == b.key && p.longs[a.long] == p.longs[b.long]
}

// prefix unpacks s's prefix onto text and returns it. Bytes written to a
// strings.Builder never change, so the strings stay valid as it grows.
func (p *rateParser) prefix(s *dupKey, text *strings.Builder) string {
	if s.key == 0 {
		return Wildcard
	}
	n := text.Len()
	for i := 0; i < keyDigits && s.key<<(4*i) != 0; i++ {
		text.WriteByte(byte('0' + s.key>>(60-4*i)&0xf - 1))
	}
	text.WriteString(p.longs[s.long])
	return text.String()[n:]
}
