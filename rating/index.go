package rating

import (
	"math"
	"time"
	"unsafe"
)

const alwaysUnix = math.MinInt64

// keyDigits is how many digits a packed key holds: one nibble each.
const keyDigits = 16

// Index is an immutable longest-prefix index over one table's rows. It is
// built once and then only read, so any number of goroutines may use it.
//
// Digit prefixes of up to 16 digits are packed into uint64 keys, one nibble
// per digit (digit+1, so that zero padding sorts a prefix before its
// extensions). The numbers that start with a prefix then form one interval
// of keys, and the intervals of a table nest. The index cuts the key space
// at every interval's start and end into segments whose innermost prefix
// is fixed, so a lookup is one search for the segment that holds the
// number, through a small bucket table on the leading digits, and one read
// of the row. Rows of one prefix that differ in effective_from sit side by
// side, oldest first; a prefix with no row in force yet falls back to its
// parent. Longer prefixes (17–24 digits) sit in a map, "*" apart.
//
// WithPrefix changes the rows of one prefix without a rebuild: the new
// index shares the packed rows and carries the changed prefixes in a
// small overlay (overlay.go).
type Index struct {
	table Table

	entries []entry   // rows by (prefix, effective_from)
	segs    []segment // sorted by start
	dests   []string  // destinations, interned

	depth   int      // leading digits the bucket table covers
	buckets []uint32 // buckets[v]: first segment whose bucket is ≥ v
	step    int      // the largest power of two ≤ the fullest bucket

	long     map[string][]entry // prefixes of 17–24 digits
	longMax  int
	wildcard []entry
	prefixes int

	// The times of every row of a week (entryInWeek rows index it), and
	// the spans of the weeks too large to keep in their header.
	weeks []Week
	spans []span

	over *overlay // prefixes changed since the index was built; nil: none
}

// entry is one row, resolved against the table's defaults, packed into
// one 64-byte cache line: a lookup of a large table touches little else.
//
// A version of a prefix whose rows have times of the week is a block of
// entries: its rows (entryInWeek), then a header (entryHeader), which is
// the version's entry in the chain of versions. The header has no prices
// of its own, so its fields say where its rows are: increment counts them,
// initialIncrement is its default's distance back (0: none), and grace
// the spans of its week kept in the money fields, up to inlineSpans of
// them (spilled: they are in Index.spans, from rate to connectFee). A
// timed lookup then reads the header, its spans in the same cache line,
// and a row a few entries before it; an untimed one is as it was. A row
// of a week keeps its times' index in Index.weeks in parent, which only
// versions use.
type entry struct {
	rate, connectFee, initialRate, minCost, maxCost Amount
	from                                            int64
	parent                                          int32  // latest entry of the parent prefix, or -1
	dest                                            uint32 // destination id << 8 | entry flags | prefix length
	grace, initialIncrement, increment              uint16
	older                                           uint16 // versions of the same prefix before this one
}

// The low byte of entry.dest: the prefix length (at most 24) and flags.
const (
	plenMask     = 0x1f
	entryInWeek  = 0x20 // a row of a week with times, before its header
	entryHeader  = 0x40 // a version with times: its rows are just before it
	entryBlocked = 0x80 // the row is blocked
)

// inlineSpans is how many spans a header holds: its five money fields
// are 40 bytes, and a span packs into 4 (packSpan).
const inlineSpans = 10

// spilled marks a header whose spans are in Index.spans.
const spilled = 0xffff

// inline views a header's money fields as its spans. The five fields are
// consecutive int64s, so the view stays inside the entry.
func (e *entry) inline() *[inlineSpans]uint32 {
	return (*[inlineSpans]uint32)(unsafe.Pointer(&e.rate))
}

// packSpan packs a span whose row is off entries back from its header:
// start and end take 14 bits each (a week has 10080 minutes), off 4.
func packSpan(s span) uint32 { return uint32(s.from)<<18 | uint32(s.to)<<4 | s.row }

// weekRows is how many rows the version at e has: its week's, or 1.
func (e *entry) weekRows() int {
	if e.dest&entryHeader != 0 {
		return int(e.increment)
	}
	return 1
}

