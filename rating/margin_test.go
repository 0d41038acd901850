package rating

import (
	"testing"
	"time"
)

// Margins: each sell row in force against the cheapest active carrier of
// its numbers, worst first; rows no carrier takes last.
func TestMargins(t *testing.T) {
	book := &Book{}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	sellRows := []Row{NewRow("44", amt(t, "0.05")), NewRow("447", amt(t, "0.10")), NewRow("4479", amt(t, "0.02")),
		NewRow("49", amt(t, "0.03")), NewRow("*", amt(t, "0.5"))}
	later := NewRow("33", amt(t, "0.04"))
	later.EffectiveFrom = at.Add(time.Hour) // not in force yet
	sellRows = append(sellRows, later)
	sellRows[0].Destination = "United Kingdom"
	book.Set(NewIndex(NewTable("sell", Outbound, "EUR"), sellRows))
	book.Set(NewIndex(NewTable("buyA", Outbound, "EUR"), []Row{NewRow("44", amt(t, "0.02")), NewRow("447", amt(t, "0.06"))}))
	book.Set(NewIndex(NewTable("buyB", Outbound, "EUR"), []Row{NewRow("4", amt(t, "0.03")), NewRow("447", amt(t, "0.05"))}))
	book.Set(NewIndex(NewTable("buyC", Outbound, "EUR"), []Row{NewRow("44", amt(t, "0.001"))}))
	x := &Rater{Book: book, Currency: "EUR"}
	ps := []Provider{{Name: "A", Status: Active, OutboundTable: "buyA"}, {Name: "B", Status: Active, OutboundTable: "buyB"},
		{Name: "C", Status: Suspended, OutboundTable: "buyC"}}
	got, err := x.Margins("sell", []string{"*", "33", "44", "447", "4479", "49"}, ps, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		prefix, buy, provider, margin, pct string
	}{
		{"4479", "0.05", "B", "-0.03", "-150.00"}, // 4479 falls to B's 447
		{"49", "0.03", "B", "0", "0.00"},          // B's 4 carries it
		{"44", "0.02", "A", "0.03", "60.00"},      // C is suspended
		{"447", "0.05", "B", "0.05", "50.00"},
		{"*", "", "", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("margins %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Prefix != w.prefix {
			t.Fatalf("row %d: %s, want %s (%+v)", i, g.Prefix, w.prefix, got)
		}
		if w.buy == "" {
			if g.Buy != nil || g.Pct() != nil {
				t.Errorf("%s: buy %+v, want none", g.Prefix, g.Buy)
			}
			continue
		}
		if g.Buy == nil || g.Buy.Rate.Rate != amt(t, w.buy) || g.Buy.Provider != w.provider || g.Margin != amt(t, w.margin) || g.Pct().String() != w.pct {
			t.Errorf("%s: buy %+v margin %s pct %v, want %s from %s, %s, %s%%", g.Prefix, g.Buy, g.Margin, g.Pct(), w.buy, w.provider, w.margin, w.pct)
		}
	}
	if got[0].Destination != "" || got[2].Destination != "United Kingdom" {
		t.Errorf("destinations: %+v", got)
	}
	if _, err := x.Margins("nope", nil, ps, at); ErrorCode(err) != ENotFound {
		t.Errorf("unknown table: %v", err)
	}
}
