package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// TestDemoData checks the demo against the rules, without a store: every
// table and row is valid, every carrier buys below what the tenants pay,
// and the README's deck for Carrier B does too.
func TestDemoData(t *testing.T) {
	change := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sell := map[rating.Kind]*rating.Index{}
	buy := map[string]*rating.Index{}
	for _, dt := range demoTables("EUR", change) {
		if err := dt.table.Validate(); err != nil {
			t.Fatalf("table %s: %v", dt.table.Name, err)
		}
		rows, err := demoRows(dt.rows)
		if err != nil {
			t.Fatalf("table %s: %v", dt.table.Name, err)
		}
		seen := map[string]bool{}
		for i := range rows {
			r := &rows[i]
			if err := r.Validate(dt.table.Decimals); err != nil {
				t.Errorf("table %s prefix %s: %v", dt.table.Name, r.Prefix, err)
			}
			if key := r.Key().String(); seen[key] {
				t.Errorf("table %s: prefix %s twice from %v", dt.table.Name, r.Prefix, r.EffectiveFrom)
			} else {
				seen[key] = true
			}
			if r.Destination == "" {
				t.Errorf("table %s prefix %s: no destination", dt.table.Name, r.Prefix)
			}
		}
		if err := rating.CheckWeeks(rows); err != nil {
			t.Errorf("table %s: %v", dt.table.Name, err)
		}
		x := rating.NewIndex(dt.table, rows)
		switch dt.table.Name {
		case demoOutbound, demoInbound, demoConference:
			sell[dt.table.Kind] = x
		default:
			buy[dt.table.Name] = x
		}
	}
	deck, err := os.Open("examples/carrier-b-deck.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer deck.Close()
	deckTable := rating.NewTable("deck", rating.Outbound, "EUR")
	deckRows, err := rating.ParseRates(deck, deckTable, time.UTC)
	if err != nil {
		t.Fatalf("examples/carrier-b-deck.csv: %v", err)
	}
	buy["examples/carrier-b-deck.csv"] = rating.NewIndex(deckTable, deckRows)

	for name, x := range buy {
		k := x.Table().Kind
		// Around the price change, and in the peak and off the peak.
		for _, at := range []time.Time{change.Add(-time.Second), change, readmePeak, readmeOffPeak} {
			for _, n := range demoNumbers(k) {
				b, ok := x.Lookup(n, at)
				if !ok {
					continue
				}
				s, ok := sell[k].Lookup(n, at)
				if !ok || (s.Rate > 0 && b.Rate >= s.Rate) || b.Rate > s.Rate {
					t.Errorf("%s buys %s at %s, tenants pay %s (%s)", name, n, b.Rate, s.Rate, s.Prefix)
				}
			}
		}
	}

	// The hand-made figures of the end-to-end test, from the rows alone.
	now := time.Now()
	for _, tc := range []struct {
		at   time.Time
		cost string
	}{{readmePeak, "0.14"}, {readmeOffPeak, "0.11"}} {
		if r, _ := sell[rating.Outbound].Lookup("61412345678", tc.at); r.Price(120).Cost.String() != tc.cost {
			t.Errorf("120 s to 61412345678 at %s: %+v, want %s", tc.at, r.Price(120), tc.cost)
		}
	}
	if r, _ := sell[rating.Outbound].Lookup("447700900123", now); r.Price(95).Cost.String() != "0.082" {
		t.Errorf("95 s to 447700900123: %+v", r.Price(95))
	}
	if r, _ := sell[rating.Outbound].Lookup("41791234567", now); r.Price(7440).Cost.String() != "24.85" {
		t.Errorf("7440 s to 41791234567: %+v", r.Price(7440))
	}
}

// The README prices a call to Australia Mobile at two instants: a
// Wednesday 10:00 in the peak (mon-fri 08:00-18:00), a Saturday 10:00 off
// it, in the demo's zone, UTC.
var (
	readmePeak    = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	readmeOffPeak = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
)

// demoNumbers makes a number for every prefix of every demo table of kind
// k, padded as a real number would be.
func demoNumbers(k rating.Kind) []string {
	var out []string
	for _, dt := range demoTables("EUR", time.Time{}) {
		if dt.table.Kind != k {
			continue
		}
		for _, r := range dt.rows {
			if r.prefix != rating.Wildcard {
				out = append(out, (r.prefix + "123456789012")[:12])
			}
		}
	}
	return out
}

// TestSeedDemo seeds a real store and reads the records back through it.
func TestSeedDemo(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{TZ: "Europe/London", Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := seedDemo(st, time.Now()); err != nil {
		t.Fatal(err)
	}
	if empty, err := st.Empty(); err != nil || empty {
		t.Fatalf("after seeding: empty %v, %v", empty, err)
	}
	for name, want := range map[string]string{demoPrepaid: "25", demoPostpaid: "0"} {
		tn, err := st.Tenant(name)
		if err != nil || tn.Balance.String() != want || tn.State() != rating.StateOK {
			t.Errorf("tenant %s: %+v, %v; want balance %s, state ok", name, tn, err, want)
		}
	}
	for name, want := range map[string]string{demoCarrierA: "500", demoCarrierB: "250"} {
		p, err := st.Provider(name)
		if err != nil || p.Balance.String() != want {
			t.Errorf("provider %s: %+v, %v; want balance %s", name, p, err, want)
		}
	}
	tables, err := st.RateTables(0)
	if err != nil || len(tables) != len(demoTables("GBP", time.Time{})) {
		t.Fatalf("rate tables: %d, %v", len(tables), err)
	}
	for _, tb := range tables {
		if tb.Currency != "GBP" || tb.Rows == 0 {
			t.Errorf("table %s: currency %s, %d rows", tb.Name, tb.Currency, tb.Rows)
		}
	}
	// France Mobile gets cheaper on the first of next month, London time.
	x := st.Book().Get(demoOutbound)
	if x == nil {
		t.Fatal("no live index for " + demoOutbound)
	}
	now := time.Now().In(st.Location())
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, st.Location())
	before, _ := x.Lookup("33612345678", next.Add(-time.Second))
	after, _ := x.Lookup("33612345678", next)
	if before.Rate.String() != "0.045" || after.Rate.String() != "0.039" {
		t.Errorf("France Mobile: %s before %v and %s after, want 0.045 then 0.039", before.Rate, next, after.Rate)
	}
}
