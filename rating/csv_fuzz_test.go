package rating

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// addSampleDecks seeds a fuzz corpus with the decks in testdata/decks.
func addSampleDecks(f *testing.F, add func(deck string)) {
	files, _ := filepath.Glob("testdata/decks/*")
	if len(files) == 0 {
		f.Fatal("no sample decks in testdata/decks")
	}
	for _, name := range files {
		deck, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(string(deck))
	}
}

// FuzzParseRates checks that ParseRates never panics, gives the same answer
// twice, accepts only valid rows without duplicates, and reads its own
// export back to the same rows.
func FuzzParseRates(f *testing.F) {
	addSampleDecks(f, func(deck string) {
		f.Add(deck, uint8(0x04))
		f.Add(deck, uint8(0x14))
	})
	f.Add("prefix,rate,min_cost\n44,0.01,0.015\n", uint8(2))
	f.Add("prefix,destination,rate\n1,'=x,1\n2,''=y,1\n3,=z,1\n4,-5,1\n5,'-5,1\n6,\"'\t@w\",1\n", uint8(0))
	f.Add("code|price|effective_date\n*|1|\n1|1|2025-03-30\n1|1|2025-03-30T02:30:00+02:00\n", uint8(8))
	f.Add("prefix,rate,effective_from\n1,1,1850-01-01\n1,1,9999-12-31\n1,1,1800-01-01T00:00:00Z\n", uint8(0x34))
	// Amsterdam kept local mean time, +00:19:32, until 1937; Kolkata is +05:30.
	var locs []*time.Location
	for _, name := range []string{"UTC", "Europe/Amsterdam", "Asia/Kolkata", "America/New_York"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			f.Fatal(err)
		}
		locs = append(locs, loc)
	}
	f.Fuzz(func(t *testing.T, deck string, settings uint8) {
		tb := NewTable("fuzz", Outbound, "EUR")
		tb.Decimals = int(settings&0xf) % 9
		loc := locs[int(settings>>4)%len(locs)]
		rows, err := ParseRates(strings.NewReader(deck), tb, loc)
		again, err2 := ParseRates(strings.NewReader(deck), tb, loc)
		if !reflect.DeepEqual(rows, again) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("two parses differ:\n%+v, %v\n%+v, %v", rows, err, again, err2)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EInvalid || rows != nil || len(e.Lines) > 100 {
				t.Fatalf("got %d rows, %#v", len(rows), err)
			}
			for _, l := range e.Lines {
				if l.Line < 1 || l.Line > strings.Count(deck, "\n")+1 {
					t.Fatalf("line %d in %d lines: %+v", l.Line, strings.Count(deck, "\n")+1, l)
				}
			}
			return
		}
		type key struct {
			prefix string
			from   time.Time
		}
		versions := map[key][]Row{}
		for i := range rows {
			if err := rows[i].Validate(tb.Decimals); err != nil {
				t.Fatalf("accepted %+v: %v", rows[i], err)
			}
			k := key{rows[i].Prefix, rows[i].EffectiveFrom}
			versions[k] = append(versions[k], rows[i])
		}
		for _, week := range versions {
			if err := CheckWeek(week); err != nil {
				t.Fatalf("accepted a week DOMAIN.md refuses: %v", err)
			}
		}
		out := writeDeck(t, rows, loc)
		back, err := ParseRates(strings.NewReader(out), tb, loc)
		if err != nil || !reflect.DeepEqual(back, rows) {
			t.Fatalf("export\n%s\nparses to %+v, %v\nwant %+v", out, back, err, rows)
		}
	})
}

// FuzzSplitter holds the splitter to encoding/csv: the same records from
// the same lines, and a malformed quote where encoding/csv finds one. A
// 16-byte buffer puts lines across buffer refills.
func FuzzSplitter(f *testing.F) {
	addSampleDecks(f, func(deck string) {
		for d := range uint8(4) {
			f.Add(deck, d)
		}
	})
	for _, s := range []string{"a, \"b\"\"c\",d\r\n\n\"x\ny\"\r", `a,"b"c`, `a,b"c`, "\"a\r\n\r\nb\",\"", " \u00a0\"q\" ,\u2028"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data string, d uint8) {
		comma := ",;\t|"[d%4]
		cr := csv.NewReader(strings.NewReader(data))
		cr.Comma, cr.FieldsPerRecord, cr.TrimLeadingSpace = rune(comma), -1, comma != '\t'
		s := newSplitter(bufio.NewReaderSize(strings.NewReader(data), 16), comma)
		for range len(data) + 1 {
			want, wantErr := cr.Read()
			got, bad, err := s.next()
			var pe *csv.ParseError
			switch {
			case err != nil:
				t.Fatal(err)
			case wantErr == io.EOF:
				if got != nil || bad != "" {
					t.Fatalf("after the end: %q %q", got, bad)
				}
				return
			case errors.As(wantErr, &pe):
				if bad == "" || s.start != pe.StartLine {
					t.Fatalf("csv: %v; splitter: line %d, %q %q", wantErr, s.start, got, bad)
				}
				continue
			case wantErr != nil:
				t.Fatal(wantErr)
			}
			// Leading spaces of unquoted cells are encoding/csv's to drop;
			// ParseRates trims every cell anyway.
			trim := func(rec []string) []string {
				if comma == '\t' {
					return rec
				}
				rec = slices.Clone(rec)
				for i := range rec {
					rec[i] = strings.TrimLeftFunc(rec[i], unicode.IsSpace)
				}
				return rec
			}
			if line, _ := cr.FieldPos(0); bad != "" || s.start != line || !slices.Equal(trim(got), trim(want)) {
				t.Fatalf("csv: line %d %q; splitter: line %d %q %q", line, want, s.start, got, bad)
			}
		}
		t.Fatal("more records than bytes")
	})
}
