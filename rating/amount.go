package rating

import (
	"math"
	"strconv"

	"github.com/shopspring/decimal"
)

// Amount is a price of a rate row (rate, connect_fee, initial_rate,
// min_cost, max_cost), exact, in units of 10^-8 of the currency.
//
// DOMAIN.md allows at most 8 decimal places in every price, so every price
// is an exact Amount. A fixed-point int64 keeps a rate row small enough for
// a million-prefix index (one 64-byte cache line) and lets pricing run
// without allocating. What prices add up to (a cost, a balance, a total)
// is Money, which holds far more; an Amount is bounded by MaxPrice.
type Amount int64

// AmountDecimals is the number of decimal places an Amount or Money carries.
const AmountDecimals = 8

const amountUnit = 100_000_000

// NoAmount marks an optional price that is not set. Every price is ≥ 0, so
// the value can never be confused with a real one.
const NoAmount Amount = math.MinInt64

// Set reports whether a is not NoAmount.
func (a Amount) Set() bool { return a != NoAmount }

// ParseAmount parses a price written as a plain decimal such as "0.0125",
// "-3" or "+1.5". It rejects exponents, more than 8 significant decimal
// places and values far beyond MaxPrice (which Row.Validate checks),
// naming the problem in the error.
func ParseAmount(s string) (Amount, error) {
	v, msg := parseAmount(s, '.')
	if msg != "" {
		return 0, Invalidf("amount", "amount %s: %s", Excerpt(s), msg)
	}
	return v, nil
}

// maxAmountWhole bounds the whole part that ParseAmount reads: ten times
// MaxPrice, so that Row.Validate can name the largest price to a value
// just above it, and far from the int64's limit.
const maxAmountWhole = 10 * uint64(MaxPrice/amountUnit)

// parseAmount parses s with the given decimal separator; msg says what is
// wrong, "" when nothing is.
func parseAmount(s string, sep byte) (Amount, string) {
	neg, whole, frac, msg := parseDecimal(s, sep, maxAmountWhole)
	if msg != "" {
		return 0, msg
	}
	v := Amount(whole*amountUnit + frac)
	if neg {
		v = -v
	}
	return v, ""
}

// parseDecimal reads a plain decimal with the given separator: its sign,
// its whole part (at most maxWhole, which is below 2^64/10^8) and its
// fraction in units of 10^-8. msg says what is wrong, "" when nothing is.
func parseDecimal(s string, sep byte, maxWhole uint64) (neg bool, whole, frac uint64, msg string) {
	if s == "" {
		return false, 0, 0, "empty"
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i++
	}
	digits, places := 0, 0
	for ; i < len(s) && s[i] != sep; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false, 0, 0, "not a decimal number"
		}
		whole = whole*10 + uint64(c-'0')
		digits++
		if whole > maxWhole {
			return false, 0, 0, "too large"
		}
	}
	if i < len(s) {
		i++ // the separator
		if i == len(s) && digits == 0 {
			return false, 0, 0, "not a decimal number"
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return false, 0, 0, "not a decimal number"
			}
			digits++
			if places == AmountDecimals {
				if c != '0' {
					return false, 0, 0, "more than 8 decimal places"
				}
				continue
			}
			frac = frac*10 + uint64(c-'0')
			places++
		}
	}
	if digits == 0 {
		return false, 0, 0, "not a decimal number"
	}
	for ; places < AmountDecimals; places++ {
		frac *= 10
	}
	return neg, whole, frac, ""
}

// Decimal returns a as a decimal.Decimal.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(int64(a), -AmountDecimals) }

// String formats a with as few decimal places as it needs: "0.0125", "3".
func (a Amount) String() string {
	if a == NoAmount {
		return ""
	}
	return string(trimFraction(appendFixed64(nil, int64(a), AmountDecimals)))
}

// Fixed formats a with exactly places decimal places (0–8), rounding half
// up if a has more. It is the display form for a table's decimals.
func (a Amount) Fixed(places int) string {
	if a == NoAmount {
		return ""
	}
	return string(appendFixed64(nil, int64(a), places))
}

// trimFraction drops the trailing zeros of an 8-place fraction, and the
// point when nothing is left of it.
func trimFraction(b []byte) []byte {
	if n := len(b); b[n-9] == '.' {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// appendFixed64 appends v units of 10^-8 with places decimal places,
// rounded half up. v must not be math.MinInt64.
func appendFixed64(b []byte, v int64, places int) []byte {
	places = max(0, min(places, AmountDecimals))
	neg := v < 0
	if neg {
		v = -v
	}
	q := pow10[AmountDecimals-places]
	v = (v + q/2) / q
	if neg && v != 0 { // what rounds to 0 is shown without a sign
		b = append(b, '-')
	}
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
	v, err := ParseAmount(unquote(s))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// unquote strips the quotes of a JSON string; a JSON number is kept.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
