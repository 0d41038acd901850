package rating

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Billing modes and account statuses.
const (
	Prepaid   = "prepaid"
	Postpaid  = "postpaid"
	Active    = "active"
	Suspended = "suspended"
)

// State is a tenant's billing state. It is derived, never stored.
type State string

// The billing states, in the order their rules are tried.
const (
	StateSuspended State = "suspended"
	StateBlocked   State = "blocked"
	StateLow       State = "low"
	StateOK        State = "ok"
)

// Tenant is a customer of the PBX operator.
type Tenant struct {
	Name                string `json:"name"`
	AccountCode         string `json:"accountcode"`
	BillingMode         string `json:"billing_mode"`
	Balance             Money  `json:"balance"`
	CreditLimit         Money  `json:"credit_limit"`
	LowBalanceThreshold Money  `json:"low_balance_threshold"`
	Status              string `json:"status"`
	OutboundTable       string `json:"outbound_rate_table"`
	InboundTable        string `json:"inbound_rate_table"`
	ConferenceTable     string `json:"conference_rate_table"`
	// The limits of DOMAIN.md "Holding credit for calls in progress":
	// MaxCalls 0 is no limit, DailySpendLimit ≤ 0 or unset is no limit,
	// MaxCallDuration 0 is the installation's setting.
	MaxCalls        int       `json:"max_calls"`
	DailySpendLimit Money     `json:"daily_spend_limit"`
	MaxCallDuration int       `json:"max_call_duration"`
	Email           string    `json:"email"`
	Created         time.Time `json:"created"`
}

// Bounds of the tenant limits.
const (
	MaxMaxCalls        = 100000
	MaxMaxCallDuration = 7 * 86400
)

// SpendLimit is the tenant's daily spend limit, false when it has none.
func (t *Tenant) SpendLimit() (Money, bool) {
	return t.DailySpendLimit, t.DailySpendLimit.Set() && t.DailySpendLimit.Sign() > 0
}

// CallCap is the longest call the tenant may make: its own
// max_call_duration, or the installation's.
func (t *Tenant) CallCap(installation int) int {
	if t.MaxCallDuration > 0 {
		return t.MaxCallDuration
	}
	return installation
}

// Available is the credit the tenant may still spend.
func (t *Tenant) Available() Money {
	if t.BillingMode == Postpaid {
		return t.Balance.Add(t.CreditLimit)
	}
	return t.Balance
}

// State applies DOMAIN.md's rules in order; the first that matches wins.
func (t *Tenant) State() State {
	switch a := t.Available(); {
	case t.Status == Suspended:
		return StateSuspended
	case a.Sign() <= 0:
		return StateBlocked
	case a.Cmp(t.LowBalanceThreshold) < 0:
		return StateLow
	}
	return StateOK
}

// Exposure is what the tenant owes: max(0, −balance).
func (t *Tenant) Exposure() Money {
	if t.Balance.Sign() < 0 {
		return t.Balance.Neg()
	}
	return Money{}
}

// Utilisation is exposure / credit_limit, and false when the limit is 0.
func (t *Tenant) Utilisation() (decimal.Decimal, bool) {
	if t.CreditLimit.Sign() <= 0 {
		return decimal.Decimal{}, false
	}
	return t.Exposure().Decimal().DivRound(t.CreditLimit.Decimal(), 4), true
}

// TableFor returns the name of the tenant's table of kind k, or "".
func (t *Tenant) TableFor(k Kind) string {
	switch k {
	case Outbound:
		return t.OutboundTable
	case Inbound:
		return t.InboundTable
	case Conference:
		return t.ConferenceTable
	}
	return ""
}

// Validate checks the fields a caller may set.
func (t *Tenant) Validate() error {
	if err := ValidateName("name", t.Name); err != nil {
		return err
	}
	if err := ValidateName("accountcode", t.AccountCode); err != nil {
		return err
	}
	if t.BillingMode != Prepaid && t.BillingMode != Postpaid {
		return Invalidf("billing_mode", "billing_mode %s: want prepaid or postpaid", Excerpt(t.BillingMode))
	}
	if t.Status != Active && t.Status != Suspended {
		return Invalidf("status", "status %s: want active or suspended", Excerpt(t.Status))
	}
	if err := checkLimit("credit_limit", t.CreditLimit); err != nil {
		return err
	}
	if err := checkLimit("low_balance_threshold", t.LowBalanceThreshold); err != nil {
		return err
	}
	if t.DailySpendLimit.Set() {
		if err := checkLimit("daily_spend_limit", t.DailySpendLimit); err != nil {
			return err
		}
	}
	if t.MaxCalls < 0 || t.MaxCalls > MaxMaxCalls {
		return Invalidf("max_calls", "max_calls %d: want 0 (no limit) to %d", t.MaxCalls, MaxMaxCalls)
	}
	if t.MaxCallDuration < 0 || t.MaxCallDuration > MaxMaxCallDuration {
		return Invalidf("max_call_duration", "max_call_duration %d: want 0 (the installation's) to %d seconds", t.MaxCallDuration, MaxMaxCallDuration)
	}
	return ValidateEmail("email", t.Email)
}

// ValidateEmail accepts "" or one plain address: local@domain, without
// spaces, control characters or a display name, at most 254 bytes.
func ValidateEmail(field, v string) error {
	if v == "" {
		return nil
	}
	at := strings.LastIndexByte(v, '@')
	bad := len(v) > 254 || at < 1 || at == len(v)-1 || strings.ContainsAny(v, " <>,;\"\\")
	for _, c := range v {
		bad = bad || c < 0x21 || c == 0x7f
	}
	if bad {
		return Invalidf(field, "%s %s: want one address such as ops@example.com", field, Excerpt(v))
	}
	return nil
}

// checkLimit accepts an amount from 0 to MaxMoney.
func checkLimit(field string, v Money) error {
	switch {
	case !v.Set():
		return Invalidf(field, "%s: required", field)
	case v.Sign() < 0:
		return Invalidf(field, "%s %s: must not be negative", field, v)
	case !v.InRange():
		return Invalidf(field, "%s %s: beyond %s", field, v, MaxMoney)
	}
	return nil
}

// Edit applies fn to a copy of the stored tenant t and keeps what an edit
// may not change: the balance, which only the ledger moves, the creation
// time, and an accountcode that fn emptied. Every store's update goes
// through it.
func (t Tenant) Edit(fn func(*Tenant) error) (Tenant, error) {
	e := t
	if err := fn(&e); err != nil {
		return Tenant{}, err
	}
	e.Balance, e.Created = t.Balance, t.Created
	if e.AccountCode == "" {
		e.AccountCode = t.AccountCode
	}
	return e, nil
}
