package rating

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	_ "time/tzdata" // Europe/Berlin, whatever the machine has
)

func mustParseDeck(t *testing.T, deck string, decimals int, loc *time.Location) []Row {
	t.Helper()
	tb := NewTable("retail", Outbound, "EUR")
	tb.Decimals = decimals
	rows, err := ParseRates(strings.NewReader(deck), tb, loc)
	if err != nil {
		t.Fatalf("ParseRates(%q): %v", deck, err)
	}
	return rows
}

// parseDeckErr parses deck with a 4-decimal table and wants it rejected.
func parseDeckErr(t *testing.T, deck string) *Error {
	t.Helper()
	rows, err := ParseRates(strings.NewReader(deck), NewTable("retail", Outbound, "EUR"), time.UTC)
	var e *Error
	if !errors.As(err, &e) || e.Code != EInvalid || rows != nil {
		t.Fatalf("ParseRates(%q) = %d rows, %v; want an EInvalid *Error", deck, len(rows), err)
	}
	return e
}

func writeDeck(t testing.TB, rows []Row, loc *time.Location) string {
	var b bytes.Buffer
	w := NewRateWriter(&b, loc)
	for i := range rows {
		if err := w.Write(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func deckRow(prefix, dest, rate string, set func(*Row)) Row {
	r := NewRow(prefix, deckAmount(rate))
	r.Destination = dest
	if set != nil {
		set(&r)
	}
	return r
}

func deckAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestParseRatesColumnNames(t *testing.T) {
	july := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, value string
		want        func(*Row)
	}{
		{"destination", "Spain", func(r *Row) { r.Destination = "Spain" }},
		{"Description", "Spain", func(r *Row) { r.Destination = "Spain" }},
		{" COUNTRY ", "Spain", func(r *Row) { r.Destination = "Spain" }},
		{"connect_fee", "0.1", func(r *Row) { r.ConnectFee = deckAmount("0.1") }},
		{"setup", "0.1", func(r *Row) { r.ConnectFee = deckAmount("0.1") }},
		{"connection_cost", "0.1", func(r *Row) { r.ConnectFee = deckAmount("0.1") }},
		{"initial_increment", "30", func(r *Row) { r.InitialIncrement = 30 }},
		{"InitBlock", "30", func(r *Row) { r.InitialIncrement = 30 }},
		{"increment", "6", func(r *Row) { r.Increment = 6 }},
		{"billingblock", "6", func(r *Row) { r.Increment = 6 }},
		{"initial_rate", "0.2", func(r *Row) { r.InitialRate = deckAmount("0.2") }},
		{"grace", "5", func(r *Row) { r.Grace = 5 }},
		{"min_cost", "0.01", func(r *Row) { r.MinCost = deckAmount("0.01") }},
		{"max_cost", "9", func(r *Row) { r.MaxCost = deckAmount("9") }},
		{"effective_from", "2025-07-01", func(r *Row) { r.EffectiveFrom = july }},
		{"Effective_Date", "2025-07-01T00:00:00Z", func(r *Row) { r.EffectiveFrom = july }},
	} {
		for _, prefix := range []string{"prefix", "code", "DialPrefix"} {
			for _, rate := range []string{"rate", "Cost", "price"} {
				deck := fmt.Sprintf("%s,%s,%s\n0.05,%s,34\n", rate, tc.name, prefix, tc.value)
				want := deckRow("34", "", "0.05", tc.want)
				if got := mustParseDeck(t, deck, 4, time.UTC); !reflect.DeepEqual(got, []Row{want}) {
					t.Errorf("%q: got %+v, want %+v", deck, got, want)
				}
			}
		}
	}
}

func TestParseRatesDelimiters(t *testing.T) {
	want := []Row{
		deckRow("82", "Korea, Republic of", "0.0125", func(r *Row) { r.ConnectFee = deckAmount("0.5") }),
		deckRow("82", `Korea "South"`, "0.02", func(r *Row) { r.EffectiveFrom = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC) }),
	}
	const deck = "\ufeffprefix~destination~rate~connect_fee~effective_from\r\n" +
		"82~\"Korea, Republic of\"~0.0125~0.5~\r\n\r\n 82 ~\"Korea \"\"South\"\"\"~0.02~~2025-07-01\r\n"
	for _, d := range []string{",", ";", "\t", "|"} {
		if got := mustParseDeck(t, strings.ReplaceAll(deck, "~", d), 4, time.UTC); !reflect.DeepEqual(got, want) {
			t.Errorf("delimiter %q: got %+v", d, got)
		}
	}
}

func TestParseRatesDecimalComma(t *testing.T) {
	for _, d := range []string{";", "\t"} {
		got := mustParseDeck(t, "prefix"+d+"rate"+d+"min_cost\n44"+d+"0,0125"+d+"1.5\n", 4, time.UTC)
		if got[0].Rate != 1_250_000 || got[0].MinCost != 150_000_000 {
			t.Errorf("delimiter %q: got %+v", d, got)
		}
	}
	for _, d := range []string{",", "|"} {
		e := parseDeckErr(t, "prefix"+d+"rate\n44"+d+"\"0,0125\"\n")
		if l := e.Lines[0]; l.Line != 2 || l.Column != "rate" || !strings.Contains(l.Message, "not a decimal number") {
			t.Errorf("delimiter %q: got %+v", d, e.Lines)
		}
	}
}

func TestParseRatesBadCells(t *testing.T) {
	const head = "prefix,rate,connect_fee,initial_increment,increment,grace,min_cost,max_cost,effective_from,destination,initial_rate\n"
	const ok1, ok2 = "44,0.01,,,,,,,,UK,\n", "33,0.01,,,,,,,,FR,0.02\n"
	for _, tc := range []struct {
		line, col, msg string
	}{
		{"44,abc,,,,,,,,", "rate", `rate "abc": not a decimal number`},
		{"44,,,,,,,,,", "rate", "rate: required"},
		{"44,-0.01,,,,,,,,", "rate", "must not be negative"},
		{"44,0.123456789,,,,,,,,", "rate", "more than 8 decimal places"},
		{"44,1000000000.01,,,,,,,,", "rate", "above the largest price"},
		{"44,100000000000,,,,,,,,", "rate", "too large"},
		{"44,0.01,1e3,,,,,,,", "connect_fee", "not a decimal number"},
		{"44,0.01,,-2,,,,,,", "initial_increment", `initial_increment "-2": must not be negative`},
		{"44,0.01,,-1,,,,,,", "initial_increment", `initial_increment "-1": must not be negative`},
		{"44,0.01,,,-1,,,,,", "increment", `increment "-1": must not be negative`},
		{"44,0.01,,,,-1,,,,", "grace", `grace "-1": must not be negative`},
		{"44,0.01,,, -1 ,,,,,", "increment", "must not be negative"},
		{"44,0.01,,-0,-7,,,,,", "increment", `increment "-7": must not be negative`},
		{"44,0.01,,,0,,,,,", "increment", "want 1 to 3600"},
		{"44,0.01,,,3601,,,,,", "increment", "want 1 to 3600"},
		{"44,0.01,,,6.5,,,,,", "increment", "not a whole number"},
		{"44,0.01,,,,86401,,,,", "grace", "grace 86401: want 0 to"},
		{"44,0.01,,,,,0.00001,,,", "min_cost", "more than the table's 4 decimals"},
		{"44,0.01,,,,,,0.00001,,", "max_cost", "more than the table's 4 decimals"},
		{"44,0.01,,,,,1,0.5,,", "max_cost", "below min_cost"},
		{"44,0.01,,x,,,,,,", "initial_increment", "not a whole number"},
		{"44,0.01,,,,,,,,,-1", "initial_rate", "initial_rate -1: must not be negative"},
		{"44,0.01,,,,,,,,,0,5", "", "12 cells, but the header has 11 columns"},
		{"44,0.01,,,,,,,2025-13-01,", "effective_from", "want RFC 3339"},
		{"44,0.01,,,,,,,2025-07-01T00:00:00.5Z,", "effective_from", "fractions of a second"},
		{"44,0.01,,,,,,,0225-07-01,", "effective_from", "out of range: years 1800 to 9999"},
		{"+44,0.01,,,,,,,,", "prefix", "digits only"},
		{",0.01,,,,,,,,", "prefix", "prefix: required"},
		{"1234567890123456789012345,0.01,,,,,,,,", "prefix", "longer than 24 digits"},
		{"44,0.01,,,,,,,," + strings.Repeat("x", 201), "destination", "longer than 200"},
		{"44,0.01,,", "", "4 cells, but the header has 11 columns"},
		{`44,0.01,,,,,,,,U"K`, "", `bare " in a cell without quotes (character 17)`},
		{`44,0.01,,,,,,,,"UK"x`, "", `" in a quoted cell must be doubled`},
	} {
		line := tc.line
		if strings.Count(line, ",") == 9 {
			line += "," // an empty initial_rate
		}
		e := parseDeckErr(t, head+ok1+"\n"+line+"\n"+ok2)
		want := LineError{Line: 4, Column: tc.col}
		if got := e.Lines[0]; len(e.Lines) != 1 || got.Line != 4 || got.Column != tc.col ||
			!strings.Contains(got.Message, tc.msg) {
			t.Errorf("%q: got %+v, want %+v with %q", tc.line, e.Lines, want, tc.msg)
		}
		at := ""
		if tc.col != "" {
			at = ", column " + tc.col
		}
		if prefix := "1 error in rate CSV; first: line 4" + at + ": "; !strings.HasPrefix(e.Message, prefix) {
			t.Errorf("%q: message %q, want it to start %q", tc.line, e.Message, prefix)
		}
	}
}

func TestParseRatesManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("prefix,rate\n")
	for i := range 150 {
		fmt.Fprintf(&b, "%d,%d.x\n", 100+i, i)
	}
	e := parseDeckErr(t, b.String())
	if len(e.Lines) != 100 || e.Lines[0].Line != 2 || e.Lines[99].Line != 101 ||
		!strings.HasPrefix(e.Message, `150 errors in rate CSV; first: line 2, column rate: rate "0.x"`) {
		t.Errorf("got %q with %d lines, last %+v", e.Message, len(e.Lines), e.Lines[len(e.Lines)-1])
	}

	// The same deck twice, with a bad cell late in each copy: the first
	// 100 problems by line, whichever check found them.
	b.Reset()
	b.WriteString("prefix,rate\n")
	for i := range 300 {
		rate := "0.1"
		if i%150 == 120 {
			rate = "-1"
		}
		fmt.Fprintf(&b, "%d,%s\n", 100+i%150, rate)
	}
	e = parseDeckErr(t, b.String())
	want := LineError{Line: 122, Column: "rate", Message: "rate -1: must not be negative"}
	if !strings.HasPrefix(e.Message, "151 errors in rate CSV; first: line 122, column rate: rate -1: must not be negative") ||
		len(e.Lines) != 100 || e.Lines[0].Line != 122 || e.Lines[0] != want || e.Lines[1].Line != 152 || e.Lines[99].Line != 250 {
		t.Errorf("got %q with %d lines: %+v ... %+v", e.Message, len(e.Lines), e.Lines[:2], e.Lines[len(e.Lines)-1])
	}
}

