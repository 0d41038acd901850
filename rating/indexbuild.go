package rating

import (
	"cmp"
	"slices"
	"time"
)

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

// compareRows orders rows by prefix, then effective_from, then times of
// the week: the store's order, which puts the rows of a week together.
func compareRows(a, b *Row) int {
	if a.Prefix != b.Prefix {
		if a.Prefix < b.Prefix {
			return -1
		}
		return 1
	}
	if c := a.EffectiveFrom.Compare(b.EffectiveFrom); c != 0 {
		return c
	}
	return cmp.Compare(a.Week().Key(), b.Week().Key())
}

// Key packs a week into 29 bits, in the order the rows of one version
// sort in the store's keys and the index: the default, 0, first.
func (w Week) Key() uint32 {
	return uint32(w.Days)<<22 | uint32(w.Hours.From)<<11 | uint32(w.Hours.To)
}

// WeekFromKey is the week that Key packed into v.
func WeekFromKey(v uint32) Week {
	return Week{Days(v >> 22), Hours{uint16(v >> 11 & 0x7ff), uint16(v & 0x7ff)}}
}

// IndexBuilder builds an index from rows added one at a time in the
// store's order (prefix, then effective_from), so that a large table can be
// indexed while it is read, without ever holding all its rows.
type IndexBuilder struct {
	x      *Index
	nodes  []node // one per distinct prefix, by key
	destID map[string]uint32

	// The version being gathered: the rows so far of one prefix and
	// effective_from, packed, and their times.
	prefix string
	group  []entry
	weeks  []Week
	spans  []span // scratch
	err    error
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
// copied, so the caller may reuse it. The rows of one prefix and
// effective_from are one week: a week that DOMAIN.md does not allow (two
// defaults, overlapping times) is still indexed, and Err reports it.
func (b *IndexBuilder) Add(row *Row) {
	x := b.x
	x.table.Rows++
	id, ok := b.destID[row.Destination]
	if !ok {
		id = uint32(len(x.dests))
		b.destID[row.Destination] = id
		x.dests = append(x.dests, row.Destination)
	}
	plen := uint32(min(len(row.Prefix), MaxPrefixLen))
	if row.Prefix == Wildcard {
		plen = 0
	}
	e := x.table.pack(row, id<<8|plen)
	if len(b.group) > 0 && (row.Prefix != b.prefix || e.from != b.group[0].from) {
		b.flush()
	}
	b.prefix = row.Prefix
	if len(b.group) == maxWeek {
		if b.err == nil {
			b.err = Invalidf("days", "%s: more than %d rows in one week", row.Key(), maxWeek)
		}
		return
	}
	b.group = append(b.group, e)
	b.weeks = append(b.weeks, row.Week())
}

// Err reports the first week that DOMAIN.md does not allow, nil when
// every week is sound. It is final once Build has run.
func (b *IndexBuilder) Err() error { return b.err }

// flush places the version gathered: a lone row without times as the
// entry it is, anything else as a block of its rows and a header.
func (b *IndexBuilder) flush() {
	if len(b.group) == 0 {
		return
	}
	if len(b.group) == 1 && !b.weeks[0].Timed() {
		b.place(b.group)
	} else {
		b.place(b.week())
	}
	b.group, b.weeks = b.group[:0], b.weeks[:0]
}

// maxWeek bounds the rows of one week: a header counts them in 16 bits.
// A sound week has at most one row per minute of the week and a default.
const maxWeek = 1<<16 - 1

// week turns the gathered rows into a block: the rows, then their header.
func (b *IndexBuilder) week() []entry {
	x, g := b.x, b.group
	if i, j, spans := weekConflict(b.weeks, b.spans); i >= 0 {
		b.spans = spans
		if b.err == nil {
			key := RateKey{Prefix: b.prefix, Week: b.weeks[j]}
			if g[0].from != alwaysUnix {
				key.EffectiveFrom = time.Unix(g[0].from, 0).UTC()
			}
			b.err = Invalidf("days", "%s: %s", key, conflictWhy(b.weeks[i], b.weeks[j]))
		}
	}
	n := len(g)
	h := entry{from: g[0].from, parent: -1, dest: g[0].dest&^0xe0 | entryHeader, increment: uint16(n)}
	b.spans = b.spans[:0]
	for i := range g {
		// A row's distance back from the header, which follows the rows.
		off := uint32(n - i)
		g[i].dest |= entryInWeek
		g[i].parent = int32(len(x.weeks))
		x.weeks = append(x.weeks, b.weeks[i])
		if !b.weeks[i].Timed() {
			h.initialIncrement = uint16(off)
		}
		b.spans = appendSpans(b.spans, b.weeks[i], off)
	}
	sortSpans(b.spans)
	if len(b.spans) <= inlineSpans && n < 16 {
		for i, s := range b.spans {
			h.inline()[i] = packSpan(s)
		}
		h.grace = uint16(len(b.spans))
	} else {
		h.grace = spilled
		h.rate = Amount(len(x.spans))
		x.spans = append(x.spans, b.spans...)
		h.connectFee = Amount(len(x.spans))
	}
	return append(g, h)
}

// place adds the block of one version of the gathered prefix, whose last
// entry is the version's entry.
func (b *IndexBuilder) place(block []entry) {
	x := b.x
	switch p := b.prefix; {
	case p == Wildcard:
		x.wildcard = append(x.wildcard, block...)
	case len(p) > keyDigits:
		x.long[p] = append(x.long[p], block...)
		x.longMax = max(x.longMax, len(p))
	default:
		k := packKey(p)
		last := int32(len(x.entries) + len(block) - 1)
		if n := len(b.nodes); n > 0 && b.nodes[n-1].key == k {
			block[len(block)-1].older = x.entries[b.nodes[n-1].last].older + 1
			b.nodes[n-1].last = last
		} else {
			b.nodes = append(b.nodes, node{key: k, last: last})
		}
		x.entries = append(x.entries, block...)
	}
}

// Build finishes the index. The builder must not be used afterwards.
func (b *IndexBuilder) Build() *Index {
	b.flush()
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
		for e := int(n.last); ; e = prevVersion(x.entries, e) {
			x.entries[e].parent = parent
			if x.entries[e].older == 0 {
				break
			}
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
	if row.Blocked {
		e.dest |= entryBlocked
	}
	if row.Grace > 0 {
		e.grace = uint16(row.Grace)
	}
	if !row.EffectiveFrom.IsZero() {
		e.from = row.EffectiveFrom.Unix()
	}
	return e
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
		if v > 0 {
			for full := j - int(x.buckets[v-1]); x.step*2 <= full; {
				x.step = max(1, x.step*2)
			}
		}
	}
}
