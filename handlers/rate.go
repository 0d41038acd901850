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

func parseRateQuery(q params) (rateQuery, error) {
	rq := rateQuery{tenant: q.Get("tenant"), number: q.Get("number")}
	if rq.tenant == "" {
		return rq, rating.Errorf(rating.EInvalid, "tenant: required")
	}
	if rq.number == "" {
		return rq, rating.Errorf(rating.EInvalid, "number: required")
	}
	var err error
	if rq.kind, err = parseKind(q.Get("kind")); err != nil {
		return rq, err
	}
	rq.at, err = parseAt(q.Get("at"))
	return rq, err
}

// match is a tenant's call and the rate that prices it.
type match struct {
	tenant   rating.Tenant
	number   string // normalised
	table    string
	currency string
	rate     rating.Rate
}

// find looks up the tenant, its table of the call's kind, the normalised
// number and its rate, in that order. When one is missing it answers the
// authorize reason and the error that rate and price answer; a failure of
// the store itself has no reason.
func (s *server) find(rq *rateQuery, m *match) (reason string, err error) {
	m.number = rq.number
	// T is a name (API.md); an accountcode also works, because the dialplan
	// has ${CDR(accountcode)} at hand and not the name.
	m.tenant, err = s.Store.TenantByName(rq.tenant)
	if rating.ErrorCode(err) == rating.ENotFound {
		return rating.ReasonUnknownTenant, rating.Errorf(rating.ENotFound, "unknown tenant %q", rq.tenant)
	}
	if err != nil {
		return "", err
	}
	m.table = m.tenant.TableFor(rq.kind)
	if m.table == "" {
		return rating.ReasonNoTable, rating.Errorf(rating.ENotFound, "tenant %s has no %s rate table", rq.tenant, rq.kind)
	}
	idx := s.Store.Book().Get(m.table)
	if idx == nil {
		return rating.ReasonNoTable, rating.Errorf(rating.ENotFound, "tenant %s: its %s rate table %q does not exist", rq.tenant, rq.kind, m.table)
	}
	if m.number, err = s.Numbering.Normalise(rq.number); err != nil {
		m.number = rq.number
		return rating.ReasonInvalidNumber, err
	}
	if m.currency = idx.Table().Currency; m.currency == "" {
		m.currency = s.Store.Currency()
	}
	var ok bool
	if m.rate, ok = idx.Lookup(m.number, rq.at); !ok {
		return rating.ReasonUnrated, rating.Errorf(rating.ENotFound, "no rate for %s in table %s", m.number, m.table)
	}
	return "", nil
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
	Currency         string        `json:"currency"`
}

func newRateFields(r *rating.Rate, currency string) rateFields {
	f := rateFields{RateTable: r.Table, Prefix: r.Prefix, Destination: r.Destination, Rate: r.Rate,
		ConnectFee: r.ConnectFee, InitialIncrement: r.InitialIncrement, Increment: r.Increment,
		InitialRate: r.InitialRate, Grace: r.Grace, MinCost: r.MinCost, MaxCost: r.MaxCost, Currency: currency}
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
	rq, err := parseRateQuery(params(r.URL.RawQuery))
	if err != nil {
		return err
	}
	var m match
	if _, err := s.find(&rq, &m); err != nil {
		return err
	}
	return reply(w, http.StatusOK, rateOut{m.tenantName(&rq), rq.kind, m.number, newRateFields(&m.rate, m.currency)})
}

// maxPriceDuration bounds ?duration= far above any real call and far below
// where the billed seconds could overflow.
const maxPriceDuration = 366 * 86400

func (s *server) price(w http.ResponseWriter, r *http.Request) error {
	q := params(r.URL.RawQuery)
	rq, err := parseRateQuery(q)
	if err != nil {
		return err
	}
	v := q.Get("duration")
	if v == "" {
		return rating.Errorf(rating.EInvalid, "duration: required, in whole seconds")
	}
	d, err := strconv.Atoi(v)
	if err != nil || d < 0 || d > maxPriceDuration {
		return rating.Errorf(rating.EInvalid, "duration %q: want whole seconds from 0 to %d", v, maxPriceDuration)
	}
	var m match
	if _, err := s.find(&rq, &m); err != nil {
		return err
	}
	quote := m.rate.Price(d)
	return reply(w, http.StatusOK, priceOut{
		rateOut:       rateOut{m.tenantName(&rq), rq.kind, m.number, newRateFields(&m.rate, m.currency)},
		BilledSeconds: quote.Billed,
		Cost:          quote.Cost.Fixed(m.rate.Decimals),
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
		return rating.Errorf(rating.EInvalid, "number: required")
	}
	number, err := s.Numbering.Normalise(raw)
	if err != nil {
		return err
	}
	at, err := parseAt(q.Get("at"))
	if err != nil {
		return err
	}
	ps, err := s.Store.Providers()
	if err != nil {
		return err
	}
	book := s.Store.Book()
	var offers []rating.Offer
	for _, p := range ps {
		if p.Status != rating.Active || p.OutboundTable == "" {
			continue
		}
		idx := book.Get(p.OutboundTable)
		if idx == nil {
			continue
		}
		if rt, ok := idx.Lookup(number, at); ok {
			offers = append(offers, rating.Offer{Provider: p.Name, Trunk: p.Trunk, Rate: rt})
		}
	}
	rating.SortOffers(offers)
	items := make([]lcrItem, len(offers))
	for i := range offers {
		o := &offers[i]
		items[i] = lcrItem{o.Provider, o.Trunk, newRateFields(&o.Rate, s.Store.Currency())}
	}
	return replyList(w, items, "")
}

// tenantName is the tenant's name once it is found, so that an answer to
// a request by accountcode still names the tenant; what was asked for
// otherwise.
func (m *match) tenantName(rq *rateQuery) string {
	if m.tenant.Name != "" {
		return m.tenant.Name
	}
	return rq.tenant
}