func TestParseRatesDuplicates(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		deck string
		want []LineError
	}{
		{"44,1,\n33,1,\n44,2,\n", []LineError{{4, "prefix", "duplicate of line 2: prefix 44, effective_from always"}}},
		{"44,1,2025-07-01\n44,1,\n44,2,2025-06-30T22:00:00Z\n", []LineError{
			{4, "prefix", "duplicate of line 2: prefix 44, effective_from 2025-07-01T00:00:00+02:00"}}},
		{"*,1,\n1,1,\n*,2,\n*,3,\n", []LineError{{4, "prefix", "duplicate of line 2: prefix *, effective_from always"},
			{5, "prefix", "duplicate of line 2: prefix *, effective_from always"}}},
		{"12345678901234567,1,\n1234567890123456,1,\n12345678901234567,1,\n", []LineError{
			{4, "prefix", "duplicate of line 2: prefix 12345678901234567, effective_from always"}}},
		{"44,x,\n44,1,\n44,1,\n", []LineError{{2, "rate", `rate "x": not a decimal number`},
			{4, "prefix", "duplicate of line 3: prefix 44, effective_from always"}}},
		{"2,1,\n1,1,\n2,1,2025-07-01\n1,1,2025-07-01\n", nil},
	} {
		deck := "prefix,rate,effective_from\n" + tc.deck
		_, err := ParseRates(strings.NewReader(deck), NewTable("t", Outbound, "EUR"), berlin)
		var e *Error
		if errors.As(err, &e) != (tc.want != nil) || e != nil && !reflect.DeepEqual(e.Lines, tc.want) {
			t.Errorf("%q: got %v, want %+v", tc.deck, err, tc.want)
		}
	}
}

