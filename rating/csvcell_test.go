package rating

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ text, cell string }{
		{"=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"},
		{"+1+cmd", "'+1+cmd"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"'=x", "''=x"},
		{"''@x", "'''@x"},
		{"'x", "'x"},
		{"'", "'"},
		{"'+44", "'+44"}, // a quote before a plain number needs none
		{"+442079460000", "+442079460000"},
		{"-5", "-5"},
		{"-0.5", "-0.5"},
		{"-.5", "'-.5"},
		{"+1e5", "'+1e5"},
		{"+", "'+"},
		{"-", "'-"},
		{"United Kingdom - Mobile", "United Kingdom - Mobile"},
		{"", ""},
	} {
		if got := CSVCell(tc.text); got != tc.cell {
			t.Errorf("CSVCell(%q) = %q, want %q", tc.text, got, tc.cell)
		}
		if back := fromCSVCell(tc.cell); back != tc.text {
			t.Errorf("fromCSVCell(%q) = %q, want %q", tc.cell, back, tc.text)
		}
	}
}

// FuzzCSVCell checks that no cell an export writes starts a formula, that
// the import reads back every text, and that a deck row's destination
// makes the round trip through RateWriter and ParseRates.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"=1+2", "'=1+2", "''=x", "'", "-5", "+44", "-", "'-.5", "@", "\t=1", " =1", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CSVCell(s)
		if fromCSVCell(c) != s {
			t.Fatalf("CSVCell(%q) = %q, read back as %q", s, c, fromCSVCell(c))
		}
		if c != "" && strings.ContainsRune("=@\t\r", rune(c[0])) || c != "" && strings.ContainsRune("+-", rune(c[0])) && !plainNumber(c[1:]) {
			t.Fatalf("CSVCell(%q) = %q starts a formula", s, c)
		}
		if c != s && c != "'"+s {
			t.Fatalf("CSVCell(%q) = %q: more than a quote in front", s, c)
		}
		d := strings.TrimSpace(s)
		if !utf8.ValidString(d) || strings.ContainsAny(d, "\x00") {
			return
		}
		r := NewRow("44", 1)
		r.Destination = d
		if r.Validate(8) != nil {
			return
		}
		rows, err := ParseRates(strings.NewReader(writeDeck(t, []Row{r}, nil)), NewTable("fuzz", Outbound, "EUR"), nil)
		if err != nil || len(rows) != 1 || rows[0].Destination != d {
			t.Fatalf("destination %q comes back as %+v, %v", d, rows, err)
		}
	})
}
