package pg

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// cdrBatch is one transaction's worth of CDR work, as the bbolt store's
// batch is. It locks the accounts it touches once, tenants then
// providers, each in id order, so that nodes posting for the same
// accounts queue instead of deadlocking; it keeps their balances, the
// ledger entries and the roll-up deltas in memory, and writes them all in
// one round trip (flush). A batch of a thousand CDRs costs a handful of
// statements, not thousands.
type cdrBatch struct {
	s  *Store
	tx *txn

	tenants      map[int64]*tenantRow
	tenantRefs   map[string]int64 // accountcode or name → id; absent: none
	providers    map[int64]*batchProvider
	providerRefs map[string]int64 // name or trunk → id
	changes      map[int64]*tenantChange

	entries []pendingEntry
	dirtyT  []int64 // in the order first booked
	dirtyP  []int64
	rollups map[rollupDay]rating.Usage // deltas
	extra   pgx.Batch                  // statements flush sends with its own
}

// batchProvider is a provider row as a CDR batch reads it.
type batchProvider struct {
	ID int64
	rating.Provider
	dirty bool
}

// pendingEntry is a ledger entry flush writes.
type pendingEntry struct {
	acct            byte
	id              int64
	amount, balance rating.Money
	kind, ref       string
}

// rollupDay is a roll-up's key.
type rollupDay struct {
	acct byte
	id   int64
	day  time.Time // as dayOf gives it
}

func (s *Store) newBatch(tx *txn) *cdrBatch {
	return &cdrBatch{s: s, tx: tx, tenants: map[int64]*tenantRow{}, tenantRefs: map[string]int64{},
		providers: map[int64]*batchProvider{}, providerRefs: map[string]int64{}, changes: map[int64]*tenantChange{},
		rollups: map[rollupDay]rating.Usage{}}
}