// Times of the week: rows of one prefix and effective_from that cannot
// stand together are named by line, each against the line it clashes with.
func TestParseRatesWeeks(t *testing.T) {
	for _, tc := range []struct {
		deck string
		want []LineError
	}{
		{"44,1,mon-fri,08:00-18:00\n44,2,fri,22:00-06:00\n44,3,,\n", nil}, // DOMAIN.md's example
		{"44,1,mon-fri,08:00-18:00\n44,2,fri,17:00-19:00\n", []LineError{
			{3, "days", "prefix 44, effective_from always: days/hours fri 17:00-19:00 overlap the row of mon-fri 08:00-18:00 on line 2"}}},
		{"44,1,,\n33,1,,\n44,2,,\n", []LineError{{4, "prefix", "duplicate of line 2: prefix 44, effective_from always"}}},
		{"44,1,sat,\n44,1,sat,\n", []LineError{{3, "prefix", "duplicate of line 2: prefix 44, effective_from always, the same days and hours"}}},
		{"44,1,fri,22:00-06:00\n44,2,sat,05:00-07:00\n44,3,sat,07:00-08:00\n44,4,sun,\n44,5,sat,00:00-24:00\n", []LineError{
			{3, "days", "prefix 44, effective_from always: days/hours sat 05:00-07:00 overlap the row of fri 22:00-06:00 on line 2"},
			{6, "days", "prefix 44, effective_from always: days/hours sat 00:00-24:00 overlap the row of fri 22:00-06:00 on line 2"}}},
		{"*,1,sun,22:00-06:00\n*,2,mon,\n", []LineError{
			{3, "days", "prefix *, effective_from always: days/hours mon all day overlap the row of sun 22:00-06:00 on line 2"}}},
		{"44,1,,08:00-09:00\n45,1,,08:00-09:00\n", nil},
		{"44,1,xyz,\n44,1,,25:00-26:00\n44,1,,08:00-08:00\n", []LineError{
			{2, "days", `days "xyz": want mon…sun, comma-separated, or a range such as mon-fri`},
			{3, "hours", `hours "25:00-26:00": want HH:MM-HH:MM, such as 08:00-18:00`},
			{4, "hours", `hours "08:00-08:00": starts where it ends; 00:00-24:00 is the whole day`}}},
	} {
		deck := "prefix,rate,days,hours\n" + tc.deck
		_, err := ParseRates(strings.NewReader(deck), NewTable("t", Outbound, "EUR"), time.UTC)
		var e *Error
		if errors.As(err, &e) != (tc.want != nil) || e != nil && !reflect.DeepEqual(e.Lines, tc.want) {
			t.Errorf("%q: got %v, want %+v", tc.deck, err, tc.want)
			if e != nil {
				t.Logf("%+v", e.Lines)
			}
		}
	}
	for _, tc := range []struct{ deck, col, msg string }{
		{"prefix,rate,hours,time_from,time_to\n", "hours", "columns hours and time_from/time_to both give the hours"},
		{"prefix,rate,time_from\n", "time_from", "column time_from needs a column time_to"},
		{"prefix,rate,time_from,time_to\n44,1,08:00,\n", "time_from", `time_from "08:00", time_to "": want HH:MM-HH:MM`},
		{"prefix,rate,blocked\n44,1,maybe\n", "blocked", `blocked "maybe": want true or false`},
		{"prefix,rate,days,weekdays\n", "days", "column days given twice"},
	} {
		_, err := ParseRates(strings.NewReader(tc.deck), NewTable("t", Outbound, "EUR"), time.UTC)
		var e *Error
		if !errors.As(err, &e) || len(e.Lines) == 0 || e.Lines[0].Column != tc.col || !strings.Contains(e.Lines[0].Message, tc.msg) {
			t.Errorf("%q: got %v, want %s: %s", tc.deck, err, tc.col, tc.msg)
		}
	}
}

