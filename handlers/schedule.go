package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// schedules is what the schedule endpoints and the Recurring section ask
// of the store.
type schedules interface {
	Schedules(tenant string) ([]rating.Schedule, error)
	// CreateScheduleOnce creates at most once for a key (a form's
	// one-time token, an Idempotency-Key); "" always creates.
	CreateScheduleOnce(key, tenant string, s rating.Schedule) (rating.Schedule, error)
	UpdateSchedule(tenant string, id uint64, fn func(*rating.Schedule) error) (rating.Schedule, error)
	DeleteSchedule(tenant string, id uint64) error
}

// scheduleIn is the body of POST and PUT /tenants/{name}/schedules: a
// field left out keeps its value. Giving amount drops a top_up_to, and
// the other way round, so a PUT can turn one kind of refill into the
// other; null clears a field.
type scheduleIn struct {
	Name    *string         `json:"name"`
	Amount  json.RawMessage `json:"amount"`
	TopUpTo json.RawMessage `json:"top_up_to"`
	Day     *int            `json:"day"`
	Start   *string         `json:"start"`
	End     *string         `json:"end"`
}

// apply sets sc from the body. The store validates the result.
func (in *scheduleIn) apply(sc *rating.Schedule) error {
	setString(&sc.Name, in.Name)
	setString(&sc.Start, in.Start)
	setString(&sc.End, in.End)
	if in.Day != nil {
		sc.Day = *in.Day
	}
	if in.Amount != nil && in.TopUpTo != nil {
		a, err := money("amount", in.Amount)
		if err != nil {
			return err
		}
		u, err := money("top_up_to", in.TopUpTo)
		if err != nil {
			return err
		}
		sc.Amount, sc.TopUpTo = a, u
		return nil
	}
	if in.Amount != nil {
		a, err := money("amount", in.Amount)
		if err != nil {
			return err
		}
		sc.Amount, sc.TopUpTo = a, rating.NoMoney
	}
	if in.TopUpTo != nil {
		u, err := money("top_up_to", in.TopUpTo)
		if err != nil {
			return err
		}
		sc.Amount, sc.TopUpTo = rating.NoMoney, u
	}
	return nil
}

// newSchedule is a schedule before a create's body is applied: no amount,
// and a start date of today in the installation's zone.
func (s *server) newSchedule() rating.Schedule {
	return rating.Schedule{Amount: rating.NoMoney, TopUpTo: rating.NoMoney,
		Start: s.Now().In(s.Store.Location()).Format(time.DateOnly)}
}

func (s *server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	items, err := s.Store.Schedules(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	return replyList(w, items, "")
}

func (s *server) createSchedule(w http.ResponseWriter, r *http.Request) error {
	var in scheduleIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	sc := s.newSchedule()
	if err := in.apply(&sc); err != nil {
		return err
	}
	out, err := s.store(r).CreateScheduleOnce(r.Header.Get("Idempotency-Key"), mux.Vars(r)["name"], sc)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, out)
}

func (s *server) updateSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := scheduleID(r)
	if err != nil {
		return err
	}
	var in scheduleIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	out, err := s.store(r).UpdateSchedule(mux.Vars(r)["name"], id, in.apply)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

func (s *server) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	id, err := scheduleID(r)
	if err != nil {
		return err
	}
	if err := s.store(r).DeleteSchedule(mux.Vars(r)["name"], id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// scheduleID reads the {id} of a schedule's path.
func scheduleID(r *http.Request) (uint64, error) {
	v := mux.Vars(r)["id"]
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, rating.Errorf(rating.ENotFound, "schedule %s: no such schedule", rating.Excerpt(v))
	}
	return id, nil
}
