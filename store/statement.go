package store

import (
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Statement reads tenant's statement for month m (DOMAIN.md "Statements")
// in one read transaction: the opening balance is the balance after the
// last entry posted before the month, and the month's entries follow in
// posting order. The CDR behind a charge or a correction is found by its
// id under the empty node and each node that exists; a CDR of a revoked
// node is shown without kind or destination.
func (s *Store) Statement(tenant string, m rating.Month) (rating.Statement, error) {
	var st *rating.Statement
	err := s.db.View(func(tx *bolt.Tx) error {
		t, err := getTenant(tx, tenant)
		if err != nil {
			return err
		}
		from, to := m.Start(s.loc), m.Next().Start(s.loc)
		ab := tx.Bucket(bucketLedger).Bucket(ledgerName(tenantAcct, t.ID))
		if ab == nil {
			st = rating.NewStatement(t.Name, s.currency, m, s.loc, rating.Money{})
			return nil
		}
		c := ab.Cursor()
		k, v, err := seekTime(c, tenantAcct, t.ID, from)
		if err != nil {
			return err
		}
		opening := rating.Money{}
		if pk, pv := prevOf(c, k); pk != nil {
			rec, err := decodeEntry(tenantAcct, t.ID, pk, pv)
			if err != nil {
				return err
			}
			opening = rec.Balance
		}
		st = rating.NewStatement(t.Name, s.currency, m, s.loc, opening)
		nodes := []string{""}
		_ = tx.Bucket(bucketNodes).ForEach(func(k, _ []byte) error {
			nodes = append(nodes, string(k))
			return nil
		})
		c.Seek(k)
		for ; k != nil; k, v = c.Next() {
			rec, err := decodeEntry(tenantAcct, t.ID, k, v)
			if err != nil {
				return err
			}
			if !rec.Time.Before(to) {
				break
			}
			var call *rating.CDR
			dest := ""
			if rec.Kind == rating.Charge || rec.Kind == rating.Correction {
				if call = findCDR(tx, nodes, t.ID, rec.Ref); call != nil {
					dest = s.destination(call)
				}
			}
			st.Add(rec.entry(t.Name), call, dest)
		}
		return nil
	})
	if err != nil {
		return rating.Statement{}, err
	}
	st.Finish()
	return *st, nil
}

// seekTime positions c at the first entry posted at or after at, by a
// binary search over the entry ids: ids and times rise together, since
// the time is read in the transaction that takes the id. It returns that
// entry, or nil when there is none.
func seekTime(c *bolt.Cursor, acct byte, id uint64, at time.Time) ([]byte, []byte, error) {
	first, _ := c.First()
	last, _ := c.Last()
	if first == nil {
		return nil, nil, nil
	}
	lo, hi := btoi(first), btoi(last)+1
	var ferr error
	n := sort.Search(int(hi-lo), func(i int) bool {
		k, v := c.Seek(itob(lo + uint64(i)))
		if k == nil {
			return true
		}
		rec, err := decodeEntry(acct, id, k, v)
		if err != nil {
			ferr = err
			return true
		}
		return !rec.Time.Before(at)
	})
	if ferr != nil {
		return nil, nil, ferr
	}
	k, v := c.Seek(itob(lo + uint64(n)))
	return k, v, nil
}

// prevOf is the entry before k, or the last one when k is nil.
func prevOf(c *bolt.Cursor, k []byte) ([]byte, []byte) {
	if k == nil {
		return c.Last()
	}
	c.Seek(k)
	return c.Prev()
}

// findCDR reads the tenant's CDR whose id is ref, nil when none is found.
func findCDR(tx *bolt.Tx, nodes []string, tenant uint64, ref string) *rating.CDR {
	keys, cdrs := tx.Bucket(bucketCDRKeys), tx.Bucket(bucketCDRs)
	for _, n := range nodes {
		seq := keys.Get(cdrKey(n, ref))
		if seq == nil {
			continue
		}
		var rec cdrRecord
		if v := cdrs.Get(seq); v == nil || rec.decode(v) != nil || rec.TenantID != tenant {
			continue
		}
		c := rec.cdr()
		return &c
	}
	return nil
}

// destination names a call's destination: its rate row's, when the row
// that priced it still answers for its number, else its prefix.
func (s *Store) destination(c *rating.CDR) string {
	if c.RateTable != "" {
		if res := s.rater.ResolveIn(c.RateTable, c.Number, c.Start); res.Rated() && res.Rate.Prefix == c.Prefix && res.Rate.Destination != "" {
			return res.Rate.Destination
		}
	}
	return c.Prefix
}
