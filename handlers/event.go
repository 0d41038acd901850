package handlers

import (
	"net/http"

	"pbxbill/rating"
)

// events is what the events endpoint and page ask of the store's outbox.
type events interface {
	Events(after string, limit int) ([]rating.Event, string, error)
	RecentEvents(n int) ([]rating.Event, error)
	QueueEvent(typ string, data any) (rating.Event, error)
}

// listEvents answers the outbox oldest first, with each event's delivery
// state: what a client that cannot take webhooks polls.
func (s *server) listEvents(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	items, next, err := s.Store.Events(r.URL.Query().Get("after"), n)
	if err != nil {
		return err
	}
	return replyList(w, items, next)
}

// testEventData is the data of the admin's test event.
type testEventData struct {
	Message string `json:"message"`
	By      string `json:"by"`
}
