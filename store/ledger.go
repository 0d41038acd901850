package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// entryRecord is a ledger entry as stored. It names its account by id,
// so a rename keeps the history; Entry.Account is filled in when read.
// The key holds the account and the id, the value the rest (putEntry).
type entryRecord struct {
	ID          uint64       `json:"id"`
	AccountType string       `json:"account_type"`
	AccountID   uint64       `json:"account_id"`
	Time        time.Time    `json:"time"`
	Amount      rating.Money `json:"amount"`
	Kind        string       `json:"kind"`
	Ref         string       `json:"ref"`
	Balance     rating.Money `json:"balance"`
}

func (r *entryRecord) entry(account string) rating.Entry {
	return rating.Entry{ID: r.ID, AccountType: r.AccountType, Account: account, Time: r.Time,
		Amount: r.Amount, Kind: r.Kind, Ref: r.Ref, Balance: r.Balance}
}

// Credit posts a topup (amount > 0) or an adjustment (any sign but 0, note
// required) to an account (rating.TenantAccount or rating.ProviderAccount)
// and returns the entry, whose Balance is the new balance. The entry and
// the balance are written in one transaction.
func (s *Store) Credit(accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	return s.CreditOnce("", accountType, name, amount, kind, note)
}

// CreditOnce is Credit that posts at most once for a key: the one-time
// token of an admin form, or an API client's Idempotency-Key. The key is
// written in the transaction of the entry, so a form sent twice, however
// close together, posts once; the second answers EConflict. Keys are kept
// for onceTTL. An empty key is Credit.
func (s *Store) CreditOnce(key, accountType, name string, amount rating.Money, kind, note string) (rating.Entry, error) {
	if err := rating.ValidateCredit(amount, kind, note); err != nil {
		return rating.Entry{}, err
	}
	if err := CheckOnceKey(key); err != nil {
		return rating.Entry{}, err
	}
	acct, err := acctByte(accountType)
	if err != nil {
		return rating.Entry{}, err
	}
	var e rating.Entry
	err = s.update(func(tx *txn) error {
		if key != "" {
			if err := useOnce(tx, key); err != nil {
				return err
			}
		}
		id, err := accountID(tx.Tx, acct, name)
		if err != nil {
			return err
		}
		b := s.newBatch(tx)
		if e, err = b.book(acct, id, amount, kind, note); err != nil {
			return err
		}
		return b.flush()
	})
	return e, err
}

// onceTTL is how long a used key is remembered: a form is not sent twice
// a day apart by accident.
const onceTTL = 24 * time.Hour

// useOnce records key as used at tx.now, or answers EConflict when it was
// used already, and forgets a few keys older than onceTTL. The bucket
// holds "k"+key → the time, and "t"+time+key → nothing, by age.
func useOnce(tx *txn, key string) error {
	b, err := tx.CreateBucketIfNotExists(bucketOnce)
	if err != nil {
		return err
	}
	if b.Get(append([]byte("k"), key...)) != nil {
		return rating.Errorf(rating.EConflict, "this was sent before, with the same one-time key, and posted then: it was not posted again")
	}
	now := binary.BigEndian.AppendUint64(nil, uint64(tx.now.UnixNano()))
	if err := b.Put(append([]byte("k"), key...), now); err != nil {
		return err
	}
	if err := b.Put(append(append([]byte("t"), now...), key...), nil); err != nil {
		return err
	}
	cut := binary.BigEndian.AppendUint64([]byte("t"), uint64(tx.now.Add(-onceTTL).UnixNano()))
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.Seek([]byte("t")); k != nil && k[0] == 't' && string(k) < string(cut) && len(old) < 100; k, _ = c.Next() {
		old = append(old, k)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
		if err := b.Delete(append([]byte("k"), k[9:]...)); err != nil {
			return err
		}
	}
	return nil
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
			return nil, "", rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
		}
	}
	out, next := []rating.Entry{}, ""
	err = s.db.View(func(tx *bolt.Tx) error {
		id, err := accountID(tx, acct, name)
		if err != nil {
			return err
		}
		ab := tx.Bucket(bucketLedger).Bucket(ledgerName(acct, id))
		if ab == nil {
			return nil
		}
		c := ab.Cursor()
		var k, v []byte
		if k, _ = c.Seek(itob(start)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			rec, err := decodeEntry(acct, id, k, v)
			if err != nil {
				return err
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
	if ab := tx.Bucket(bucketLedger).Bucket(ledgerName(acct, id)); ab != nil {
		if k, _ := ab.Cursor().First(); k != nil {
			return true
		}
	}
	prefix := rollupKey(acct, id, 0)[:9]
	k, _ := tx.Bucket(bucketRollups).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// ledgerName is the name of an account's ledger bucket: type | account id.
// Each account's entries sit in a bucket of their own, keyed by entry id,
// so that posting to many accounts in one transaction only ever appends.
func ledgerName(acct byte, id uint64) []byte { return ledgerKey(acct, id, 0)[:9] }

// accountLedger returns an account's ledger bucket, creating it.
func accountLedger(tx *bolt.Tx, acct byte, id uint64) (*bolt.Bucket, error) {
	b, err := tx.Bucket(bucketLedger).CreateBucketIfNotExists(ledgerName(acct, id))
	if err != nil {
		return nil, err
	}
	b.FillPercent = 1 // append only
	return b, nil
}

// putEntry appends a ledger entry to the account's bucket ab
// under an id from the ledger's one sequence, so ids and times
// rise together. The value is binary: CDR intake writes millions.
func putEntry(tx *bolt.Tx, ab *bolt.Bucket, a *arena, acct byte, id uint64, at time.Time, amount rating.Money, kind, ref string, balance rating.Money) (entryRecord, error) {
	eid, err := nextID(tx.Bucket(bucketLedger))
	if err != nil {
		return entryRecord{}, err
	}
	rec := entryRecord{ID: eid, AccountType: acctName(acct), AccountID: id, Time: at,
		Amount: amount, Kind: kind, Ref: ref, Balance: balance}
	v := a.take(binary.MaxVarintLen64 + 2*maxMoneyLen + 1 + len(kind) + len(ref))
	v = binary.AppendVarint(v, at.UnixNano())
	v = appendMoney(v, amount)
	v = appendMoney(v, balance)
	v = append(v, byte(len(kind)))
	v = append(v, kind...)
	v = append(v, ref...)
	return rec, ab.Put(a.u64(eid), v)
}

// decodeEntry reads an entry written by putEntry.
func decodeEntry(acct byte, id uint64, k, v []byte) (entryRecord, error) {
	bad := fmt.Errorf("ledger entry %x of %s %d: corrupt", k, acctName(acct), id)
	if len(k) != 8 {
		return entryRecord{}, bad
	}
	rec := entryRecord{AccountType: acctName(acct), AccountID: id, ID: btoi(k)}
	at, n := binary.Varint(v)
	if n <= 0 {
		return rec, bad
	}
	v = v[n:]
	for _, m := range [...]*rating.Money{&rec.Amount, &rec.Balance} {
		if *m, n = readMoney(v); n <= 0 {
			return rec, bad
		}
		v = v[n:]
	}
	if len(v) < 1 || int(v[0]) > len(v)-1 {
		return rec, bad
	}
	rec.Time = time.Unix(0, at).UTC()
	rec.Kind, rec.Ref = string(v[1:1+v[0]]), string(v[1+v[0]:])
	return rec, nil
}
