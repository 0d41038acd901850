package handlers

import (
	"encoding/json"
	"net/http"

	"pbxbill/rating"
)

// recentEvents is how many events the admin's page lists.
const recentEvents = 100

// eventsPage is the data of the Alerts page.
type eventsPage struct {
	pageBase
	Events []eventRow
}

// eventRow is one event as the page shows it: its data as compact JSON.
type eventRow struct {
	rating.Event
	Summary string
}

func (u *ui) eventsPage(w http.ResponseWriter, r *http.Request) error {
	evs, err := u.Store.RecentEvents(recentEvents)
	if err != nil {
		return err
	}
	p := eventsPage{pageBase: u.base(w, r, "Alerts", "events")}
	for _, ev := range evs {
		p.Events = append(p.Events, eventRow{Event: ev, Summary: summary(ev.Data)})
	}
	return u.render(w, http.StatusOK, "events", p)
}

// summary is an event's data as "key: value" pairs, for a table cell.
func summary(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(m) // sorted keys
	return string(b)
}

// sendTestEvent queues a test event, which goes to every webhook like any
// other: the operator sees whether the receiver gets it and checks its
// signature.
func (u *ui) sendTestEvent(w http.ResponseWriter, r *http.Request) error {
	ev, err := u.store(r).QueueEvent(rating.EventTest, testEventData{Message: "a test event from the pbxbill admin", By: userOf(r)})
	if err != nil {
		return err
	}
	return u.redirect(w, r, "/events", "ok", "Queued test event "+ev.ID+"; its delivery state shows below within seconds.")
}