func TestParseRatesHeader(t *testing.T) {
	for _, tc := range []struct{ deck, col, msg string }{
		{"prefix,rate,ratee\n", "", `unknown column "ratee" (column 3); the columns are prefix (or code, dialprefix),`},
		{"prefix,rate,\n", "", `unknown column "" (column 3)`},
		{"prefix,rate,Cost\n44,1,1\n", "rate", `column rate given twice, as "rate" and "Cost"`},
		{"destination,rate\n", "prefix", "missing column prefix; the columns are"},
		{"\n\nprefix,destination\n44,x\n", "rate", "missing column rate"},
		{`prefix,"rate` + "\n", "", "quoted cell not closed at the end of the file"},
	} {
		e := parseDeckErr(t, tc.deck)
		if l := e.Lines[0]; l.Column != tc.col || !strings.HasPrefix(l.Message, tc.msg) {
			t.Errorf("%q: got %+v, want column %q and %q", tc.deck, e.Lines, tc.col, tc.msg)
		}
	}
	for _, deck := range []string{"", "\ufeff", "\r\n\n", " , \n"} {
		if e := parseDeckErr(t, deck); e.Message != "empty CSV: a header row is required" {
			t.Errorf("%q: got %q", deck, e.Message)
		}
	}
	for _, deck := range []string{"prefix,rate", "\ufeffCODE;PRICE\r\n\r\n;\r\n", ";;\n \"Code\";Price\n"} {
		if rows := mustParseDeck(t, deck, 4, time.UTC); len(rows) != 0 {
			t.Errorf("%q: got %+v", deck, rows)
		}
	}
}

func TestParseRatesReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("prefix,rate\n44,1\n"), iotest.ErrReader(boom))
	if _, err := ParseRates(r, NewTable("t", Outbound, "EUR"), time.UTC); err != boom {
		t.Errorf("got %v, want %v", err, boom)
	}
}

// TestParseRatesZones also holds ParseRates to the file's order.
func TestParseRatesZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	deck := "prefix,rate,effective_from\n" +
		"44,0.3,2025-07-01\n" + // midnight in Berlin, summer time
		"12345678901234567,0.1,\n" +
		"44,0.2,\n" +
		"4,0.5,2025-01-01T00:00:00-05:00\n" +
		"*,0.9,\n" +
		"1234567890123456,0.1,\n" +
		"44,0.4,2025-12-01\n" // winter time
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t.UTC() }
	want := []Row{
		deckRow("44", "", "0.3", func(r *Row) { r.EffectiveFrom = at("2025-06-30T22:00:00Z") }),
		deckRow("12345678901234567", "", "0.1", nil),
		deckRow("44", "", "0.2", nil),
		deckRow("4", "", "0.5", func(r *Row) { r.EffectiveFrom = at("2025-01-01T05:00:00Z") }),
		deckRow("*", "", "0.9", nil),
		deckRow("1234567890123456", "", "0.1", nil),
		deckRow("44", "", "0.4", func(r *Row) { r.EffectiveFrom = at("2025-11-30T23:00:00Z") }),
	}
	if got := mustParseDeck(t, deck, 4, berlin); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// ParseEffectiveFrom reads an effective_from as a deck's cell is read.
