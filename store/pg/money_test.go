package pg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// maxParsed is the largest Amount rating.ParseAmount accepts: ten times
// MaxPrice in whole units, and a full fraction.
var maxParsed = mustAmount("10000000000.99999999")

func mustAmount(s string) rating.Amount {
	a, err := rating.ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// numericEdges are prices whose numeric form is worth checking: zero,
// one unit, every digit of base 10000 on its own and with its
// neighbours, trailing zeros, values at and beyond 10^4 and below
// 10^-4, the limits ParseAmount and MaxPrice set and the int64's, each
// with both signs.
func numericEdges() []rating.Amount {
	as := []rating.Amount{0, 1, 9999, 10000, 10001, 99_999_999, 100_000_000, 100_000_001,
		rating.MaxPrice, rating.MaxPrice + 1, maxParsed, math.MaxInt64,
		mustAmount("0.0125"), mustAmount("0.1"), mustAmount("0.10000000"), mustAmount("1.5"),
		mustAmount("1000"), mustAmount("9999.9999"), mustAmount("10000"), mustAmount("10000.00000001"),
		mustAmount("12345678.9"), mustAmount("100000000"), mustAmount("0.00009999"), mustAmount("0.00010000"),
		mustAmount("0.00000100"), mustAmount("1.00000001"), mustAmount("10000000000")}
	for k := rating.Amount(1); k < 1e18; k *= 10 {
		as = append(as, k, k-1, k+1, 3*k, 7*k+3)
	}
	for k := rating.Amount(1); k <= 1e16; k *= 10000 {
		as = append(as, k, 9999*k, 10000*k-1)
	}
	for _, a := range as[:len(as):len(as)] {
		as = append(as, -a)
	}
	return as
}

// numeric builds numeric's binary value from its header and digits.
func numeric(weight int16, sign, dscale uint16, digits ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, dscale)
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

func TestNumericRoundTrip(t *testing.T) {
	as := numericEdges()
	for k := rating.Amount(0); k < 100_000; k++ {
		as = append(as, k, -k, k*10_000+k, k*100_000_000+k)
	}
	for _, a := range as {
		b := pg.AppendNumeric(nil, a)
		if n := binary.BigEndian.Uint32(b); int(n) != len(b)-4 {
			t.Fatalf("%s: length %d for %d bytes", a, n, len(b)-4)
		}
		v := b[4:]
		got, err := pg.ParseNumeric(v)
		if err != nil || got != a {
			t.Fatalf("%s: read back as %s, %v", a, got, err)
		}
		// PostgreSQL's own form: no leading or trailing zero digit, and
		// zero without digits or sign.
		if n := int(binary.BigEndian.Uint16(v)); n > 0 &&
			(binary.BigEndian.Uint16(v[8:]) == 0 || binary.BigEndian.Uint16(v[6+2*n:]) == 0) {
			t.Fatalf("%s: %x has a leading or trailing zero digit", a, v)
		}
		if a == 0 && !bytes.Equal(v, numeric(0, 0, 8)) {
			t.Fatalf("0: %x", v)
		}
	}
}

func TestNumericForms(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want rating.Amount
	}{
		{"zero with a scale of 0", numeric(0, 0, 0), 0},
		{"negative zero", numeric(0, 0x4000, 8), 0},
		{"trailing zero digits", numeric(0, 0, 8, 1, 5000, 0, 0, 0), mustAmount("1.5")},
		{"leading zero digits", numeric(3, 0, 8, 0, 0, 0, 1), 100_000_000},
		{"a scale beyond 8 with zeros there", numeric(-1, 0, 12, 125, 0, 0), mustAmount("0.0125")},
		{"10^-8", numeric(-2, 0, 8, 1), 1},
		{"the int64's largest", numeric(2, 0, 8, 922, 3372, 368, 5477, 5807), math.MaxInt64},
		{"the int64's smallest but one", numeric(2, 0x4000, 8, 922, 3372, 368, 5477, 5807), -math.MaxInt64},
	} {
		got, err := pg.ParseNumeric(c.b)
		if err != nil || got != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	for _, c := range []struct {
		name, msg string
		b         []byte
	}{
		{"10^-9", "more than 8 decimal places", numeric(-3, 0, 9, 1000)},
		{"1.000000001", "more than 8 decimal places", numeric(0, 0, 9, 1, 0, 0, 1000)},
		{"10^-12", "more than 8 decimal places", numeric(-3, 0, 12, 1)},
		{"one past the int64", "beyond the range of a price", numeric(2, 0, 8, 922, 3372, 368, 5477, 5808)},
		{"-2^63, which is NoAmount", "beyond the range of a price", numeric(2, 0x4000, 8, 922, 3372, 368, 5477, 5808)},
		{"10^12", "beyond the range of a price", numeric(3, 0, 8, 1)},
		{"9999·10^8", "beyond the range of a price", numeric(2, 0, 8, 9999)},
		{"a huge weight", "beyond the range of a price", numeric(32767, 0, 0, 1)},
		{"NaN", "NaN or infinite", numeric(0, 0xc000, 0)},
		{"infinity", "NaN or infinite", numeric(0, 0xd000, 0)},
		{"minus infinity", "NaN or infinite", numeric(0, 0xf000, 0)},
		{"a digit of 10000", "base-10000 digit", numeric(0, 0, 0, 10000)},
		{"short", "not numeric's binary form", []byte{0, 1, 0, 0, 0, 0, 0, 8}},
		{"eight bytes of a bigint", "not numeric's binary form", []byte{0, 0, 0, 0, 0, 0, 0, 42}[:7]},
	} {
		if got, err := pg.ParseNumeric(c.b); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %s, %v; want an error with %q", c.name, got, err, c.msg)
		}
	}
}

