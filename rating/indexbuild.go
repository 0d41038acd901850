package rating

import "slices"

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
