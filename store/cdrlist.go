package store

import (
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// matcher is a filter resolved against one transaction: names to ids.
type matcher struct {
	tenant, provider uint64
	status           byte
	from, to         int64
	kind             rating.Kind // 0: any
	number           string      // a prefix of the stored number; "": any
}

// matcherOf resolves f against one transaction.
func matcherOf(f *rating.CDRFilter, tx *bolt.Tx) (matcher, error) {
	m := matcher{from: -1 << 63, to: 1<<63 - 1, kind: f.Kind, number: strings.TrimLeft(strings.TrimSpace(f.Number), "+")}
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

// match tests the fixed head of a stored record, and its kind, without
// decoding it; the number's prefix needs the record (matchNumber).
func (m *matcher) match(v []byte) bool {
	start, tenant, provider, status := headOf(v)
	return start >= m.from && start < m.to &&
		(m.tenant == 0 || m.tenant == tenant) && (m.provider == 0 || m.provider == provider) &&
		(m.status == 0 || m.status == status) && (m.kind == 0 || rating.Kind(v[cdrHead]) == m.kind)
}

// matchNumber tests the number's prefix of a record that match passed.
func (m *matcher) matchNumber(v []byte) (bool, error) {
	if m.number == "" {
		return true, nil
	}
	var rec cdrRecord
	if err := rec.decode(v); err != nil {
		return false, err
	}
	return strings.HasPrefix(rec.Number, m.number), nil
}

// CDRs lists CDRs matching f, newest start first, a page at a time. after
// is the cursor a previous page returned as the next (older) page.
func (s *Store) CDRs(f rating.CDRFilter, after string, limit int) ([]rating.CDR, string, error) {
	p, err := s.CDRPage(f, after, "", limit)
	return p.CDRs, p.Older, err
}

// CDRPage lists a page of CDRs matching f by call start, newest first:
// older than the cursor after, or with before the page newer than that
// cursor (both empty: the newest page). Its Older and Newer are the
// cursors of the pages on either side, "" at either end.
func (s *Store) CDRPage(f rating.CDRFilter, after, before string, limit int) (rating.CDRPage, error) {
	limit = pageLimit(limit)
	w := startWalk{older: true}
	var err error
	switch {
	case after != "" && before != "":
		return rating.CDRPage{}, rating.Invalidf("before", "before and after: give one cursor, not both")
	case after != "":
		w.pos, err = parseStartCursor("after", after)
	case before != "":
		w.pos, err = parseStartCursor("before", before)
		w.older = false
	}
	if err != nil {
		return rating.CDRPage{}, err
	}
	out := rating.CDRPage{CDRs: []rating.CDR{}}
	var keys [][]byte
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := w.resolve(tx, &f); err != nil {
			return err
		}
		// One more than the page tells whether there is a page beyond.
		_, err := w.walk(tx, 0, func(k []byte, c *rating.CDR) bool {
			if len(out.CDRs) == limit {
				keys = append(keys, nil) // the mark of a page beyond
				return false
			}
			out.CDRs, keys = append(out.CDRs, *c), append(keys, append([]byte(nil), k...))
			return true
		})
		return err
	})
	if err != nil {
		return rating.CDRPage{}, err
	}
	beyond := len(keys) > len(out.CDRs)
	keys = keys[:len(out.CDRs)]
	if !w.older { // walked towards newer starts: show newest first
		slices.Reverse(out.CDRs)
		slices.Reverse(keys)
	}
	if len(keys) > 0 {
		out.Link(startCursor(keys[0]), startCursor(keys[len(keys)-1]), w.older, beyond, after != "")
	}
	return out, nil
}

// EachCDR calls fn for every CDR matching f, newest start first. It reads
// the CDRs a page at a time, each page in a read transaction of its own,
// and calls fn between transactions, so that a slow fn (a client
// downloading an export) holds up no commit.
//
// The walk sees the CDRs that were stored when it began: it leaves out the
// sequence numbers above the highest it saw first. The tenant and provider
// of f are resolved once, at the first page, and each account keeps the
// name it had when the walk first met it. A CDR's other fields are as of
// the page that read it, so a re-rate that commits during the walk shows
// in the CDRs after the page it reached, and decides, for a status filter,
// whether they are selected. The CDR is reused between calls: fn must copy
// what it keeps. An error from fn stops the walk and is returned.
func (s *Store) EachCDR(f rating.CDRFilter, fn func(*rating.CDR) error) error {
	w := startWalk{older: true}
	page := make([]rating.CDR, 0, s.exportPage)
	for {
		more := false
		page = page[:0]
		err := s.db.View(func(tx *bolt.Tx) (err error) {
			if !w.resolved {
				if err := w.resolve(tx, &f); err != nil {
					return err
				}
				w.maxSeq = tx.Bucket(bucketCDRs).Sequence()
				if w.maxSeq == 0 {
					return nil // no CDR yet
				}
			}
			// A filter that selects few CDRs still ends its page after
			// a bounded scan.
			more, err = w.walk(tx, 16*s.exportPage, func(_ []byte, c *rating.CDR) bool {
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

// CDRTotals adds up the CDRs matching f: the count, the talk time, and
// what they cost the tenants and the carriers. It reads every matching
// CDR, in one read transaction.
func (s *Store) CDRTotals(f rating.CDRFilter) (rating.CDRTotals, error) {
	var t rating.CDRTotals
	w := startWalk{older: true}
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := w.resolve(tx, &f); err != nil {
			return err
		}
		_, err := w.walk(tx, 0, func(_ []byte, c *rating.CDR) bool {
			t.Add(c)
			return true
		})
		return err
	})
	return t, err
}

// cdrWalk is what a walk through the CDRs keeps from one transaction to
// the next: the filter it resolved and the names it has met.
type cdrWalk struct {
	m        matcher
	resolved bool
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

// CDR reads one CDR by its idempotency key: the node that posted it ("" for
// the bootstrap token, the admin and the follow mode) and its id.
func (s *Store) CDR(node, id string) (rating.CDR, error) {
	var out rating.CDR
	err := s.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketCDRKeys).Get(cdrKey(node, id))
		if seq == nil {
			return rating.Errorf(rating.ENotFound, "no CDR has id %s from node %s", rating.Excerpt(id), rating.Excerpt(node))
		}
		v := tx.Bucket(bucketCDRs).Get(seq)
		if v == nil {
			return fmt.Errorf("cdr %s: the key names sequence %d, which holds nothing", rating.Excerpt(id), btoi(seq))
		}
		w := cdrWalk{names: map[[2]uint64]string{}}
		c, _, err := w.decode(tx, v)
		out = c
		return err
	})
	return out, err
}
