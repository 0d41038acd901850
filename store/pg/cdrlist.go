package pg

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// cdrMatch is a filter resolved against one transaction: names to ids.
type cdrMatch struct {
	tenant, provider int64
	status           string // rated, unrated, "": any
	from, to         time.Time
	kind             rating.Kind // 0: any
	number           string      // a prefix of the stored number; "": any
}

// cdrMatchOf resolves f against one transaction, with the bbolt store's
// errors: an unknown tenant or provider name, a bad status.
func cdrMatchOf(ctx context.Context, tx pgx.Tx, f *rating.CDRFilter) (cdrMatch, error) {
	m := cdrMatch{kind: f.Kind, number: strings.TrimLeft(strings.TrimSpace(f.Number), "+")}
	var err error
	if f.Tenant != "" {
		if m.tenant, err = idByName(ctx, tx, tenantAcct, f.Tenant); err != nil {
			return m, err
		}
	}
	if f.Provider != "" {
		if m.provider, err = idByName(ctx, tx, providerAcct, f.Provider); err != nil {
			return m, err
		}
	}
	switch f.Status {
	case "", rating.Rated, rating.Unrated:
		m.status = f.Status
	default:
		return m, rating.Invalidf("status", "status %s: want rated or unrated", rating.Excerpt(f.Status))
	}
	// A bound of any year selects what it says: clamped to the range
	// every stored start lies in. Rounded up to the microsecond, the
	// precision of a stored start, it selects the same starts.
	if !f.From.IsZero() {
		m.from = ceilMicro(rating.ClampStart(f.From))
	}
	if !f.To.IsZero() {
		m.to = ceilMicro(rating.ClampStart(f.To))
	}
	return m, nil
}

// idByName finds a tenant's or a provider's id by its name only, as a
// filter or a report names it.
func idByName(ctx context.Context, tx pgx.Tx, acct byte, name string) (int64, error) {
	q := `SELECT id FROM tenants WHERE name = $1`
	if acct == providerAcct {
		q = `SELECT id FROM providers WHERE name = $1`
	}
	var id int64
	err := tx.QueryRow(ctx, q, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, rating.Errorf(rating.ENotFound, "%s %s not found", acctName(acct), rating.Excerpt(name))
	}
	return id, err
}

func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); u.Before(t) {
		return u.Add(time.Microsecond)
	}
	return t
}

// where is the filter as SQL on cdrs c, its arguments appended to args.
func (m *cdrMatch) where(args *[]any) string {
	conds := []string{"TRUE"}
	arg := func(cond string, v any) {
		*args = append(*args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(*args))))
	}
	if m.tenant != 0 {
		arg("c.tenant_id = ?", m.tenant)
	}
	if m.provider != 0 {
		arg("c.provider_id = ?", m.provider)
	}
	switch m.status {
	case rating.Rated:
		conds = append(conds, "c.rated")
	case rating.Unrated:
		conds = append(conds, "NOT c.rated")
	}
	if !m.from.IsZero() {
		arg("c.start >= ?", m.from)
	}
	if !m.to.IsZero() {
		arg("c.start < ?", m.to)
	}
	if m.kind != 0 {
		arg("c.kind = ?", int16(m.kind))
	}
	if m.number != "" {
		arg("starts_with(c.number, ?)", m.number)
	}
	return strings.Join(conds, " AND ")
}

// cdrCols are a stored CDR's columns, from cdrs c, in the order scanCDR
// reads them, then the names of its tenant and provider.
const cdrCols = `c.seq, c.node, c.id, coalesce(c.tenant_id, 0), coalesce(c.provider_id, 0), c.tenant_ref, c.provider_ref,
	c.kind, c.number, c.start, c.duration, c.rated, c.reason, c.billed, c.cost, c.provider_cost, c.prefix, c.rate_table, c.received`

// cdrFrom joins the accounts' names.
const cdrFrom = ` FROM cdrs c LEFT JOIN tenants t ON t.id = c.tenant_id LEFT JOIN providers p ON p.id = c.provider_id`

func scanCDR(row pgx.Row, r *cdrRow, names *[2]string) error {
	var kind int16
	var duration, billed int32
	dest := []any{&r.Seq, &r.Node, &r.ID, &r.TenantID, &r.ProviderID, &r.TenantRef, &r.ProviderRef,
		&kind, &r.Number, &r.Start, &duration, &r.Rated, &r.Reason, &billed, scanMoney(&r.Cost), scanMoney(&r.ProviderCost),
		&r.Prefix, &r.Table, &r.Received}
	if names != nil {
		dest = append(dest, &names[0], &names[1])
	}
	if err := row.Scan(dest...); err != nil {
		return err
	}
	r.Kind, r.Duration, r.Billed = rating.Kind(kind), int(duration), int(billed)
	r.Start, r.Received = r.Start.UTC(), r.Received.UTC()
	return nil
}

