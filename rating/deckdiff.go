package rating

import (
	"sort"
	"time"
)

// DeckDiff is what importing a deck would change (API.md `PUT
// .../rates?dry_run=1`): how many rows it adds, removes, makes dearer or
// cheaper, or leaves as they are, and the changes, largest first.
type DeckDiff struct {
	Added     int          `json:"added"`
	Removed   int          `json:"removed"`
	Up        int          `json:"up"`
	Down      int          `json:"down"`
	Unchanged int          `json:"unchanged"`
	Changes   []DeckChange `json:"changes"`
}

// DeckChange is one row a deck adds, removes or reprices. An added row has
// no OldRate, a removed one no NewRate (NoAmount, null in JSON).
type DeckChange struct {
	Prefix        string     `json:"prefix"`
	EffectiveFrom *time.Time `json:"effective_from"`
	Days          Days       `json:"days,omitzero"`  // which row of a week, when the prefix has times
	Hours         Hours      `json:"hours,omitzero"` //
	Destination   string     `json:"destination"`
	OldRate       Amount     `json:"old_rate"`
	NewRate       Amount     `json:"new_rate"`
}

// MaxDeckChanges bounds the changes a diff lists; the counts cover all.
const MaxDeckChanges = 1000

// DiffDeck compares the rows a table has with those of a deck. A replace
// removes the rows the deck lacks; a merge (merge true) keeps them. A row
// is the same row when its key is (prefix, effective_from and its times of
// the week); it is up or down by its per-minute rate, and unchanged when
// its rate is the same (other fields changing count as unchanged here:
// the preview is of prices).
func DiffDeck(old, deck []Row, merge bool) DeckDiff {
	key := func(r *Row) RateKey {
		k := r.Key()
		k.EffectiveFrom = k.EffectiveFrom.UTC()
		return k
	}
	have := make(map[RateKey]*Row, len(old))
	for i := range old {
		have[key(&old[i])] = &old[i]
	}
	d := DeckDiff{Changes: []DeckChange{}}
	change := func(r *Row, oldRate, newRate Amount) {
		c := DeckChange{Prefix: r.Prefix, Days: r.Days, Hours: r.Hours, Destination: r.Destination, OldRate: oldRate, NewRate: newRate}
		if !r.EffectiveFrom.IsZero() {
			at := r.EffectiveFrom.UTC()
			c.EffectiveFrom = &at
		}
		d.Changes = append(d.Changes, c)
	}
	for i := range deck {
		r := &deck[i]
		k := key(r)
		was, ok := have[k]
		switch {
		case !ok:
			d.Added++
			change(r, NoAmount, r.Rate)
		case r.Rate > was.Rate:
			d.Up++
			change(r, was.Rate, r.Rate)
		case r.Rate < was.Rate:
			d.Down++
			change(r, was.Rate, r.Rate)
		default:
			d.Unchanged++
		}
		delete(have, k)
	}
	if !merge {
		for _, r := range have {
			d.Removed++
			change(r, r.Rate, NoAmount)
		}
	}
	size := func(c *DeckChange) int64 {
		o, n := int64(c.OldRate), int64(c.NewRate)
		if c.OldRate == NoAmount {
			o = 0
		}
		if c.NewRate == NoAmount {
			n = 0
		}
		if n > o {
			return n - o
		}
		return o - n
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		a, b := &d.Changes[i], &d.Changes[j]
		if sa, sb := size(a), size(b); sa != sb {
			return sa > sb
		}
		return a.Prefix < b.Prefix
	})
	if len(d.Changes) > MaxDeckChanges {
		d.Changes = d.Changes[:MaxDeckChanges]
	}
	return d
}
