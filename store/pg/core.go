package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// Account types of the ledger and the roll-ups.
const (
	tenantAcct   = 't'
	providerAcct = 'p'
)

// tenantCols are a tenant row's columns in the order scanTenant reads
// them.
const tenantCols = `id, name, coalesce(accountcode, ''), billing_mode, balance, credit_limit, low_balance_threshold, status,
	outbound_table, inbound_table, conference_table, max_calls, daily_spend_limit, max_call_duration, email, created`

// tenantRow is a tenant with its row id, which the ledger, roll-ups,
// CDRs, holds and schedules refer to, so that a rename keeps its history.
type tenantRow struct {
	ID int64
	rating.Tenant
}

func scanTenant(row pgx.Row) (tenantRow, error) {
	var r tenantRow
	t := &r.Tenant
	err := row.Scan(&r.ID, &t.Name, &t.AccountCode, &t.BillingMode, scanMoney(&t.Balance), scanMoney(&t.CreditLimit),
		scanMoney(&t.LowBalanceThreshold), &t.Status, &t.OutboundTable, &t.InboundTable, &t.ConferenceTable,
		&t.MaxCalls, scanMoney(&t.DailySpendLimit), &t.MaxCallDuration, &t.Email, &t.Created)
	t.Created = t.Created.UTC()
	return r, err
}

// nullString is s, or NULL when it is empty: a unique column that most
// rows leave empty (accountcode, trunk).
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tenantByID reads a tenant, with forUpdate locking its row until the
// transaction ends: the lock every decision on its money takes. It is
// nil without error when there is no such tenant.
func tenantByID(ctx context.Context, tx pgx.Tx, id int64, forUpdate bool) (*tenantRow, error) {
	q := `SELECT ` + tenantCols + ` FROM tenants WHERE id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	r, err := scanTenant(tx.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// saveBalance writes a tenant's or a provider's balance after book moved
// it.
func saveBalance(ctx context.Context, tx pgx.Tx, acct byte, id int64, bal rating.Money) error {
	q := `UPDATE tenants SET balance = $2 WHERE id = $1`
	if acct == providerAcct {
		q = `UPDATE providers SET balance = $2 WHERE id = $1`
	}
	_, err := tx.Exec(ctx, q, id, money(bal))
	return err
}

// tenantChange is a tenant as a transaction first read it and as it is
// now, for the alert hook; soldToday is what the transaction added to its
// roll-up of today.
type tenantChange struct {
	was       rating.Tenant
	now       *rating.Tenant
	soldToday rating.Money
}

// noteTenant records that the transaction is changing t, whose stored
// record is was: call it before the first change, with the record as
// read, and keep changing the same *Tenant. The alert hook compares them
// at the end of the transaction.
func (tx *txn) noteTenant(id int64, was rating.Tenant, now *rating.Tenant) *tenantChange {
	if tx.changed == nil {
		tx.changed = map[int64]*tenantChange{}
	}
	c := tx.changed[id]
	if c == nil {
		c = &tenantChange{was: was, now: now, soldToday: rating.Money{}}
		tx.changed[id] = c
	}
	c.now = now
	return c
}

// book appends one ledger entry to an account whose balance is *bal and
// moves *bal by rating.Post's rule. The caller locked the account's row
// and writes *bal back (saveBalance) before the transaction ends. It is
// the one way into the ledger.
func book(ctx context.Context, tx *txn, acct byte, id int64, name string, bal *rating.Money, amount rating.Money, kind, ref string) (rating.Entry, error) {
	after, err := rating.PostEntry(name, *bal, amount, kind, ref)
	if err != nil {
		return rating.Entry{}, err
	}
	var seq int64
	if err := tx.QueryRow(ctx, `INSERT INTO ledger (account_type, account_id, at, amount, kind, ref, balance)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, acct, id, tx.now, money(amount), kind, ref, money(after)).Scan(&seq); err != nil {
		return rating.Entry{}, err
	}
	*bal = after
	return rating.Entry{ID: uint64(seq), AccountType: acctName(acct), Account: name, Time: tx.now,
		Amount: amount, Kind: kind, Ref: ref, Balance: after}, nil
}

func acctName(acct byte) string {
	if acct == providerAcct {
		return "provider"
	}
	return "tenant"
}

// dayOf is the day of the installation's zone that t falls in, as the
// date column holds it.
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// queueEvent writes one event to the outbox in tx.
func queueEvent(ctx context.Context, tx *txn, typ string, data any) (rating.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return rating.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('outbox', 'seq'))`).Scan(&seq); err != nil {
		return rating.Event{}, err
	}
	ev := rating.Event{ID: store.EventID(uint64(seq)), Seq: uint64(seq),
		Type: typ, Time: tx.now, Data: raw, Deliveries: []rating.Delivery{}}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (seq, id, type, at, data) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5)`,
		seq, ev.ID, typ, tx.now, raw)
	return ev, err
}

// queueAlerts is the one alert hook: at the end of every write, it queues
// the events of the tenants the transaction changed, as the bbolt store's
// batch does: a billing state that changed, and a daily spend limit that
// today's spend reached.
func (s *Store) queueAlerts(ctx context.Context, tx *txn) error {
	if len(tx.changed) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(tx.changed))
	for id := range tx.changed {
		ids = append(ids, id)
	}
	slices.Sort(ids) // events in a stable order
	for _, id := range ids {
		c := tx.changed[id]
		if d, changed := rating.StateChange(&c.was, c.now); changed {
			if _, err := queueEvent(ctx, tx, rating.EventTenantState, d); err != nil {
				return err
			}
		}
	}
	// Today's sell of every tenant with a limit that sold today, in one
	// read: a batch of CDRs touches many tenants.
	today := dayOf(tx.now, s.loc)
	var limited []int64
	for _, id := range ids {
		c := tx.changed[id]
		if _, ok := c.now.SpendLimit(); ok && c.soldToday.Sign() > 0 {
			limited = append(limited, id)
		}
	}
	if len(limited) == 0 {
		return nil
	}
	after := make(map[int64]rating.Money, len(limited))
	rows, err := tx.Query(ctx, `SELECT account_id, sell FROM rollups WHERE account_type = 't' AND account_id = ANY($1) AND day = $2`,
		limited, today)
	if err != nil {
		return err
	}
	var id int64
	var sell rating.Money
	if _, err := pgx.ForEachRow(rows, []any{&id, scanMoney(&sell)}, func() error { after[id] = sell; return nil }); err != nil {
		return err
	}
	for _, id := range limited {
		c := tx.changed[id]
		if data, hit := rating.SpendLimitReached(c.now, today.Format(time.DateOnly), after[id].Sub(c.soldToday), after[id]); hit {
			if _, err := queueEvent(ctx, tx, rating.EventSpendLimit, data); err != nil {
				return err
			}
		}
	}
	return nil
}
