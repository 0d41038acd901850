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
	Available   rating.Amount `json:"available"` // null for an unknown tenant
	Tenant      string        `json:"tenant"`
	Kind        rating.Kind   `json:"kind"`
	Number      string        `json:"number"` // normalised when valid
	*rateFields               // left out when no rate matched
}

// authorize answers DOMAIN.md's "Authorizing a call". A suspended or
// blocked tenant is refused for that reason even when the number has a
// rate, whose fields are still shown; the other reasons follow the order
// of find.
//
// With format=text the body is the maximum duration alone, "0" when the
// call is not allowed, so that a dialplan can use it as a timeout.
func (s *server) authorize(w http.ResponseWriter, r *http.Request) error {
	q := params(r.URL.RawQuery)
	text := q.Get("format") == "text"
	rq, err := parseRateQuery(q)
	if err != nil {
		return err // 200 "0\n" in text form: see server.error
	}
	var m match
	out := authorizeOut{Reason: rating.ReasonOK, Available: rating.NoAmount, Tenant: rq.tenant, Kind: rq.kind}
	reason, err := s.find(&rq, &m)
	if reason == "" && err != nil {
		return err
	}
	out.Number, out.Tenant = m.number, m.tenantName(&rq)
	if reason != rating.ReasonUnknownTenant {
		state := m.tenant.State()
		out.State, out.Available = &state, m.tenant.Available()
		if state == rating.StateSuspended || state == rating.StateBlocked {
			reason = string(state) // the reasons share the states' names
		}
	}
	if reason == "" {
		rf := newRateFields(&m.rate, m.currency)
		out.rateFields = &rf
		if d, ok := m.rate.MaxDuration(out.Available, s.MaxCallDuration); ok {
			out.Allowed, out.MaxDuration = true, d
		} else {
			reason = rating.ReasonInsufficientCredit
		}
	} else if m.rate.Table != "" {
		rf := newRateFields(&m.rate, m.currency)
		out.rateFields = &rf
	}
	if reason != "" {
		out.Reason = reason
	}
	if text {
		b := strconv.AppendInt(make([]byte, 0, 8), int64(out.MaxDuration), 10)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(append(b, '\n'))
		return nil
	}
	return reply(w, http.StatusOK, out)
}
