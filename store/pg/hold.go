package pg

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Holds (DOMAIN.md "Holding credit for calls in progress") live in the
// holds table only: the database is the truth that every node shares, and
// no node keeps a copy to get wrong. An authorization that opens a hold
// locks its tenant's row, reads the tenant's open holds and spend today
// after the lock is taken, decides, and inserts its hold before the
// commit releases the lock: two nodes never see the same free credit
// (authorize.go, which batches them).
//
// A hold is open until its expiry (rating.Hold.Open); an expired hold
// sets nothing aside from that instant, whether or not ExpireHolds has
// moved it to holds_expired yet. Triggers keep each tenant's holds summed
// in hold_totals (0005_holds.sql), so the open ones are read as the
// totals less the few expired ones not moved yet, in time that does not
// grow with the tenant's calls in progress.

// maxExpired bounds the expired holds kept for the admin to see, as the
// bbolt store does.
const maxExpired = 1000

// holdState counts what became of the holds this node handled since it
// started (HoldStats). It also batches this node's authorizations, and
// names its claims on the outbox (outbox.go).
type holdState struct {
	opened, byCDR, byHand, expired atomic.Uint64
	claims                         claimer
	// calls and reads combine the authorizations with and without a
	// call id into batches (authorize.go).
	calls, reads combiner
}

// holdCols are a hold row's columns in the order scanHold reads them.
const holdCols = `tenant, node, call, amount, max_duration, opened, expires`

func scanHold(row pgx.Row) (rating.Hold, error) {
	var h rating.Hold
	err := row.Scan(&h.Tenant, &h.Node, &h.Call, scanMoney(&h.Amount), &h.MaxDuration, &h.Opened, &h.Expires)
	h.Opened, h.Expires = h.Opened.UTC(), h.Expires.UTC()
	return h, err
}

func collectHolds(rows pgx.Rows) ([]rating.Hold, error) {
	out := []rating.Hold{}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// commitmentsSQL reads a tenant's spend today ($2: the day) and the sum
// and number of its holds open at $3: its totals less its holds expired
// and not yet moved away. A WHERE clause on t follows.
const commitmentsSQL = `SELECT coalesce((SELECT sell FROM rollups WHERE account_type = 't' AND account_id = t.id AND day = $2), 0),
	` + openHeld + `
	FROM tenants t LEFT JOIN hold_totals ht ON ht.tenant_id = t.id
	LEFT JOIN LATERAL (SELECT sum(amount) AS held, count(*) AS calls FROM holds
		WHERE tenant_id = t.id AND expires <= $3) x ON true`

// openHeld are the open holds' sum and number from hold_totals ht and
// the expired holds' x.
const openHeld = `coalesce(ht.held, 0) - coalesce(x.held, 0), coalesce(ht.calls, 0) - coalesce(x.calls, 0)`

func scanCommitments(row pgx.Row, c *rating.Commitments) error {
	return row.Scan(scanMoney(&c.SpentToday), scanMoney(&c.Held), &c.Calls)
}

// Commitments is what the tenant named name has committed now: its open
// holds and its spend today. The tenant pages show it, with the free
// credit it leaves.
func (s *Store) Commitments(name string) (rating.Commitments, error) {
	now := s.now()
	var com rating.Commitments
	err := scanCommitments(s.pool.QueryRow(context.Background(), commitmentsSQL+` WHERE t.name = $1`, name, dayOf(now, s.loc), now), &com)
	if errors.Is(err, pgx.ErrNoRows) {
		return com, rating.Errorf(rating.ENotFound, "no tenant has the name %s", rating.Excerpt(name))
	}
	return com, dbError(err)
}

// AllCommitments is every tenant's commitments now, by name, in one
// statement: what a list of tenants shows.
func (s *Store) AllCommitments() (map[string]rating.Commitments, error) {
	now := s.now()
	rows, err := s.pool.Query(context.Background(), `SELECT t.name, coalesce(r.sell, 0), `+openHeld+`
		FROM tenants t
		LEFT JOIN rollups r ON r.account_type = 't' AND r.account_id = t.id AND r.day = $1
		LEFT JOIN hold_totals ht ON ht.tenant_id = t.id
		LEFT JOIN (SELECT tenant_id, sum(amount) AS held, count(*) AS calls FROM holds WHERE expires <= $2 GROUP BY tenant_id) x
			ON x.tenant_id = t.id`, dayOf(now, s.loc), now)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	out := map[string]rating.Commitments{}
	for rows.Next() {
		var name string
		var c rating.Commitments
		if err := rows.Scan(&name, scanMoney(&c.SpentToday), scanMoney(&c.Held), &c.Calls); err != nil {
			return nil, dbError(err)
		}
		out[name] = c
	}
	return out, dbError(rows.Err())
}

// tenantID is the id of the tenant named name, 0 for "", ENotFound for no
// such tenant.
func (s *Store) tenantID(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM tenants WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, rating.Errorf(rating.ENotFound, "tenant %s not found", rating.Excerpt(name))
	}
	return id, dbError(err)
}

