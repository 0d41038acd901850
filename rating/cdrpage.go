package rating

// CDRPage is one page of a CDR list by call start, newest first, with the
// cursors of the pages on either side ("" at either end).
type CDRPage struct {
	CDRs         []CDR
	Older, Newer string
}

// CDRTotals adds up a set of CDRs: the operator's view of a filter.
type CDRTotals struct {
	Count        int64
	Seconds      int64 // talk time, Σd
	Billed       int64 // billed seconds, Σb
	Cost         Money // what the tenants were charged
	ProviderCost Money // what the carriers charge
}

// Add counts c. An unrated CDR counts, and costs nothing.
func (t *CDRTotals) Add(c *CDR) {
	t.Count++
	t.Seconds += int64(c.Duration)
	t.Billed += int64(c.Billed)
	t.Cost = t.Cost.Add(c.Cost.OrZero())
	t.ProviderCost = t.ProviderCost.Add(c.ProviderCost.OrZero())
}

// Margin is what the set earned: its cost to the tenants less its cost
// from the carriers.
func (t CDRTotals) Margin() Money { return t.Cost.Sub(t.ProviderCost) }

// Margin is what a call earned: its cost less its provider cost; NoMoney
// unless both sides are priced.
func (c *CDR) Margin() Money {
	if !c.Cost.Set() || !c.ProviderCost.Set() {
		return NoMoney
	}
	return c.Cost.Sub(c.ProviderCost)
}

// Link sets the cursors of the pages either side of p, whose CDRs are in
// place, newest first. first and last are the cursors of its newest and
// oldest CDR. older tells that the page was read towards older starts
// (the newest page, or after a cursor) rather than towards newer ones
// (before a cursor); beyond, that the walk found more past the page; from,
// that it started at a cursor. A page read towards newer starts always
// has an older page, the one it came from; a page read from a cursor
// towards older starts always has a newer one.
func (p *CDRPage) Link(first, last string, older, beyond, from bool) {
	switch {
	case older:
		if beyond {
			p.Older = last
		}
		if from {
			p.Newer = first
		}
	default:
		if beyond {
			p.Newer = first
		}
		p.Older = last
	}
}
