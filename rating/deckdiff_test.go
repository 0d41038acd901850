package rating

import (
	"testing"
	"time"
)

// A deck's preview: added, removed, up, down and unchanged rows, the
// largest changes first; a merge removes nothing.
func TestDiffDeck(t *testing.T) {
	later := NewRow("33", amt(t, "0.05"))
	later.EffectiveFrom = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	old := []Row{NewRow("44", amt(t, "0.05")), NewRow("447", amt(t, "0.10")), NewRow("49", amt(t, "0.03")), later}
	deck := []Row{NewRow("44", amt(t, "0.05")), NewRow("447", amt(t, "0.20")), NewRow("1", amt(t, "0.01"))}
	laterAgain := later
	laterAgain.Rate = amt(t, "0.04")
	laterAgain.EffectiveFrom = later.EffectiveFrom.In(time.FixedZone("x", 3600)) // the same instant, read elsewhere
	deck = append(deck, laterAgain)
	d := DiffDeck(old, deck, false)
	if d.Added != 1 || d.Removed != 1 || d.Up != 1 || d.Down != 1 || d.Unchanged != 1 {
		t.Fatalf("counts %+v", d)
	}
	want := []struct{ prefix, old, new string }{{"447", "0.1", "0.2"}, {"49", "0.03", ""}, {"1", "", "0.01"}, {"33", "0.05", "0.04"}}
	if len(d.Changes) != len(want) {
		t.Fatalf("changes %+v", d.Changes)
	}
	for i, w := range want {
		c := d.Changes[i]
		if c.Prefix != w.prefix || (w.old == "") != (c.OldRate == NoAmount) || (w.new == "") != (c.NewRate == NoAmount) ||
			w.old != "" && c.OldRate != amt(t, w.old) || w.new != "" && c.NewRate != amt(t, w.new) {
			t.Errorf("change %d: %+v, want %v", i, c, w)
		}
	}
	if d.Changes[3].EffectiveFrom == nil || !d.Changes[3].EffectiveFrom.Equal(later.EffectiveFrom) {
		t.Errorf("effective_from of 33: %v", d.Changes[3].EffectiveFrom)
	}
	if m := DiffDeck(old, deck, true); m.Removed != 0 || m.Added != 1 || len(m.Changes) != 3 {
		t.Errorf("merge: %+v", m)
	}
}
