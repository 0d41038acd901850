package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

// weekRow is a row of prefix with days and hours as a deck writes them.
func weekRow(tb testing.TB, prefix string, rate rating.Amount, days, hours string) rating.Row {
	tb.Helper()
	r := rating.NewRow(prefix, rate)
	var err error
	if r.Days, err = rating.ParseDays(days); err != nil {
		tb.Fatal(err)
	}
	if r.Hours, err = rating.ParseHours(hours); err != nil {
		tb.Fatal(err)
	}
	return r
}

// A week of rows of one prefix is stored, reopened, resolved on the
// installation's clock, and changed row by row.
func TestRateWeeks(t *testing.T) {
	s := MustOpenAt(t, t.TempDir()+"/w.db", Options{TZ: "Europe/London", Currency: "EUR"})
	mustTable(t, s, "t", rating.Outbound)
	peak := weekRow(t, "44", 20, "mon-fri", "08:00-18:00")
	night := weekRow(t, "44", 5, "fri", "22:00-06:00")
	night.Blocked = true
	def := rating.NewRow("44", 10)
	if err := s.ReplaceRates("t", []rating.Row{night, def, peak}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	rows := allRows(t, s, "t")
	if want := []rating.Row{def, night, peak}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("stored rows\n got %+v\nwant %+v", rows, want)
	}
	london, _ := time.LoadLocation("Europe/London")
	// Friday 17:59 in London is 17:59 UTC in November, 16:59 UTC in June.
	for _, tt := range []struct {
		at      time.Time
		rate    rating.Amount
		blocked bool
	}{
		{time.Date(2026, 11, 27, 17, 59, 0, 0, london), 20, false},
		{time.Date(2026, 6, 26, 17, 59, 0, 0, london), 20, false},
		{time.Date(2026, 6, 26, 17, 30, 0, 0, time.UTC), 10, false}, // 18:30 in London
		{time.Date(2026, 11, 28, 5, 59, 0, 0, london), 5, true},
	} {
		res := s.Rater().ResolveIn("t", "4420", tt.at)
		if res.Rate.Rate != tt.rate || res.Rate.Blocked != tt.blocked {
			t.Errorf("at %s: rate %d blocked %v, want %d %v", tt.at, res.Rate.Rate, res.Rate.Blocked, tt.rate, tt.blocked)
		}
	}

	// A row whose times overlap another's is refused, and nothing changes.
	clash := weekRow(t, "44", 30, "fri", "17:00-19:00")
	if _, err := s.PutRate("t", clash, nil); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("PutRate of an overlapping row: %v", err)
	}
	if _, _, err := s.MergeRates("t", []rating.Row{clash}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("MergeRates of an overlapping row: %v", err)
	}
	if err := s.ReplaceRates("t", []rating.Row{peak, clash}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("ReplaceRates of overlapping rows: %v", err)
	}
	if got := allRows(t, s, "t"); !reflect.DeepEqual(got, rows) {
		t.Errorf("a refused change changed the rows: %+v", got)
	}

	// A weekend row joins the week; the row of the same times is replaced.
	weekend := weekRow(t, "44", 3, "sat,sun", "08:00-20:00")
	if added, err := s.PutRate("t", weekend, nil); err != nil || !added {
		t.Fatalf("PutRate weekend: %v %v", added, err)
	}
	peak.Rate = 25
	if added, err := s.PutRate("t", peak, nil); err != nil || added {
		t.Fatalf("PutRate peak again: %v %v", added, err)
	}
	if r := s.Rater().ResolveIn("t", "4420", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)); r.Rate.Rate != 3 {
		t.Errorf("Saturday noon: %d", r.Rate.Rate)
	}
	// Moving a row to other times is a move, not a copy.
	moved := weekend
	moved.Hours = rating.Hours{From: 9 * 60, To: 21 * 60}
	from := weekend.Key()
	if _, err := s.PutRate("t", moved, &from); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteRate("t", weekend.Key()); rating.ErrorCode(err) != rating.ENotFound {
		t.Errorf("the old times are still there: %v", err)
	}
	// The delete names the row by its times; the default is the row without.
	if _, err := s.DeleteRate("t", moved.Key()); err != nil {
		t.Fatal(err)
	}
	if old, err := s.DeleteRate("t", rk("44", time.Time{})); err != nil || old.Rate != 10 {
		t.Fatalf("delete the default: %+v %v", old, err)
	}
	if r := s.Rater().ResolveIn("t", "4420", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)); r.Rated() {
		t.Errorf("a week without a default rates Saturday noon: %+v", r.Rate)
	}
	sameAsRebuilt(t, s, "t", []string{"4420", "44"}, []time.Time{
		time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)})
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// A deck with times is stored as it parses, pages by cursor across the
// rows of one week, and exports to the same deck.
func TestRateWeeksPageAndExport(t *testing.T) {
	s := MustOpen(t)
	tb := mustTable(t, s, "t", rating.Outbound)
	deck := "prefix,rate,days,hours,blocked\n44,0.02,mon-fri,08:00-18:00,\n44,0.005,fri,22:00-06:00,true\n44,0.01,,,\n" +
		"*,0.5,sat,,\n*,0.9,,,\n"
	rows, err := rating.ParseRates(strings.NewReader(deck), tb, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	var got []rating.Row
	after := ""
	for {
		page, next, err := s.Rates("t", "", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if after = next; after == "" {
			break
		}
	}
	var out strings.Builder
	w := rating.NewRateWriter(&out, time.UTC)
	if err := s.EachRate("t", w.Write); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	back, err := rating.ParseRates(strings.NewReader(out.String()), tb, time.UTC)
	if err != nil || !reflect.DeepEqual(back, got) || len(got) != 5 {
		t.Errorf("export\n%s\nparses to %+v, %v\npages gave %+v", out.String(), back, err, got)
	}
}
