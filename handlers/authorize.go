package handlers

import (
	"net/http"
	"strconv"

	"pbxbill/rating"
)

// authorizeOut answers GET /authorize. Every refusal is an answer with a
// reason, not an error: the dialplan asked a question and got a "no".
type authorizeOut struct {
	Allowed     bool          `json:"allowed"`
	MaxDuration int           `json:"max_duration"`
	Reason      string        `json:"reason"`
	State       *rating.State `json:"state"`     // null for an unknown tenant
	Available   rating.Money  `json:"available"` // null for an unknown tenant
	// Free is the tenant's free credit once this call's hold is set
	// aside; null for an unknown tenant.
	Free        rating.Money `json:"free"`
	Hold        *rating.Hold `json:"hold"` // the call's hold; null without call= or when refused
	Tenant      string       `json:"tenant"`
	Kind        rating.Kind  `json:"kind"`
	Number      string       `json:"number"` // normalised when valid
	*rateFields              // left out when no rate matched
}

// authorize answers DOMAIN.md's "Authorizing a call", which
// rating.Authorize decides; it only renders the decision. The rate fields
// are shown whenever a row matched, also when the tenant is refused.
//
// With format=text the body is the maximum duration alone, "0" when the
// call is not allowed, so that a dialplan can use it as a timeout.
//
// A known tenant is decided by the store, under the holds' lock, from its
// credit and commitments at that instant; with call= an allowed call opens
// its hold there, and a retried one answers its open hold's grant.
func (s *server) authorize(w http.ResponseWriter, r *http.Request) error {
	q := params(r.URL.RawQuery)
	text := q.Get("format") == "text"
	rq, err := parseRateQuery(q, s.Now)
	if err != nil {
		return err // 200 "0\n" in text form: see server.error
	}
	rater := s.Store.Rater()
	ans, err := s.Store.Authorize(rating.CallQuery{Tenant: rq.tenant, Node: callerOf(r).Node, Call: q.Get("call"),
		MaxCall: s.MaxCallDuration, Resolve: func(t *rating.Tenant) rating.Resolution {
			return rater.Resolve(t, rq.kind, rq.number, rq.at)
		}})
	if err != nil {
		return err
	}
	a, res := &ans.Authorization, &ans.Resolution
	s.metrics.authorized(a.Reason)
	if text {
		b := strconv.AppendInt(make([]byte, 0, 8), int64(a.MaxDuration), 10)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(append(b, '\n'))
		return nil
	}
	out := authorizeOut{Allowed: a.Allowed, MaxDuration: a.MaxDuration, Reason: a.Reason,
		Available: a.Available, Free: a.Free, Hold: ans.Hold, Tenant: rq.tenant, Kind: rq.kind, Number: res.Number}
	if t := ans.Tenant; t != nil {
		out.State, out.Tenant = &a.State, t.Name
	}
	if res.Rated() {
		rf := newRateFields(&res.Rate, res.Currency)
		out.rateFields = &rf
	}
	return reply(w, http.StatusOK, out)
}