// listed is a stored CDR as a list shows it: the accounts' names where
// they were resolved, the references as posted where not.
func listed(r *cdrRow, names [2]string) rating.CDR {
	c := r.cdr()
	if r.TenantID != 0 {
		c.Tenant = names[0]
	}
	if r.ProviderID != 0 {
		c.Provider = names[1]
	}
	return c
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
	older := true
	var pos *cursorPos
	switch {
	case after != "" && before != "":
		return rating.CDRPage{}, rating.Invalidf("before", "before and after: give one cursor, not both")
	case after != "":
		p, err := parseStartCursor("after", after)
		if err != nil {
			return rating.CDRPage{}, err
		}
		pos = &p
	case before != "":
		p, err := parseStartCursor("before", before)
		if err != nil {
			return rating.CDRPage{}, err
		}
		pos, older = &p, false
	}
	out := rating.CDRPage{CDRs: []rating.CDR{}}
	var rows []cdrRow
	err := s.read(context.Background(), func(tx pgx.Tx) error {
		m, err := cdrMatchOf(context.Background(), tx, &f)
		if err != nil {
			return err
		}
		// One more than the page tells whether there is a page beyond.
		rows, out.CDRs, err = pageOf(tx, &m, pos, older, 0, limit+1, nil)
		return err
	})
	if err != nil {
		return rating.CDRPage{}, err
	}
	beyond := len(rows) > limit
	if beyond {
		rows, out.CDRs = rows[:limit], out.CDRs[:limit]
	}
	if !older { // walked towards newer starts: show newest first
		slices.Reverse(out.CDRs)
		slices.Reverse(rows)
	}
	if n := len(rows); n > 0 {
		out.Link(startCursor(rows[0].Start, rows[0].Seq), startCursor(rows[n-1].Start, rows[n-1].Seq), older, beyond, after != "")
	}
	return out, nil
}

// exportPage is how many CDRs EachCDR reads in one transaction.
const exportPage = 1000

// EachCDR calls fn for every CDR matching f, newest start first. It reads
// the CDRs a page at a time, each page in a read transaction of its own,
// and calls fn between transactions, so that a slow fn (a client
// downloading an export) holds up nothing.
//
// The walk sees the CDRs that were stored when it began: it leaves out the
// sequence numbers above the highest it saw first. The tenant and provider
// of f are resolved once, at the first page, and each account keeps the
// name it had when the walk first met it. A CDR's other fields are as of
// the page that read it. The CDR is reused between calls: fn must copy
// what it keeps. An error from fn stops the walk and is returned.
func (s *Store) EachCDR(f rating.CDRFilter, fn func(*rating.CDR) error) error {
	var m cdrMatch
	var maxSeq int64
	var pos *cursorPos
	names := map[[2]int64]string{}
	for first := true; ; first = false {
		var page []rating.CDR
		var rows []cdrRow
		err := s.read(context.Background(), func(tx pgx.Tx) (err error) {
			if first {
				if m, err = cdrMatchOf(context.Background(), tx, &f); err != nil {
					return err
				}
				if err := tx.QueryRow(context.Background(), `SELECT coalesce(max(seq), 0) FROM cdrs`).Scan(&maxSeq); err != nil {
					return err
				}
				if maxSeq == 0 {
					return nil // no CDR yet
				}
			}
			rows, page, err = pageOf(tx, &m, pos, true, maxSeq, exportPage, names)
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
		if len(rows) < exportPage {
			return nil
		}
		last := rows[len(rows)-1]
		pos = &cursorPos{start: last.Start, seq: last.Seq}
	}
}

// CDRTotals adds up the CDRs matching f: the count, the talk time, and
// what they cost the tenants and the carriers, in one read.
func (s *Store) CDRTotals(f rating.CDRFilter) (rating.CDRTotals, error) {
	var t rating.CDRTotals
	err := s.read(context.Background(), func(tx pgx.Tx) error {
		m, err := cdrMatchOf(context.Background(), tx, &f)
		if err != nil {
			return err
		}
		var args []any
		return tx.QueryRow(context.Background(), `SELECT count(*), coalesce(sum(c.duration), 0), coalesce(sum(c.billed), 0),
			coalesce(sum(c.cost), 0), coalesce(sum(c.provider_cost), 0) FROM cdrs c WHERE `+m.where(&args), args...).Scan(
			&t.Count, &t.Seconds, &t.Billed, scanMoney(&t.Cost), scanMoney(&t.ProviderCost))
	})
	return t, err
}

// CDR reads one CDR by its idempotency key: the node that posted it ("" for
// the bootstrap token, the admin and the follow mode) and its id.
func (s *Store) CDR(node, id string) (rating.CDR, error) {
	var out rating.CDR
	err := s.read(context.Background(), func(tx pgx.Tx) error {
		var r cdrRow
		var n [2]string
		err := scanCDR(tx.QueryRow(context.Background(), `SELECT `+cdrCols+`, coalesce(t.name, ''), coalesce(p.name, '')`+cdrFrom+
			` WHERE c.node = $1 AND c.id = $2`, node, id), &r, &n)
		if errors.Is(err, pgx.ErrNoRows) {
			return rating.Errorf(rating.ENotFound, "no CDR has id %s from node %s", rating.Excerpt(id), rating.Excerpt(node))
		}
		out = listed(&r, n)
		return err
	})
	return out, err
}
