package pg

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pbxbill/rating"
	"pbxbill/store"
)

// rateCols are a rates row's columns in the order decodeRow reads them.
const rateCols = `prefix, effective_from, week, destination, rate, connect_fee, initial_rate, min_cost, max_cost,
	initial_increment, increment, grace, blocked`

// rateOrder is the rows' key order: the bbolt store's, prefix in byte
// order (the column's collation is "C"), then effective_from, then times.
const rateOrder = `prefix, effective_from, week`

// pgEpoch is the zero of PostgreSQL's binary timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// effective is a row's effective_from as stored: -infinity for the zero
// time ("always"), otherwise its whole seconds, as the bbolt store keeps
// them.
func effective(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: time.Unix(t.Unix(), 0).UTC(), Valid: true}
}

// effMicros is effective's value in PostgreSQL's binary form:
// microseconds since 2000-01-01, math.MinInt64 for -infinity.
func effMicros(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return (t.Unix() - pgEpoch) * 1_000_000
}

// rowDecoder reads rows of rateCols from a query's raw values, which are
// in the binary format: decoding them by hand is several times faster
// than Scan, and a loaded table of a million rows is read while a node
// waits for it.
type rowDecoder struct {
	in store.Interner
}

// check fails unless every column came in the binary format, but for
// text, whose two formats are the same bytes.
func (d *rowDecoder) check(rows pgx.Rows) error {
	for _, f := range rows.FieldDescriptions() {
		if f.Format != pgx.BinaryFormatCode && f.DataTypeOID != pgtype.TextOID {
			return fmt.Errorf("rates: column %s came in the text format", f.Name)
		}
	}
	return nil
}

// priceCols name the optional prices in a message, in rateCols' order.
var priceCols = [...]string{"connect_fee", "initial_rate", "min_cost", "max_cost"}

// decode fills r from one row's raw values. A price that is not an exact
// rating.Amount is an error, never rounded.
func (d *rowDecoder) decode(v [][]byte, r *rating.Row) error {
	if len(v) != 13 || len(v[1]) != 8 || len(v[2]) != 4 || v[4] == nil || len(v[12]) != 1 {
		return fmt.Errorf("rates: a row of unexpected shape")
	}
	rate, err := parseNumeric(v[4])
	if err != nil {
		return fmt.Errorf("rates: prefix %s: rate: %w", rating.Excerpt(string(v[0])), err)
	}
	*r = rating.NewRow(string(v[0]), rate)
	if us := int64(binary.BigEndian.Uint64(v[1])); us != math.MinInt64 {
		r.EffectiveFrom = time.Unix(pgEpoch+us/1_000_000, 0).UTC()
	}
	w := rating.WeekFromKey(binary.BigEndian.Uint32(v[2]))
	r.Days, r.Hours = w.Days, w.Hours
	if len(v[3]) > 0 {
		r.Destination = d.in.Str(v[3])
	}
	for i, a := range [...]*rating.Amount{&r.ConnectFee, &r.InitialRate, &r.MinCost, &r.MaxCost} {
		if b := v[5+i]; b != nil {
			if *a, err = parseNumeric(b); err != nil {
				return fmt.Errorf("rates: prefix %s: %s: %w", rating.Excerpt(r.Prefix), priceCols[i], err)
			}
		}
	}
	for i, n := range [...]*int{&r.InitialIncrement, &r.Increment, &r.Grace} {
		if b := v[9+i]; b != nil {
			if len(b) != 4 {
				return fmt.Errorf("rates: an integer of %d bytes", len(b))
			}
			*n = int(int32(binary.BigEndian.Uint32(b)))
		}
	}
	r.Blocked = v[12][0] != 0
	return nil
}

// copyRows is the binary COPY stream of rows into rates, with its
// columns.
const copyRows = `COPY rates (gen, ` + rateCols + `) FROM STDIN (FORMAT binary)`

