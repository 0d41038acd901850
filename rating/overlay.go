package rating

import (
	"math/bits"
	"slices"
	"unsafe"
)

// An overlay holds the rows of the prefixes changed since an index was
// packed, so that adding, editing or deleting one row of a large table
// costs a small index of the changed prefixes instead of a rebuild of
// every row (about 0.5 s and the memory of a second index for 10^6 rows).
//
// A changed prefix's rows in the overlay replace all of its packed rows,
// none of them meaning the prefix is gone. A lookup then takes the longer
// of two answers: the overlay's own index, and the packed walk that skips
// every changed prefix. Each prefix's rows come from one side only, so the
// two never disagree, and the answer is the one a rebuilt index gives.
// Without an overlay a lookup pays one nil check.
//
// An overlay is never changed once made: WithPrefix copies it, so that a
// lookup that holds an older index keeps seeing that index whole.
type overlay struct {
	rows map[string][]Row    // changed prefix → its rows now, oldest first
	keys map[uint64]struct{} // packed keys of the changed prefixes of ≤ 16 digits
	x    *Index              // the index of every row in rows

	// What touches reads, to send only the numbers that the changes may
	// concern down the slow path: a Bloom filter of keys, the lengths
	// present among them, and whether "*" or a longer prefix changed.
	bloom [bloomWords]uint64
	lens  uint32 // bit l: a changed prefix of l ≤ 16 digits
	long  bool
	wild  bool
}

// bloomWords sizes the filter at 65 536 bits (8 KB): with the store's
// 1024 changed prefixes at most, one probe in 64 finds a bit set by
// another.
const bloomWords = 1024

func bloomBit(k uint64) (word int, bit uint64) {
	h := (k * 0x9e3779b97f4a7c15) >> 48 // the top 16 bits: 1024 words of 64 bits
	return int(h >> 6), 1 << (h & 63)
}

// WithPrefix returns an index that answers as x does, except that prefix
// now has exactly rows (none: the prefix is gone). Every row must have
// this prefix, and no two the same effective_from and times. x is left as it is, and
// readers holding it are not disturbed.
//
// The new index shares x's packed rows and adds prefix to its overlay, so
// it costs a copy of the overlay, whatever the table's size. Rebuilding
// from every row folds the overlay away; Overlaid says when that is due.
func (x *Index) WithPrefix(prefix string, rows []Row) *Index {
	return x.WithPrefixes(map[string][]Row{prefix: rows})
}

// WithPrefixes is WithPrefix for several prefixes at once, each key of
// changes getting its rows: the overlay is copied and its index built
// once, not once for each prefix.
func (x *Index) WithPrefixes(changes map[string][]Row) *Index {
	size := x.Overlaid() + len(changes)
	o := &overlay{rows: make(map[string][]Row, size), keys: make(map[uint64]struct{}, size)}
	if x.over != nil {
		for p, rs := range x.over.rows {
			o.rows[p] = rs
		}
	}
	y := *x
	y.over = o
	for prefix, rows := range changes {
		kept := slices.Clone(rows)
		slices.SortFunc(kept, func(a, b Row) int { return compareRows(&a, &b) })
		o.rows[prefix] = kept
		had := x.prefixRows(prefix)
		y.table.Rows += len(kept) - had
		if had > 0 {
			y.prefixes--
		}
		if len(kept) > 0 {
			y.prefixes++
		}
	}
	ps := make([]string, 0, len(o.rows))
	n := 0
	for p, rs := range o.rows {
		ps = append(ps, p)
		n += len(rs)
		switch {
		case p == Wildcard:
			o.wild = true
		case len(p) > keyDigits:
			o.long = true
		default:
			k := packKey(p)
			o.keys[k] = struct{}{}
			w, b := bloomBit(k)
			o.bloom[w] |= b
			o.lens |= 1 << len(p)
		}
	}
	// The rows go to the builder in the store's order, prefix by prefix,
	// without a copy of them all: a change makes little garbage.
	slices.Sort(ps)
	b := NewIndexBuilder(x.table, n)
	for _, p := range ps {
		for i := range o.rows[p] {
			b.Add(&o.rows[p][i])
		}
	}
	o.x = b.Build()
	return &y
}

