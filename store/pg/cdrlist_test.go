package pg_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg/pgtest"
)

// The list walks by call start both ways with the bbolt store's cursors,
// and filters as it does.
func TestCDRPage(t *testing.T) {
	s, _ := cdrBooks(t, fixed(cdrDay))
	var batch []rating.CDR
	for i := 0; i < 25; i++ {
		c := call(fmt.Sprintf("c%02d", i), "4420", i)
		c.Start = cdrDay.Add(time.Duration(i/2) * time.Minute) // pairs share a start
		if i%5 == 0 {
			c.Number = "99"
		}
		batch = append(batch, c)
	}
	if _, err := s.PostCDRs("", batch); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var pages []rating.CDRPage
	after := ""
	for {
		p, err := s.CDRPage(rating.CDRFilter{}, after, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		for _, c := range p.CDRs {
			ids = append(ids, c.ID)
		}
		if p.Older == "" {
			break
		}
		after = p.Older
	}
	want := make([]string, 25)
	for i := range want {
		want[i] = fmt.Sprintf("c%02d", 24-i)
	}
	if !slices.Equal(ids, want) || len(pages) != 3 || pages[0].Newer != "" || pages[2].Newer == "" {
		t.Fatalf("walked %v in %d pages", ids, len(pages))
	}
	// Back from the last page: the page before it, by its Newer.
	back, err := s.CDRPage(rating.CDRFilter{}, "", pages[2].Newer, 10)
	if err != nil || len(back.CDRs) != 10 || back.CDRs[0].ID != "c14" || back.Newer != pages[1].Newer || back.Older != pages[1].Older {
		t.Errorf("back: %d CDRs from %v, newer %q older %q, want the second page (%q %q): %v",
			len(back.CDRs), back.CDRs[0].ID, back.Newer, back.Older, pages[1].Newer, pages[1].Older, err)
	}
	filtered, _, err := s.CDRs(rating.CDRFilter{Status: rating.Unrated, Number: "+9", From: cdrDay.Add(time.Minute),
		To: cdrDay.Add(10 * time.Minute), Tenant: "Acme", Provider: "Carrier", Kind: rating.Outbound}, "", 0)
	if err != nil || len(filtered) != 3 || filtered[0].ID != "c15" || filtered[2].ID != "c05" {
		t.Errorf("filtered: %v %v", filtered, err)
	}
	for _, f := range []rating.CDRFilter{{Tenant: "acme"}, {Provider: "carrier-a"}} {
		if _, _, err := s.CDRs(f, "", 0); rating.ErrorCode(err) != rating.ENotFound {
			t.Errorf("filter %+v: %v", f, err)
		}
	}
	if _, _, err := s.CDRs(rating.CDRFilter{Status: "odd"}, "", 0); rating.ErrorCode(err) != rating.EInvalid {
		t.Errorf("status odd: %v", err)
	}
	if _, err := s.CDRPage(rating.CDRFilter{}, "zz", "", 0); rating.ErrorCode(err) != rating.EInvalid || !strings.Contains(err.Error(), "after") {
		t.Errorf("a bad cursor: %v", err)
	}
	if _, err := s.CDRPage(rating.CDRFilter{}, pages[0].Older, pages[0].Older, 0); rating.ErrorCode(err) != rating.EInvalid {
		t.Errorf("both cursors: %v", err)
	}
	var each []string
	if err := s.EachCDR(rating.CDRFilter{Status: rating.Rated}, func(c *rating.CDR) error { each = append(each, c.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(each) != 20 || each[0] != "c24" {
		t.Errorf("each rated: %v", each)
	}
}

// cdrBackend is what TestCDRPageAsBbolt asks of both stores.
type cdrBackend interface {
	CreateRateTable(rating.Table) (rating.Table, error)
	ReplaceRates(name string, rows []rating.Row) error
	CreateTenant(rating.Tenant) (rating.Tenant, error)
	CreateProvider(rating.Provider) (rating.Provider, error)
	PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error)
	CDRPage(f rating.CDRFilter, after, before string, limit int) (rating.CDRPage, error)
	CDRTotals(f rating.CDRFilter) (rating.CDRTotals, error)
}

// The same CDRs posted to the bbolt store and to PostgreSQL list alike:
// the same pages, in the same order, with the same cursors, both ways.
func TestCDRPageAsBbolt(t *testing.T) {
	bolt, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{Now: fixed(cdrDay)})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	pgs := cdrStore(t, pgtest.URL(t), fixed(cdrDay))
	var batches [][]rating.CDR
	for b := 0; b < 4; b++ {
		var batch []rating.CDR
		for i := 0; i < 40; i++ {
			n := b*40 + i
			c := call(fmt.Sprintf("c%03d", n), []string{"4420", "4471", "99", "4420"}[n%4], n%90)
			c.Tenant = []string{"acme", "Acme", "nobody", "beta"}[n%4]
			c.Start = cdrDay.Add(time.Duration((n*37)%50) * time.Minute) // starts shared, out of order
			if n%7 == 0 {
				c.Provider = ""
			}
			batch = append(batch, c)
		}
		batches = append(batches, batch)
	}
	var posted [2][]string
	for k, be := range []cdrBackend{bolt, pgs} {
		tb := rating.NewTable("Sell Out", rating.Outbound, "")
		tb.InitialIncrement, tb.Increment = 1, 1
		if _, err := be.CreateRateTable(tb); err != nil {
			t.Fatal(err)
		}
		a, _ := rating.ParseAmount("0.06")
		if err := be.ReplaceRates("Sell Out", []rating.Row{rating.NewRow("44", a)}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Acme", "Beta"} {
			if _, err := be.CreateTenant(rating.Tenant{Name: name, AccountCode: strings.ToLower(name), BillingMode: rating.Prepaid,
				Status: rating.Active, OutboundTable: "Sell Out"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := be.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier-a", Status: rating.Active}); err != nil {
			t.Fatal(err)
		}
		for _, batch := range append(batches, batches[1][5:15]) { // and some again
			p, err := be.PostCDRs("", slices.Clone(batch))
			if err != nil {
				t.Fatal(err)
			}
			posted[k] = append(posted[k], fmt.Sprint(p.Rated, p.Unrated, p.Duplicate), pageString(rating.CDRPage{CDRs: p.Results}))
		}
	}
	if !slices.Equal(posted[0], posted[1]) {
		t.Errorf("posted:\n%v\nbbolt:\n%v", posted[1], posted[0])
	}
	for _, f := range []rating.CDRFilter{{}, {Tenant: "Acme"}, {Status: rating.Unrated}, {Provider: "Carrier", Number: "447"},
		{From: cdrDay.Add(10 * time.Minute), To: cdrDay.Add(30*time.Minute + time.Nanosecond)}} {
		want, err := bolt.CDRTotals(f)
		if got, err2 := pgs.CDRTotals(f); err != nil || err2 != nil || got != want {
			t.Errorf("filter %+v: totals %+v %v, bbolt %+v %v", f, got, err2, want, err)
		}
		// Walk to the oldest page, then back to the newest.
		for _, older := range []bool{true, false} {
			var cur [2]string // the cursors of the last pages, per store
			for page := 0; page < 10; page++ {
				var ps [2]rating.CDRPage
				for k, be := range []cdrBackend{bolt, pgs} {
					after, before := cur[k], ""
					if !older {
						after, before = "", cur[k]
					}
					if ps[k], err = be.CDRPage(f, after, before, 7); err != nil {
						t.Fatal(err)
					}
				}
				if !samePage(ps[0], ps[1]) {
					t.Fatalf("filter %+v page %d (older %v): pg %s, bbolt %s", f, page, older, pageString(ps[1]), pageString(ps[0]))
				}
				next := ps[0].Older
				if !older {
					next = ps[0].Newer
				}
				if next == "" {
					break
				}
				cur = [2]string{next, next}
			}
		}
	}
}

func samePage(a, b rating.CDRPage) bool {
	return pageString(a) == pageString(b)
}

func pageString(p rating.CDRPage) string {
	var s []string
	for _, c := range p.CDRs {
		s = append(s, fmt.Sprintf("%s/%s/%s/%s/%s/%s", c.ID, c.Tenant, c.Provider, c.Status, c.Cost, c.Start.UTC().Format(time.RFC3339)))
	}
	return fmt.Sprintf("%v older %q newer %q", s, p.Older, p.Newer)
}
