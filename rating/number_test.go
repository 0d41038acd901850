package rating

import (
	"strings"
	"testing"
)

func TestNormalise(t *testing.T) {
	intl := Numbering{IntlPrefixes: []string{"00", "011"}}
	tests := []struct {
		n    Numbering
		in   string
		want string // "" = invalid
	}{
		{Numbering{}, "447911123456", "447911123456"},
		{Numbering{}, "+44 (0)20 7946-0958", "440207946" + "0958"},
		{Numbering{}, "+1.202.555.0123", "12025550123"},
		{Numbering{}, "0044 20 7946 0958", "00442079460958"},
		{intl, "0044 20 7946 0958", "442079460958"},
		{intl, "011 44 20 7946 0958", "442079460958"},
		{intl, "+0044", "44"},
		{intl, "000044", "0044"}, // removed once
		{Numbering{}, "", ""},
		{Numbering{}, "+", ""},
		{Numbering{}, " - ", ""},
		{intl, "00", ""},
		{Numbering{}, "44a1", ""},
		{Numbering{}, "*123", ""},
		{Numbering{}, "++44", ""},
		{Numbering{}, "44#", ""},
		{Numbering{}, strings.Repeat("1", 33), ""},
	}
	for _, tt := range tests {
		got, err := tt.n.Normalise(tt.in)
		if tt.want == "" {
			if err == nil || ErrorCode(err) != EInvalid {
				t.Errorf("Normalise(%q) = %q, %v; want invalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalise(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseIntlPrefixes(t *testing.T) {
	got, err := ParseIntlPrefixes(" 00, 011 ,")
	if err != nil || len(got) != 2 || got[0] != "00" || got[1] != "011" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ParseIntlPrefixes("00,+"); err == nil {
		t.Error("accepted +")
	}
}

func TestNormaliseCleanNumberDoesNotAllocate(t *testing.T) {
	n := Numbering{IntlPrefixes: []string{"00"}}
	if a := testing.AllocsPerRun(100, func() { n.Normalise("00447911123456") }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}

// Normalise never panics; what it accepts is digits only, and normalising
// the result again (without access prefixes) changes nothing.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"+44 (20) 7946-0958", "0044", "", "+", "12a", "011.44", "(((", "+-1"} {
		f.Add(s)
	}
	intl := Numbering{IntlPrefixes: []string{"00", "011"}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []Numbering{{}, intl} {
			got, err := n.Normalise(s)
			again, err2 := n.Normalise(s)
			if got != again || (err == nil) != (err2 == nil) {
				t.Fatalf("Normalise(%q) is not deterministic", s)
			}
			if err != nil {
				continue
			}
			if got == "" || len(got) > MaxNumberLen || strings.Trim(got, "0123456789") != "" {
				t.Fatalf("Normalise(%q) = %q", s, got)
			}
			if re, err := (Numbering{}).Normalise(got); err != nil || re != got {
				t.Fatalf("Normalise(%q) = %q, then %q, %v", s, got, re, err)
			}
		}
	})
}
