package pg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// usageCols are a roll-up's figures in the order scanUsage reads them.
const usageCols = `attempts, answered, seconds, billed, sell, buy`

func usageDest(u *rating.Usage) []any {
	return []any{&u.Attempts, &u.Answered, &u.Seconds, &u.Billed, scanMoney(&u.Sell), scanMoney(&u.Buy)}
}

// TenantDashboard computes every tenant's figures from its balance and its
// daily roll-ups, never from CDRs, in one read: the JSON dashboard and the
// admin's page both show them. Today, this month, the 7 complete days
// before today and the rating.SparkDays days of Spend are days of the
// installation's zone. Calls in progress are the tenant's open holds.
func (s *Store) TenantDashboard() ([]rating.TenantFigures, error) {
	ctx := context.Background()
	now := s.now().In(s.loc)
	y, m, d := now.Date()
	date := func(d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) } // as dayOf gives it
	today, monthStart, weekStart := date(d), date(1), date(d-7)
	var spark [rating.SparkDays]time.Time // the days of Spend, in order
	for i := range spark {
		spark[i] = date(d - len(spark) + 1 + i)
	}
	from := monthStart
	for _, t := range []time.Time{weekStart, spark[0]} {
		if t.Before(from) {
			from = t
		}
	}
	out := []rating.TenantFigures{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY name COLLATE "C"`)
		if err != nil {
			return err
		}
		tenants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenantRow, error) { return scanTenant(r) })
		if err != nil {
			return err
		}
		type days struct {
			today, month rating.Usage
			week         rating.Money
			spend        []rating.Money
		}
		byID := map[int64]*days{}
		for _, t := range tenants {
			byID[t.ID] = &days{spend: make([]rating.Money, len(spark))}
		}
		rows, err = tx.Query(ctx, `SELECT account_id, day, `+usageCols+` FROM rollups
			WHERE account_type = 't' AND day BETWEEN $1 AND $2`, from, today)
		if err != nil {
			return err
		}
		var id int64
		var day time.Time
		var u rating.Usage
		if _, err := pgx.ForEachRow(rows, append([]any{&id, &day}, usageDest(&u)...), func() error {
			f := byID[id]
			if f == nil {
				return nil
			}
			if day.Equal(today) {
				f.today = u
			}
			if !day.Before(monthStart) {
				f.month.Add(u)
			}
			if !day.Before(weekStart) && day.Before(today) {
				f.week = f.week.Add(u.Sell)
			}
			if j := int(day.Sub(spark[0]) / (24 * time.Hour)); j >= 0 && j < len(spark) && spark[j].Equal(day) {
				f.spend[j] = u.Sell
			}
			return nil
		}); err != nil {
			return err
		}
		calls := map[int64]int{}
		rows, err = tx.Query(ctx, `SELECT tenant_id, count(*) FROM holds WHERE expires > $1 GROUP BY tenant_id`, now)
		if err != nil {
			return err
		}
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { calls[id] = n; return nil }); err != nil {
			return err
		}
		for i := range tenants {
			t := &tenants[i]
			d := byID[t.ID]
			f := rating.NewTenantFigures(&t.Tenant, d.today, d.month, d.week)
			f.Spend, f.CallsInProgress = d.spend, calls[t.ID]
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// ProviderDashboard sums every provider's roll-ups over the inclusive days
// from..to (dates in the installation's zone; only their date counts),
// with a totals row.
func (s *Store) ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error) {
	ctx := context.Background()
	f, t := dayOf(from, s.loc), dayOf(to, s.loc)
	out := []rating.ProviderFigures{}
	var all rating.Usage
	var balance rating.Money
	err := s.read(ctx, func(tx pgx.Tx) error {
		out, all, balance = out[:0], rating.Usage{}, rating.Money{}
		rows, err := tx.Query(ctx, `SELECT p.name, p.balance, coalesce(r.attempts, 0), coalesce(r.answered, 0), coalesce(r.seconds, 0),
				coalesce(r.billed, 0), coalesce(r.sell, 0), coalesce(r.buy, 0)
			FROM providers p LEFT JOIN (SELECT account_id, sum(attempts) AS attempts, sum(answered) AS answered, sum(seconds) AS seconds,
					sum(billed) AS billed, sum(sell) AS sell, sum(buy) AS buy
				FROM rollups WHERE account_type = 'p' AND day BETWEEN $1 AND $2 GROUP BY account_id) r ON r.account_id = p.id
			ORDER BY p.name COLLATE "C"`, f, t)
		if err != nil {
			return err
		}
		var name string
		var bal rating.Money
		var u rating.Usage
		_, err = pgx.ForEachRow(rows, append([]any{&name, scanMoney(&bal)}, usageDest(&u)...), func() error {
			all.Add(u)
			balance = balance.Add(bal)
			out = append(out, rating.NewProviderFigures(name, bal, u))
			return nil
		})
		return err
	})
	return out, rating.NewProviderFigures("", balance, all), err
}

// DailyUsage returns an account's roll-ups for each day from..to
// inclusive, days without CDRs included, for charts.
func (s *Store) DailyUsage(accountType, name string, from, to time.Time) ([]rating.DayUsage, error) {
	ctx := context.Background()
	var acct byte
	switch accountType {
	case rating.TenantAccount:
		acct = tenantAcct
	case rating.ProviderAccount:
		acct = providerAcct
	default:
		return nil, rating.Errorf(rating.EInvalid, "account type %s: want tenant or provider", rating.Excerpt(accountType))
	}
	f, t := dayOf(from, s.loc), dayOf(to, s.loc)
	if f.After(t) {
		return nil, rating.Invalidf("from", "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	byDay := map[time.Time]rating.Usage{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		id, err := idByName(ctx, tx, acct, name)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT day, `+usageCols+` FROM rollups WHERE account_type = $1::text::"char" AND account_id = $2 AND day BETWEEN $3 AND $4`,
			string(acct), id, f, t)
		if err != nil {
			return err
		}
		var day time.Time
		var u rating.Usage
		_, err = pgx.ForEachRow(rows, append([]any{&day}, usageDest(&u)...), func() error { byDay[day] = u; return nil })
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []rating.DayUsage
	for d := f; !d.After(t) && len(out) <= 366; d = d.AddDate(0, 0, 1) {
		out = append(out, rating.DayUsage{Day: rating.DayStart(d.Year(), d.Month(), d.Day(), s.loc), Usage: byDay[d]})
	}
	return out, nil
}
