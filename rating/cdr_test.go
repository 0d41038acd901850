package rating

import (
	"strings"
	"testing"
	"time"
)

// TestCDRStart: a CDR starts from 2000-01-01 up to, not including,
// 2200-01-01 UTC; any other start is malformed and names the CDR and the
// field.
func TestCDRStart(t *testing.T) {
	for _, tc := range []struct {
		start string
		ok    bool
	}{
		{"0001-01-01T00:00:01Z", false},
		{"1677-09-21T00:12:43Z", false},
		{"1970-01-01T00:00:00Z", false},
		{"1999-12-31T23:59:59.999999999Z", false},
		{"2000-01-01T00:00:00Z", true},
		{"2000-01-01T00:59:59+01:00", false},
		{"2026-03-10T09:00:00Z", true},
		{"2199-12-31T23:59:59.999999999Z", true},
		{"2200-01-01T00:59:59+01:00", true},
		{"2200-01-01T00:00:00Z", false},
		{"2262-04-12T00:00:00Z", false},
		{"2300-01-01T00:00:00Z", false},
		{"9999-12-31T23:59:59Z", false},
	} {
		start, err := time.Parse(time.RFC3339Nano, tc.start)
		if err != nil {
			t.Fatal(err)
		}
		c := CDR{ID: "c1", Kind: Outbound, Start: start, Duration: 60}
		err = c.Validate()
		if tc.ok != (err == nil) {
			t.Errorf("start %s: %v", tc.start, err)
		}
		if err != nil && (ErrorField(err) != "start" || !strings.Contains(err.Error(), `cdr "c1": start `)) {
			t.Errorf("start %s: field %q, message %q", tc.start, ErrorField(err), err)
		}
	}
}

// TestPBXStart: a PBX file's stamps outside the range are refused by
// their column, year 1 (the zero time) among them.
func TestPBXStart(t *testing.T) {
	for _, line := range []string{
		`,,,,"0001-01-01 0:00:00",,,,0,,,,`,
		`,,,,"2026-03-10 09:00:00","2300-01-01 00:00:00",,,0,,u1,,acme`,
		`,,,,"1999-12-31T23:59:59Z",,,,0,,u1,,acme`,
	} {
		_, err := ParsePBXLine(FreeSWITCH, line, 1, time.UTC)
		if err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("%s: %v", line, err)
		}
	}
	rec, err := ParsePBXLine(FreeSWITCH, `,,,,"2199-12-31 23:59:59",,,,0,,u1,,acme`, 1, time.UTC)
	if err != nil || rec.Start != MaxStart().Add(-time.Second) {
		t.Errorf("last second: %+v %v", rec, err)
	}
}

// TestClampStart: a filter bound of any year maps into the stored range.
func TestClampStart(t *testing.T) {
	mid := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for in, want := range map[time.Time]time.Time{
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC): MinStart(),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC): MaxStart(),
		mid: mid,
	} {
		if got := ClampStart(in); !got.Equal(want) {
			t.Errorf("ClampStart(%s) = %s, want %s", in, got, want)
		}
	}
}
