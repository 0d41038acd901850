package store

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// The CDR list runs by call start, newest first, whatever the order of
// arrival, pages both ways, filters by kind and number, and adds up.
func TestCDRPageByStart(t *testing.T) {
	s := books(t)
	var cdrs []rating.CDR
	for i := range 7 { // arrive in an order unlike their starts
		c := cdr(fmt.Sprint("c", i), "acme", rating.Outbound, "447911123456", "carrier-a", 60)
		c.Start = day.Add(time.Duration((i*5)%7) * time.Hour)
		cdrs = append(cdrs, c)
	}
	in := cdr("in", "acme", rating.Inbound, "442071234567", "carrier-a", 30)
	cdrs = append(cdrs, in)
	if _, err := s.PostCDRs("", cdrs); err != nil {
		t.Fatal(err)
	}
	var order []time.Time
	p := must[rating.CDRPage](t)(s.CDRPage(rating.CDRFilter{Kind: rating.Outbound}, "", "", 3))
	for {
		for _, c := range p.CDRs {
			order = append(order, c.Start)
		}
		if p.Older == "" {
			break
		}
		older := must[rating.CDRPage](t)(s.CDRPage(rating.CDRFilter{Kind: rating.Outbound}, p.Older, "", 3))
		// Back from the older page is this page again.
		back := must[rating.CDRPage](t)(s.CDRPage(rating.CDRFilter{Kind: rating.Outbound}, "", older.Newer, 3))
		if len(back.CDRs) != len(p.CDRs) || back.CDRs[0].ID != p.CDRs[0].ID || back.Older != p.Older {
			t.Fatalf("back from %+v: %+v, want %+v", older, back, p)
		}
		p = older
	}
	if len(order) != 7 {
		t.Fatalf("%d outbound CDRs listed", len(order))
	}
	for i := 1; i < len(order); i++ {
		if order[i].After(order[i-1]) {
			t.Fatalf("not newest first: %v", order)
		}
	}
	// The number's prefix, and the totals of a filter.
	if got := must[rating.CDRPage](t)(s.CDRPage(rating.CDRFilter{Number: "+4420"}, "", "", 10)); len(got.CDRs) != 1 || got.CDRs[0].ID != "in" {
		t.Fatalf("number filter: %+v", got)
	}
	tot := must[rating.CDRTotals](t)(s.CDRTotals(rating.CDRFilter{Kind: rating.Outbound}))
	// 7 calls of 60 s to 447 at 0.12 a minute, bought at 0.06.
	if tot.Count != 7 || tot.Seconds != 420 || tot.Cost != mustMoney(t, "0.84") || tot.ProviderCost != mustMoney(t, "0.42") || tot.Margin() != mustMoney(t, "0.42") {
		t.Fatalf("totals %+v", tot)
	}
	c := must[rating.CDR](t)(s.CDR("", "in"))
	if c.Kind != rating.Inbound || c.Tenant != "Acme" {
		t.Fatalf("CDR: %+v", c)
	}
	_, err := s.CDR("pbx9", "in")
	wantCode(t, err, rating.ENotFound)
	_, err = s.CDRPage(rating.CDRFilter{}, "zz", "", 10)
	wantCode(t, err, rating.EInvalid, "after")
}

// A file whose CDRs were stored before the start index gets it at Open.
func TestCDRStartIndexBuiltAtOpen(t *testing.T) {
	s := books(t)
	if _, err := s.PostCDRs("", []rating.CDR{cdr("a", "acme", rating.Outbound, "441", "", 5), cdr("b", "acme", rating.Outbound, "441", "", 6)}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketCDRStarts); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete(metaStarts)
	}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	if got := must[rating.CDRPage](t)(s.CDRPage(rating.CDRFilter{}, "", "", 10)); len(got.CDRs) != 2 {
		t.Fatalf("after the rebuild: %+v", got)
	}
}