// TestNumericServer checks the codec against PostgreSQL: what the COPY
// writes, the server reads as the same decimal, and what the server
// sends of its own numerics, the decoder reads as the same Amount or
// refuses.
func TestNumericServer(t *testing.T) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE TABLE prices (i integer, v numeric(20,8))`); err != nil {
		t.Fatal(err)
	}
	as := numericEdges()
	stream := append([]byte(nil), "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"...)
	for i, a := range as {
		stream = binary.BigEndian.AppendUint16(stream, 2)
		stream = binary.BigEndian.AppendUint32(stream, 4)
		stream = binary.BigEndian.AppendUint32(stream, uint32(i))
		stream = pg.AppendNumeric(stream, a)
	}
	stream = append(stream, 0xff, 0xff)
	if _, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(stream), `COPY prices FROM STDIN (FORMAT binary)`); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, `SELECT i, v::text, v FROM prices ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var (
			i    int
			text string
		)
		if err := rows.Scan(&i, &text, nil); err != nil {
			t.Fatal(err)
		}
		a := as[i]
		if want := a.Fixed(8); text != want {
			t.Errorf("%d written, %s read as text; want %s", a, text, want)
		}
		if got, err := pg.ParseNumeric(rows.RawValues()[2]); err != nil || got != a {
			t.Errorf("%s written, %s, %v read back", a, got, err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(as) {
		t.Fatalf("%d of %d rows, %v", n, len(as), err)
	}

	for _, c2 := range []struct{ text, want, err string }{
		{"0", "0", ""},
		{"1.50000", "1.5", ""},
		{"-0.00000001", "-0.00000001", ""},
		{"0.000000010000", "0.00000001", ""},
		{"92233720368.54775807", "92233720368.54775807", ""},
		{"123456789012345678", "", "beyond the range"},
		{"92233720368.54775808", "", "beyond the range"},
		{"0.000000001", "", "more than 8 decimal places"},
		{"1.000000000001", "", "more than 8 decimal places"},
		{"NaN", "", "NaN or infinite"},
		{"-Infinity", "", "NaN or infinite"},
	} {
		var raw []byte
		rows, err := c.Query(ctx, `SELECT $1::numeric`, c2.text)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			raw = append(raw, rows.RawValues()[0]...)
		}
		if err := rows.Err(); err != nil || rows.FieldDescriptions()[0].Format != pgx.BinaryFormatCode {
			t.Fatalf("%s: %v, or not in binary", c2.text, err)
		}
		got, err := pg.ParseNumeric(raw)
		switch {
		case c2.err == "" && (err != nil || got.String() != c2.want):
			t.Errorf("%s: %s, %v; want %s", c2.text, got, err, c2.want)
		case c2.err != "" && (err == nil || !strings.Contains(err.Error(), c2.err)):
			t.Errorf("%s: %s, %v; want an error with %q", c2.text, got, err, c2.err)
		}
	}
}

