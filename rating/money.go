package rating

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// Money is an exact amount of money in units of 10^-8 of the currency, held
// in 128 bits (two's complement): every cost, balance, credit limit,
// threshold, ledger amount, total and roll-up.
//
// DOMAIN.md asks for at least ±10^15 of the currency at 8 decimal places,
// 10^23 units, past the 9.2·10^18 of an int64. Two words hold ±1.7·10^30
// of the currency. What pbxbill accepts and stores is bounded by MaxMoney
// (10^18), so that any sum of fewer than 2^40 stored values, which is
// every sum a dashboard, a check or a statement makes, stays exact without
// a test at each addition; the places that store a sum (a balance, a
// roll-up) check it against MaxMoney and refuse what is beyond.
//
// The zero value is 0. Money is comparable with ==.
type Money struct {
	hi int64
	lo uint64
}

// NoMoney marks an optional amount that is not set (an unrated CDR's cost).
// It is −2^127, far beyond MaxMoney, so it can never be a real amount.
var NoMoney = Money{hi: math.MinInt64}

// MaxMoney bounds every amount pbxbill accepts or stores: 10^18 of the
// currency at 8 decimal places, a thousand times what DOMAIN.md asks for.
var MaxMoney = Money{hi: maxMoneyHi, lo: maxMoneyLo}

// The words of MaxMoney, 10^26 units: 0x52b7d2_dcc80cd2e4000000.
const (
	maxMoneyHi = 0x52b7d2
	maxMoneyLo = 0xdcc80cd2e4000000
)

// MoneyOf returns units of 10^-8 of the currency as Money.
func MoneyOf(units int64) Money { return Money{hi: units >> 63, lo: uint64(units)} }

// MoneyFromWords builds Money from its two's complement words, the
// inverse of Words. The store encodes Money with them.
func MoneyFromWords(hi int64, lo uint64) Money { return Money{hi: hi, lo: lo} }

// Words returns m's two's complement words: m = hi·2^64 + lo.
func (m Money) Words() (hi int64, lo uint64) { return m.hi, m.lo }

// Int64 returns m in units of 10^-8 when it fits in an int64.
func (m Money) Int64() (int64, bool) {
	return int64(m.lo), m.hi == int64(m.lo)>>63
}

// Set reports whether m is not NoMoney.
func (m Money) Set() bool { return m != NoMoney }

// OrZero is m, or 0 when m is NoMoney: an unset price counts as nothing in
// a sum.
func (m Money) OrZero() Money {
	if !m.Set() {
		return Money{}
	}
	return m
}

// Add returns m + o. Operands within ±MaxMoney, or sums of fewer than 2^40
// of them, cannot overflow.
func (m Money) Add(o Money) Money {
	lo, c := bits.Add64(m.lo, o.lo, 0)
	return Money{hi: m.hi + o.hi + int64(c), lo: lo}
}

// Sub returns m − o.
func (m Money) Sub(o Money) Money {
	lo, b := bits.Sub64(m.lo, o.lo, 0)
	return Money{hi: m.hi - o.hi - int64(b), lo: lo}
}

// Neg returns −m.
func (m Money) Neg() Money { return Money{}.Sub(m) }

// Sign returns −1, 0 or +1.
func (m Money) Sign() int {
	switch {
	case m.hi < 0:
		return -1
	case m.hi == 0 && m.lo == 0:
		return 0
	}
	return 1
}

// Cmp returns −1, 0 or +1 as m is less than, equal to or greater than o.
func (m Money) Cmp(o Money) int {
	switch {
	case m == o:
		return 0
	case m.lessEq(o):
		return -1
	}
	return 1
}

// lessEq is m.Cmp(o) <= 0 in fewer instructions, for MaxDuration's
// loop; Cmp is built on it.
func (m Money) lessEq(o Money) bool {
	return m.hi < o.hi || m.hi == o.hi && m.lo <= o.lo
}

// InRange reports whether m is within ±MaxMoney, the range pbxbill
// accepts and stores.
func (m Money) InRange() bool {
	hi, lo := m.abs()
	return hi < maxMoneyHi || hi == maxMoneyHi && lo <= maxMoneyLo
}

// ParseMoney parses a plain decimal such as "0.0125", "-3" or "+1.5". It
// rejects exponents, more than 8 significant decimal places and values
// beyond ±MaxMoney, naming the problem in the error.
func ParseMoney(s string) (Money, error) {
	neg, whole, frac, msg := parseDecimal(s, '.', 1_000_000_000_000_000_000)
	if msg == "too large" {
		msg = "beyond ±" + MaxMoney.String()
	}
	if msg != "" {
		return Money{}, Invalidf("amount", "amount %s: %s", Excerpt(s), msg)
	}
	hi, lo := bits.Mul64(whole, amountUnit)
	lo, c := bits.Add64(lo, frac, 0)
	m := Money{hi: int64(hi + c), lo: lo}
	if m.Cmp(MaxMoney) > 0 {
		return Money{}, Invalidf("amount", "amount %s: beyond ±%s", Excerpt(s), MaxMoney)
	}
	if neg {
		m = m.Neg()
	}
	return m, nil
}

