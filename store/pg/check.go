package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Check verifies the books in one snapshot, as the bbolt store's Check
// does, with its messages: every ledger entry's balance follows from the
// ones before it, every account's balance equals its ledger sum, every
// account's CDR charges and corrections equal the prices of its CDRs, and
// every roll-up equals the sum of its day's CDRs, and every tenant's held
// total (hold_totals, which authorizations read) equals its holds. It
// returns an error
// naming up to 20 mismatches. The database sums, so that a large ledger
// is not read over the wire. The bbolt store's checks of its pages and of
// its idempotency and unrated indexes have no counterpart: PostgreSQL
// keeps a unique key and a partial index itself.
func (s *Store) Check() error {
	ctx := context.Background()
	var problems []string
	bad := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	err := s.read(ctx, func(tx pgx.Tx) error {
		problems = nil
		var id int64
		var name string
		var a, b rating.Money
		rows, err := tx.Query(ctx, `SELECT id, balance, run FROM (SELECT id, balance,
				sum(amount) OVER (PARTITION BY account_type, account_id ORDER BY id) AS run FROM ledger) x
			WHERE balance <> run ORDER BY id LIMIT 20`)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&id, scanMoney(&a), scanMoney(&b)}, func() error {
			bad("ledger entry %d: balance %s, but the entries before it sum to %s", id, a, b)
			return nil
		}); err != nil {
			return err
		}
		for _, acct := range []string{"tenant", "provider"} {
			rows, err := tx.Query(ctx, `SELECT a.name, a.balance, coalesce(l.sum, 0) FROM `+acct+`s a
				LEFT JOIN (SELECT account_id, sum(amount) FROM ledger WHERE account_type = $1::text::"char" GROUP BY account_id) l
					ON l.account_id = a.id
				WHERE a.balance <> coalesce(l.sum, 0) ORDER BY a.name COLLATE "C" LIMIT 20`, acct[:1])
			if err != nil {
				return err
			}
			if _, err := pgx.ForEachRow(rows, []any{&name, scanMoney(&a), scanMoney(&b)}, func() error {
				bad("%s %q: balance %s, ledger sum %s", acct, name, a, b)
				return nil
			}); err != nil {
				return err
			}
		}
		if err := checkCharges(ctx, tx, bad); err != nil {
			return err
		}
		if err := checkHoldTotals(ctx, tx, bad); err != nil {
			return err
		}
		return checkRollups(ctx, tx, s.tz, bad)
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return errors.New("the books do not balance:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// checkCharges compares each account's CDR charges and corrections with
// the prices of its CDRs.
func checkCharges(ctx context.Context, tx pgx.Tx, bad func(string, ...any)) error {
	type acctID struct {
		acct string
		id   int64
	}
	sums := func(q string) (map[acctID]rating.Money, error) {
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		out := map[acctID]rating.Money{}
		var k acctID
		var m rating.Money
		_, err = pgx.ForEachRow(rows, []any{&k.acct, &k.id, scanMoney(&m)}, func() error { out[k] = m; return nil })
		return out, err
	}
	charged, err := sums(`SELECT account_type::text, account_id, sum(amount) FROM ledger
		WHERE kind IN ('` + rating.Charge + `', '` + rating.Correction + `') GROUP BY account_type, account_id`)
	if err != nil {
		return err
	}
	priced, err := sums(`SELECT 't', tenant_id, -sum(coalesce(cost, 0)) FROM cdrs WHERE tenant_id IS NOT NULL GROUP BY tenant_id
		UNION ALL SELECT 'p', provider_id, -sum(coalesce(provider_cost, 0)) FROM cdrs WHERE provider_id IS NOT NULL GROUP BY provider_id`)
	if err != nil {
		return err
	}
	for k, p := range priced {
		if got := charged[k]; got != p {
			bad("%s %d: CDR charges and corrections sum to %s, the CDR prices to %s", acctName(k.acct[0]), k.id, got, p)
		}
	}
	for k, got := range charged {
		if _, ok := priced[k]; !ok && got.Sign() != 0 {
			bad("%s %d: CDR charges of %s without CDRs", acctName(k.acct[0]), k.id, got)
		}
	}
	return nil
}

// checkRollups compares every roll-up with the sums of its day's CDRs,
// days of the installation's zone tz.
func checkRollups(ctx context.Context, tx pgx.Tx, tz string, bad func(string, ...any)) error {
	rows, err := tx.Query(ctx, `WITH want AS (
			SELECT 't' AS acct, tenant_id AS id, (start AT TIME ZONE $1)::date AS day, count(*) AS attempts,
				count(*) FILTER (WHERE duration > 0) AS answered, sum(duration) AS seconds, sum(billed) AS billed,
				sum(coalesce(cost, 0)) AS sell, sum(coalesce(provider_cost, 0)) AS buy
			FROM cdrs WHERE tenant_id IS NOT NULL GROUP BY 2, 3
			UNION ALL
			SELECT 'p', provider_id, (start AT TIME ZONE $1)::date, count(*), count(*) FILTER (WHERE duration > 0),
				sum(duration), sum(billed), sum(coalesce(cost, 0)), sum(coalesce(provider_cost, 0))
			FROM cdrs WHERE provider_id IS NOT NULL GROUP BY 2, 3)
		SELECT coalesce(w.acct, r.account_type::text), coalesce(w.id, r.account_id), coalesce(w.day, r.day), r.day IS NOT NULL,
			coalesce(r.attempts, 0), coalesce(r.answered, 0), coalesce(r.seconds, 0), coalesce(r.billed, 0), coalesce(r.sell, 0), coalesce(r.buy, 0),
			coalesce(w.attempts, 0), coalesce(w.answered, 0), coalesce(w.seconds, 0), coalesce(w.billed, 0), coalesce(w.sell, 0), coalesce(w.buy, 0)
		FROM rollups r FULL JOIN want w ON w.acct = r.account_type::text AND w.id = r.account_id AND w.day = r.day
		WHERE (coalesce(r.attempts, 0), coalesce(r.answered, 0), coalesce(r.seconds, 0), coalesce(r.billed, 0), coalesce(r.sell, 0), coalesce(r.buy, 0))
			<> (coalesce(w.attempts, 0), coalesce(w.answered, 0), coalesce(w.seconds, 0), coalesce(w.billed, 0), coalesce(w.sell, 0), coalesce(w.buy, 0))
		ORDER BY 1, 2, 3 LIMIT 20`, tz)
	if err != nil {
		return err
	}
	var acct string
	var id int64
	var day time.Time
	var stored bool
	var got, want rating.Usage
	_, err = pgx.ForEachRow(rows, append(append([]any{&acct, &id, &day, &stored}, usageDest(&got)...), usageDest(&want)...), func() error {
		if stored {
			bad("roll-up %s %d day %s: stored %+v, CDRs sum to %+v", acctName(acct[0]), id, day.Format("20060102"), got, want)
		} else {
			bad("roll-up %s %d day %s: missing, CDRs sum to %+v", acctName(acct[0]), id, day.Format("20060102"), want)
		}
		return nil
	})
	return err
}

// checkHoldTotals compares each tenant's held total, kept by triggers for
// the authorizations to read, with the sum and count of its holds.
func checkHoldTotals(ctx context.Context, tx pgx.Tx, bad func(string, ...any)) error {
	rows, err := tx.Query(ctx, `SELECT coalesce(t.tenant_id, h.tenant_id), coalesce(t.held, 0), coalesce(t.calls, 0),
			coalesce(h.held, 0), coalesce(h.calls, 0)
		FROM hold_totals t FULL JOIN (SELECT tenant_id, sum(amount) AS held, count(*) AS calls FROM holds GROUP BY tenant_id) h
			ON h.tenant_id = t.tenant_id
		WHERE (coalesce(t.held, 0), coalesce(t.calls, 0)) <> (coalesce(h.held, 0), coalesce(h.calls, 0))
		ORDER BY 1 LIMIT 20`)
	if err != nil {
		return err
	}
	var id, calls, n int64
	var held, sum rating.Money
	_, err = pgx.ForEachRow(rows, []any{&id, scanMoney(&held), &calls, scanMoney(&sum), &n}, func() error {
		bad("tenant %d: holds total %s in %d calls, its holds %s in %d", id, held, calls, sum, n)
		return nil
	})
	return err
}
