package storetest

import (
	"testing"
	"time"

	"pbxbill/rating"
)

// Rate rows with times of the week: the rows of one prefix and
// effective_from are one week, each row kept under its times; the live
// resolution picks the row whose times hold the instant, read in the
// installation's zone (UTC here), and falls through to a shorter prefix
// in a gap. A row whose times overlap another row of its week is
// EInvalid and changes nothing; a timed row is deleted by its times.
func testRateWeeks(t *testing.T, open Open) {
	b, _ := books(t, open)
	timed := func(prefix, rate, days, hours string) rating.Row {
		t.Helper()
		r := rating.NewRow(prefix, amt(t, rate))
		r.Days = must[rating.Days](t)(rating.ParseDays(days))
		r.Hours = must[rating.Hours](t)(rating.ParseHours(hours))
		return r
	}
	rateOf := func(number string, at time.Time) string {
		t.Helper()
		res := b.Rater().ResolveIn("Sell Out", number, at)
		if !res.Rated() {
			return res.Reason
		}
		return res.Rate.Prefix + " " + res.Rate.Rate.String()
	}
	saturday := Day                   // 09:00
	monday := Day.Add(48 * time.Hour) // 09:00
	for _, r := range []rating.Row{timed("4478", "0.30", "mon-fri", "08:00-18:00"), timed("4478", "0.20", "sat,sun", "")} {
		if added, err := b.PutRate("Sell Out", r, nil); err != nil || !added {
			t.Fatalf("add %s: %v, %v", r.Key(), added, err)
		}
	}
	if got := rateOf("44781", monday); got != "4478 0.3" {
		t.Errorf("Monday 09:00: %s", got)
	}
	if got := rateOf("44781", saturday); got != "4478 0.2" {
		t.Errorf("Saturday 09:00: %s", got)
	}
	// Monday 19:00 is in no row of 4478's week: 447 prices it.
	if got := rateOf("44781", monday.Add(10*time.Hour)); got != "447 0.12" {
		t.Errorf("Monday 19:00: %s", got)
	}
	_, err := b.PutRate("Sell Out", timed("4478", "0.25", "fri", "17:00-19:00"), nil)
	wantCode(t, err, rating.EInvalid)
	if got := rateOf("44781", monday.Add(10*time.Hour)); got != "447 0.12" {
		t.Errorf("a refused row changed Monday 19:00: %s", got)
	}
	// The default of the week fills its gaps.
	if _, err := b.PutRate("Sell Out", rating.NewRow("4478", amt(t, "0.15")), nil); err != nil {
		t.Fatal(err)
	}
	if got := rateOf("44781", monday.Add(10*time.Hour)); got != "4478 0.15" {
		t.Errorf("Monday 19:00 with a default: %s", got)
	}
	peak := timed("4478", "0", "mon-fri", "08:00-18:00")
	if _, err := b.DeleteRate("Sell Out", peak.Key()); err != nil {
		t.Fatal(err)
	}
	if got := rateOf("44781", monday); got != "4478 0.15" {
		t.Errorf("Monday 09:00 after the delete: %s", got)
	}
	if got := must[rating.Table](t)(b.RateTable("Sell Out")).Rows; got != 4 {
		t.Errorf("%d rows, want 4", got)
	}
	check(t, b)
}
