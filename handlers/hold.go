package handlers

import (
	"net/http"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// holds is what authorizations and the hold endpoints ask of the store
// (DOMAIN.md "Holding credit for calls in progress").
type holds interface {
	// Authorize decides a call from the tenant's credit and commitments
	// at this instant, and with a call id opens its hold.
	Authorize(rating.CallQuery) (rating.CallAnswer, error)
	Commitments(tenant string) (rating.Commitments, error)
	AllCommitments() (map[string]rating.Commitments, error) // by tenant name, in one read
	Holds(tenant string) ([]rating.Hold, error)
	ExpiredHolds(tenant string, limit int) ([]rating.Hold, error)
	ReleaseHold(node, call string) error
	HoldStats() rating.HoldStats
}

// maxExpiredShown bounds the expired holds one answer lists.
const maxExpiredShown = 100

// listHolds answers GET /holds?tenant=: the holds open now, oldest first.
// With state=expired it lists the holds that expired without a CDR
// instead, newest first (an extension: each means a PBX that did not send
// its CDR).
func (s *server) listHolds(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tenant := q.Get("tenant")
	var hs []rating.Hold
	var err error
	switch st := q.Get("state"); st {
	case "", "open":
		hs, err = s.Store.Holds(tenant)
	case "expired":
		hs, err = s.Store.ExpiredHolds(tenant, maxExpiredShown)
	default:
		return rating.Invalidf("state", "state %s: want open or expired", rating.Excerpt(st))
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, list[rating.Hold]{Items: hs})
}

// releaseHold answers DELETE /holds/{call}: the hang-up handler of a call
// that never connected gives its credit back without a CDR. The hold is
// the requesting node's, as the call's CDR would be.
func (s *server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	if err := s.Store.ReleaseHold(callerOf(r).Node, mux.Vars(r)["call"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
