package rating

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"},
		{"0.0125", "0.0125"},
		{"+1.50", "1.5"},
		{"-3", "-3"},
		{".5", "0.5"},
		{"5.", "5"},
		{"0.00000001", "0.00000001"},
		{"-0.00000001", "-0.00000001"},
		{"1.100000000000", "1.1"}, // zeros past the 8th place are no precision
		{"92233720368.54775807", "92233720368.54775807"},   // the largest int64 of units
		{"92233720368.54775808", "92233720368.54775808"},   // one more
		{"-92233720368.54775808", "-92233720368.54775808"}, // the smallest int64 of units
		{"-92233720368.54775809", "-92233720368.54775809"}, // one less
		{"184467440737.09551616", "184467440737.09551616"}, // 2^64 units
		{"1000000000000000", "1000000000000000"},           // 10^15, DOMAIN.md's magnitude
		{"-999999999999999.99999999", "-999999999999999.99999999"},
		{"1000000000000000000", "1000000000000000000"}, // MaxMoney
		{"-1000000000000000000", "-1000000000000000000"},
		{"999999999999999999.99999999", "999999999999999999.99999999"},
	} {
		m, err := ParseMoney(tc.in)
		if err != nil {
			t.Errorf("ParseMoney(%q): %v", tc.in, err)
			continue
		}
		if got := m.String(); got != tc.want {
			t.Errorf("ParseMoney(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if d := decimal.RequireFromString(tc.in); !m.Decimal().Equal(d) {
			t.Errorf("ParseMoney(%q).Decimal() = %s", tc.in, m.Decimal())
		}
		if back, err := MoneyFromDecimal(m.Decimal()); err != nil || back != m {
			t.Errorf("MoneyFromDecimal(%s) = %s, %v", m.Decimal(), back, err)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"", "empty"},
		{"-", "not a decimal number"},
		{".", "not a decimal number"},
		{"1e3", "not a decimal number"},
		{"1,5", "not a decimal number"},
		{"0.000000001", "more than 8 decimal places"},
		{"1000000000000000000.00000001", "beyond ±1000000000000000000"},
		{"-1000000000000000001", "beyond ±1000000000000000000"},
		{"99999999999999999999999999999999999999999", "beyond ±1000000000000000000"},
	} {
		_, err := ParseMoney(tc.in)
		if ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), Excerpt(tc.in)) {
			t.Errorf("ParseMoney(%q) = %v, want an invalid error naming it and %q", tc.in, err, tc.msg)
		}
	}
}

func TestMoneyFixed(t *testing.T) {
	for _, tc := range []struct {
		in     string
		places int
		want   string
	}{
		{"0.0125", 4, "0.0125"},
		{"0.0125", 3, "0.013"}, // half up, away from zero
		{"-0.0125", 3, "-0.013"},
		{"0.0125", 0, "0"},
		{"3", 2, "3.00"},
		{"184467440737.09551616", 8, "184467440737.09551616"},
		{"184467440737.09551616", 2, "184467440737.10"},
		{"-184467440737.09551616", 1, "-184467440737.1"},
		{"999999999999999999.99999999", 2, "1000000000000000000.00"},
		{"-999999999999999999.995", 2, "-1000000000000000000.00"},
		{"123456789012345678.12345678", 4, "123456789012345678.1235"},
		{"1000000000000000000", 0, "1000000000000000000"},
	} {
		if got := mustMoney(t, tc.in).Fixed(tc.places); got != tc.want {
			t.Errorf("%s.Fixed(%d) = %s, want %s", tc.in, tc.places, got, tc.want)
		}
	}
	if NoMoney.Fixed(2) != "" || NoMoney.String() != "" {
		t.Error("NoMoney formats as something")
	}
}

func TestMoneyArithmetic(t *testing.T) {
	huge := mustMoney(t, "900000000000000000") // 9·10^25 units: both words in use
	if got := huge.Add(huge).String(); got != "1800000000000000000" {
		t.Errorf("sum %s", got)
	}
	if got := huge.Neg().Sub(huge).String(); got != "-1800000000000000000" {
		t.Errorf("difference %s", got)
	}
	if got := MoneyOf(math.MaxInt64).Add(MoneyOf(1)).String(); got != "92233720368.54775808" {
		t.Errorf("carry into the high word: %s", got)
	}
	if got := MoneyOf(math.MinInt64).Sub(MoneyOf(1)).String(); got != "-92233720368.54775809" {
		t.Errorf("borrow from the high word: %s", got)
	}
	ordered := []Money{MaxMoney.Neg(), huge.Neg(), MoneyOf(math.MinInt64), MoneyOf(-1), {}, MoneyOf(1),
		MoneyOf(math.MaxInt64), huge, MaxMoney}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Cmp(b); got != want {
				t.Errorf("%s.Cmp(%s) = %d, want %d", a, b, got, want)
			}
		}
		if want := min(max(i-4, -1), 1); a.Sign() != want {
			t.Errorf("%s.Sign() = %d", a, a.Sign())
		}
		if !a.InRange() {
			t.Errorf("%s is out of range", a)
		}
	}
	if MaxMoney.Add(MoneyOf(1)).InRange() || MaxMoney.Neg().Sub(MoneyOf(1)).InRange() || NoMoney.InRange() {
		t.Error("a value past MaxMoney is in range")
	}
	if v, ok := MoneyOf(-5).Int64(); !ok || v != -5 {
		t.Errorf("Int64 = %d, %v", v, ok)
	}
	if _, ok := MoneyOf(math.MaxInt64).Add(MoneyOf(1)).Int64(); ok {
		t.Error("Int64 of 2^63 fits")
	}
	if hi, lo := huge.Words(); MoneyFromWords(hi, lo) != huge {
		t.Error("Words do not round-trip")
	}
}

