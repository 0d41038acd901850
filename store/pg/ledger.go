package pg

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// Credit posts a topup (amount > 0) or an adjustment (any sign but 0, note
// required) to an account (rating.TenantAccount or rating.ProviderAccount)
// and returns the entry, whose Balance is the new balance. The entry and
// the balance are written in one transaction, with the account's row
// locked, so credits from several nodes at once add up exactly.
func (s *Store) Credit(accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	return s.CreditOnce("", accountType, name, amount, kind, note)
}

// CreditOnce is Credit that posts at most once for a key: the one-time
// token of an admin form, or an API client's Idempotency-Key. The key is
// inserted in the transaction of the entry, under its unique constraint,
// so a form sent twice, to one node or to two, however close together,
// posts once; the second answers EConflict. A refused credit rolls its
// key back with it. Keys are kept for onceTTL. An empty key is Credit.
func (s *Store) CreditOnce(key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	if err := rating.ValidateCredit(amount, kind, note); err != nil {
		return rating.Entry{}, err
	}
	if err := store.CheckOnceKey(key); err != nil {
		return rating.Entry{}, err
	}
	acct, err := acctByte(accountType)
	if err != nil {
		return rating.Entry{}, err
	}
	ctx := context.Background()
	var e rating.Entry
	err = s.write(ctx, func(tx *txn) error {
		if key != "" {
			if err := useOnce(ctx, tx, key); err != nil {
				return err
			}
		}
		var err error
		e, err = credit(ctx, tx, acct, name, amount, kind, note)
		return err
	})
	if err != nil {
		return rating.Entry{}, err
	}
	e.Time = micro(e.Time)
	return e, nil
}

// credit books amount to the named account with its row locked, and
// saves the balance. A tenant's change of billing state queues its alert
// (noteTenant).
func credit(ctx context.Context, tx *txn, acct byte, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	if acct == providerAcct {
		p, err := providerNamed(ctx, tx, name, true)
		if err != nil {
			return rating.Entry{}, err
		}
		e, err := book(ctx, tx, acct, p.ID, p.Name, &p.Balance, amount, kind, note)
		if err != nil {
			return rating.Entry{}, err
		}
		return e, saveBalance(ctx, tx, acct, p.ID, p.Balance)
	}
	rec, err := tenantNamed(ctx, tx, name, true)
	if err != nil {
		return rating.Entry{}, err
	}
	t := rec.Tenant
	tx.noteTenant(rec.ID, rec.Tenant, &t)
	e, err := book(ctx, tx, acct, rec.ID, t.Name, &t.Balance, amount, kind, note)
	if err != nil {
		return rating.Entry{}, err
	}
	return e, saveBalance(ctx, tx, acct, rec.ID, t.Balance)
}

// onceTTL is how long a used key is remembered: a form is not sent twice
// a day apart by accident.
const onceTTL = 24 * time.Hour

// useOnce records key as used at tx.now, or answers EConflict when it was
// used already, and forgets a few keys past their day. Two transactions
// inserting one key at once: the second waits on the first's index entry,
// and finds the key used if the first commits, or free if it rolls back.
// Another node's transaction pruning the same old keys is skipped, not
// waited for.
func useOnce(ctx context.Context, tx *txn, key string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO once_keys (key, at, expires) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		key, tx.now, tx.now.Add(onceTTL))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return rating.Errorf(rating.EConflict, "this was sent before, with the same one-time key, and posted then: it was not posted again")
	}
	_, err = tx.Exec(ctx, `DELETE FROM once_keys WHERE key IN (SELECT key FROM once_keys
		WHERE expires IS NOT NULL AND expires < $1 ORDER BY expires LIMIT 100 FOR UPDATE SKIP LOCKED)`, tx.now)
	return err
}

// Ledger lists an account's entries newest first, with from ≤ time < to
// when they are not zero. after is the cursor of a previous page: the id
// of its last entry. A limit ≤ 0 is DefaultLimit, and it is at most
// MaxLimit. The account is found by its name as it is now, and its
// entries by its id, so a rename keeps its history.
func (s *Store) Ledger(accountType, name string, from, to time.Time, after string, limit int) ([]rating.Entry, string, error) {
	acct, err := acctByte(accountType)
	if err != nil {
		return nil, "", err
	}
	limit = pageLimit(limit)
	before, err := idCursor(after)
	if err != nil {
		return nil, "", err
	}
	var fromArg, toArg *time.Time
	if !from.IsZero() {
		fromArg = &from
	}
	if !to.IsZero() {
		toArg = &to
	}
	ctx := context.Background()
	var out []rating.Entry
	err = s.read(ctx, func(tx pgx.Tx) error {
		var id int64
		if acct == providerAcct {
			p, err := providerNamed(ctx, tx, name, false)
			if err != nil {
				return err
			}
			id = p.ID
		} else {
			t, err := tenantNamed(ctx, tx, name, false)
			if err != nil {
				return err
			}
			id = t.ID
		}
		rows, _ := tx.Query(ctx, `SELECT id, at, amount, kind, ref, balance FROM ledger
			WHERE account_type = $1 AND account_id = $2 AND id < $3
				AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
			ORDER BY id DESC LIMIT $6`, acct, id, before, fromArg, toArg, limit+1)
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.Entry, error) {
			e := rating.Entry{AccountType: acctName(acct), Account: name}
			var eid int64
			err := row.Scan(&eid, &e.Time, scanMoney(&e.Amount), &e.Kind, &e.Ref, scanMoney(&e.Balance))
			e.ID, e.Time = uint64(eid), e.Time.UTC()
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatUint(out[limit-1].ID, 10)
	}
	if out == nil {
		out = []rating.Entry{}
	}
	return out, next, nil
}

// acctByte is an account type's letter in the ledger and the roll-ups.
func acctByte(accountType string) (byte, error) {
	switch accountType {
	case rating.TenantAccount:
		return tenantAcct, nil
	case rating.ProviderAccount:
		return providerAcct, nil
	}
	return 0, rating.Errorf(rating.EInvalid, "account type %s: want tenant or provider", rating.Excerpt(accountType))
}
