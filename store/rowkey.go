package store

import (
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"pbxbill/rating"
)

// rowKey orders one row as its bbolt key sorts, without touching the
// prefix string: sorting a million rows by their strings is mostly cache
// misses. head packs the first 16 prefix characters a nibble each (0 for
// the end, 1 for "*", 2–11 for the digits), which orders them as the key
// bytes do: the 0x00 separator below "*" below the digits.
type rowKey struct {
	head uint64
	from uint64 // effKey
	week uint32 // rating.WeekKey: 0 for a row without times
	i    int32  // index of the row
	long bool   // prefix longer than 16: a tie needs the full compare
}

const headChars = 16

func newRowKey(r *rating.Row, i int) rowKey {
	h, long := PrefixHead(r.Prefix)
	return rowKey{head: h, from: effKey(r.EffectiveFrom), week: r.Week().Key(), i: int32(i), long: long}
}

// PrefixHead packs the first 16 characters of a rate prefix a nibble each
// (0 for the end, 1 for "*", 2–11 for the digits), which orders prefixes
// as their bytes do: a sort of a large deck compares one word for most
// pairs. long reports a longer prefix, whose tie needs the whole.
func PrefixHead(prefix string) (head uint64, long bool) {
	for j := 0; j < headChars; j++ {
		head <<= 4
		if j < len(prefix) {
			if c := prefix[j]; c == '*' {
				head |= 1
			} else {
				head |= uint64(c-'0') + 2
			}
		}
	}
	return head, len(prefix) > headChars
}

// appendKey appends the bbolt key of row r, whose rowKey k is. A prefix of
// up to 16 characters is unpacked from k.head, so that writing the rows of
// a large deck in key order does not chase a million prefix strings.
func (k *rowKey) appendKey(dst []byte, r *rating.Row) []byte {
	if k.long {
		return appendRateKey(dst, r.Prefix, r.EffectiveFrom, k.week)
	}
	for shift := 60; shift >= 0; shift -= 4 {
		switch c := byte(k.head>>shift) & 0xf; c {
		case 0:
			shift = -1 // the end of the prefix
		case 1:
			dst = append(dst, '*')
		default:
			dst = append(dst, '0'+c-2)
		}
	}
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint64(dst, k.from)
	if k.week != 0 {
		dst = binary.BigEndian.AppendUint32(dst, k.week)
	}
	return dst
}

// compareKeys orders a and b as the keys of rows[a.i] and rows[b.i].
func compareKeys(rows []rating.Row, a, b *rowKey) int {
	switch {
	case a.head < b.head:
		return -1
	case a.head > b.head:
		return 1
	}
	if a.long || b.long {
		if c := strings.Compare(rows[a.i].Prefix, rows[b.i].Prefix); c != 0 {
			return c
		}
	}
	switch {
	case a.from < b.from:
		return -1
	case a.from > b.from:
		return 1
	case a.week < b.week:
		return -1
	case a.week > b.week:
		return 1
	}
	return 0
}

// sortKeys sorts keys into key order (SortByHead).
func sortKeys(rows []rating.Row, keys []rowKey) {
	SortByHead(keys, func(k *rowKey) uint64 { return k.head }, func(a, b rowKey) int { return compareKeys(rows, &a, &b) })
}

// SortByHead sorts the keys of a deck's rows by cmp, where head is a
// key's PrefixHead. It first deals them into buckets by their first two
// prefix characters, in place, and then sorts the buckets on every CPU:
// each bucket fits in cache, where one sort of a million keys would not.
func SortByHead[K any](keys []K, head func(*K) uint64, cmp func(a, b K) int) {
	var start, next, end [256]int
	for i := range keys {
		end[head(&keys[i])>>56]++
	}
	sum := 0
	for b := range end {
		start[b], sum = sum, sum+end[b]
		end[b], next[b] = sum, start[b]
	}
	for b := range next {
		for next[b] < end[b] {
			d := head(&keys[next[b]]) >> 56
			if int(d) == b {
				next[b]++
				continue
			}
			keys[next[b]], keys[next[d]] = keys[next[d]], keys[next[b]]
			next[d]++
		}
	}
	var todo atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := int(todo.Add(1)) - 1; b < len(start); b = int(todo.Add(1)) - 1 {
				slices.SortFunc(keys[start[b]:end[b]], cmp)
			}
		}()
	}
	wg.Wait()
}

// prepareRows validates every row, rejects two rows with the same key
// and weeks that DOMAIN.md does not allow (rating.CheckWeeks), and sorts
// rows into key order. It returns the rows'
// sort keys, in the same order.
//
// It sorts compact keys rather than the rows, then moves each row once to
// its place: comparing prefix strings and swapping 120-byte rows costs
// several times more for a large deck.
func prepareRows(rows []rating.Row, decimals int) ([]rowKey, error) {
	for i := range rows {
		if err := rows[i].Validate(decimals); err != nil {
			return nil, rating.Errorf(rating.EInvalid, "row %d (prefix %s): %s", i+1, rating.Excerpt(rows[i].Prefix), rating.ErrorMessage(err))
		}
	}
	order := make([]rowKey, len(rows))
	for i := range rows {
		order[i] = newRowKey(&rows[i], i)
	}
	sortKeys(rows, order)
	for i := 1; i < len(order); i++ {
		if compareKeys(rows, &order[i-1], &order[i]) == 0 {
			r := &rows[order[i].i]
			return nil, rating.Invalidf("prefix", "prefix %q with effective_from %s%s appears twice", r.Prefix, effString(r), weekString(r))
		}
	}
	// Position k takes the row at order[k].i; follow each cycle of the
	// permutation once, marking the places filled.
	for start := range order {
		if order[start].i < 0 {
			continue
		}
		tmp := rows[start]
		for k := start; ; {
			src := int(order[k].i)
			order[k].i = -1
			if src == start {
				rows[k] = tmp
				break
			}
			rows[k] = rows[src]
			k = src
		}
	}
	if err := rating.CheckWeeks(rows); err != nil {
		return nil, err
	}
	return order, nil
}

// weekString names a row's times for a message, after its effective_from.
func weekString(r *rating.Row) string {
	if w := r.Week(); w.Timed() {
		return " and times " + w.String()
	}
	return ""
}

func effString(r *rating.Row) string {
	if r.EffectiveFrom.IsZero() {
		return "always"
	}
	return r.EffectiveFrom.Format("2006-01-02T15:04:05Z07:00")
}