func TestMoneyJSON(t *testing.T) {
	var v struct {
		A, B, C Money
	}
	if err := json.Unmarshal([]byte(`{"A":"1000000000000000.5","B":-2.25,"C":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "1000000000000000.5" || v.B.String() != "-2.25" || v.C.Set() {
		t.Errorf("decoded %+v", v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"A":"1000000000000000.5","B":"-2.25","C":null}` {
		t.Errorf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`{"A":"1e20"}`), &v); ErrorCode(err) != EInvalid {
		t.Errorf("exponent: %v", err)
	}
}

// String and ParseMoney round-trip every value in range, and agree with
// shopspring/decimal, from fuzzed words.
func FuzzMoneyString(f *testing.F) {
	for _, s := range [][2]uint64{{0, 0}, {0, 1}, {math.MaxUint64, math.MaxUint64}, {0, math.MaxUint64},
		{0x52b7d2, 0xdcc80cd2e4000000}, {1, 0}, {math.MaxUint64, 1 << 63}} {
		f.Add(s[0], s[1], 4)
	}
	f.Fuzz(func(t *testing.T, hi, lo uint64, places int) {
		m := MoneyFromWords(int64(hi), lo)
		if !m.InRange() {
			m = MoneyFromWords(int64(hi)%(1<<22), lo) // |hi| < 2^22: within 2^86 < 10^26 units
		}
		s := m.String()
		back, err := ParseMoney(s)
		if err != nil || back != m {
			t.Fatalf("%x:%x: String %q parses as %s, %v", hi, lo, s, back, err)
		}
		want := wordsDecimal(m)
		if !m.Decimal().Equal(want) || s != want.String() {
			t.Fatalf("%x:%x: %s, Decimal %s; decimal says %s", hi, lo, s, m.Decimal(), want)
		}
		p := int32(places % 9)
		if p < 0 {
			p = -p
		}
		// Fixed rounds half away from zero, as decimal's Round does.
		if got, want := m.Fixed(int(p)), want.Round(p).StringFixed(p); got != want {
			t.Fatalf("%s.Fixed(%d) = %s, decimal says %s", s, p, got, want)
		}
	})
}

// FuzzParseMoney: whatever parses formats back to the same amount, as
// decimal reads it; whatever is refused is refused with a message.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "+12.345", "1000000000000000000", "1e5", ".", "00.10", "-184467440737.09551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		d, derr := decimal.NewFromString(s)
		if derr != nil || !m.Decimal().Equal(d) {
			t.Fatalf("%q parsed as %s; decimal says %s (%v)", s, m, d, derr)
		}
		if back, err := ParseMoney(m.String()); err != nil || back != m {
			t.Fatalf("%q: %s does not parse back: %s %v", s, m, back, err)
		}
	})
}

// wordsDecimal is the reference: the words as a big integer, shifted.
func wordsDecimal(m Money) decimal.Decimal {
	hi, lo := m.Words()
	b := new(big.Int).Lsh(big.NewInt(hi), 64)
	b.Add(b, new(big.Int).SetUint64(lo))
	return decimal.NewFromBigInt(b, -AmountDecimals)
}

// Random values of every magnitude round-trip through String, Decimal
// and JSON.
func TestMoneyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 20000; n++ {
		m := MoneyFromWords(rng.Int64N(1<<23)-1<<22, rng.Uint64())
		switch n % 3 {
		case 1:
			m = MoneyOf(rng.Int64())
		case 2:
			m = MoneyOf(rng.Int64N(1 << 40))
		}
		if back, err := ParseMoney(m.String()); err != nil || back != m {
			t.Fatalf("%s: %s %v", m, back, err)
		}
		if back, err := MoneyFromDecimal(m.Decimal()); err != nil || back != m || !m.Decimal().Equal(wordsDecimal(m)) {
			t.Fatalf("%s: decimal %s, back %s %v", m, m.Decimal(), back, err)
		}
	}
}

func TestMaxMoneyWords(t *testing.T) {
	if MaxMoney.String() != "1000000000000000000" || MaxMoney.Decimal().String() != "1000000000000000000" {
		t.Errorf("MaxMoney is %s", MaxMoney)
	}
}
