package rating

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ParseRatesChunks reads a rate deck as ParseRates does, but hands the
// valid rows to fn in chunks of up to chunk rows, in file order, as it
// goes, so that a deck of a million rows is never held whole. It returns
// how many rows fn got, or the error ParseRates would return for the same
// deck.
//
// A chunk is only a candidate: the deck stands or falls as a whole, and
// duplicates are only known at the end, so the caller must keep what fn
// got aside until ParseRatesChunks returns nil. Once a problem is found fn
// is not called any more. The chunk's slice is the parser's again once fn
// returns, to fill with the next rows: fn must copy the rows it keeps
// (their strings stay valid). An error from fn stops the parse and is
// returned as it is.
func ParseRatesChunks(r io.Reader, t Table, loc *time.Location, chunk int, fn func([]Row) error) (int, error) {
	return parseRates(r, t, loc, chunk, false, fn)
}

// parseRates is ParseRatesChunks; with fresh set, every chunk is a slice
// of its own that fn may keep.
func parseRates(r io.Reader, t Table, loc *time.Location, chunk int, fresh bool, fn func([]Row) error) (int, error) {
	if loc == nil {
		loc = time.UTC
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, _ := br.Peek(br.Size())
	s := newSplitter(br, detectComma(head))
	p := &rateParser{t: t, loc: loc, decimalComma: s.comma == ';' || s.comma == '\t',
		dests: []string{""}, destID: map[string]uint32{"": 0}, longs: []string{""},
		chunk: max(chunk, 1), fresh: fresh, fn: fn, text: &strings.Builder{}}
	for c := range p.names {
		p.names[c] = columnName(c)
	}
	for p.fnErr == nil {
		rec, bad, err := s.next()
		switch {
		case err != nil:
			return 0, err
		case bad != "":
			if p.fail(s.start, -1, "%s", bad); p.cols == nil {
				return 0, p.err()
			}
		case rec == nil:
			if p.cols == nil {
				return 0, Errorf(EInvalid, "empty CSV: a header row is required")
			}
			return p.finish()
		case blankRecord(rec):
		case p.cols == nil:
			if !p.header(rec, s.start) {
				return 0, p.err()
			}
		default:
			p.row(rec, s.start)
		}
	}
	return 0, p.fnErr
}

// keep adds a valid row: its duplicate-check key for the end, the row to
// the chunk being filled, which goes to fn when full.
func (p *rateParser) keep(s *slot) {
	if p.n%keyChunk == 0 {
		p.keys = append(p.keys, make([]dupKey, 0, keyChunk))
	}
	p.keys[len(p.keys)-1] = append(p.keys[len(p.keys)-1], s.dupKey)
	p.n++
	if p.nerr > 0 {
		return // the deck is rejected: the rows are of no use
	}
	if p.rows == nil {
		p.rows = make([]Row, 0, min(p.chunk, 1<<16))
	}
	p.rows = append(p.rows, Row{})
	p.fill(&p.rows[len(p.rows)-1], s)
	if len(p.rows) >= p.chunk {
		p.flush()
	}
}

// keyChunk is how many duplicate-check keys one allocation holds.
const keyChunk = 8192

// fill sets r, a zero row, from s. Field by field: copying whole Rows
// would run the collector's bulk barrier over every one.
func (p *rateParser) fill(r *Row, s *slot) {
	if n := len(p.rows); n > 1 && p.samePrefix(&s.dupKey, &p.last) {
		r.Prefix = p.rows[n-2].Prefix
	} else {
		r.Prefix = p.prefix(&s.dupKey, p.text)
	}
	p.last = s.dupKey
	if s.dest != 0 {
		r.Destination = p.dests[s.dest]
	}
	r.Rate, r.ConnectFee, r.InitialRate, r.MinCost, r.MaxCost = s.rate, s.connectFee, s.initialRate, s.minCost, s.maxCost
	r.InitialIncrement, r.Increment, r.Grace = int(s.initialIncrement), int(s.increment), int(s.grace)
	if s.from != alwaysUnix {
		r.EffectiveFrom = time.Unix(s.from, 0).UTC()
	}
	w := WeekFromKey(s.week)
	r.Days, r.Hours, r.Blocked = w.Days, w.Hours, s.blocked
}

// flush hands the chunk being filled to fn and starts the next one. The
// prefixes of the next chunk go to a new builder: a builder's bytes never
// change, but Reset would let the next chunk's overwrite them.
func (p *rateParser) flush() {
	if len(p.rows) == 0 || p.nerr > 0 {
		return
	}
	if p.fnErr = p.fn(p.rows); p.fresh {
		p.rows = nil
	} else {
		clear(p.rows)
		p.rows = p.rows[:0]
	}
	p.text = &strings.Builder{}
}

// finish reports duplicates, then hands over the last chunk.
func (p *rateParser) finish() (int, error) {
	if p.duplicates(); p.nerr > 0 {
		return 0, p.err()
	}
	if p.flush(); p.fnErr != nil {
		return 0, p.fnErr
	}
	return p.n, nil
}

// duplicates reports the rows that cannot stand beside an earlier row of
// the same prefix and effective_from, naming that row's line: a second
// default (or the same times twice) is a duplicate, timed rows whose times
// overlap are an overlap (DOMAIN.md "Times of the week"). Sorting a
// million rows would cost more than the rest of the parse, so a bitmap of
// hashes picks out the rows that may share a version with another, and
// only those go through a map.
func (p *rateParser) duplicates() {
	size := uint64(64)
	for size < 16*uint64(p.n) {
		size *= 2
	}
	once, twice := make([]uint64, size/64), make([]uint64, size/64)
	bit := func(s *dupKey) (int, uint64) {
		h := s.key ^ uint64(s.from)*0x9e3779b97f4a7c15 // splitmix64's mixer
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h = (h ^ h>>31) & (size - 1)
		return int(h / 64), 1 << (h % 64)
	}
	for _, c := range p.keys {
		for i := range c {
			w, b := bit(&c[i])
			twice[w] |= once[w] & b
			once[w] |= b
		}
	}
	// The rows that may share a version with another, by their place
	// among the keys, sorted by version and then line, so that each
	// version's rows come together: a sort of indexes, not a map of
	// slices, which cost twice the parse when a third of a deck is timed.
	var cands []uint32
	for ci, c := range p.keys {
		for i := range c {
			if w, b := bit(&c[i]); twice[w]&b != 0 {
				cands = append(cands, uint32(ci*keyChunk+i))
			}
		}
	}
	at := func(i uint32) *dupKey { return &p.keys[i/keyChunk][i%keyChunk] }
	version := func(a, b *dupKey) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.from, b.from); c != 0 {
			return c
		}
		return strings.Compare(p.longs[a.long], p.longs[b.long])
	}
	slices.SortFunc(cands, func(a, b uint32) int {
		if c := version(at(a), at(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // the keys are in line order
	})
	// Each clash is kept as two indexes, and only the first 100 by line
	// are written out: a deck of a million copies of one row must not
	// make a million messages.
	type clash struct{ row, first uint32 }
	var clashes []clash
	ws := weekSet{}
	for lo := 0; lo < len(cands); {
		hi := lo + 1
		for hi < len(cands) && version(at(cands[lo]), at(cands[hi])) == 0 {
			hi++
		}
		rows := cands[lo:hi]
		lo = hi
		if len(rows) < 2 {
			continue
		}
		ws.reset()
		for i, ri := range rows {
			if j := ws.add(WeekFromKey(at(ri).week), i); j >= 0 {
				clashes = append(clashes, clash{ri, rows[j]})
			}
		}
	}
	slices.SortFunc(clashes, func(a, b clash) int { return cmp.Compare(a.row, b.row) })
	var dups []LineError
	for _, c := range clashes[:min(len(clashes), 100)] {
		s, first := at(c.row), at(c.first)
		from := "always"
		if s.from != alwaysUnix {
			from = time.Unix(s.from, 0).In(p.loc).Format(time.RFC3339)
		}
		var sb strings.Builder
		msg := fmt.Sprintf("duplicate of line %d: prefix %s, effective_from %s", first.line, p.prefix(s, &sb), from)
		column := "prefix"
		if s.week != first.week {
			msg = fmt.Sprintf("prefix %s, effective_from %s: %s on line %d", p.prefix(s, &sb), from,
				conflictWhy(WeekFromKey(first.week), WeekFromKey(s.week)), first.line)
			column = "days"
		} else if s.week != 0 {
			msg += ", the same days and hours"
		}
		dups = append(dups, LineError{Line: int(s.line), Column: column, Message: msg})
	}
	if len(clashes) > 0 {
		// Keep the first 100 problems by line, wherever they were found.
		p.nerr += len(clashes)
		p.errs = append(p.errs, dups...)
		slices.SortStableFunc(p.errs, func(a, b LineError) int { return a.Line - b.Line })
		p.errs = p.errs[:min(len(p.errs), 100)]
	}
}
