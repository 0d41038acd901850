package store

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// sumDays adds up an account's roll-ups for the days from..to inclusive
// (YYYYMMDD), calling fn for each stored day.
func sumDays(rb *bolt.Bucket, acct byte, id uint64, from, to uint32, fn func(day uint32, u rating.Usage)) {
	prefix := rollupKey(acct, id, 0)[:9]
	c := rb.Cursor()
	for k, v := c.Seek(rollupKey(acct, id, from)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		day := uint32(k[9])<<24 | uint32(k[10])<<16 | uint32(k[11])<<8 | uint32(k[12])
		if day > to {
			break
		}
		fn(day, decodeUsage(v))
	}
}

// TenantDashboard computes every tenant's figures from its balance and its
// daily roll-ups, never from CDRs, in one read: the JSON dashboard and the
// admin's page both show them. Today, this month, the 7 complete days
// before today and the rating.SparkDays days of Spend are days of the
// installation's zone.
func (s *Store) TenantDashboard() ([]rating.TenantFigures, error) {
	now := s.now().In(s.loc)
	today := dayOf(now, s.loc)
	y, m, d := now.Date()
	monthStart := dayOf(rating.DayStart(y, m, 1, s.loc), s.loc)
	weekStart := dayOf(rating.DayStart(y, m, d-7, s.loc), s.loc)
	var spark [rating.SparkDays]uint32 // the days of Spend, in order
	for i := range spark {
		spark[i] = dayOf(time.Date(y, m, d-len(spark)+1+i, 12, 0, 0, 0, time.UTC), time.UTC)
	}
	out := []rating.TenantFigures{}
	err := s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRollups)
		return eachTenant(tx, func(t *tenantRecord) error {
			var todayU, month rating.Usage
			var week rating.Money
			spend := make([]rating.Money, len(spark))
			j := 0
			sumDays(rb, tenantAcct, t.ID, min(monthStart, weekStart, spark[0]), today, func(day uint32, u rating.Usage) {
				if day == today {
					todayU = u
				}
				if day >= monthStart {
					month.Add(u)
				}
				if day >= weekStart && day < today {
					week = week.Add(u.Sell)
				}
				for j < len(spark) && spark[j] < day {
					j++
				}
				if j < len(spark) && spark[j] == day {
					spend[j] = u.Sell
				}
			})
			f := rating.NewTenantFigures(&t.Tenant, todayU, month, week)
			f.Spend = spend
			s.holds.mu.Lock()
			_, f.CallsInProgress = s.holds.held(t.ID, now)
			s.holds.mu.Unlock()
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// ProviderDashboard sums every provider's roll-ups over the inclusive days
// from..to (dates in the installation's zone; only their date counts),
// with a totals row.
func (s *Store) ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error) {
	f, t := dayOf(from, s.loc), dayOf(to, s.loc)
	out := []rating.ProviderFigures{}
	var all rating.Usage
	var balance rating.Money
	err := s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRollups)
		return eachProvider(tx, func(p *providerRecord) error {
			var u rating.Usage
			sumDays(rb, providerAcct, p.ID, f, t, func(_ uint32, d rating.Usage) { u.Add(d) })
			all.Add(u)
			balance = balance.Add(p.Balance)
			out = append(out, rating.NewProviderFigures(p.Name, p.Balance, u))
			return nil
		})
	})
	return out, rating.NewProviderFigures("", balance, all), err
}

// DailyUsage returns an account's roll-ups for each day from..to
// inclusive, days without CDRs included, for charts.
func (s *Store) DailyUsage(accountType, name string, from, to time.Time) ([]rating.DayUsage, error) {
	acct, err := acctByte(accountType)
	if err != nil {
		return nil, err
	}
	f, t := dayOf(from, s.loc), dayOf(to, s.loc)
	if f > t {
		return nil, rating.Invalidf("from", "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	byDay := map[uint32]rating.Usage{}
	err = s.db.View(func(tx *bolt.Tx) error {
		id, err := accountID(tx, acct, name)
		if err != nil {
			return err
		}
		sumDays(tx.Bucket(bucketRollups), acct, id, f, t, func(day uint32, u rating.Usage) { byDay[day] = u })
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []rating.DayUsage
	for d := dayTime(f, s.loc); dayOf(d, s.loc) <= t && len(out) <= 366; d = d.AddDate(0, 0, 1) {
		out = append(out, rating.DayUsage{Day: d, Usage: byDay[dayOf(d, s.loc)]})
	}
	return out, nil
}
