package pg

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pbxbill/rating"
)

// money moves a rating.Money in and out of a numeric column in
// its exact decimal text: rating.NoMoney is SQL NULL. Pass money(m) as an
// argument and scanMoney(&m) as a scan target.
type moneyArg struct{ m rating.Money }

func money(m rating.Money) moneyArg { return moneyArg{m} }

// TextValue encodes the amount as numeric's text; NoMoney is NULL.
func (m moneyArg) TextValue() (pgtype.Text, error) {
	v := m.m
	if !v.Set() {
		return pgtype.Text{}, nil
	}
	return pgtype.Text{String: v.String(), Valid: true}, nil
}

type moneyDest struct{ m *rating.Money }

func scanMoney(m *rating.Money) moneyDest { return moneyDest{m} }

// ScanText decodes numeric's text; NULL is NoMoney.
func (d moneyDest) ScanText(v pgtype.Text) error {
	if !v.Valid {
		*d.m = rating.NoMoney
		return nil
	}
	m, err := rating.ParseMoney(v.String)
	if err != nil {
		return fmt.Errorf("numeric %s: %w", rating.Excerpt(v.String), err)
	}
	*d.m = m
	return nil
}

// A rate row's prices are numeric(20,8) columns, which its COPY writes and
// its queries read in numeric's binary form by hand (see rowDecoder): a
// header of four 16-bit fields (the number of digits, the weight of the
// first digit as a power of 10000, the sign, the display scale), then the
// digits in base 10000, most significant first. Twenty digits hold any
// Amount: an int64 of units has at most 11 whole decimal digits.
const (
	numericPos = 0x0000
	numericNeg = 0x4000
)

// unitsPerWhole is one currency unit in rating.Amount's units.
const unitsPerWhole = 100_000_000

// appendNumeric appends a, exactly, as numeric's binary value with its
// length in front, as a binary COPY wants it: at most three digits of
// the whole part and two of the fraction, without the leading and
// trailing zero digits that PostgreSQL would strip, and the column's
// display scale, 8.
func appendNumeric(b []byte, a rating.Amount) []byte {
	sign, u := uint16(numericPos), uint64(a)
	if a < 0 {
		sign, u = numericNeg, -u
	}
	whole, frac := u/unitsPerWhole, u%unitsPerWhole
	digits := [5]uint16{ // of weights 2, 1, 0, -1, -2
		uint16(whole / 1e8), uint16(whole / 1e4 % 1e4), uint16(whole % 1e4),
		uint16(frac / 1e4), uint16(frac % 1e4),
	}
	lo, hi := 0, len(digits)
	for lo < hi && digits[lo] == 0 {
		lo++
	}
	for hi > lo && digits[hi-1] == 0 {
		hi--
	}
	weight := 2 - lo
	if lo == hi { // zero, as PostgreSQL writes it
		weight, sign = 0, numericPos
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*(hi-lo)))
	b = binary.BigEndian.AppendUint16(b, uint16(hi-lo))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, rating.AmountDecimals)
	for _, d := range digits[lo:hi] {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

// unitsOfDigit[w+2] is what a digit 1 of weight w is worth in an
// Amount's units of 10^-8: 10000^(w+2).
var unitsOfDigit = [...]uint64{1, 1e4, 1e8, 1e12, 1e16}

// parseNumeric reads numeric's binary value b as an exact Amount. NaN, an
// infinity, a digit beyond 8 decimal places or a value beyond an Amount's
// range is an error, never rounded. The display scale is not looked at:
// only the digits make the value.
func parseNumeric(b []byte) (rating.Amount, error) {
	if len(b) < 8 || len(b) != 8+2*int(binary.BigEndian.Uint16(b)) {
		return 0, fmt.Errorf("a numeric of %d bytes, not numeric's binary form", len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	if sign != numericPos && sign != numericNeg {
		return 0, fmt.Errorf("a numeric that is NaN or infinite (sign %#04x), not a price", sign)
	}
	var u uint64
	for i := range n {
		d := uint64(binary.BigEndian.Uint16(b[8+2*i:]))
		if d >= 10000 {
			return 0, fmt.Errorf("a numeric with the base-10000 digit %d, not numeric's binary form", d)
		}
		if d == 0 {
			continue
		}
		switch e := weight - i + 2; {
		case e < 0:
			return 0, fmt.Errorf("numeric %s: more than 8 decimal places", numericText(b))
		case e >= len(unitsOfDigit) || d > (math.MaxInt64-u)/unitsOfDigit[e]:
			return 0, fmt.Errorf("numeric %s: beyond the range of a price", numericText(b))
		default:
			u += d * unitsOfDigit[e]
		}
	}
	if sign == numericNeg {
		return -rating.Amount(u), nil
	}
	return rating.Amount(u), nil
}

// numericText is numeric's binary value b, well formed, as its decimal
// text, cut short for a message.
func numericText(b []byte) string {
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	c := new(big.Int)
	for i := range n {
		c.Mul(c, big.NewInt(10000))
		c.Add(c, big.NewInt(int64(binary.BigEndian.Uint16(b[8+2*i:]))))
	}
	if binary.BigEndian.Uint16(b[4:]) == numericNeg {
		c.Neg(c)
	}
	return rating.Excerpt(decimal.NewFromBigInt(c, int32(4*(weight-n+1))).String())
}
