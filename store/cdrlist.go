package store

import (
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// CDRFilter selects stored CDRs. Zero fields select everything; From and
// To bound the start time (From ≤ start < To).
type CDRFilter struct {
	Tenant   string // name
	Provider string // name
	Status   string // rated or unrated
	From, To time.Time
}

// matcher is a filter resolved against one transaction: names to ids.
type matcher struct {
	tenant, provider uint64
	status           byte
	from, to         int64
}

func (f *CDRFilter) matcher(tx *bolt.Tx) (matcher, error) {
	m := matcher{from: -1 << 63, to: 1<<63 - 1}
	if f.Tenant != "" {
		rec, err := getTenant(tx, f.Tenant)
		if err != nil {
			return m, err
		}
		m.tenant = rec.ID
	}
	if f.Provider != "" {
		rec, err := getProvider(tx, f.Provider)
		if err != nil {
			return m, err
		}
		m.provider = rec.ID
	}
	switch f.Status {
	case "":
	case rating.Rated:
		m.status = statusRated
	case rating.Unrated:
		m.status = statusUnrated
	default:
		return m, rating.Invalidf("status", "status %q: want rated or unrated", f.Status)
	}
	if !f.From.IsZero() {
		m.from = f.From.UnixNano()
	}
	if !f.To.IsZero() {
		m.to = f.To.UnixNano()
	}
	return m, nil
}

// match tests the fixed head of a stored record, without decoding it.
func (m *matcher) match(v []byte) bool {
	start, tenant, provider, status := headOf(v)
	return start >= m.from && start < m.to &&
		(m.tenant == 0 || m.tenant == tenant) && (m.provider == 0 || m.provider == provider) &&
		(m.status == 0 || m.status == status)
}

// CDRs lists CDRs matching f, newest first (by arrival), a page at a time.
// after is the cursor a previous page returned.
func (s *Store) CDRs(f CDRFilter, after string, limit int) ([]rating.CDR, string, error) {
	limit = pageLimit(limit)
	start := uint64(1<<64 - 1)
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", rating.Invalidf("after", "after %q: not a cursor this list returned", after)
		}
		start = v
	}
	out, next := []rating.CDR{}, ""
	err := s.eachCDR(f, start, func(seq uint64, c *rating.CDR) bool {
		if len(out) == limit {
			next = strconv.FormatUint(seq+1, 10)
			return false
		}
		out = append(out, *c)
		return true
	})
	return out, next, err
}

// EachCDR calls fn for every CDR matching f, newest first, in one read
// transaction.
func (s *Store) EachCDR(f CDRFilter, fn func(*rating.CDR) error) error {
	var ferr error
	err := s.eachCDR(f, 1<<64-1, func(_ uint64, c *rating.CDR) bool {
		ferr = fn(c)
		return ferr == nil
	})
	if ferr != nil {
		return ferr
	}
	return err
}

// eachCDR walks CDRs with sequence below before, newest first, resolving
// tenant and provider names, until fn returns false.
func (s *Store) eachCDR(f CDRFilter, before uint64, fn func(seq uint64, c *rating.CDR) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		m, err := f.matcher(tx)
		if err != nil {
			return err
		}
		names := map[[2]uint64]string{}
		name := func(acct byte, id uint64) string {
			k := [2]uint64{uint64(acct), id}
			if n, ok := names[k]; ok {
				return n
			}
			var n string
			if acct == tenantAcct {
				if r, err := getTenantByID(tx, id); err == nil {
					n = r.Name
				}
			} else if r, err := getProviderByID(tx, id); err == nil {
				n = r.Name
			}
			names[k] = n
			return n
		}
		c := tx.Bucket(bucketCDRs).Cursor()
		k, v := c.Seek(itob(before))
		if k == nil {
			k, v = c.Last()
		} else if btoi(k) >= before {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if !m.match(v) {
				continue
			}
			var rec cdrRecord
			if err := rec.decode(v); err != nil {
				return err
			}
			cdr := rec.cdr()
			if rec.TenantID != 0 {
				cdr.Tenant = name(tenantAcct, rec.TenantID)
			}
			if rec.ProviderID != 0 {
				cdr.Provider = name(providerAcct, rec.ProviderID)
			}
			if !fn(btoi(k), &cdr) {
				return nil
			}
		}
		return nil
	})
}
