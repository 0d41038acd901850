package rating

import "time"

// Ledger entry kinds.
const (
	Charge     = "charge"
	Topup      = "topup"
	Adjustment = "adjustment"
	Correction = "correction"
)

// Account types that own a balance and a ledger.
const (
	TenantAccount   = "tenant"
	ProviderAccount = "provider"
)

// Entry is one append-only ledger entry. Balance is the account's balance
// after it.
type Entry struct {
	ID          uint64    `json:"id"`
	AccountType string    `json:"account_type"`
	Account     string    `json:"account"`
	Time        time.Time `json:"time"`
	Amount      Money     `json:"amount"`
	Kind        string    `json:"kind"`
	Ref         string    `json:"ref"`
	Balance     Money     `json:"balance"`
}

// Node is a PBX node that calls the API with its own token.
type Node struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}