// prevVersion is the index of the version before the one at i in es.
func prevVersion(es []entry, i int) int {
	if es[i].dest&entryHeader != 0 {
		return i - 1 - int(es[i].increment)
	}
	return i - 1
}

func (e *entry) plen() int { return int(e.dest & plenMask) }

// segment is a run of keys from start (inclusive) to the next segment's
// start whose innermost prefix's latest entry is e (-1: none). The start
// is split in two halves so that a segment takes 12 bytes, not 16.
type segment struct {
	hi, lo uint32
	e      int32
}

func (s *segment) start() uint64 { return uint64(s.hi)<<32 | uint64(s.lo) }

// packKey packs up to 16 digits, left-aligned, one nibble each.
func packKey(s string) uint64 {
	var k uint64
	for i := 0; i < len(s) && i < keyDigits; i++ {
		k |= uint64(s[i]-'0'+1) << (60 - 4*i)
	}
	return k
}

// keyLen is the number of digits packed in k.
func keyLen(k uint64) int {
	n := 0
	for ; n < keyDigits && k>>(60-4*n)&15 != 0; n++ {
	}
	return n
}

func (x *Index) bucket(k uint64) uint32 {
	var v uint32
	for i := 0; i < x.depth; i++ {
		v = v*11 + uint32(k>>(60-4*i)&15)
	}
	return v
}

// Table returns the settings the index was built with; Rows is its row count.
func (x *Index) Table() Table { return x.table }

// Len returns the number of distinct prefixes, "*" included.
func (x *Index) Len() int { return x.prefixes }

// Lookup finds the rate for a normalised number (digits only) at instant
// at: the longest prefix with a row that applies at at, else "*", else
// false. A row with times of the week is read against at's wall clock in
// at's own location: Rater passes the installation's. It does not
// allocate: Prefix is a slice of number.
func (x *Index) Lookup(number string, at time.Time) (Rate, bool) {
	k := packKey(number)
	w := when{at: at, minute: -1}
	e := x.packed(number, k, &w)
	if x.over != nil && x.over.touches(number, k, e) {
		return x.lookupOver(number, &w)
	}
	if e == nil {
		return Rate{}, false
	}
	if e.dest&entryInWeek != 0 {
		return x.expand(e, number), true
	}
	r := x.rate(e, number)
	r.Blocked = e.dest&entryBlocked != 0
	return r, true
}

// when is the instant of a lookup, read on the wall clock only once a
// version with times is met, and then only once.
type when struct {
	at     time.Time
	minute int32 // of the week; -1 until read
}

func (w *when) ofWeek() uint16 {
	if w.minute < 0 {
		w.minute = int32(minuteOfWeek(w.at))
	}
	return uint16(w.minute)
}

// packed returns the entry of the row that applies at w of the longest
// packed prefix of number, whose key is k, else of "*", else nil. A prefix
// whose version in force has no row for w's time of the week is passed
// over for its parent: its older versions no longer exist.
func (x *Index) packed(number string, k uint64, w *when) *entry {
	t := w.at.Unix()
	for l := min(len(number), x.longMax); l > keyDigits; l-- {
		if vs, ok := x.long[number[:l]]; ok {
			if e := x.apply(vs, pick(vs, t), w); e != nil {
				return e
			}
		}
	}
	for e := x.innermost(k); e >= 0; {
		en := &x.entries[e]
		if en.from <= t {
			if en.dest&entryHeader == 0 {
				return en
			}
			if r := x.inWeek(x.entries, int(e), w); r != nil {
				return r
			}
			e = en.parent
			continue
		}
		if en.older > 0 {
			e = int32(prevVersion(x.entries, int(e)))
		} else {
			e = en.parent
		}
	}
	return x.apply(x.wildcard, pick(x.wildcard, t), w)
}

// apply returns the row of the version at i in es that applies at w: the
// version itself when it has no times, else its week's row; nil when none
// does, or i < 0.
func (x *Index) apply(es []entry, i int, w *when) *entry {
	switch {
	case i < 0:
		return nil
	case es[i].dest&entryHeader == 0:
		return &es[i]
	}
	return x.inWeek(es, i, w)
}

