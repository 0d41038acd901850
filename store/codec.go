package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// A rate row's value is a compact binary record, because a table may hold
// millions of rows: one flag byte telling which optional fields are set,
// the rate and each set field as uvarints in a fixed order, and the
// destination as the rest of the value. Prefix and effective_from live in
// the key, as do a timed row's days and hours (keys.go). A typical row
// takes 5–30 bytes instead of ~250 as JSON.
//
// Every value is ≥ 0 once Row.Validate has passed, which every write path
// checks first, so unsigned varints suffice.
const (
	hasConnectFee byte = 1 << iota
	hasInitialRate
	hasMinCost
	hasMaxCost
	hasInitialIncrement
	hasIncrement
	hasGrace
	// isBlocked is the row's blocked flag: a flag with no value after it,
	// so that every row written before schema version 3 reads as not
	// blocked.
	isBlocked
)

// appendRowValue appends the value of a validated row to dst.
func appendRowValue(dst []byte, r *rating.Row) []byte {
	var flags byte
	if r.ConnectFee.Set() {
		flags |= hasConnectFee
	}
	if r.InitialRate.Set() {
		flags |= hasInitialRate
	}
	if r.MinCost.Set() {
		flags |= hasMinCost
	}
	if r.MaxCost.Set() {
		flags |= hasMaxCost
	}
	if r.InitialIncrement != -1 {
		flags |= hasInitialIncrement
	}
	if r.Increment != -1 {
		flags |= hasIncrement
	}
	if r.Grace != -1 {
		flags |= hasGrace
	}
	if r.Blocked {
		flags |= isBlocked
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(r.Rate))
	for _, f := range [...]struct {
		bit byte
		v   int64
	}{{hasConnectFee, int64(r.ConnectFee)}, {hasInitialRate, int64(r.InitialRate)},
		{hasMinCost, int64(r.MinCost)}, {hasMaxCost, int64(r.MaxCost)},
		{hasInitialIncrement, int64(r.InitialIncrement)}, {hasIncrement, int64(r.Increment)},
		{hasGrace, int64(r.Grace)}} {
		if flags&f.bit != 0 {
			dst = binary.AppendUvarint(dst, uint64(f.v))
		}
	}
	return append(dst, r.Destination...)
}

// Interner shares the string of repeated destinations: a deck of a
// million rows has a few thousand distinct ones, and one copy of each
// keeps a loaded table small. Both stores' row decoders use one.
type Interner map[string]string

// Str is b as a string, the one copy of it when one was made before.
func (in Interner) Str(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(in) < 1<<16 {
		in[s] = s
	}
	return s
}

// decodeRow fills r from a rate key and value. The strings are copied out
// of the bbolt page, so r stays valid after the transaction.
func decodeRow(k, v []byte, r *rating.Row, in Interner) error {
	prefix, eff, week, ok := splitRateKey(k)
	if !ok || len(v) < 2 {
		return fmt.Errorf("rate row %x: corrupt key or value", k)
	}
	flags := v[0]
	v = v[1:]
	next := func() int64 {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			ok = false
			return 0
		}
		v = v[n:]
		return int64(x)
	}
	*r = rating.NewRow(string(prefix), rating.Amount(next()))
	r.EffectiveFrom = eff
	w := rating.WeekFromKey(week)
	r.Days, r.Hours, r.Blocked = w.Days, w.Hours, flags&isBlocked != 0
	for _, f := range [...]struct {
		bit byte
		amt *rating.Amount
		n   *int
	}{{hasConnectFee, &r.ConnectFee, nil}, {hasInitialRate, &r.InitialRate, nil},
		{hasMinCost, &r.MinCost, nil}, {hasMaxCost, &r.MaxCost, nil},
		{hasInitialIncrement, nil, &r.InitialIncrement}, {hasIncrement, nil, &r.Increment},
		{hasGrace, nil, &r.Grace}} {
		if flags&f.bit == 0 {
			continue
		}
		if x := next(); f.amt != nil {
			*f.amt = rating.Amount(x)
		} else {
			*f.n = int(x)
		}
	}
	if !ok {
		return fmt.Errorf("rate row %x: corrupt value", k)
	}
	if len(v) > 0 {
		r.Destination = in.Str(v)
	}
	return nil
}

// Money is stored as a zigzag LEB128 varint of its 128 bits. For a value
// within an int64 the bytes are exactly binary.AppendVarint's, which
// schema version 1 wrote, so old records read unchanged; a larger value
// takes up to 19 bytes.

// appendMoney appends m's varint.
func appendMoney(dst []byte, m rating.Money) []byte {
	if v, ok := m.Int64(); ok {
		return binary.AppendVarint(dst, v)
	}
	hi, lo := m.Words()
	sign := uint64(hi >> 63)
	uhi, ulo := (uint64(hi)<<1|lo>>63)^sign, lo<<1^sign
	for uhi != 0 || ulo >= 0x80 {
		dst = append(dst, byte(ulo)|0x80)
		ulo = ulo>>7 | uhi<<57
		uhi >>= 7
	}
	return append(dst, byte(ulo))
}

// maxMoneyLen is the longest varint appendMoney writes.
const maxMoneyLen = (128 + 6) / 7

// readMoney reads a varint written by appendMoney and its length; n ≤ 0
// when b does not start with one.
func readMoney(b []byte) (m rating.Money, n int) {
	if v, n := binary.Varint(b); n > 0 {
		return rating.MoneyOf(v), n
	} else if n == 0 {
		return rating.Money{}, 0
	}
	// Past 64 bits.
	var uhi, ulo uint64
	for i := 0; i < len(b) && i < maxMoneyLen; i++ {
		x := uint64(b[i] & 0x7f)
		if s := uint(7 * i); s < 64 {
			ulo |= x << s
			if s > 57 {
				uhi |= x >> (64 - s)
			}
		} else {
			uhi |= x << (s - 64)
		}
		if b[i] < 0x80 {
			if i == maxMoneyLen-1 && b[i] > 3 {
				return rating.Money{}, -1 // past 128 bits
			}
			mask := -(ulo & 1)
			return rating.MoneyFromWords(int64(uhi>>1^mask), (ulo>>1|uhi<<63)^mask), i + 1
		}
	}
	return rating.Money{}, -1
}

// putJSON stores v as JSON under key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Put(key, buf)
}

// getJSON reads the JSON record under key into v; false when there is none.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	buf := b.Get(key)
	if buf == nil {
		return false, nil
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return false, fmt.Errorf("decode %T %x: %w", v, key, err)
	}
	return true, nil
}

// nextID returns the bucket's next sequence number, the id of a new record.
func nextID(b *bolt.Bucket) (uint64, error) {
	id, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next id: %w", err)
	}
	return id, nil
}