// touches reports whether the changes may alter the answer for number
// whose packed answer is e (nil: none): when a changed prefix of number is
// e's own, or longer. Every other number keeps its packed answer, at the
// cost of a few probes of the filter, and no miss to memory.
func (o *overlay) touches(number string, k uint64, e *entry) bool {
	from := 1 // the shortest changed prefix that matters
	if e != nil {
		from = max(e.plen(), 1)
	}
	if o.wild && from == 1 || o.long && len(number) > keyDigits {
		return true
	}
	if from > keyDigits {
		return false
	}
	for m := o.lens >> from << from & (1<<(min(len(number), keyDigits)+1) - 1); m != 0; m &= m - 1 {
		l := bits.TrailingZeros32(m)
		w, b := bloomBit(keyPrefix(k, l))
		if o.bloom[w]&b != 0 {
			return true
		}
	}
	return false
}

// Overlaid returns how many prefixes have changed since the index was
// packed: what a lookup consults besides the packed rows.
func (x *Index) Overlaid() int {
	if x.over == nil {
		return 0
	}
	return len(x.over.rows)
}

// prefixRows counts the rows of prefix.
func (x *Index) prefixRows(prefix string) int {
	if x.over != nil {
		if rs, ok := x.over.rows[prefix]; ok {
			return len(rs)
		}
	}
	switch {
	case prefix == Wildcard:
		return countRows(x.wildcard)
	case len(prefix) > keyDigits:
		return countRows(x.long[prefix])
	}
	// The segment that starts at a packed prefix's own key is that
	// prefix's: its longer prefixes start after it.
	if e := x.innermost(packKey(prefix)); e >= 0 && x.entries[e].plen() == len(prefix) {
		n := 0
		for i := int(e); ; i = prevVersion(x.entries, i) {
			n += x.entries[i].weekRows()
			if x.entries[i].older == 0 {
				return n
			}
		}
	}
	return 0
}

// lookupOver is Lookup for an index with an overlay. The overlay's answer
// sets a floor: a packed prefix must be longer to win, and one that was
// changed is skipped, its overlay rows having had their say.
func (x *Index) lookupOver(number string, w *when) (Rate, bool) {
	o, t := x.over, w.at.Unix()
	best, found := o.x.Lookup(number, w.at)
	floor := -1
	if found {
		floor = len(best.Prefix)
		if best.Prefix == Wildcard {
			floor = 0
		}
	}
	for l := min(len(number), x.longMax); l > keyDigits && l > floor; l-- {
		p := number[:l]
		if vs, ok := x.long[p]; ok {
			if _, changed := o.rows[p]; !changed {
				if e := x.apply(vs, pick(vs, t), w); e != nil {
					return x.expand(e, number), true
				}
			}
		}
	}
	k := packKey(number)
	for e := x.innermost(k); e >= 0; {
		en := &x.entries[e]
		n := en.plen()
		if n <= floor {
			break
		}
		if _, changed := o.keys[keyPrefix(k, n)]; changed {
			e = en.parent // every version of a prefix has the same parent
			continue
		}
		if en.from <= t {
			if r := x.apply(x.entries, int(e), w); r != nil {
				return x.expand(r, number), true
			}
			e = en.parent // the version in force has no row now
			continue
		}
		if en.older > 0 {
			e = int32(prevVersion(x.entries, int(e)))
		} else {
			e = en.parent
		}
	}
	if found {
		return best, true
	}
	if _, changed := o.rows[Wildcard]; !changed {
		if e := x.apply(x.wildcard, pick(x.wildcard, t), w); e != nil {
			return x.expand(e, number), true
		}
	}
	return Rate{}, false
}

// keyPrefix is the packed key of the first n digits of key k.
func keyPrefix(k uint64, n int) uint64 { return k &^ (^uint64(0) >> (4 * n)) }

// bytes is the memory the overlay adds to its index.
func (o *overlay) bytes() int {
	if o == nil {
		return 0
	}
	n := o.x.Bytes() + len(o.keys)*16
	for p, rs := range o.rows {
		n += len(p) + 48 + len(rs)*int(unsafe.Sizeof(Row{}))
	}
	return n
}