func TestParseEffectiveFrom(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ in, want, err string }{
		{"2025-07-01", "2025-06-30T22:00:00Z", ""},
		{"2025-01-01T00:00:00-05:00", "2025-01-01T05:00:00Z", ""},
		{"2025-07-01T00:00:00.5Z", "", "fractions of a second"},
		{"0225-07-01", "", "out of range"},
		{"July", "", `effective_from "July": want RFC 3339`},
	} {
		got, err := ParseEffectiveFrom(tt.in, berlin)
		if tt.err != "" {
			if ErrorCode(err) != EInvalid || ErrorField(err) != "effective_from" || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseEffectiveFrom(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want || got.Location() != time.UTC {
			t.Errorf("ParseEffectiveFrom(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// TestParseRatesLongLine crosses the reader's buffer inside one line.
func TestParseRatesLongLine(t *testing.T) {
	pad := strings.Repeat(" ", 200_000)
	deck := "prefix,destination,rate\n44," + pad + "UK" + pad + ",0.01\n33,\"" + pad + "\n\nFR\",0.02\n"
	want := []Row{deckRow("44", "UK", "0.01", nil), deckRow("33", "FR", "0.02", nil)}
	if got := mustParseDeck(t, deck, 4, time.UTC); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestRateWriterCSV(t *testing.T) {
	const header = "prefix,destination,rate,connect_fee,initial_increment,increment,initial_rate,grace,min_cost,max_cost,effective_from,days,hours,blocked\n"
	if got := writeDeck(t, nil, nil); got != header {
		t.Errorf("empty table: got %q", got)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	rows := []Row{
		deckRow("82", "Korea, \"South\"", "0.0125", nil),
		deckRow("1", " US", "0.01", func(r *Row) {
			*r = Row{Prefix: "1", Destination: " US", Rate: 1_000_000, ConnectFee: 0, InitialIncrement: 0,
				Increment: 6, InitialRate: 20_000_000, Grace: 0, MinCost: 100_000_000, MaxCost: 250_000_000,
				EffectiveFrom: time.Date(2025, 7, 1, 4, 0, 0, 0, time.UTC)}
		}),
		deckRow("2", "", "1", func(r *Row) { r.EffectiveFrom = time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC) }),
		deckRow("3", "", "1", func(r *Row) { r.Days, r.Hours, r.Blocked = 0b1100001, Hours{1080, 480}, true }),
	}
	want := header + "82,\"Korea, \"\"South\"\"\",0.0125,,,,,,,,,,,\n" +
		"1,\" US\",0.01,0,0,6,0.2,0,1,2.5,2025-07-01T00:00:00-04:00,,,\n" +
		"2,,1,,,,,,,,1880-01-01T00:00:00Z,,,\n" + // New York's mean time was -4:56:02
		"3,,1,,,,,,,,,sat-mon,18:00-08:00,true\n"
	if got := writeDeck(t, rows, ny); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRatesRoundTrip parses the sample decks (every column, aliases,
// decimal commas, several effective_from per prefix, "*"), writes them and
// parses the export back.
func TestRatesRoundTrip(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/decks/*")
	if len(files) < 4 {
		t.Fatalf("sample decks: %v", files)
	}
	for _, f := range files {
		deck, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows := mustParseDeck(t, string(deck), 4, berlin)
		lines := strings.Count(strings.TrimSpace(strings.ReplaceAll(string(deck), "\r\n\r\n", "\r\n")), "\n")
		if len(rows) != lines {
			t.Errorf("%s: %d rows, want %d", f, len(rows), lines)
		}
		out := writeDeck(t, rows, berlin)
		if back := mustParseDeck(t, out, 4, berlin); !reflect.DeepEqual(back, rows) {
			t.Errorf("%s: export\n%s\nparses to %+v\nwant %+v", f, out, back, rows)
		}
	}
	// Old dates in zones whose offset then had seconds, and the last year.
	for _, name := range []string{"Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		rows := mustParseDeck(t, "prefix,rate,effective_from\n1,1,1850-01-01\n1,1,1937-06-30\n1,1,9999-12-31\n", 4, loc)
		if back := mustParseDeck(t, writeDeck(t, rows, loc), 4, loc); !reflect.DeepEqual(back, rows) {
			t.Errorf("%s: %+v\nparse back to %+v", name, rows, back)
		}
	}
	// A date whose midnight a change of summer time skips starts at the
	// first minute that exists (DOMAIN.md, "Dates"), not on the day before.
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	skipped := mustParseDeck(t, "prefix,rate,effective_from\n56,1,2026-09-06\n", 4, santiago)
	if got, want := skipped[0].EffectiveFrom, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("2026-09-06 in America/Santiago: %s, want %s (01:00 local)", got, want)
	}
	if back := mustParseDeck(t, writeDeck(t, skipped, santiago), 4, santiago); !reflect.DeepEqual(back, skipped) {
		t.Errorf("America/Santiago: %+v\nparse back to %+v", skipped, back)
	}
	rows := mustParseDeck(t, "Code;Setup;Price;Effective_Date\n49;0,05;0,0120;2025-01-01\n49;;0,011;\n", 4, berlin)
	want := []Row{deckRow("49", "", "0.012", func(r *Row) {
		r.ConnectFee = 5_000_000
		r.EffectiveFrom = time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC)
	}), deckRow("49", "", "0.011", nil)}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("got %+v", rows)
	}
}

// genDeck writes an n-line deck with destinations repeated and a date on
// some rows. A shuffled deck, in an order unrelated to the prefixes, is the
// worst case for the duplicate check; a sorted one is what exports look like.
func genDeck(n int, shuffled bool) []byte {
	dests := []string{"United Kingdom", "United Kingdom Mobile", "Germany", "Germany Mobile",
		"Korea, Republic of", "France", "United States", "Spain Mobile"}
	var b bytes.Buffer
	b.WriteString("prefix,destination,rate,connect_fee,increment,effective_from\n")
	for i := 1; i < n; i++ {
		p := 1_000_000 + i
		if shuffled { // i·7919 mod a prime above n visits each number once
			p = 1_000_000 + (i*7919)%1_000_003
		}
		from := ""
		if i%4 == 0 {
			from = "2025-07-01"
		}
		fmt.Fprintf(&b, "%d,%q,0.%04d,,%d,%s\n", p, dests[i%len(dests)], i%10000, 1+i%60, from)
	}
	return b.Bytes()
}

// genWeekDeck is a deck of about n rows where a third of the prefixes
// have a weekday peak row besides their default, as a retail deck with
// peak and off-peak has.
func genWeekDeck(n int) []byte {
	var b bytes.Buffer
	b.WriteString("prefix,destination,rate,days,hours\n")
	for i := 1; i < n; {
		p := 1_000_000 + (i*7919)%1_000_003
		fmt.Fprintf(&b, "%d,Somewhere,0.%04d,,\n", p, i%10000)
		i++
		if p%3 == 0 {
			fmt.Fprintf(&b, "%d,Somewhere,0.%04d,mon-fri,08:00-18:00\n", p, i%10000)
			i++
		}
	}
	return b.Bytes()
}

// BenchmarkParseRatesWeeks is BenchmarkParseRates for a deck with weeks:
// every row of a timed prefix goes through the check of its week.
func BenchmarkParseRatesWeeks(b *testing.B) {
	deck := genWeekDeck(1_000_000)
	t := NewTable("retail", Outbound, "EUR")
	b.SetBytes(int64(len(deck)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRates(bytes.NewReader(deck), t, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRates(b *testing.B) {
	for _, order := range []string{"shuffled", "sorted"} {
		b.Run(order, func(b *testing.B) {
			deck := genDeck(1_000_000, order == "shuffled")
			t := NewTable("retail", Outbound, "EUR")
			b.SetBytes(int64(len(deck)))
			b.ReportAllocs()
			for b.Loop() {
				rows, err := ParseRates(bytes.NewReader(deck), t, time.UTC)
				if err != nil || len(rows) != 999_999 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
			}
		})
	}
}