// TestRatePricesNumeric writes rows through the store's COPY, an import's
// and a single row's, and reads their prices back as PostgreSQL's text
// and through the store: both must be the prices written, and a price
// not set NULL.
func TestRatePricesNumeric(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := openRates(t, url)
	tb := rating.NewTable("prices", rating.Outbound, "")
	tb.Decimals = 8
	if _, err := s.CreateRateTable(tb); err != nil {
		t.Fatal(err)
	}
	var prices []rating.Amount
	for _, a := range numericEdges() {
		if a >= 0 && a <= rating.MaxPrice {
			prices = append(prices, a)
		}
	}
	want := map[string]rating.Row{}
	var rows []rating.Row
	for i, a := range prices {
		r := rateRow(strconv.Itoa(1000+i), a.String())
		if i%3 != 0 {
			r.ConnectFee = prices[(i+1)%len(prices)]
			r.InitialRate = prices[(i+2)%len(prices)]
		}
		if i%2 == 0 {
			r.MinCost, r.MaxCost = min(a, prices[(i+3)%len(prices)]), max(a, prices[(i+3)%len(prices)])
		}
		rows = append(rows, r)
		want[r.Prefix] = r
	}
	if err := s.ReplaceRates("prices", slices.Clone(rows)); err != nil {
		t.Fatal(err)
	}
	one := rateRow("99", "0.00010001")
	one.MaxCost = rating.MaxPrice
	if _, err := s.PutRate("prices", one, nil); err != nil {
		t.Fatal(err)
	}
	want[one.Prefix] = one

	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Query(ctx, `SELECT prefix, rate::text, connect_fee::text, initial_rate::text, min_cost::text, max_cost::text
		FROM rates JOIN rate_tables USING (gen) WHERE name = 'prices'`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for res.Next() {
		var prefix string
		var text [5]*string
		if err := res.Scan(&prefix, &text[0], &text[1], &text[2], &text[3], &text[4]); err != nil {
			t.Fatal(err)
		}
		r := want[prefix]
		for i, a := range [...]rating.Amount{r.Rate, r.ConnectFee, r.InitialRate, r.MinCost, r.MaxCost} {
			switch {
			case !a.Set() && text[i] != nil:
				t.Errorf("prefix %s, price %d: %s; want NULL", prefix, i, *text[i])
			case a.Set() && (text[i] == nil || *text[i] != a.Fixed(8)):
				t.Errorf("prefix %s, price %d: %v; want %s", prefix, i, text[i], a.Fixed(8))
			}
		}
		n++
	}
	if err := res.Err(); err != nil || n != len(want) {
		t.Fatalf("%d rows of %d, %v", n, len(want), err)
	}

	got, _, err := s.Rates("prices", "", "", store.MaxLimit)
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d rows of %d, %v", len(got), len(want), err)
	}
	for _, g := range got {
		w := want[g.Prefix]
		if g.Rate != w.Rate || g.ConnectFee != w.ConnectFee || g.InitialRate != w.InitialRate ||
			g.MinCost != w.MinCost || g.MaxCost != w.MaxCost {
			t.Errorf("prefix %s read back as %+v; want %+v", g.Prefix, g, w)
		}
	}
}

// FuzzParseNumeric: any bytes are an exact Amount, which writes back as
// the same Amount, or an error; never a panic.
func FuzzParseNumeric(f *testing.F) {
	for _, a := range numericEdges() {
		f.Add(pg.AppendNumeric(nil, a)[4:])
	}
	f.Add(numeric(-3, 0, 9, 1000))
	f.Add(numeric(0, 0xc000, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := pg.ParseNumeric(b)
		if err != nil {
			return
		}
		if a == rating.NoAmount {
			t.Fatalf("%x read as NoAmount", b)
		}
		if got, err := pg.ParseNumeric(pg.AppendNumeric(nil, a)[4:]); err != nil || got != a {
			t.Fatalf("%x: %s written back reads %s, %v", b, a, got, err)
		}
	})
}
