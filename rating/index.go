package rating

import (
	"math"
	"slices"
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
type Index struct {
	table Table

	entries []entry   // rows by (prefix, effective_from)
	segs    []segment // sorted by start
	dests   []string  // destinations, interned

	depth   int      // leading digits the bucket table covers
	buckets []uint32 // buckets[v]: first segment whose bucket is ≥ v

	long     map[string][]entry // prefixes of 17–24 digits
	longMax  int
	wildcard []entry
	prefixes int
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

// NewIndex builds the index of table t from rows. Rows sorted by prefix,
// then effective_from (the store's order) are used as they are; any other
// order is sorted first.
func NewIndex(t Table, rows []Row) *Index {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	less := func(a, b int32) int { return compareRows(&rows[a], &rows[b]) }
	if !slices.IsSortedFunc(order, less) {
		slices.SortStableFunc(order, less)
	}
	b := NewIndexBuilder(t, len(rows))
	for _, ri := range order {
		b.Add(&rows[ri])
	}
	return b.Build()
}

// compareRows orders rows by prefix, then effective_from: the store's order.
func compareRows(a, b *Row) int {
	if a.Prefix != b.Prefix {
		if a.Prefix < b.Prefix {
			return -1
		}
		return 1
	}
	return a.EffectiveFrom.Compare(b.EffectiveFrom)
}

// IndexBuilder builds an index from rows added one at a time in the
// store's order (prefix, then effective_from), so that a large table can be
// indexed while it is read, without ever holding all its rows.
type IndexBuilder struct {
	x      *Index
	nodes  []node // one per distinct prefix, by key
	destID map[string]uint32
}

// NewIndexBuilder starts the index of table t; size is a hint of the number
// of rows to come.
func NewIndexBuilder(t Table, size int) *IndexBuilder {
	x := &Index{table: t, long: map[string][]entry{}}
	x.table.Rows = 0
	x.entries = make([]entry, 0, size)
	return &IndexBuilder{x: x, nodes: make([]node, 0, size), destID: map[string]uint32{}}
}

// Add adds the next row. Rows must come in the store's order; the row is
// copied, so the caller may reuse it.
func (b *IndexBuilder) Add(row *Row) {
	x := b.x
	x.table.Rows++
	id, ok := b.destID[row.Destination]
	if !ok {
		id = uint32(len(x.dests))
		b.destID[row.Destination] = id
		x.dests = append(x.dests, row.Destination)
	}
	e := x.table.pack(row, id<<8|uint32(min(len(row.Prefix), MaxPrefixLen)))
	switch p := row.Prefix; {
	case p == Wildcard:
		e.dest &^= 0xff
		x.wildcard = append(x.wildcard, e)
	case len(p) > keyDigits:
		x.long[p] = append(x.long[p], e)
		x.longMax = max(x.longMax, len(p))
	default:
		k := packKey(p)
		if n := len(b.nodes); n > 0 && b.nodes[n-1].key == k {
			e.older = x.entries[len(x.entries)-1].older + 1
			b.nodes[n-1].last++
		} else {
			b.nodes = append(b.nodes, node{key: k, last: int32(len(x.entries))})
		}
		x.entries = append(x.entries, e)
	}
}

// Build finishes the index. The builder must not be used afterwards.
func (b *IndexBuilder) Build() *Index {
	x := b.x
	x.prefixes = len(b.nodes) + len(x.long)
	if len(x.wildcard) > 0 {
		x.prefixes++
	}
	x.cut(b.nodes)
	x.buildBuckets()
	b.x, b.nodes = nil, nil
	return x
}

// node is one distinct digit prefix while the index is built.
type node struct {
	key  uint64
	last int32 // its latest entry
}

// end is the first key after every key that starts with n's prefix.
func (n *node) end() uint64 {
	return n.key + 1<<(64-4*keyLen(n.key))
}

// cut sweeps the nested prefix intervals in key order with a stack of the
// open ones, sets parent links, and emits a segment at every start and end.
func (x *Index) cut(nodes []node) {
	x.segs = make([]segment, 0, 2*len(nodes)+1) // a start and an end each, at most
	emit := func(at uint64, e int32) {
		if n := len(x.segs); n > 0 && x.segs[n-1].start() == at {
			x.segs[n-1].e = e
			return
		}
		x.segs = append(x.segs, segment{hi: uint32(at >> 32), lo: uint32(at), e: e})
	}
	var stack []*node
	top := func() int32 {
		if len(stack) == 0 {
			return -1
		}
		return stack[len(stack)-1].last
	}
	closeUntil := func(k uint64, all bool) {
		for len(stack) > 0 && (all || stack[len(stack)-1].end() <= k) {
			end := stack[len(stack)-1].end()
			stack = stack[:len(stack)-1]
			emit(end, top())
		}
	}
	for i := range nodes {
		n := &nodes[i]
		closeUntil(n.key, false)
		parent := top()
		for e := n.last - int32(x.entries[n.last].older); e <= n.last; e++ {
			x.entries[e].parent = parent
		}
		emit(n.key, n.last)
		stack = append(stack, n)
	}
	closeUntil(0, true)
}

// pack resolves a row's empty fields from the table.
func (t *Table) pack(row *Row, dest uint32) entry {
	e := entry{rate: row.Rate, connectFee: row.ConnectFee, initialRate: row.InitialRate,
		minCost: row.MinCost, maxCost: row.MaxCost, from: alwaysUnix, dest: dest, parent: -1,
		initialIncrement: uint16(t.InitialIncrement), increment: uint16(t.Increment)}
	if !e.connectFee.Set() {
		e.connectFee = 0
	}
	if !e.initialRate.Set() {
		e.initialRate = e.rate
	}
	if row.InitialIncrement >= 0 {
		e.initialIncrement = uint16(row.InitialIncrement)
	}
	if row.Increment >= 1 {
		e.increment = uint16(row.Increment)
	}
	if row.Grace > 0 {
		e.grace = uint16(row.Grace)
	}
	if !row.EffectiveFrom.IsZero() {
		e.from = row.EffectiveFrom.Unix()
	}
	return e
}

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

// buildBuckets sizes the jump table to a few segments per bucket, small
// enough to stay in cache. A bucket is the first depth nibbles of a key
// read as a base-11 number (a nibble is 0 for "no digit" or digit+1),
// which keeps the keys' order.
func (x *Index) buildBuckets() {
	n := 11
	x.depth = 1
	for x.depth < 7 && n*11*4 <= len(x.segs) {
		x.depth++
		n *= 11
	}
	x.buckets = make([]uint32, n+1)
	j := 0
	for v := range x.buckets {
		for j < len(x.segs) && x.bucket(x.segs[j].start()) < uint32(v) {
			j++
		}
		x.buckets[v] = uint32(j)
	}
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
	t := at.Unix()
	for l := min(len(number), x.longMax); l > keyDigits; l-- {
		if vs, ok := x.long[number[:l]]; ok {
			if e := pick(vs, t); e != nil {
				return x.rate(e, number), true
			}
		}
	}
	k := packKey(number)
	v := x.bucket(k)
	lo, hi := int(x.buckets[v]), int(x.buckets[v+1])
	// The first segment that starts after k lies in [lo, lo+n]. Each step
	// halves n with no branch but the loop's: the compiler makes the step a
	// conditional move, so the CPU never guesses wrong and can run ahead
	// into the next lookup while this one waits on memory.
	n := hi - lo
	for n > 1 {
		half := n >> 1
		if x.segs[lo+half].start() <= k {
			lo += half
		}
		n -= half
	}
	if n == 1 && x.segs[lo].start() <= k {
		lo++
	}
	e := int32(-1)
	if lo > 0 {
		e = x.segs[lo-1].e
	}
	for e >= 0 {
		en := &x.entries[e]
		if en.from <= t {
			return x.rate(en, number), true
		}
		if en.older > 0 {
			e--
		} else {
			e = en.parent
		}
	}
	if e := pick(x.wildcard, t); e != nil {
		return x.rate(e, Wildcard), true
	}
	return Rate{}, false
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
// or number itself for "*".
func (x *Index) rate(e *entry, number string) Rate {
	prefix := number
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
	return n + len(x.wildcard)*es
}
