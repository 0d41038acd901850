package handlers

import (
	"net/http"

	"pbxbill/rating"
)

// rejectedLines is the storage of the follow mode's rejected lines: lines
// of a followed CDR file that the store refused for good, kept for the
// operator (store.RejectFollowed).
type rejectedLines interface {
	RejectedLines(limit int) ([]rating.RejectedLine, error)
}

// rejectedOnUsage is how many rejected lines the Usage page shows; the
// API lists up to MaxLimit.
const rejectedOnUsage = 20

// listRejected answers GET /api/v1/cdrs/rejected: the rejected lines,
// newest first, ?limit= of them. The store keeps the newest 1000 only, so
// the list has no further page.
func (s *server) listRejected(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	lines, err := s.Store.RejectedLines(n)
	if err != nil {
		return err
	}
	return replyList(w, lines, "")
}
