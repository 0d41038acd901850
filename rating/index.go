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

	over *overlay // prefixes changed since the index was built; nil: none
}

// entry is one row, resolved against the table's defaults, packed into
// one 64-byte cache line: a lookup of a large table touches little else.
type entry struct {
	rate, connectFee, initialRate, minCost, maxCost Amount
	from                                            int64
	parent                                          int32  // latest entry of the parent prefix, or -1
	dest                                            uint32 // destination id << 8 | prefix length
	grace, initialIncrement, increment              uint16
	older                                           uint16 // rows of the same prefix before this one
}

func (e *entry) plen() int { return int(e.dest & 0xff) }

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
// at: the longest prefix with a row in force, else "*", else false. It does
// not allocate: Prefix is a slice of number.
func (x *Index) Lookup(number string, at time.Time) (Rate, bool) {
	k := packKey(number)
	e := x.packed(number, k, at.Unix())
	if x.over != nil && x.over.touches(number, k, e) {
		return x.lookupOver(number, at)
	}
	if e == nil {
		return Rate{}, false
	}
	return x.rate(e, number), true
}

// packed returns the entry of the longest packed prefix of number, whose
// key is k, with a row in force at t, else of "*", else nil.
func (x *Index) packed(number string, k uint64, t int64) *entry {
	for l := min(len(number), x.longMax); l > keyDigits; l-- {
		if vs, ok := x.long[number[:l]]; ok {
			if e := pick(vs, t); e != nil {
				return e
			}
		}
	}
	for e := x.innermost(k); e >= 0; {
		en := &x.entries[e]
		if en.from <= t {
			return en
		}
		if en.older > 0 {
			e--
		} else {
			e = en.parent
		}
	}
	return pick(x.wildcard, t)
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

// pick returns the latest version in force at t, or nil.
func pick(vs []entry, t int64) *entry {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].from <= t {
			return &vs[i]
		}
	}
	return nil
}

// rate expands an entry; the prefix is the first plen digits of number,
// or "*" for the wildcard, whose plen is 0.
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
	return n + len(x.wildcard)*es + x.over.bytes()
}
