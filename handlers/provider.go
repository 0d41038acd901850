package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// providers is what the provider endpoints and pages ask of the store.
type providers interface {
	Providers() ([]rating.Provider, error)
	Provider(name string) (rating.Provider, error)
	CreateProvider(rating.Provider) (rating.Provider, error)
	UpdateProvider(name string, fn func(*rating.Provider) error) (rating.Provider, error)
	DeleteProvider(name string) error
}

// providerIn is the body of POST and PUT /providers; a field left out keeps
// its value.
type providerIn struct {
	Name          *string `json:"name"`
	Trunk         *string `json:"trunk"`
	Status        *string `json:"status"`
	OutboundTable *string `json:"outbound_rate_table"`
	InboundTable  *string `json:"inbound_rate_table"`
	// Balance is refused with a pointer to the credits endpoint.
	Balance json.RawMessage `json:"balance"`
}

// apply sets the fields the body has. It runs inside the store's update,
// so it must not call the store.
func (in *providerIn) apply(p *rating.Provider) error {
	if in.Balance != nil {
		return rating.Invalidf("balance", "balance: read-only; POST a credit to /api/v1/providers/{name}/credits to change it")
	}
	setString(&p.Name, in.Name)
	setString(&p.Trunk, in.Trunk)
	setString(&p.Status, in.Status)
	setString(&p.OutboundTable, in.OutboundTable)
	setString(&p.InboundTable, in.InboundTable)
	return nil
}

func (s *server) listProviders(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Store.Providers()
	if err != nil {
		return err
	}
	return replyNamed(w, r, ps, func(p *rating.Provider) string { return p.Name })
}

func (s *server) getProvider(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Store.Provider(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, p)
}

func (s *server) createProvider(w http.ResponseWriter, r *http.Request) error {
	var in providerIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	p := rating.Provider{Status: rating.Active}
	if err := in.apply(&p); err != nil {
		return err
	}
	p, err := s.store(r).CreateProvider(p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, p)
}

func (s *server) updateProvider(w http.ResponseWriter, r *http.Request) error {
	var in providerIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.store(r).UpdateProvider(mux.Vars(r)["name"], in.apply)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, p)
}

func (s *server) deleteProvider(w http.ResponseWriter, r *http.Request) error {
	if err := s.store(r).DeleteProvider(mux.Vars(r)["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