// inWeek returns the row of the week whose header is es[i] that holds w,
// else its default, else nil. The spans are sorted and never overlap, so
// the last one to start at or before w is the only one that may hold it.
func (x *Index) inWeek(es []entry, i int, w *when) *entry {
	h := &es[i]
	m := uint32(w.ofWeek())
	off := 0
	if h.grace != spilled {
		sp := h.inline()
		for j := int(h.grace) - 1; j >= 0; j-- {
			if s := sp[j]; s>>18 <= m {
				if m < s>>4&0x3fff {
					off = int(s & 15)
				}
				break
			}
		}
	} else {
		first, lo, hi := int(h.rate), int(h.rate), int(h.connectFee)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if uint32(x.spans[mid].from) <= m {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo > first && m < uint32(x.spans[lo-1].to) {
			off = int(x.spans[lo-1].row)
		}
	}
	if off == 0 {
		off = int(h.initialIncrement) // the default, if any
	}
	if off == 0 {
		return nil
	}
	return &es[i-off]
}

// innermost returns the latest entry of the longest packed prefix of key
// k, or -1.
func (x *Index) innermost(k uint64) int32 {
	v := x.bucket(k)
	lo, hi := int(x.buckets[v]), int(x.buckets[v+1])
	// Count the bucket's segments that start at or before k, one power of
	// two at a time, the same number of steps for every number: no branch
	// depends on the data, so the CPU never guesses wrong and can run ahead
	// into the next lookup while this one waits on memory. A step past hi
	// reads the bucket's last segment; if even that starts at or before k
	// every step is taken, and the count is cut back to the bucket.
	if hi > lo {
		base := lo
		for step := x.step; step > 0; step >>= 1 {
			if x.segs[min(base+step, hi)-1].start() <= k {
				base += step
			}
		}
		lo = min(base, hi)
	}
	if lo > 0 {
		return x.segs[lo-1].e
	}
	return -1
}

// pick returns the index of the latest version in vs in force at t, or -1.
func pick(vs []entry, t int64) int {
	for i := len(vs) - 1; i >= 0; i = prevVersion(vs, i) {
		if vs[i].from <= t {
			return i
		}
	}
	return -1
}

// rate expands an entry but for its flags (expand); the prefix is the
// first plen digits of number, or "*" for the wildcard, whose plen is 0.
// It is kept within the compiler's budget for inlining into Lookup, which
// it was before weeks and blocked rows, and which an untimed lookup of a
// small table notices.
func (x *Index) rate(e *entry, number string) Rate {
	prefix := Wildcard
	if n := e.plen(); n > 0 {
		prefix = number[:n]
	}
	return Rate{Table: x.table.Name, Prefix: prefix, Destination: x.dests[e.dest>>8],
		Rate: e.rate, ConnectFee: e.connectFee, InitialRate: e.initialRate,
		MinCost: e.minCost, MaxCost: e.maxCost,
		InitialIncrement: int(e.initialIncrement), Increment: int(e.increment), Grace: int(e.grace),
		Decimals: x.table.Decimals, Rounding: x.table.Rounding, EffectiveFrom: e.from}
}

// expand is rate with the entry's flags: blocked, and the times of a row
// of a week.
func (x *Index) expand(e *entry, number string) Rate {
	r := x.rate(e, number)
	r.Blocked = e.dest&entryBlocked != 0
	if e.dest&entryInWeek != 0 {
		w := x.weeks[e.parent]
		r.Days, r.Hours, r.Weekly = w.Days, w.Hours, true
	}
	return r
}

// countRows counts the rows in es: every entry but the headers.
func countRows(es []entry) int {
	n := 0
	for i := range es {
		if es[i].dest&entryHeader == 0 {
			n++
		}
	}
	return n
}

// Bytes is the memory the index holds, for the bytes-per-prefix figure.
func (x *Index) Bytes() int {
	es := int(unsafe.Sizeof(entry{}))
	n := cap(x.entries)*es + cap(x.segs)*int(unsafe.Sizeof(segment{})) + cap(x.buckets)*4
	for _, d := range x.dests {
		n += len(d) + 16
	}
	for p, vs := range x.long {
		n += len(p) + 48 + len(vs)*es
	}
	n += cap(x.spans)*int(unsafe.Sizeof(span{})) + cap(x.weeks)*int(unsafe.Sizeof(Week{}))
	return n + len(x.wildcard)*es + x.over.bytes()
}
