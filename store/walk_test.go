package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"pbxbill/rating"
)

// openTxs is the number of read transactions open on s.
func openTxs(s *Store) int { return s.db.Stats().OpenTxN }

// TestEachRatePages walks a table a few rows per transaction: the same
// rows in the same order as one listing, and no transaction open while
// fn runs.
func TestEachRatePages(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "t", rating.Outbound)
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	rows := append(numberedRows(10), fullRow("1003", from), fullRow("1003", from.AddDate(0, 1, 0)), fullRow("*", time.Time{}))
	if err := s.ReplaceRates("t", rows); err != nil {
		t.Fatal(err)
	}
	want, _ := must2(t)(s.Rates("t", "", "", MaxLimit))
	for _, page := range []int{1, 3, 13, 14, defaultExportPage} {
		s.exportPage = page
		var got []rating.Row
		err := s.EachRate("t", func(r *rating.Row) error {
			if n := openTxs(s); n != 0 {
				t.Fatalf("page %d: %d transactions open while fn runs", page, n)
			}
			got = append(got, *r)
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("pages of %d: %v\n got %v\nwant %v", page, err, keysOf(got), keysOf(want))
		}
	}
}

// TestEachRateTableChanges: a walk reads one version of the table. A
// change of its rows or settings, or its deletion, between two pages
// stops it with EConflict; a change of another table does not.
func TestEachRateTableChanges(t *testing.T) {
	s := MustOpen(t)
	s.exportPage = 3
	mustTable(t, s, "other", rating.Outbound)
	for _, tc := range []struct {
		name   string
		change func() error
		want   string // "" for a walk that ends well
	}{
		{"another table", func() error { return s.ReplaceRates("other", numberedRows(4)) }, ""},
		{"a merged row", func() error { _, _, err := s.MergeRates("t", numberedRows(1)); return err }, "changed"},
		{"a replace", func() error { return s.ReplaceRates("t", numberedRows(7)) }, "changed"},
		{"the settings", func() error {
			_, err := s.UpdateRateTable("t", func(tb *rating.Table) error { tb.Decimals = 6; return nil })
			return err
		}, "changed"},
		{"a deletion", func() error { return s.DeleteRateTable("t") }, "deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustTable(t, s, "t", rating.Outbound)
			defer func() { _ = s.DeleteRateTable("t") }()
			if err := s.ReplaceRates("t", numberedRows(10)); err != nil {
				t.Fatal(err)
			}
			n := 0
			err := s.EachRate("t", func(*rating.Row) error {
				if n++; n == 2 {
					return tc.change()
				}
				return nil
			})
			if tc.want == "" {
				if err != nil || n != 10 {
					t.Errorf("walk: %d rows, %v", n, err)
				}
				return
			}
			wantCode(t, err, rating.EConflict, `"t"`, tc.want)
			if n != 3 {
				t.Errorf("the walk went on for %d rows after its first page", n-3)
			}
		})
	}
	wantCode(t, s.EachRate("nope", func(*rating.Row) error { return nil }), rating.ENotFound)
}

// TestEachCDRPages walks the CDRs a few per transaction: the same CDRs in
// the same order as the listing, none posted after the walk began, no
// transaction open while fn runs, and a filter that selects few CDRs
// crosses pages that hold none.
func TestEachCDRPages(t *testing.T) {
	s := books(t)
	var batch []rating.CDR
	for i := 0; i < 40; i++ {
		tenant := "acme"
		if i == 3 || i == 37 {
			tenant = "nobody" // unrated
		}
		c := cdr(fmt.Sprint("id", i), tenant, rating.Outbound, "4420", "carrier-a", i)
		c.Start = day.Add(time.Duration(i) * time.Minute)
		batch = append(batch, c)
	}
	if _, err := s.PostCDRs("", batch); err != nil {
		t.Fatal(err)
	}
	for _, f := range []rating.CDRFilter{{}, {Status: rating.Unrated}, {Tenant: "Acme", From: day.Add(5 * time.Minute)}} {
		want, _, err := s.CDRs(f, "", MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []int{1, 3, 40, defaultExportPage} {
			s.exportPage = page
			var got []rating.CDR
			err := s.EachCDR(f, func(c *rating.CDR) error {
				if n := openTxs(s); n != 0 {
					t.Fatalf("page %d: %d transactions open while fn runs", page, n)
				}
				got = append(got, *c)
				return nil
			})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%+v, pages of %d: %v: %d CDRs, want %d", f, page, err, len(got), len(want))
			}
		}
	}

	// CDRs posted during the walk are not in it; a tenant renamed during
	// it keeps the name the walk first gave it.
	s.exportPage = 4
	var ids []string
	err := s.EachCDR(rating.CDRFilter{}, func(c *rating.CDR) error {
		ids = append(ids, c.ID)
		if c.Tenant == "Acme Ltd" {
			t.Errorf("CDR %s: tenant %q", c.ID, c.Tenant)
		}
		if len(ids) != 2 {
			return nil
		}
		if _, err := s.PostCDRs("", []rating.CDR{cdr("late", "acme", rating.Outbound, "4420", "", 5)}); err != nil {
			return err
		}
		_, err := s.UpdateTenant("Acme", func(tn *rating.Tenant) error { tn.Name = "Acme Ltd"; return nil })
		return err
	})
	if err != nil || len(ids) != 40 || ids[0] != "id39" || ids[39] != "id0" {
		t.Errorf("walk during posts: %v: %d CDRs, %v", err, len(ids), ids)
	}
	if _, err := s.UpdateTenant("Acme Ltd", func(tn *rating.Tenant) error { tn.Name = "Acme"; return nil }); err != nil {
		t.Fatal(err)
	}

	// An error from fn ends the walk and is returned.
	stop := fmt.Errorf("enough")
	n := 0
	if err := s.EachCDR(rating.CDRFilter{}, func(*rating.CDR) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d CDRs", err, n)
	}
}