// MoneyFromDecimal converts d exactly, or fails if d has more than 8
// decimal places or is beyond ±MaxMoney. d's String is a plain decimal,
// so ParseMoney decides both.
func MoneyFromDecimal(d decimal.Decimal) (Money, error) { return ParseMoney(d.String()) }

// Decimal returns m as a decimal.Decimal.
func (m Money) Decimal() decimal.Decimal {
	if v, ok := m.Int64(); ok {
		return decimal.New(v, -AmountDecimals)
	}
	// Past an int64, the exact digits that String writes.
	d, _ := decimal.NewFromString(string(m.appendFixed(nil, AmountDecimals)))
	return d
}

// abs returns |m| as an unsigned 128-bit number. |−2^127| is 2^127.
func (m Money) abs() (hi, lo uint64) {
	if m.hi < 0 {
		n := m.Neg()
		return uint64(n.hi), n.lo
	}
	return uint64(m.hi), m.lo
}

// String formats m with as few decimal places as it needs: "0.0125", "3".
func (m Money) String() string {
	if !m.Set() {
		return ""
	}
	return string(m.AppendString(nil))
}

// AppendString appends m as String formats it, nothing for NoMoney.
func (m Money) AppendString(b []byte) []byte {
	if !m.Set() {
		return b
	}
	return trimFraction(m.appendFixed(b, AmountDecimals))
}

// Fixed formats m with exactly places decimal places (0–8), rounding half
// up (away from zero) if m has more. It is the display form for a table's
// decimals.
func (m Money) Fixed(places int) string {
	if !m.Set() {
		return ""
	}
	return string(m.appendFixed(nil, places))
}

func (m Money) appendFixed(b []byte, places int) []byte {
	// The int64 path rounds by adding half a unit: it needs the headroom.
	if v, ok := m.Int64(); ok && v > -1<<62 && v < 1<<62 {
		return appendFixed64(b, v, places)
	}
	places = max(0, min(places, AmountDecimals))
	hi, lo := m.roundAbs(places)
	if m.hi < 0 { // and beyond an int64, so it does not round to 0
		b = append(b, '-')
	}
	hi, lo, frac := divmod(hi, lo, uint64(pow10[places]))
	// The whole part is below 2^128/10^8 < 10^31: two pieces of 19 digits.
	if hi == 0 {
		b = strconv.AppendUint(b, lo, 10)
	} else {
		_, top, rest := divmod(hi, lo, 1e19)
		b = strconv.AppendUint(b, top, 10)
		r := strconv.AppendUint(nil, rest, 10)
		for range 19 - len(r) {
			b = append(b, '0')
		}
		b = append(b, r...)
	}
	if places > 0 {
		b = append(b, '.')
		f := strconv.AppendUint(nil, uint64(pow10[places])+frac, 10) // leading 1 keeps the zeros
		b = append(b, f[1:]...)
	}
	return b
}

// Scaled returns m rounded half up (away from zero) to places decimal
// places (0–8), in units of 10^-places, and whether that fits an int64.
func (m Money) Scaled(places int) (int64, bool) {
	hi, lo := m.roundAbs(max(0, min(places, AmountDecimals)))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if m.hi < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

// roundAbs returns |m| rounded half up to places decimal places (0–8), in
// units of 10^-places: the one rounding of Fixed and Scaled.
func (m Money) roundAbs(places int) (hi, lo uint64) {
	hi, lo = m.abs()
	q := uint64(pow10[AmountDecimals-places])
	var c uint64
	lo, c = bits.Add64(lo, q/2, 0) // |m| ≤ 2^127: no carry out
	hi, lo, _ = divmod(hi+c, lo, q)
	return hi, lo
}

// divmod divides the unsigned 128-bit hi:lo by d.
func divmod(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = hi/d, hi%d
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}

// MarshalJSON writes m as a JSON string, or null when it is NoMoney.
func (m Money) MarshalJSON() ([]byte, error) {
	if !m.Set() {
		return []byte("null"), nil
	}
	return append(m.AppendString([]byte{'"'}), '"'), nil
}

// UnmarshalJSON accepts a string, a number or null (NoMoney).
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*m = NoMoney
		return nil
	}
	v, err := ParseMoney(unquote(s))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
