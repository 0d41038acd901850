package store

import (
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Check verifies the books in one read transaction: every ledger entry's
// balance follows from the one before, every account's balance equals its
// ledger sum, every account's CDR charges and corrections equal the prices
// of its rated CDRs, every roll-up equals the sum of its day's CDRs, and
// the idempotency and unrated indexes match the CDRs. It returns an error
// naming up to 20 mismatches. First, bbolt checks the file's pages: a
// damaged file is reported as such, and its books are not read.
func (s *Store) Check() error {
	if err := safely(s.checkPages); err != nil {
		return err
	}
	return safely(s.checkBooks)
}

// checkPages runs bbolt's own check of the file's pages. It reads the
// free list, which a commit changes: a write transaction, rolled back,
// keeps commits out meanwhile. A read-only store has none to keep out.
func (s *Store) checkPages() error {
	tx, err := s.db.Begin(!s.db.IsReadOnly())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var problems []string
	for err := range tx.Check() {
		if len(problems) < 20 {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New("the file is damaged:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// checkBooks is Check once the pages are sound.
func (s *Store) checkBooks() error {
	var problems []string
	bad := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	type acctID struct {
		acct byte
		id   uint64
	}
	want := map[rollupID]rating.Usage{} // roll-ups as the CDRs sum them
	err := s.db.View(func(tx *bolt.Tx) error {
		sums := map[acctID]rating.Money{}    // the whole ledger
		cdrSums := map[acctID]rating.Money{} // charges and corrections
		err := tx.Bucket(bucketLedger).ForEachBucket(func(name []byte) error {
			acct, id := name[0], btoi(name[1:])
			return tx.Bucket(bucketLedger).Bucket(name).ForEach(func(k, v []byte) error {
				e, err := decodeEntry(acct, id, k, v)
				if err != nil {
					return err
				}
				key := acctID{acct, id}
				sums[key] = sums[key].Add(e.Amount)
				if sums[key] != e.Balance {
					bad("ledger entry %d: balance %s, but the entries before it sum to %s", e.ID, e.Balance, sums[key])
				}
				if e.Kind == rating.Charge || e.Kind == rating.Correction {
					cdrSums[key] = cdrSums[key].Add(e.Amount)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		if err := eachTenant(tx, func(t *tenantRecord) error {
			if got := sums[acctID{tenantAcct, t.ID}]; got != t.Balance {
				bad("tenant %q: balance %s, ledger sum %s", t.Name, t.Balance, got)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := eachProvider(tx, func(p *providerRecord) error {
			if got := sums[acctID{providerAcct, p.ID}]; got != p.Balance {
				bad("provider %q: balance %s, ledger sum %s", p.Name, p.Balance, got)
			}
			return nil
		}); err != nil {
			return err
		}

		priced := map[acctID]rating.Money{}
		nCDR := 0
		if err := tx.Bucket(bucketCDRs).ForEach(func(k, v []byte) error {
			nCDR++
			var r cdrRecord
			if err := r.decode(v); err != nil {
				return fmt.Errorf("cdr %d: %w", btoi(k), err)
			}
			if seq := tx.Bucket(bucketCDRKeys).Get(cdrKey(r.Node, r.ID)); seq == nil || btoi(seq) != btoi(k) {
				bad("cdr %q: its idempotency key does not point at it", r.ID)
			}
			if (tx.Bucket(bucketUnrated).Get(k) != nil) != (r.Status == statusUnrated) {
				bad("cdr %q: status %s disagrees with the unrated index", r.ID, statusName(r.Status))
			}
			u := rating.Usage{Attempts: 1, Seconds: int64(r.Duration), Billed: int64(r.Billed),
				Sell: r.Cost.OrZero(), Buy: r.ProviderCost.OrZero()}
			if r.Duration > 0 {
				u.Answered = 1
			}
			day := dayOf(r.Start, s.loc)
			if r.TenantID != 0 {
				add(want, rollupID{tenantAcct, r.TenantID, day}, u)
				priced[acctID{tenantAcct, r.TenantID}] = priced[acctID{tenantAcct, r.TenantID}].Sub(u.Sell)
			}
			if r.ProviderID != 0 {
				add(want, rollupID{providerAcct, r.ProviderID, day}, u)
				priced[acctID{providerAcct, r.ProviderID}] = priced[acctID{providerAcct, r.ProviderID}].Sub(u.Buy)
			}
			return nil
		}); err != nil {
			return err
		}
		if n := tx.Bucket(bucketCDRKeys).Stats().KeyN; n != nCDR {
			bad("%d idempotency keys for %d CDRs", n, nCDR)
		}
		for k, p := range priced {
			if got := cdrSums[k]; got != p {
				bad("%s %d: CDR charges and corrections sum to %s, the CDR prices to %s", acctName(k.acct), k.id, got, p)
			}
		}
		for k, got := range cdrSums {
			if _, ok := priced[k]; !ok && got.Sign() != 0 {
				bad("%s %d: CDR charges of %s without CDRs", acctName(k.acct), k.id, got)
			}
		}
		return tx.Bucket(bucketRollups).ForEach(func(k, v []byte) error {
			id := rollupID{k[0], btoi(k[1:9]), uint32(k[9])<<24 | uint32(k[10])<<16 | uint32(k[11])<<8 | uint32(k[12])}
			if got := decodeUsage(v); got != want[id] {
				bad("roll-up %s %d day %d: stored %+v, CDRs sum to %+v", acctName(id.acct), id.id, id.day, got, want[id])
			}
			delete(want, id)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for id, u := range want {
		bad("roll-up %s %d day %d: missing, CDRs sum to %+v", acctName(id.acct), id.id, id.day, u)
	}
	if len(problems) > 0 {
		return errors.New("the books do not balance:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

func add(m map[rollupID]rating.Usage, k rollupID, u rating.Usage) {
	cur := m[k]
	cur.Add(u)
	m[k] = cur
}
