package rating

import (
	"encoding/json"
	"fmt"
	"time"
)

// Alert event types (DOMAIN.md "Alerts"). EventTest is the admin's
// "send a test event", which goes to the webhooks only.
const (
	EventTenantState    = "tenant.state"
	EventSpendLimit     = "tenant.spend_limit"
	EventHoldExpired    = "hold.expired"
	EventSchedulePosted = "schedule.posted"
	EventTest           = "test"
)

// Event is one alert in the outbox, with the state of its delivery to
// each target. ID is what receivers drop repeats by; Seq orders the
// outbox and pages GET /api/v1/events.
type Event struct {
	ID         string          `json:"id"`
	Seq        uint64          `json:"seq"`
	Type       string          `json:"type"`
	Time       time.Time       `json:"time"`
	Data       json.RawMessage `json:"data"`
	Deliveries []Delivery      `json:"deliveries"`
	// Done: every target has it or gave up. An event with no target
	// (no webhook, no mail) is done when the deliverer first sees it.
	Done bool `json:"done"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // given up after the retry window
)

// Delivery is the state of an event's delivery to one target: "webhook
// <url>" or "email <address>".
type Delivery struct {
	Target    string    `json:"target"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextTry   time.Time `json:"next_try,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	At        time.Time `json:"at,omitzero"` // delivered or given up
}

// Payload is the webhook body of API.md: the event without its delivery
// state.
func (e *Event) Payload() ([]byte, error) {
	return json.Marshal(struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Time time.Time       `json:"time"`
		Data json.RawMessage `json:"data"`
	}{e.ID, e.Type, e.Time, e.Data})
}

// TenantStateData is the data of a tenant.state event.
type TenantStateData struct {
	Tenant    string `json:"tenant"`
	From      State  `json:"from"`
	To        State  `json:"to"`
	Balance   Money  `json:"balance"`
	Available Money  `json:"available"`
	Email     string `json:"email,omitempty"` // the tenant's, when it has one
}

// StateChange is the tenant.state event data of a change from old to
// new, false when the state stayed.
func StateChange(old, new *Tenant) (TenantStateData, bool) {
	from, to := old.State(), new.State()
	return TenantStateData{Tenant: new.Name, From: from, To: to, Balance: new.Balance,
		Available: new.Available(), Email: new.Email}, from != to
}

// Mailed reports whether the change is mailed: a tenant entering low or
// blocked (DOMAIN.md "Alerts").
func (d *TenantStateData) Mailed() bool {
	return d.From != d.To && (d.To == StateLow || d.To == StateBlocked)
}

// Mail is the subject and text of the e-mail of a state change.
func (d *TenantStateData) Mail(currency string) (subject, body string) {
	subject = fmt.Sprintf("pbxbill: tenant %s is %s", d.Tenant, d.To)
	body = fmt.Sprintf("Tenant %s went from %s to %s.\r\n\r\nBalance: %s %s\r\nAvailable credit: %s %s\r\n",
		d.Tenant, d.From, d.To, d.Balance, currency, d.Available, currency)
	if d.To == StateBlocked {
		body += "\r\nIts calls are refused until it is topped up.\r\n"
	} else {
		body += "\r\nIts calls stop when the available credit reaches 0; a top-up keeps them going.\r\n"
	}
	return subject, body
}

// SpendLimitData is the data of a tenant.spend_limit event.
type SpendLimitData struct {
	Tenant string `json:"tenant"`
	Day    string `json:"day"`
	Limit  Money  `json:"limit"`
	Spend  Money  `json:"spend"`
}

// SpendLimitReached is the event data when a day's spend went from
// before to after and crossed the tenant's daily spend limit.
func SpendLimitReached(t *Tenant, day string, before, after Money) (SpendLimitData, bool) {
	limit, ok := t.SpendLimit()
	return SpendLimitData{Tenant: t.Name, Day: day, Limit: limit, Spend: after},
		ok && before.Cmp(limit) < 0 && after.Cmp(limit) >= 0
}

// SchedulePostedData is the data of a schedule.posted event.
type SchedulePostedData struct {
	Tenant   string `json:"tenant"`
	Schedule uint64 `json:"schedule"`
	Name     string `json:"name"`
	Month    string `json:"month"`
	Kind     string `json:"kind"`
	Amount   Money  `json:"amount"`
	Balance  Money  `json:"balance"`
	Entry    uint64 `json:"entry"`
}
