package rating

import (
	"strings"
	"time"
)

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

// MaxNote bounds the note of a credit, which the ledger keeps forever.
const MaxNote = 500

// ValidateCredit applies API.md's rules for a credit posted by hand: a
// topup is positive; an adjustment has any sign but 0, and a note that
// says why; the amount is within ±MaxMoney.
func ValidateCredit(amount Money, kind, note string) error {
	if !amount.Set() {
		return Invalidf("amount", "amount: required")
	}
	switch kind {
	case Topup:
		if amount.Sign() <= 0 {
			return Invalidf("amount", "amount %s: a top-up must be positive (more than 0); to take credit back, post an adjustment with a note", amount)
		}
	case Adjustment:
		if amount.Sign() == 0 {
			return Invalidf("amount", "amount: an adjustment must not be 0")
		}
		if strings.TrimSpace(note) == "" {
			return Invalidf("note", "note: required for an adjustment")
		}
	default:
		return Invalidf("kind", "kind %s: want topup or adjustment", Excerpt(kind))
	}
	if !amount.InRange() {
		return Invalidf("amount", "amount %s: beyond ±%s", amount, MaxMoney)
	}
	if len(note) > MaxNote {
		return Invalidf("note", "note: longer than %d characters", MaxNote)
	}
	return nil
}
