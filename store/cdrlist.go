package store

import (
	"strconv"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// matcher is a filter resolved against one transaction: names to ids.
type matcher struct {
	tenant, provider uint64
	status           byte
	from, to         int64
}

// matcherOf resolves f against one transaction.
func matcherOf(f *rating.CDRFilter, tx *bolt.Tx) (matcher, error) {
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
		return m, rating.Invalidf("status", "status %s: want rated or unrated", rating.Excerpt(f.Status))
	}
	// A bound of any year selects what it says: clamped to the range
	// every stored start lies in, it converts without overflow.
	if !f.From.IsZero() {
		m.from = rating.ClampStart(f.From).UnixNano()
	}
	if !f.To.IsZero() {
		m.to = rating.ClampStart(f.To).UnixNano()
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
func (s *Store) CDRs(f rating.CDRFilter, after string, limit int) ([]rating.CDR, string, error) {
	limit = pageLimit(limit)
	w := cdrWalk{before: 1<<64 - 1}
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
		}
		w.before = v
	}
	out, next := []rating.CDR{}, ""
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := w.resolve(tx, &f); err != nil {
			return err
		}
		_, err := w.walk(tx, 0, func(seq uint64, c *rating.CDR) bool {
			if len(out) == limit {
				next = strconv.FormatUint(seq+1, 10)
				return false
			}
			out = append(out, *c)
			return true
		})
		return err
	})
	return out, next, err
}

// EachCDR calls fn for every CDR matching f, newest first. It reads the
// CDRs a page at a time, each page in a read transaction of its own, and
// calls fn between transactions, so that a slow fn (a client downloading
// an export) holds up no commit.
//
// The walk sees the CDRs that were stored when it began: later ones get
// higher sequence numbers, above where it started. The tenant and provider
// of f are resolved once, at the first page, and each account keeps the
// name it had when the walk first met it. A CDR's other fields are as of
// the page that read it, so a re-rate that commits during the walk shows
// in the CDRs after the page it reached, and decides, for a status filter,
// whether they are selected. The CDR is reused between calls: fn must copy
// what it keeps. An error from fn stops the walk and is returned.
func (s *Store) EachCDR(f rating.CDRFilter, fn func(*rating.CDR) error) error {
	w := cdrWalk{before: 1<<64 - 1}
	page := make([]rating.CDR, 0, s.exportPage)
	for {
		more := false
		page = page[:0]
		err := s.db.View(func(tx *bolt.Tx) (err error) {
			if err := w.resolve(tx, &f); err != nil {
				return err
			}
			// A filter that selects few CDRs still ends its page after
			// a bounded scan.
			more, err = w.walk(tx, 16*s.exportPage, func(_ uint64, c *rating.CDR) bool {
				page = append(page, *c)
				return len(page) < s.exportPage
			})
			return err
		})
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// cdrWalk is a walk through the CDRs, newest first, that can go on in a
// later transaction: where it stopped, the filter it resolved and the
// names it has met.
type cdrWalk struct {
	m        matcher
	resolved bool
	before   uint64 // the walk goes on with the CDRs below this sequence
	names    map[[2]uint64]string
}

// resolve resolves f's names to ids, once.
func (w *cdrWalk) resolve(tx *bolt.Tx, f *rating.CDRFilter) error {
	if w.resolved {
		return nil
	}
	m, err := matcherOf(f, tx)
	if err != nil {
		return err
	}
	w.m, w.resolved, w.names = m, true, map[[2]uint64]string{}
	return nil
}

// walk calls fn for the CDRs below w.before that match, resolving tenant
// and provider names, until fn returns false or, when limit > 0, limit
// CDRs have been looked at. w.before moves past every CDR looked at, the
// one fn stopped at included. more reports that the walk stopped before
// the oldest CDR.
func (w *cdrWalk) walk(tx *bolt.Tx, limit int, fn func(seq uint64, c *rating.CDR) bool) (more bool, err error) {
	c := tx.Bucket(bucketCDRs).Cursor()
	k, v := c.Seek(itob(w.before))
	if k == nil {
		k, v = c.Last()
	} else if btoi(k) >= w.before {
		k, v = c.Prev()
	}
	for n := 0; k != nil; k, v = c.Prev() {
		if limit > 0 && n == limit {
			return true, nil
		}
		n++
		seq := btoi(k)
		w.before = seq
		if !w.m.match(v) {
			continue
		}
		var rec cdrRecord
		if err := rec.decode(v); err != nil {
			return false, err
		}
		cdr := rec.cdr()
		if rec.TenantID != 0 {
			cdr.Tenant = w.name(tx, tenantAcct, rec.TenantID)
		}
		if rec.ProviderID != 0 {
			cdr.Provider = w.name(tx, providerAcct, rec.ProviderID)
		}
		if !fn(seq, &cdr) {
			return true, nil
		}
	}
	return false, nil
}

// name returns the name of a tenant or provider, as the walk first found
// it.
func (w *cdrWalk) name(tx *bolt.Tx, acct byte, id uint64) string {
	k := [2]uint64{uint64(acct), id}
	if n, ok := w.names[k]; ok {
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
	w.names[k] = n
	return n
}
