package handlers

import (
	"net/http"
	"strconv"
	"time"

	"pbxbill/rating"
)

// The rating endpoints are read-only and called by PBX dialplans for every
// call, so they read the live rate index (Book) without a transaction and
// do no work that does not depend on the request.

// rateQuery is what rate, price and authorize read from the query string.
type rateQuery struct {
	tenant string
	number string // as given
	kind   rating.Kind
	at     time.Time
}

// parseRateQuery reads the query of rate, price and authorize. An empty
// number is left to the resolution, which answers invalid_number for it;
// rate and price call needNumber first.
func parseRateQuery(q params, now func() time.Time) (rateQuery, error) {
	rq := rateQuery{tenant: q.Get("tenant"), number: q.Get("number")}
	if rq.tenant == "" {
		return rq, rating.Invalidf("tenant", "tenant: required")
	}
	var err error
	if rq.kind, err = parseKind(q.Get("kind")); err != nil {
		return rq, err
	}
	rq.at, err = parseAt(q.Get("at"), now)
	return rq, err
}

// needNumber is rate's and price's rule: they answer a number's rate, so
// without a number the request itself is wrong.
func (rq *rateQuery) needNumber() error {
	if rq.number == "" {
		return rating.Invalidf("number", "number: required")
	}
	return nil
}

// resolve finds the tenant, by name or accountcode, and the rate of its
// call through the one resolution (rating.Rater). A nil tenant is an
// unknown one; only a failure of the store itself is an error.
func (s *server) resolve(rq *rateQuery) (*rating.Tenant, rating.Resolution, error) {
	// T is a name (API.md); an accountcode also works, because the dialplan
	// has ${CDR(accountcode)} at hand and not the name.
	t, err := s.Store.TenantByName(rq.tenant)
	var tenant *rating.Tenant
	switch {
	case err == nil:
		tenant = &t
	case rating.ErrorCode(err) != rating.ENotFound:
		return nil, rating.Resolution{}, err
	}
	return tenant, s.Store.Rater().Resolve(tenant, rq.kind, rq.number, rq.at), nil
}

// found is resolve for rate and price, which answer an error where
// authorize answers a reason.
func (s *server) found(rq *rateQuery) (*rating.Tenant, rating.Resolution, error) {
	if err := rq.needNumber(); err != nil {
		return nil, rating.Resolution{}, err
	}
	t, res, err := s.resolve(rq)
	switch {
	case err != nil, res.Rated():
	case t == nil:
		err = rating.Errorf(rating.ENotFound, "unknown tenant %s", rating.Excerpt(rq.tenant))
	default:
		err = res.Err()
	}
	return t, res, err
}

// rateFields are the fields of the rate that applies, in every rating
// answer.
type rateFields struct {
	RateTable        string        `json:"rate_table"`
	Prefix           string        `json:"prefix"`
	Destination      string        `json:"destination"`
	Rate             rating.Amount `json:"rate"`
	ConnectFee       rating.Amount `json:"connect_fee"`
	InitialIncrement int           `json:"initial_increment"`
	Increment        int           `json:"increment"`
	InitialRate      rating.Amount `json:"initial_rate"`
	Grace            int           `json:"grace"`
	MinCost          rating.Amount `json:"min_cost"`
	MaxCost          rating.Amount `json:"max_cost"`
	EffectiveFrom    *time.Time    `json:"effective_from"` // null: always
	// Days and Hours are the times of the row of the week that applied;
	// null, null for a row without times, a week's default included.
	Days     *string `json:"days"`
	Hours    *string `json:"hours"`
	Blocked  bool    `json:"blocked"`
	Currency string  `json:"currency"`
}

func newRateFields(r *rating.Rate, currency string) rateFields {
	f := rateFields{RateTable: r.Table, Prefix: r.Prefix, Destination: r.Destination, Rate: r.Rate,
		ConnectFee: r.ConnectFee, InitialIncrement: r.InitialIncrement, Increment: r.Increment,
		InitialRate: r.InitialRate, Grace: r.Grace, MinCost: r.MinCost, MaxCost: r.MaxCost, Currency: currency,
		Days: optionalText(r.Days.String()), Hours: optionalText(r.Hours.String()), Blocked: r.Blocked}
	if t := r.From(); !t.IsZero() {
		f.EffectiveFrom = &t
	}
	return f
}

// rateOut answers GET /rate.
type rateOut struct {
	Tenant string      `json:"tenant"`
	Kind   rating.Kind `json:"kind"`
	Number string      `json:"number"`
	rateFields
}

// priceOut answers GET /price.
type priceOut struct {
	rateOut
	BilledSeconds int    `json:"billed_seconds"`
	Cost          string `json:"cost"` // with the table's decimals
}

func (s *server) rate(w http.ResponseWriter, r *http.Request) error {
	rq, err := parseRateQuery(params(r.URL.RawQuery), s.Now)
	if err != nil {
		return err
	}
	t, res, err := s.found(&rq)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, rateOut{t.Name, rq.kind, res.Number, newRateFields(&res.Rate, res.Currency)})
}

// maxPriceDuration bounds ?duration= far above any real call and far below
// where the billed seconds could overflow.
const maxPriceDuration = 366 * 86400

func (s *server) price(w http.ResponseWriter, r *http.Request) error {
	q := params(r.URL.RawQuery)
	rq, err := parseRateQuery(q, s.Now)
	if err != nil {
		return err
	}
	v := q.Get("duration")
	if v == "" {
		return rating.Invalidf("duration", "duration: required, in whole seconds")
	}
	d, err := strconv.Atoi(v)
	if err != nil || d < 0 || d > maxPriceDuration {
		return rating.Invalidf("duration", "duration %s: want whole seconds from 0 to %d", rating.Excerpt(v), maxPriceDuration)
	}
	t, res, err := s.found(&rq)
	if err != nil {
		return err
	}
	quote := res.Rate.Price(d)
	return reply(w, http.StatusOK, priceOut{
		rateOut:       rateOut{t.Name, rq.kind, res.Number, newRateFields(&res.Rate, res.Currency)},
		BilledSeconds: quote.Billed,
		Cost:          quote.Cost.Fixed(res.Rate.Decimals),
	})
}

// lcrItem is one provider's offer for a number: who, and the rate fields
// every rating answer has.
type lcrItem struct {
	Provider string `json:"provider"`
	Trunk    string `json:"trunk"`
	rateFields
}

// lcr lists the active providers whose outbound table rates the number,
// cheapest first.
func (s *server) lcr(w http.ResponseWriter, r *http.Request) error {
	q := params(r.URL.RawQuery)
	raw := q.Get("number")
	if raw == "" {
		return rating.Invalidf("number", "number: required")
	}
	at, err := parseAt(q.Get("at"), s.Now)
	if err != nil {
		return err
	}
	ps, err := s.Store.Providers()
	if err != nil {
		return err
	}
	offers, err := s.Store.Rater().Offers(ps, raw, at)
	if err != nil {
		return err
	}
	items := make([]lcrItem, len(offers))
	for i := range offers {
		o := &offers[i]
		items[i] = lcrItem{o.Provider, o.Trunk, newRateFields(&o.Rate, s.Store.Currency())}
	}
	return replyList(w, items, "")
}