// Holds lists the holds open now, oldest first; tenant "" lists every
// tenant's. A tenant is matched by its id, so a renamed tenant keeps its
// holds; they show the name they were opened under.
func (s *Store) Holds(tenant string) ([]rating.Hold, error) {
	ctx := context.Background()
	id, err := s.tenantID(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+holdCols+` FROM holds WHERE expires > $1 AND ($2 = 0 OR tenant_id = $2)
		ORDER BY opened, call`, s.now(), id)
	if err != nil {
		return nil, dbError(err)
	}
	out, err := collectHolds(rows)
	return out, dbError(err)
}

// ExpiredHolds lists up to limit of the holds that expired without a CDR,
// newest first: each is a PBX that did not send one in time.
func (s *Store) ExpiredHolds(tenant string, limit int) ([]rating.Hold, error) {
	ctx := context.Background()
	id, err := s.tenantID(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return []rating.Hold{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+holdCols+` FROM holds_expired WHERE $1 = 0 OR tenant_id = $1
		ORDER BY seq DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, dbError(err)
	}
	out, err := collectHolds(rows)
	return out, dbError(err)
}

// ReleaseHold releases the open hold of (node, call) without a CDR: the
// call never connected. It is ENotFound when none is open.
func (s *Store) ReleaseHold(node, call string) error {
	err := s.write(context.Background(), func(tx *txn) error {
		tag, err := tx.Exec(context.Background(), `DELETE FROM holds WHERE node = $1 AND call = $2 AND expires > $3`, node, call, tx.now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return rating.Errorf(rating.ENotFound, "no hold is open for call %s", rating.Excerpt(call))
		}
		return nil
	})
	if err == nil {
		s.holds.byHand.Add(1)
	}
	return err
}

// HoldStats counts the holds this node opened, released and expired since
// it started.
func (s *Store) HoldStats() rating.HoldStats {
	h := &s.holds
	return rating.HoldStats{Opened: h.opened.Load(), ReleasedByCDR: h.byCDR.Load(),
		ReleasedByHand: h.byHand.Load(), Expired: h.expired.Load()}
}

// releaseByCDR releases, in the transaction that bills them, the holds of
// the calls whose CDRs tx stores: ids are the CDR ids posted by node. A
// hold past its expiry that ExpireHolds has not moved yet goes too: the
// call is over. They are counted once tx commits: a group of CDR posts
// that fails and is tried again post by post counts each release once.
func (s *Store) releaseByCDR(ctx context.Context, tx *txn, node string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `DELETE FROM holds WHERE node = $1 AND call = ANY($2)`, node, ids)
	if err != nil {
		return err
	}
	if n := uint64(tag.RowsAffected()); n > 0 {
		tx.onCommit(func() { s.holds.byCDR.Add(n) })
	}
	return nil
}

// ExpireHolds moves the holds expired by now from holds to holds_expired,
// keeping the last maxExpired, with a hold.expired event each: the PBX
// may not be sending CDRs. Several nodes may sweep at once: the DELETE
// takes each hold once, and a node that finds it gone skips it. Open does
// not run it; the server runs it every few seconds. It answers the holds
// it took off, for the log.
func (s *Store) ExpireHolds() ([]rating.Hold, error) {
	ctx := context.Background()
	var gone []rating.Hold
	err := s.write(ctx, func(tx *txn) error {
		gone = nil
		rows, err := tx.Query(ctx, `WITH d AS (DELETE FROM holds WHERE expires <= $1 RETURNING *),
			x AS (INSERT INTO holds_expired (node, call, tenant_id, tenant, amount, max_duration, opened, expires)
				SELECT node, call, tenant_id, tenant, amount, max_duration, opened, expires FROM d
				ORDER BY expires, opened, node, call
				RETURNING `+holdCols+`, seq)
			SELECT `+holdCols+` FROM x ORDER BY seq`, tx.now)
		if err != nil {
			return err
		}
		if gone, err = collectHolds(rows); err != nil || len(gone) == 0 {
			gone = nil
			return err
		}
		for _, h := range gone {
			if _, err := queueEvent(ctx, tx, rating.EventHoldExpired, h); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM holds_expired WHERE seq <= (SELECT seq FROM holds_expired ORDER BY seq DESC OFFSET $1 LIMIT 1)`, maxExpired)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.holds.expired.Add(uint64(len(gone)))
	return gone, nil
}
