package store

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// entryRecord is a ledger entry as stored. It names its account by id,
// so a rename keeps the history; Entry.Account is filled in when read.
type entryRecord struct {
	ID          uint64        `json:"id"`
	AccountType string        `json:"account_type"`
	AccountID   uint64        `json:"account_id"`
	Time        time.Time     `json:"time"`
	Amount      rating.Amount `json:"amount"`
	Kind        string        `json:"kind"`
	Ref         string        `json:"ref"`
	Balance     rating.Amount `json:"balance"`
}

func (r *entryRecord) entry(account string) rating.Entry {
	return rating.Entry{ID: r.ID, AccountType: r.AccountType, Account: account, Time: r.Time,
		Amount: r.Amount, Kind: r.Kind, Ref: r.Ref, Balance: r.Balance}
}

// maxNote bounds the note of a credit, which the ledger keeps forever.
const maxNote = 500

// Credit posts a topup (amount > 0) or an adjustment (any sign but 0, note
// required) to an account (rating.TenantAccount or rating.ProviderAccount)
// and returns the entry, whose Balance is the new balance. The entry and
// the balance are written in one transaction.
func (s *Store) Credit(accountType, name string, amount rating.Amount, kind, note string) (rating.Entry, error) {
	switch kind {
	case rating.Topup:
		if amount <= 0 {
			return rating.Entry{}, rating.Errorf(rating.EInvalid, "amount %s: a topup must be positive", amount)
		}
	case rating.Adjustment:
		if amount == 0 {
			return rating.Entry{}, rating.Errorf(rating.EInvalid, "amount: an adjustment must not be 0")
		}
		if strings.TrimSpace(note) == "" {
			return rating.Entry{}, rating.Errorf(rating.EInvalid, "note: required for an adjustment")
		}
	default:
		return rating.Entry{}, rating.Errorf(rating.EInvalid, "kind %q: want topup or adjustment", kind)
	}
	if amount == rating.NoAmount || amount > rating.MaxAmount || amount < -rating.MaxAmount {
		return rating.Entry{}, rating.Errorf(rating.EInvalid, "amount %s: beyond ±%s", amount, rating.MaxAmount)
	}
	if len(note) > maxNote {
		return rating.Entry{}, rating.Errorf(rating.EInvalid, "note: longer than %d characters", maxNote)
	}
	acct, err := acctByte(accountType)
	if err != nil {
		return rating.Entry{}, err
	}
	var e rating.Entry
	err = s.update(func(tx *txn) error {
		id, err := accountID(tx.Tx, acct, name)
		if err != nil {
			return err
		}
		e, err = post(tx, acct, id, amount, kind, note)
		return err
	})
	return e, err
}

// post appends one ledger entry to an account and moves its balance by
// amount, in the caller's transaction; the entry's time is the
// transaction's clock. CDR charges and corrections use it too.
func post(tx *txn, acct byte, id uint64, amount rating.Amount, kind, ref string) (rating.Entry, error) {
	var (
		name    string
		balance *rating.Amount
		save    func() error
	)
	switch acct {
	case tenantAcct:
		rec, err := getTenantByID(tx.Tx, id)
		if err != nil {
			return rating.Entry{}, err
		}
		name, balance, save = rec.Name, &rec.Balance, func() error { return putTenant(tx.Tx, &rec) }
	case providerAcct:
		rec, err := getProviderByID(tx.Tx, id)
		if err != nil {
			return rating.Entry{}, err
		}
		name, balance, save = rec.Name, &rec.Balance, func() error { return putProvider(tx.Tx, &rec) }
	default:
		return rating.Entry{}, fmt.Errorf("post: account type %d", acct)
	}
	// Both terms are within ±MaxAmount, so the sum cannot overflow; the
	// bound keeps every later sum of the ledger far from it too.
	after := *balance + amount
	if after > rating.MaxAmount || after < -rating.MaxAmount {
		return rating.Entry{}, rating.Errorf(rating.EInvalid, "amount %s: the balance of %q would be beyond ±%s",
			amount, name, rating.MaxAmount)
	}
	*balance = after
	if err := save(); err != nil {
		return rating.Entry{}, err
	}
	ledger := tx.Bucket(bucketLedger)
	eid, err := nextID(ledger)
	if err != nil {
		return rating.Entry{}, err
	}
	rec := entryRecord{ID: eid, AccountType: acctName(acct), AccountID: id, Time: tx.now,
		Amount: amount, Kind: kind, Ref: ref, Balance: after}
	if err := putJSON(ledger, itob(eid), &rec); err != nil {
		return rating.Entry{}, err
	}
	if err := tx.Bucket(bucketLedgerIndex).Put(ledgerKey(acct, id, eid), []byte{}); err != nil {
		return rating.Entry{}, err
	}
	return rec.entry(name), nil
}

// Ledger lists an account's entries newest first, with from ≤ time < to
// when they are not zero. after is the cursor of a previous page. A limit
// ≤ 0 is DefaultLimit, and it is at most MaxLimit.
//
// Entry ids and times rise together, because the time is read inside the
// write transaction that takes the id, so the walk stops at the first
// entry older than from.
func (s *Store) Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error) {
	acct, err := acctByte(accountType)
	if err != nil {
		return nil, "", err
	}
	limit = pageLimit(limit)
	start := uint64(1<<64 - 1)
	if after != "" {
		if start, err = strconv.ParseUint(after, 10, 64); err != nil {
			return nil, "", rating.Errorf(rating.EInvalid, "after %q: not a cursor this list returned", after)
		}
	}
	out, next := []rating.Entry{}, ""
	err = s.db.View(func(tx *bolt.Tx) error {
		id, err := accountID(tx, acct, name)
		if err != nil {
			return err
		}
		prefix := ledgerKey(acct, id, 0)[:9]
		ledger := tx.Bucket(bucketLedger)
		c := tx.Bucket(bucketLedgerIndex).Cursor()
		k, _ := c.Seek(ledgerKey(acct, id, start))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			var rec entryRecord
			if ok, err := getJSON(ledger, k[9:], &rec); err != nil || !ok {
				return fmt.Errorf("ledger entry %x: missing or unreadable: %v", k[9:], err)
			}
			if !to.IsZero() && !rec.Time.Before(to) {
				continue
			}
			if !from.IsZero() && rec.Time.Before(from) {
				break
			}
			if len(out) == limit {
				next = strconv.FormatUint(out[len(out)-1].ID, 10)
				break
			}
			out = append(out, rec.entry(name))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// accountID finds the id of the named tenant or provider.
func accountID(tx *bolt.Tx, acct byte, name string) (uint64, error) {
	if acct == tenantAcct {
		rec, err := getTenant(tx, name)
		return rec.ID, err
	}
	rec, err := getProvider(tx, name)
	return rec.ID, err
}

// acctName is the inverse of acctByte.
func acctName(acct byte) string {
	if acct == tenantAcct {
		return rating.TenantAccount
	}
	return rating.ProviderAccount
}

// hasHistory reports whether an account has ledger entries or CDRs, which
// keep it from being deleted. Every CDR attributed to an account is in its
// roll-ups, priced or not.
func hasHistory(tx *bolt.Tx, acct byte, id uint64) bool {
	for _, b := range []struct {
		name []byte
		key  []byte
	}{{bucketLedgerIndex, ledgerKey(acct, id, 0)[:9]}, {bucketRollups, rollupKey(acct, id, 0)[:9]}} {
		k, _ := tx.Bucket(b.name).Cursor().Seek(b.key)
		if k != nil && bytes.HasPrefix(k, b.key) {
			return true
		}
	}
	return false
}
