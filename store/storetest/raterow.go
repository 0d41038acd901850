package storetest

import (
	"testing"
	"time"

	"pbxbill/rating"
)

// Rate rows one at a time: a row is added, replaced, moved to another key
// or deleted in one step that counts the table's rows, and the live
// resolution answers the change at once. A missing row is ENotFound, and
// a move onto another row is EConflict; neither changes anything.
func testRateRows(t *testing.T, open Open) {
	b, _ := books(t, open)
	june := Day.AddDate(0, 3, 0)
	rateOf := func(number string, at time.Time) string {
		t.Helper()
		res := b.Rater().ResolveIn("Sell Out", number, at)
		if !res.Rated() {
			return res.Reason
		}
		return res.Rate.Prefix + " " + res.Rate.Rate.String()
	}
	rows := func() int {
		t.Helper()
		return must[rating.Table](t)(b.RateTable("Sell Out")).Rows
	}
	key := func(prefix string, eff time.Time) *rating.RateKey {
		return &rating.RateKey{Prefix: prefix, EffectiveFrom: eff}
	}

	cut := rating.NewRow("447", amt(t, "0.10"))
	cut.EffectiveFrom = june
	if added, err := b.PutRate("Sell Out", cut, nil); err != nil || !added {
		t.Fatalf("add a dated row: %v, %v", added, err)
	}
	if got := rateOf("4471", june); got != "447 0.1" || rows() != 3 {
		t.Errorf("after the add: 4471 in June %s, %d rows", got, rows())
	}
	if added, err := b.PutRate("Sell Out", rating.NewRow("447", amt(t, "0.13")), key("447", time.Time{})); err != nil || added {
		t.Fatalf("edit a row: %v, %v", added, err)
	}
	if got := rateOf("4471", Day); got != "447 0.13" || rows() != 3 {
		t.Errorf("after the edit: 4471 %s, %d rows", got, rows())
	}
	if _, err := b.PutRate("Sell Out", rating.NewRow("4478", amt(t, "0.2")), key("447", time.Time{})); err != nil {
		t.Fatalf("move a row: %v", err)
	}
	if got := rateOf("4471", Day); got != "44 0.06" || rateOf("44781", Day) != "4478 0.2" || rows() != 3 {
		t.Errorf("after the move: 4471 %s, 44781 %s, %d rows", got, rateOf("44781", Day), rows())
	}
	_, err := b.PutRate("Sell Out", rating.NewRow("44", amt(t, "0.5")), key("4478", time.Time{}))
	wantCode(t, err, rating.EConflict)
	_, err = b.PutRate("Sell Out", rating.NewRow("49", amt(t, "0.5")), key("33", time.Time{}))
	wantCode(t, err, rating.ENotFound)

	old, err := b.DeleteRate("Sell Out", *key("447", june))
	if err != nil || old.Rate != amt(t, "0.1") {
		t.Fatalf("delete: %+v, %v", old, err)
	}
	if got := rateOf("4471", june); got != "44 0.06" || rows() != 2 {
		t.Errorf("after the delete: 4471 in June %s, %d rows", got, rows())
	}
	_, err = b.DeleteRate("Sell Out", *key("447", june))
	wantCode(t, err, rating.ENotFound)
	_, err = b.DeleteRate("Nope", *key("44", time.Time{}))
	wantCode(t, err, rating.ENotFound)
	if got := rateOf("44781", Day); got != "4478 0.2" || rows() != 2 {
		t.Errorf("after the refusals: 44781 %s, %d rows", got, rows())
	}
	check(t, b)
}
