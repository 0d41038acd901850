package pg

import (
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg/pgtest"
)

// loadMissing loads a table another node made that this node has not
// heard of, and answers nil for a table there is not.
func TestLoadMissing(t *testing.T) {
	url := pgtest.URL(t)
	a, err := Open(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.CreateRateTable(rating.NewTable("late", rating.Outbound, "")); err != nil {
		t.Fatal(err)
	}
	rate, _ := rating.ParseAmount("0.07")
	if err := a.ReplaceRates("late", []rating.Row{rating.NewRow("44", rate)}); err != nil {
		t.Fatal(err)
	}
	// b has not heard of the table: what a notice still on its way
	// leaves it with.
	for deadline := time.Now().Add(5 * time.Second); b.book.Get("late") == nil || b.book.Get("late").Table().Rows == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("b never followed the table")
		}
	}
	b.rates.mu.Lock()
	for id, v := range b.rates.tables {
		if v.name == "late" {
			delete(b.rates.tables, id)
		}
	}
	b.book.Delete("late")
	b.rates.mu.Unlock()
	x := b.rater.Book.Get("late")
	if x != nil {
		t.Fatal("the table is still in b's book")
	}
	// The resolution loads it: the Rater's Load is loadMissing.
	if res := b.Rater().ResolveIn("late", "4420", time.Now()); !res.Rated() || res.Rate.Rate != rate {
		t.Fatalf("b resolves 4420 in the table it had not heard of: %+v", res)
	}
	if b.book.Get("late") == nil {
		t.Fatal("the loaded index is not installed")
	}
	if b.loadMissing("nowhere") != nil {
		t.Fatal("an index of a table there is not")
	}
}
