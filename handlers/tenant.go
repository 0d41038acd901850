package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// tenants is what the tenant endpoints and pages ask of the store.
type tenants interface {
	Tenants() ([]rating.Tenant, error)
	Tenant(name string) (rating.Tenant, error)
	TenantByName(nameOrAccountCode string) (rating.Tenant, error)
	CreateTenant(rating.Tenant) (rating.Tenant, error)
	UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error)
	DeleteTenant(name string) error
}

// tenantIn is the body of POST and PUT /tenants. Every field is optional
// so that a PUT keeps what it leaves out; money is kept raw until apply so
// that its error can name the field.
type tenantIn struct {
	Name                *string         `json:"name"`
	AccountCode         *string         `json:"accountcode"`
	BillingMode         *string         `json:"billing_mode"`
	CreditLimit         json.RawMessage `json:"credit_limit"`
	LowBalanceThreshold json.RawMessage `json:"low_balance_threshold"`
	Status              *string         `json:"status"`
	OutboundTable       *string         `json:"outbound_rate_table"`
	InboundTable        *string         `json:"inbound_rate_table"`
	ConferenceTable     *string         `json:"conference_rate_table"`
	MaxCalls            *int            `json:"max_calls"`
	DailySpendLimit     json.RawMessage `json:"daily_spend_limit"` // null or 0: no limit
	MaxCallDuration     *int            `json:"max_call_duration"`
	Email               *string         `json:"email"`
	// Balance is refused with a pointer to the credits endpoint, rather
	// than as an unknown field, because it is what a caller may try.
	Balance json.RawMessage `json:"balance"`
}

// apply sets the fields the body has. It runs inside the store's update,
// so it must not call the store.
func (in *tenantIn) apply(t *rating.Tenant) error {
	if in.Balance != nil {
		return rating.Invalidf("balance", "balance: read-only; POST a credit to /api/v1/tenants/{name}/credits to change it")
	}
	setString(&t.Name, in.Name)
	setString(&t.AccountCode, in.AccountCode)
	setString(&t.BillingMode, in.BillingMode)
	setString(&t.Status, in.Status)
	setString(&t.OutboundTable, in.OutboundTable)
	setString(&t.InboundTable, in.InboundTable)
	setString(&t.ConferenceTable, in.ConferenceTable)
	setString(&t.Email, in.Email)
	setInt(&t.MaxCalls, in.MaxCalls)
	setInt(&t.MaxCallDuration, in.MaxCallDuration)
	var err error
	if in.DailySpendLimit != nil {
		if t.DailySpendLimit, err = money("daily_spend_limit", in.DailySpendLimit); err != nil {
			return err
		}
	}
	if in.CreditLimit != nil {
		if t.CreditLimit, err = money("credit_limit", in.CreditLimit); err != nil {
			return err
		}
	}
	if in.LowBalanceThreshold != nil {
		if t.LowBalanceThreshold, err = money("low_balance_threshold", in.LowBalanceThreshold); err != nil {
			return err
		}
	}
	return nil
}

// tenantOut is a tenant as answered: its fields and what is derived from
// them.
type tenantOut struct {
	rating.Tenant
	DailySpendLimit rating.Money `json:"daily_spend_limit"` // null when none
	Available       rating.Money `json:"available"`
	State           rating.State `json:"state"`
	Exposure        rating.Money `json:"exposure"`
	Utilisation     *string      `json:"utilisation"` // null when credit_limit is 0
	// Held is the sum of its open holds, Free the credit they leave
	// (DOMAIN.md), CallsInProgress the number of open holds.
	Held            rating.Money `json:"held"`
	Free            rating.Money `json:"free"`
	CallsInProgress int          `json:"calls_in_progress"`
}

func newTenantOut(t rating.Tenant, com rating.Commitments) tenantOut {
	out := tenantOut{Tenant: t, Available: t.Available(), State: t.State(), Exposure: t.Exposure(), DailySpendLimit: rating.NoMoney,
		Held: com.Held, CallsInProgress: com.Calls}
	out.Free, _ = t.Free(com)
	if l, ok := t.SpendLimit(); ok {
		out.DailySpendLimit = l
	}
	if u, ok := t.Utilisation(); ok {
		s := u.String()
		out.Utilisation = &s
	}
	return out
}

func (s *server) listTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Store.Tenants()
	if err != nil {
		return err
	}
	com, err := s.Store.AllCommitments()
	if err != nil {
		return err
	}
	out := make([]tenantOut, len(ts))
	for i, t := range ts {
		out[i] = newTenantOut(t, com[t.Name])
	}
	return replyNamed(w, r, out, func(t *tenantOut) string { return t.Name })
}

func (s *server) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := s.Store.Tenant(mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	return s.replyTenant(w, http.StatusOK, t)
}

func (s *server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in tenantIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	// The store defaults accountcode to the name.
	t := rating.Tenant{BillingMode: rating.Prepaid, Status: rating.Active}
	if err := in.apply(&t); err != nil {
		return err
	}
	t, err := s.store(r).CreateTenant(t)
	if err != nil {
		return err
	}
	return s.replyTenant(w, http.StatusCreated, t)
}

// tenantOut is t with its commitments.
func (s *server) tenantOut(t rating.Tenant) (tenantOut, error) {
	com, err := s.Store.Commitments(t.Name)
	return newTenantOut(t, com), err
}

// replyTenant answers t with its commitments.
func (s *server) replyTenant(w http.ResponseWriter, status int, t rating.Tenant) error {
	out, err := s.tenantOut(t)
	if err != nil {
		return err
	}
	return reply(w, status, out)
}

func (s *server) updateTenant(w http.ResponseWriter, r *http.Request) error {
	var in tenantIn
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.store(r).UpdateTenant(mux.Vars(r)["name"], in.apply)
	if err != nil {
		return err
	}
	return s.replyTenant(w, http.StatusOK, t)
}

func (s *server) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	if err := s.store(r).DeleteTenant(mux.Vars(r)["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// setInt sets *dst to *v when the body has the field.
func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}
