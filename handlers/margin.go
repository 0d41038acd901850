package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"pbxbill/rating"
)

// marginItem is one row of GET /api/v1/margins.
type marginItem struct {
	Prefix      string        `json:"prefix"`
	Destination string        `json:"destination"`
	Rate        rating.Amount `json:"rate"`
	BuyRate     rating.Amount `json:"buy_rate"` // null: no active provider carries it
	Provider    *string       `json:"provider"`
	Margin      rating.Amount `json:"margin"`
	MarginPct   *json.Number  `json:"margin_pct"` // margin / rate, in percent
}

func newMarginItem(m *rating.Margin) marginItem {
	it := marginItem{Prefix: m.Prefix, Destination: m.Destination, Rate: m.Rate, BuyRate: rating.NoAmount,
		Margin: rating.NoAmount, MarginPct: m.Pct()}
	if m.Buy != nil {
		it.BuyRate, it.Margin, it.Provider = m.Buy.Rate.Rate, m.Margin, &m.Buy.Provider
	}
	return it
}

// margins computes the margins of the sell table named table as it is in
// force now, against the active providers.
func (s *server) margins(table string) ([]rating.Margin, error) {
	if _, err := s.Store.RateTable(table); err != nil {
		return nil, err
	}
	var prefixes []string
	for after := ""; ; {
		rows, next, err := s.Store.Rates(table, "", after, 1000)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			if n := len(prefixes); n == 0 || prefixes[n-1] != rows[i].Prefix {
				prefixes = append(prefixes, rows[i].Prefix)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	ps, err := s.Store.Providers()
	if err != nil {
		return nil, err
	}
	return s.Store.Rater().Margins(table, prefixes, ps, s.Now())
}

// listMargins answers GET /api/v1/margins?table=: the worst margins first.
// The list is in margin order, so its cursor is the count of items
// already given.
func (s *server) listMargins(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	table := q.Get("table")
	if table == "" {
		return rating.Invalidf("table", "table: required, the name of a sell rate table")
	}
	skip := 0
	if a := q.Get("after"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(a))
		}
		skip = n
	}
	ms, err := s.margins(table)
	if err != nil {
		return err
	}
	ms = ms[min(skip, len(ms)):]
	next := ""
	if q.Get("limit") != "" {
		n, err := limit(r)
		if err != nil {
			return err
		}
		if len(ms) > n {
			ms, next = ms[:n], strconv.Itoa(skip+n)
		}
	}
	items := make([]marginItem, len(ms))
	for i := range ms {
		items[i] = newMarginItem(&ms[i])
	}
	return replyList(w, items, next)
}
