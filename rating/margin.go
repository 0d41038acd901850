package rating

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Margin is one sell row against the cheapest carrier of its numbers (API.md
// GET /api/v1/margins): the buy offer is the cheapest per-minute rate among
// the active providers' buy tables of the sell table's kind, each asked for
// the sell prefix as a number, so that it is the longest buy prefix the
// sell prefix starts with.
type Margin struct {
	Prefix      string
	Destination string
	Rate        Amount
	Buy         *Offer // nil: no active provider carries these numbers
	Margin      Amount // MarginOf(Rate, Buy): NoAmount without a Buy
}

// Pct is the margin as a percentage of the sell rate, nil without a buy
// offer or with a sell rate of 0.
func (m *Margin) Pct() *json.Number {
	if m.Buy == nil || m.Rate == 0 {
		return nil
	}
	return number(decimal.New(int64(m.Margin), -AmountDecimals).Div(decimal.New(int64(m.Rate), -AmountDecimals)).Mul(decimal.NewFromInt(100)), 2)
}

// Margins computes the margin of each prefix of table sell that has a row
// of its own in force at at (a prefix whose number falls to a shorter row
// has none), against the providers ps. The worst come first: ascending by
// margin, so that negative margins lead; rows no provider can carry come
// last, by prefix. A carrier's `*` row carries any number, so it is an
// offer too; the sell `*` row meets only those.
func (x *Rater) Margins(sell string, prefixes []string, ps []Provider, at time.Time) ([]Margin, error) {
	at = x.Local(at) // the rows' days and hours are read on the installation's clock
	idx := x.index(sell)
	if idx == nil {
		return nil, Errorf(ENotFound, "rate table %s not found", Excerpt(sell))
	}
	c := x.Carriers(idx.Table().Kind, ps)
	out := make([]Margin, 0, len(prefixes))
	for _, prefix := range prefixes {
		number := prefix
		if prefix == "*" {
			number = "" // no digit prefix starts it: only `*` rows match
		}
		r, ok := idx.Lookup(number, at)
		if !ok || r.Prefix != prefix {
			continue // no row of its own in force now
		}
		m := Margin{Prefix: prefix, Destination: r.Destination, Rate: r.Rate}
		m.Buy = c.Cheapest(prefix, at)
		m.Margin = MarginOf(m.Rate, m.Buy)
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if (a.Buy == nil) != (b.Buy == nil) {
			return b.Buy == nil
		}
		if a.Buy != nil && a.Margin != b.Margin {
			return a.Margin < b.Margin
		}
		return a.Prefix < b.Prefix
	})
	return out, nil
}

// MarginOf is what selling at rate earns a minute over buying from o:
// rate less o's per-minute rate; NoAmount without a rate or an offer.
func MarginOf(rate Amount, o *Offer) Amount {
	if o == nil || !rate.Set() {
		return NoAmount
	}
	return rate - o.Rate.Rate
}

// Carriers are the active providers' buy tables of one kind, as a margin
// compares a sell price with them.
type Carriers struct {
	buys  []*Index
	names []Provider
}

// Carriers gathers the buy tables of kind k among ps, the suspended
// providers left out.
func (x *Rater) Carriers(k Kind, ps []Provider) Carriers {
	var c Carriers
	for _, p := range ps {
		if p.Status != Active || p.TableFor(k) == "" {
			continue
		}
		if b := x.index(p.TableFor(k)); b != nil {
			c.buys, c.names = append(c.buys, b), append(c.names, p)
		}
	}
	return c
}

// Cheapest is the cheapest offer for the numbers of prefix at instant at
// (on the installation's clock, as Rater.Local gives it):
// each buy table asked for the prefix as a number, so its longest prefix
// that the sell prefix starts with; nil when no carrier takes them.
func (c Carriers) Cheapest(prefix string, at time.Time) *Offer {
	number := prefix
	if prefix == "*" {
		number = "" // no digit prefix starts it: only `*` rows match
	}
	var offers []Offer
	for i, b := range c.buys {
		if br, ok := b.Lookup(number, at); ok {
			offers = append(offers, Offer{Provider: c.names[i].Name, Trunk: c.names[i].Trunk, Rate: br})
		}
	}
	if len(offers) == 0 {
		return nil
	}
	SortOffers(offers)
	return &offers[0]
}
