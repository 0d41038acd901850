package handlers

import (
	"net/http"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// rateTables is what the rate table endpoints and pages ask of the store.
type rateTables interface {
	RateTables(rating.Kind) ([]rating.Table, error)
	RateTable(name string) (rating.Table, error)
	CreateRateTable(rating.Table) (rating.Table, error)
	UpdateRateTable(name string, fn func(*rating.Table) error) (rating.Table, error)
	DeleteRateTable(name string) error
	TableUsers(name string) ([]string, error)
}

// tableIn is the body of POST and PUT /rate-tables; a field left out keeps
// its value, or on create takes rating.NewTable's default.
type tableIn struct {
	Name             *string          `json:"name"`
	Kind             *rating.Kind     `json:"kind"`
	Decimals         *int             `json:"decimals"`
	Rounding         *rating.Rounding `json:"rounding"`
	InitialIncrement *int             `json:"initial_increment"`
	Increment        *int             `json:"increment"`
}

// apply sets the fields the body has; the store validates the result.
func (in *tableIn) apply(t *rating.Table) error {
	setString(&t.Name, in.Name)
	if in.Kind != nil {
		t.Kind = *in.Kind
	}
	if in.Decimals != nil {
		t.Decimals = *in.Decimals
	}
	if in.Rounding != nil {
		t.Rounding = *in.Rounding
	}
	if in.InitialIncrement != nil {
		t.InitialIncrement = *in.InitialIncrement
	}
	if in.Increment != nil {
		t.Increment = *in.Increment
	}
	return nil
}

// tableOut is one table as GET /rate-tables/{name} answers it: its
// settings and the tenants and providers that use it, which are what stop
// a delete.
type tableOut struct {
	rating.Table
	UsedBy []string `json:"used_by"`
}

func (s *server) listRateTables(w http.ResponseWriter, r *http.Request) error {
	var k rating.Kind
	if v := r.URL.Query().Get("kind"); v != "" {
		var err error
		if k, err = rating.ParseKind(v); err != nil {
			return err
		}
	}
	ts, err := s.Store.RateTables(k)
	if err != nil {
		return err
	}
	return replyNamed(w, r, ts, func(t *rating.Table) string { return t.Name })
}

func (s *server) getRateTable(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	t, err := s.Store.RateTable(name)
	if err != nil {
		return err
	}
	users, err := s.Store.TableUsers(name)
	if err != nil {
		return err
	}
	if users == nil {
		users = []string{}
	}
	return reply(w, http.StatusOK, tableOut{Table: t, UsedBy: users})
}

func (s *server) createRateTable(w http.ResponseWriter, r *http.Request) error {
	var in tableIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	// The kind defaults to outbound, as everywhere else in the API.
	t := rating.NewTable("", rating.Outbound, s.Store.Currency())
	if err := in.apply(&t); err != nil {
		return err
	}
	t, err := s.store(r).CreateRateTable(t)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, t)
}

func (s *server) updateRateTable(w http.ResponseWriter, r *http.Request) error {
	var in tableIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.store(r).UpdateRateTable(mux.Vars(r)["name"], in.apply)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, t)
}

func (s *server) deleteRateTable(w http.ResponseWriter, r *http.Request) error {
	if err := s.store(r).DeleteRateTable(mux.Vars(r)["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