// copyHeader starts a binary COPY stream: the signature, no flags, no
// header extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// appendCopyRow appends row r of generation gen to a binary COPY
// stream. Writing the stream by hand costs no allocation a value, where
// CopyFrom's []any would box every integer.
func appendCopyRow(b []byte, gen int64, r *rating.Row) []byte {
	b = binary.BigEndian.AppendUint16(b, 14)
	i8 := func(b []byte, v int64) []byte {
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v))
	}
	i4 := func(b []byte, v int) []byte {
		if v == -1 {
			return binary.BigEndian.AppendUint32(b, math.MaxUint32) // NULL
		}
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(int32(v)))
	}
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...)
	}
	b = i8(b, gen)
	b = str(b, r.Prefix)
	b = i8(b, effMicros(r.EffectiveFrom))
	b = binary.BigEndian.AppendUint32(b, 4)
	b = binary.BigEndian.AppendUint32(b, r.Week().Key())
	b = str(b, r.Destination)
	b = appendNumeric(b, r.Rate)
	for _, a := range [...]rating.Amount{r.ConnectFee, r.InitialRate, r.MinCost, r.MaxCost} {
		if a.Set() {
			b = appendNumeric(b, a)
		} else {
			b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
		}
	}
	b = i4(b, r.InitialIncrement)
	b = i4(b, r.Increment)
	b = i4(b, r.Grace)
	b = binary.BigEndian.AppendUint32(b, 1)
	if r.Blocked {
		return append(b, 1)
	}
	return append(b, 0)
}

// copyTrailer ends a binary COPY stream.
var copyTrailer = []byte{0xff, 0xff}

// rateKey is where a row sorts: the cursor of the rates list is its
// bbolt key, prefix bytes, 0x00, effective_from and the week, in hex,
// so that a cursor means the same on either store.
type rateKey struct {
	prefix string
	eff    time.Time
	week   uint32
}

// signBit flips the sign of a Unix time so that the bbolt key's
// effective_from sorts as unsigned bytes.
const signBit = 1 << 63

func (k rateKey) cursor() string {
	b := append([]byte(k.prefix), 0)
	var eff uint64
	if !k.eff.IsZero() {
		eff = uint64(k.eff.Unix()) ^ signBit
	}
	b = binary.BigEndian.AppendUint64(b, eff)
	if k.week != 0 {
		b = binary.BigEndian.AppendUint32(b, k.week)
	}
	return hex.EncodeToString(b)
}

// parseRateCursor decodes a cursor; a cursor that is not one is EInvalid.
func parseRateCursor(s string) (rateKey, error) {
	bad := rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(s))
	b, err := hex.DecodeString(s)
	i := bytes.IndexByte(b, 0)
	if err != nil || i < 1 || len(b) > rating.MaxPrefixLen+1+8+4 {
		return rateKey{}, bad
	}
	k := rateKey{prefix: string(b[:i])}
	switch rest := b[i+1:]; len(rest) {
	case 8:
	case 12:
		if k.week = binary.BigEndian.Uint32(rest[8:]); k.week == 0 {
			return rateKey{}, bad
		}
	default:
		return rateKey{}, bad
	}
	if v := binary.BigEndian.Uint64(b[i+1:]); v != 0 {
		k.eff = time.Unix(int64(v^signBit), 0).UTC()
	}
	return k, nil
}

func keyOf(r *rating.Row) rateKey {
	return rateKey{prefix: r.Prefix, eff: r.EffectiveFrom, week: r.Week().Key()}
}

// effString names an effective_from in a message, as the bbolt store
// does.
func effString(r *rating.Row) string {
	if r.EffectiveFrom.IsZero() {
		return "always"
	}
	return r.EffectiveFrom.Format("2006-01-02T15:04:05Z07:00")
}

// weekString names a row's times for a message, after its effective_from.
func weekString(r *rating.Row) string {
	if w := r.Week(); w.Timed() {
		return " and times " + w.String()
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
