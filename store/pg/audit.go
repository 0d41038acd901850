package pg

import (
	"context"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Audit lists the audit trail newest first, a page at a time; after is the
// cursor a previous page returned: the entries before it. The entries are
// written by an audited handle's changes (auditNote).
func (s *Store) Audit(after string, limit int) ([]rating.AuditEntry, string, error) {
	limit = pageLimit(limit)
	before, err := idCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, _ := s.pool.Query(context.Background(), `SELECT id, at, actor, action, object, summary FROM audit
		WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit+1)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.AuditEntry, error) {
		var e rating.AuditEntry
		var id int64
		err := row.Scan(&id, &e.Time, &e.Actor, &e.Action, &e.Object, &e.Summary)
		e.ID, e.Time = uint64(id), e.Time.UTC()
		return e, err
	})
	if err != nil {
		return nil, "", dbError(err)
	}
	next := ""
	if len(out) > limit {
		// The bbolt store's cursor: one past the first entry left out.
		next = strconv.FormatUint(out[limit].ID+1, 10)
		out = out[:limit]
	}
	if out == nil {
		out = []rating.AuditEntry{}
	}
	return out, next, nil
}

// idCursor parses a listing's after: the id the page starts below; none is
// the end. Ids are bigint, so a larger cursor is the end too.
func idCursor(after string) (int64, error) {
	if after == "" {
		return math.MaxInt64, nil
	}
	v, err := strconv.ParseUint(after, 10, 64)
	if err != nil {
		return 0, rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
	}
	return int64(min(v, math.MaxInt64)), nil
}