// lock reads and locks, in one round trip, the tenants that tenantRefs
// name (by accountcode or name) or tenantIDs hold, then the providers
// that providerRefs name (by name or trunk) or providerIDs hold.
func (b *cdrBatch) lock(ctx context.Context, tenantRefs []string, tenantIDs []int64, providerRefs []string, providerIDs []int64) error {
	var q pgx.Batch
	q.Queue(`SELECT `+tenantCols+` FROM tenants WHERE name = ANY($1) OR accountcode = ANY($1) OR id = ANY($2) ORDER BY id FOR UPDATE`,
		tenantRefs, tenantIDs)
	q.Queue(`SELECT id, name, coalesce(trunk, ''), balance, status, outbound_table, inbound_table, created
		FROM providers WHERE name = ANY($1) OR trunk = ANY($1) OR id = ANY($2) ORDER BY id FOR UPDATE`, providerRefs, providerIDs)
	res := b.tx.SendBatch(ctx, &q)
	defer res.Close()
	rows, err := res.Query()
	if err != nil {
		return err
	}
	byCode, byName := map[string]int64{}, map[string]int64{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			rows.Close()
			return err
		}
		b.tenants[t.ID] = &t
		byName[t.Name] = t.ID
		if t.AccountCode != "" {
			byCode[t.AccountCode] = t.ID
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// An accountcode first, since that is what a PBX writes, then a name.
	for _, ref := range tenantRefs {
		if id, ok := byCode[ref]; ok {
			b.tenantRefs[ref] = id
		} else if id, ok := byName[ref]; ok {
			b.tenantRefs[ref] = id
		}
	}
	if rows, err = res.Query(); err != nil {
		return err
	}
	byTrunk := map[string]int64{}
	byName = map[string]int64{}
	for rows.Next() {
		p := &batchProvider{}
		if err := rows.Scan(&p.ID, &p.Name, &p.Trunk, scanMoney(&p.Balance), &p.Status, &p.OutboundTable,
			&p.InboundTable, &p.Created); err != nil {
			rows.Close()
			return err
		}
		p.Created = p.Created.UTC()
		b.providers[p.ID] = p
		byName[p.Name] = p.ID
		if p.Trunk != "" {
			byTrunk[p.Trunk] = p.ID
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, ref := range providerRefs { // a name wins over a trunk
		if id, ok := byName[ref]; ok {
			b.providerRefs[ref] = id
		} else if id, ok := byTrunk[ref]; ok {
			b.providerRefs[ref] = id
		}
	}
	return res.Close()
}

// price prices a record from the tables as they are now: rating decides
// (Rater.PriceCDR), the record keeps it.
func (b *cdrBatch) price(rec *cdrRow) {
	var tenant *rating.Tenant
	if t := b.tenants[rec.TenantID]; t != nil {
		tenant = &t.Tenant
	}
	var provider *rating.Provider
	if p := b.providers[rec.ProviderID]; p != nil {
		provider = &p.Provider
	}
	rec.Pricing = b.s.rater.PriceCDR(tenant, provider, rec.Kind, rec.Number, rec.Start, rec.Duration)
}

// apply books the bill of a CDR whose prices went from was to what rec
// holds now (rating.BillCDR): the roll-ups of its day, and a ledger entry
// on each account whose money changed. fresh marks a CDR posted now.
func (b *cdrBatch) apply(was rating.Pricing, rec *cdrRow, fresh bool) error {
	bill := rating.BillCDR(was, rec.Pricing, rec.Duration, fresh, rec.ProviderID != 0)
	day := dayOf(rec.Start, b.s.loc)
	if rec.TenantID != 0 {
		b.roll(tenantAcct, rec.TenantID, day, bill.Tenant)
		if bill.TenantAmount.Sign() != 0 {
			if err := b.book(tenantAcct, rec.TenantID, bill.TenantAmount, bill.Kind, rec.ID); err != nil {
				return err
			}
		}
	}
	if rec.ProviderID != 0 {
		b.roll(providerAcct, rec.ProviderID, day, bill.Provider)
		if bill.ProviderAmount.Sign() != 0 {
			if err := b.book(providerAcct, rec.ProviderID, bill.ProviderAmount, bill.Kind, rec.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// roll adds u to an account's day. A zero delta writes nothing: a row of
// zeros and no row read alike.
func (b *cdrBatch) roll(acct byte, id int64, day time.Time, u rating.Usage) {
	if u == (rating.Usage{}) {
		return
	}
	k := rollupDay{acct, id, day}
	cur := b.rollups[k]
	cur.Add(u)
	b.rollups[k] = cur
}

// book is core.go's book for a batch: it moves the locked account's
// balance by rating.Post's rule, with the same refusal, and keeps the
// entry for flush to write with the others.
func (b *cdrBatch) book(acct byte, id int64, amount rating.Money, kind, ref string) error {
	var bal *rating.Money
	var name string
	if acct == tenantAcct {
		t := b.tenants[id]
		if _, ok := b.changes[id]; !ok {
			b.changes[id] = b.tx.noteTenant(id, t.Tenant, &t.Tenant)
			b.dirtyT = append(b.dirtyT, id)
		}
		bal, name = &t.Balance, t.Name
	} else {
		p := b.providers[id]
		if !p.dirty {
			p.dirty = true
			b.dirtyP = append(b.dirtyP, id)
		}
		bal, name = &p.Balance, p.Name
	}
	after, err := rating.PostEntry(name, *bal, amount, kind, ref)
	if err != nil {
		return err
	}
	*bal = after
	b.entries = append(b.entries, pendingEntry{acct, id, amount, after, kind, ref})
	return nil
}

// accountName names an account for an error: its type and name.
func (b *cdrBatch) accountName(acct byte, id int64) string {
	if t := b.tenants[id]; acct == tenantAcct && t != nil {
		return fmt.Sprintf("tenant %q", t.Name)
	}
	if p := b.providers[id]; acct == providerAcct && p != nil {
		return fmt.Sprintf("provider %q", p.Name)
	}
	return fmt.Sprintf("%s %d", acctName(acct), id)
}

// flush writes, in one round trip, the ledger entries in the order they
// were booked, the balances they moved, the roll-up deltas, and the
// statements queued in extra. A roll-up is kept within ±MaxMoney, as a
// balance is, so that the dashboards' sums of them stay exact. It tells
// the alert hook what the batch added to each tenant's today.
func (b *cdrBatch) flush(ctx context.Context) error {
	q := &b.extra
	if n := len(b.entries); n > 0 {
		accts, ids := make([]string, n), make([]int64, n)
		amounts, balances := make([]moneyArg, n), make([]moneyArg, n)
		kinds, refs := make([]string, n), make([]string, n)
		for i, e := range b.entries {
			accts[i], ids[i], amounts[i], balances[i], kinds[i], refs[i] = string(e.acct), e.id, money(e.amount), money(e.balance), e.kind, e.ref
		}
		// WITH ORDINALITY and ORDER BY: the entries get their ids in the
		// order they were booked, which is the order of their balances.
		q.Queue(`INSERT INTO ledger (account_type, account_id, at, amount, kind, ref, balance)
			SELECT u.acct::"char", u.id, $1, u.amount, u.kind, u.ref, u.balance
			FROM unnest($2::text[], $3::bigint[], $4::numeric[], $5::text[], $6::text[], $7::numeric[])
				WITH ORDINALITY AS u(acct, id, amount, kind, ref, balance, ord)
			ORDER BY u.ord`, b.tx.now, accts, ids, amounts, kinds, refs, balances)
	}
	if len(b.dirtyT) > 0 {
		ids := slices.Clone(b.dirtyT)
		slices.Sort(ids)
		bals := make([]moneyArg, len(ids))
		for i, id := range ids {
			bals[i] = money(b.tenants[id].Balance)
		}
		q.Queue(`UPDATE tenants AS t SET balance = u.balance FROM unnest($1::bigint[], $2::numeric[]) AS u(id, balance) WHERE t.id = u.id`, ids, bals)
	}
	if len(b.dirtyP) > 0 {
		ids := slices.Clone(b.dirtyP)
		slices.Sort(ids)
		bals := make([]moneyArg, len(ids))
		for i, id := range ids {
			bals[i] = money(b.providers[id].Balance)
		}
		q.Queue(`UPDATE providers AS p SET balance = u.balance FROM unnest($1::bigint[], $2::numeric[]) AS u(id, balance) WHERE p.id = u.id`, ids, bals)
	}
	keys := make([]rollupDay, 0, len(b.rollups))
	for k := range b.rollups {
		keys = append(keys, k)
	}
	// In key order, so that two transactions meet the rows in one order.
	slices.SortFunc(keys, func(x, y rollupDay) int {
		if x.acct != y.acct {
			return int(x.acct) - int(y.acct)
		}
		if x.id != y.id {
			return int(x.id - y.id)
		}
		return x.day.Compare(y.day)
	})
	today := dayOf(b.tx.now, b.s.loc)
	if n := len(keys); n > 0 {
		accts, ids, days := make([]string, n), make([]int64, n), make([]time.Time, n)
		att, ans, secs, billed := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		sell, buy := make([]moneyArg, n), make([]moneyArg, n)
		for i, k := range keys {
			u := b.rollups[k]
			accts[i], ids[i], days[i] = string(k.acct), k.id, k.day
			att[i], ans[i], secs[i], billed[i], sell[i], buy[i] = u.Attempts, u.Answered, u.Seconds, u.Billed, money(u.Sell), money(u.Buy)
			if c := b.changes[k.id]; k.acct == tenantAcct && c != nil && k.day.Equal(today) {
				c.soldToday = c.soldToday.Add(u.Sell)
			}
		}
		q.Queue(`INSERT INTO rollups AS r (account_type, account_id, day, attempts, answered, seconds, billed, sell, buy)
			SELECT u.acct::"char", u.id, u.day, u.attempts, u.answered, u.seconds, u.billed, u.sell, u.buy
			FROM unnest($1::text[], $2::bigint[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::numeric[], $9::numeric[])
				AS u(acct, id, day, attempts, answered, seconds, billed, sell, buy)
			ON CONFLICT (account_type, account_id, day) DO UPDATE SET attempts = r.attempts + excluded.attempts,
				answered = r.answered + excluded.answered, seconds = r.seconds + excluded.seconds,
				billed = r.billed + excluded.billed, sell = r.sell + excluded.sell, buy = r.buy + excluded.buy
			RETURNING account_type::text, account_id, day, sell, buy`, accts, ids, days, att, ans, secs, billed, sell, buy)
	}
	if q.Len() == 0 {
		return nil
	}
	res := b.tx.SendBatch(ctx, q)
	defer res.Close()
	for i := 0; i < q.Len()-boolInt(len(keys) > 0); i++ {
		if _, err := res.Exec(); err != nil {
			return err
		}
	}
	if len(keys) > 0 {
		rows, err := res.Query()
		if err != nil {
			return err
		}
		var acct string
		var id int64
		var day time.Time
		var sell, buy rating.Money
		for rows.Next() {
			if err := rows.Scan(&acct, &id, &day, scanMoney(&sell), scanMoney(&buy)); err != nil {
				rows.Close()
				return err
			}
			if !sell.InRange() || !buy.InRange() {
				rows.Close()
				return rating.Errorf(rating.EInvalid, "the roll-up of %s on %s would be %s sold and %s bought, beyond ±%s",
					b.accountName(acct[0], id), day.Format(time.DateOnly), sell, buy, rating.MaxMoney)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return res.Close()
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
