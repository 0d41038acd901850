package pg

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Statement reads tenant's statement for month m (DOMAIN.md "Statements")
// in one snapshot: the opening balance is the balance after the last
// entry posted before the month, and the month's entries follow in
// posting order. The CDR behind a charge or a correction is the tenant's
// CDR of that id, under the empty node first, then under each node that
// exists by name, as the bbolt store finds it; a CDR of a revoked node is
// shown without kind or destination.
//
// An entry is dated when its transaction began (core.go's book), and
// transactions of one tenant commit in the order they take its row's
// lock: at a month's boundary, an entry of the month may follow by id an
// entry of the next one. The month's entries are those dated in it, and
// the opening balance is that of the last entry dated before it; both
// are read by the index of the ledger by account and date, so a
// statement costs its month, not the account's history.
func (s *Store) Statement(tenant string, m rating.Month) (rating.Statement, error) {
	ctx := context.Background()
	var st *rating.Statement
	err := s.read(ctx, func(tx pgx.Tx) error {
		tid, err := tenantIDByName(ctx, tx, tenant)
		if err != nil {
			return err
		}
		from, to := m.Start(s.loc), m.Next().Start(s.loc)
		opening := rating.Money{}
		err = tx.QueryRow(ctx, `SELECT balance FROM ledger WHERE account_type = 't' AND account_id = $1 AND at < $2
			ORDER BY at DESC, id DESC LIMIT 1`, tid, from).Scan(scanMoney(&opening))
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		st = rating.NewStatement(tenant, s.currency, m, s.loc, opening)
		rows, err := tx.Query(ctx, `SELECT id, at, amount, kind, ref, balance FROM ledger
			WHERE account_type = 't' AND account_id = $1 AND at >= $2 AND at < $3 ORDER BY id`, tid, from, to)
		if err != nil {
			return err
		}
		var entries []rating.Entry
		var refs []string
		for rows.Next() {
			e := rating.Entry{AccountType: rating.TenantAccount, Account: tenant}
			var id int64
			if err := rows.Scan(&id, &e.Time, scanMoney(&e.Amount), &e.Kind, &e.Ref, scanMoney(&e.Balance)); err != nil {
				rows.Close()
				return err
			}
			e.ID, e.Time = uint64(id), e.Time.UTC()
			entries = append(entries, e)
			if e.Kind == rating.Charge || e.Kind == rating.Correction {
				refs = append(refs, e.Ref)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		calls, err := statementCDRs(ctx, tx, tid, refs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			var call *rating.CDR
			dest := ""
			if e.Kind == rating.Charge || e.Kind == rating.Correction {
				if call = calls[e.Ref]; call != nil {
					dest = s.destination(call)
				}
			}
			st.Add(e, call, dest)
		}
		return nil
	})
	if err != nil {
		return rating.Statement{}, err
	}
	st.Finish()
	return *st, nil
}

// statementCDRs reads the tenant's CDRs behind the charges and
// corrections refs name, by id: of the empty node, or of the first node
// by name that still exists.
func statementCDRs(ctx context.Context, tx pgx.Tx, tenant int64, refs []string) (map[string]*rating.CDR, error) {
	out := map[string]*rating.CDR{}
	if len(refs) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (id) id, node, kind, number, start, billed, prefix, rate_table FROM cdrs
		WHERE tenant_id = $1 AND id = ANY($2) AND (node = '' OR node IN (SELECT name FROM nodes))
		ORDER BY id, node`, tenant, refs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c rating.CDR
		var kind int16
		if err := rows.Scan(&c.ID, &c.Node, &kind, &c.Number, &c.Start, &c.Billed, &c.Prefix, &c.RateTable); err != nil {
			return nil, err
		}
		c.Kind, c.Start = rating.Kind(kind), c.Start.UTC()
		out[c.ID] = &c
	}
	return out, rows.Err()
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
