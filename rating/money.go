package rating

import (
	"math"
	"strconv"

	"github.com/shopspring/decimal"
)

// Amount is an exact amount of money in units of 10^-8 of the currency.
//
// DOMAIN.md allows at most 8 decimal places in every price, so every price,
// every rounded cost and every sum of them is an exact Amount. A fixed-point
// int64 keeps a rate row small enough for a million-prefix index and lets
// pricing run without allocating; decimal.Decimal is used at the edges
// (Decimal, AmountFromDecimal) and in the reference tests.
type Amount int64

// AmountDecimals is the number of decimal places an Amount carries.
const AmountDecimals = 8

const amountUnit = 100_000_000

// NoAmount marks an optional amount that is not set. Every price is ≥ 0, so
// the value can never be confused with a real one.
const NoAmount Amount = math.MinInt64

// MaxAmount bounds any amount the API accepts: a hundred million units keeps
// every product in pricing and every ledger sum far from overflow.
const MaxAmount Amount = 100_000_000 * amountUnit

// Set reports whether a is not NoAmount.
func (a Amount) Set() bool { return a != NoAmount }

// ParseAmount parses a plain decimal such as "0.0125", "-3" or "+1.5".
// It rejects exponents, more than 8 significant decimal places and values
// beyond MaxAmount, naming the problem in the error.
func ParseAmount(s string) (Amount, error) {
	v, ok, msg := parseAmount(s, '.')
	if !ok {
		return 0, Invalidf("amount", "amount %q: %s", s, msg)
	}
	return v, nil
}

// parseAmount parses s with the given decimal separator.
func parseAmount(s string, sep byte) (Amount, bool, string) {
	if s == "" {
		return 0, false, "empty"
	}
	i, neg := 0, false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i++
	}
	var whole, frac int64
	digits, places := 0, 0
	for ; i < len(s) && s[i] != sep; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false, "not a decimal number"
		}
		whole = whole*10 + int64(c-'0')
		digits++
		if whole > int64(MaxAmount/amountUnit) {
			return 0, false, "too large"
		}
	}
	if i < len(s) {
		i++ // the separator
		if i == len(s) && digits == 0 {
			return 0, false, "not a decimal number"
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false, "not a decimal number"
			}
			digits++
			if places == AmountDecimals {
				if c != '0' {
					return 0, false, "more than 8 decimal places"
				}
				continue
			}
			frac = frac*10 + int64(c-'0')
			places++
		}
	}
	if digits == 0 {
		return 0, false, "not a decimal number"
	}
	for ; places < AmountDecimals; places++ {
		frac *= 10
	}
	v := Amount(whole*amountUnit + frac)
	if v > MaxAmount {
		return 0, false, "too large"
	}
	if neg {
		v = -v
	}
	return v, true, ""
}

// AmountFromDecimal converts d exactly, or fails if d has more than 8
// decimal places or is out of range.
func AmountFromDecimal(d decimal.Decimal) (Amount, error) {
	s := d.Shift(AmountDecimals)
	if !s.Equal(s.Truncate(0)) {
		return 0, Invalidf("amount", "amount %s: more than 8 decimal places", d)
	}
	if s.Abs().GreaterThan(decimal.New(int64(MaxAmount), 0)) {
		return 0, Invalidf("amount", "amount %s: too large", d)
	}
	return Amount(s.IntPart()), nil
}

// Decimal returns a as a decimal.Decimal.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(int64(a), -AmountDecimals) }

// String formats a with as few decimal places as it needs: "0.0125", "3".
func (a Amount) String() string {
	if a == NoAmount {
		return ""
	}
	b := a.appendFixed(nil, AmountDecimals)
	if n := len(b); b[n-9] == '.' {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}

// Fixed formats a with exactly places decimal places (0–8), rounding half
// up if a has more. It is the display form for a table's decimals.
func (a Amount) Fixed(places int) string {
	if a == NoAmount {
		return ""
	}
	return string(a.appendFixed(nil, places))
}

func (a Amount) appendFixed(b []byte, places int) []byte {
	places = max(0, min(places, AmountDecimals))
	v := int64(a)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	q := pow10[AmountDecimals-places]
	v = (v + q/2) / q
	p := pow10[places]
	b = strconv.AppendInt(b, v/p, 10)
	if places > 0 {
		b = append(b, '.')
		f := strconv.AppendInt(nil, p+v%p, 10) // leading 1 keeps the zeros
		b = append(b, f[1:]...)
	}
	return b
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// MarshalJSON writes a as a JSON string, or null when it is NoAmount.
func (a Amount) MarshalJSON() ([]byte, error) {
	if a == NoAmount {
		return []byte("null"), nil
	}
	b := append([]byte{'"'}, a.String()...)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a string, a number or null (NoAmount).
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*a = NoAmount
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
