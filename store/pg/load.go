package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// Loaded counts what Load copied.
type Loaded struct {
	Tenants, Providers, Tables, Rows, Nodes, Admins, Entries, CDRs, Rollups,
	Holds, Schedules, Events, Audit int
}

func (n Loaded) String() string {
	return fmt.Sprintf("%d tenants, %d providers, %d rate tables of %d rows, %d nodes, %d admins, %d ledger entries, %d CDRs, %d roll-ups, %d holds, %d schedules, %d events, %d audit entries",
		n.Tenants, n.Providers, n.Tables, n.Rows, n.Nodes, n.Admins, n.Entries, n.CDRs, n.Rollups, n.Holds, n.Schedules, n.Events, n.Audit)
}

// loadChunk is how many records one statement of Load inserts.
const loadChunk = 5000

// Load copies an installation into this database, which must hold no
// pbxbill records, in one transaction: dump gives every record of the
// source (store.Store.Dump), and a failure anywhere copies nothing. The
// records keep what they were: balances, the ledger with its ids and
// running balances, CDRs as they were priced, the roll-ups, holds,
// schedules with the months already posted, the outbox, the audit trail.
// Admin sessions are not copied.
func (s *Store) Load(dump func(store.Sink) error) (Loaded, error) {
	ctx := context.Background()
	var n Loaded
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants) OR EXISTS (SELECT 1 FROM providers)
			OR EXISTS (SELECT 1 FROM rate_tables) OR EXISTS (SELECT 1 FROM cdrs) OR EXISTS (SELECT 1 FROM nodes)
			OR EXISTS (SELECT 1 FROM admins) OR EXISTS (SELECT 1 FROM ledger)`).Scan(&used); err != nil {
			return err
		}
		if used {
			return rating.Errorf(rating.EConflict, "the database already holds pbxbill records: migrate copies into an empty one only")
		}
		l := &loader{ctx: ctx, tx: tx, n: &n, tenants: map[string]int64{}, providers: map[string]int64{}, tables: map[string]int64{}}
		if err := dump(l); err != nil {
			return err
		}
		if err := l.flush(); err != nil {
			return err
		}
		// The ids copied as they were; the next ones follow them.
		for _, t := range [][2]string{{"ledger", "id"}, {"audit", "id"}, {"outbox", "seq"}, {"schedules", "id"}} {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s`,
				t[0], t[1], t[1], t[0])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Loaded{}, dbError(err)
	}
	return n, dbError(s.reloadAll(ctx))
}

// loader is the store.Sink that Load hands the source.
type loader struct {
	ctx                     context.Context
	tx                      pgx.Tx
	n                       *Loaded
	tenants, providers      map[string]int64 // name → id
	tables                  map[string]int64
	table                   *tableLoad // the table whose rows are coming
	entries, cdrs, rollups  [][]any
	expiredHolds, openHolds [][]any
}

type tableLoad struct {
	name    string
	id, gen int64
	rows    int
}

func (l *loader) Tenant(t rating.Tenant) error {
	var id int64
	err := l.tx.QueryRow(l.ctx, `INSERT INTO tenants (name, accountcode, billing_mode, balance, credit_limit, low_balance_threshold,
		status, outbound_table, inbound_table, conference_table, max_calls, daily_spend_limit, max_call_duration, email, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		t.Name, nullString(t.AccountCode), t.BillingMode, money(t.Balance), money(t.CreditLimit), money(t.LowBalanceThreshold),
		t.Status, t.OutboundTable, t.InboundTable, t.ConferenceTable, t.MaxCalls, money(t.DailySpendLimit), t.MaxCallDuration,
		t.Email, t.Created).Scan(&id)
	l.tenants[t.Name] = id
	l.n.Tenants++
	return err
}

func (l *loader) Provider(p rating.Provider) error {
	var id int64
	err := l.tx.QueryRow(l.ctx, `INSERT INTO providers (name, trunk, balance, status, outbound_table, inbound_table, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		p.Name, nullString(p.Trunk), money(p.Balance), p.Status, p.OutboundTable, p.InboundTable, p.Created).Scan(&id)
	l.providers[p.Name] = id
	l.n.Providers++
	return err
}

func (l *loader) Table(t rating.Table, rows []rating.Row) error {
	if l.table == nil || l.table.name != t.Name {
		if err := l.endTable(); err != nil {
			return err
		}
		l.table = &tableLoad{name: t.Name}
		if err := l.tx.QueryRow(l.ctx, `INSERT INTO rate_tables (name, kind, currency, decimals, rounding, initial_increment, increment, rows, updated, gen)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, nextval('rate_gens')) RETURNING id, gen`,
			t.Name, t.Kind.String(), t.Currency, t.Decimals, t.Rounding.String(), t.InitialIncrement, t.Increment, t.Updated).
			Scan(&l.table.id, &l.table.gen); err != nil {
			return err
		}
		l.tables[t.Name] = l.table.id
		l.n.Tables++
	}
	l.table.rows += len(rows)
	l.n.Rows += len(rows)
	if len(rows) == 0 {
		return nil
	}
	return copyIn(l.ctx, l.tx, l.table.gen, rows)
}

func (l *loader) endTable() error {
	if l.table == nil {
		return nil
	}
	_, err := l.tx.Exec(l.ctx, `UPDATE rate_tables SET rows = $2 WHERE id = $1`, l.table.id, l.table.rows)
	l.table = nil
	return err
}

func (l *loader) Node(n rating.Node, tokenHash []byte) error {
	var seen *time.Time
	if !n.LastSeen.IsZero() {
		seen = &n.LastSeen
	}
	l.n.Nodes++
	_, err := l.tx.Exec(l.ctx, `INSERT INTO nodes (name, token_sha256, created, last_seen) VALUES ($1, $2, $3, $4)`,
		n.Name, tokenHash, n.Created, seen)
	return err
}

func (l *loader) Admin(a rating.Admin, bcrypt []byte) error {
	l.n.Admins++
	_, err := l.tx.Exec(l.ctx, `INSERT INTO admins (name, bcrypt, changed) VALUES ($1, $2, $3)`, a.Name, bcrypt, a.Changed)
	return err
}

// account is the id of a copied account by its type and name.
func (l *loader) account(typ, name string) (byte, int64, error) {
	if typ == rating.ProviderAccount {
		if id, ok := l.providers[name]; ok {
			return providerAcct, id, nil
		}
	} else if id, ok := l.tenants[name]; ok {
		return tenantAcct, id, nil
	}
	return 0, 0, fmt.Errorf("%s %q: records refer to it, and the source has no such account", typ, name)
}

func (l *loader) Entry(e rating.Entry) error {
	acct, id, err := l.account(e.AccountType, e.Account)
	if err != nil {
		return err
	}
	l.entries = append(l.entries, []any{int64(e.ID), string(acct), id, e.Time, money(e.Amount), e.Kind, e.Ref, money(e.Balance)})
	l.n.Entries++
	return l.maybeFlush()
}

func (l *loader) CDR(c rating.CDR, tenant, provider string) error {
	var tid, pid *int64
	if id, ok := l.tenants[tenant]; ok && tenant != "" {
		tid = &id
	}
	if id, ok := l.providers[provider]; ok && provider != "" {
		pid = &id
	}
	l.cdrs = append(l.cdrs, []any{c.Node, c.ID, tid, pid, c.Tenant, c.Provider, int16(c.Kind), c.Number, c.Start, c.Duration,
		c.Status == rating.Rated, c.Reason, c.Billed, money(c.Cost), money(c.ProviderCost), c.Prefix, c.RateTable, c.Received})
	l.n.CDRs++
	return l.maybeFlush()
}

func (l *loader) Rollup(typ, name string, day time.Time, u rating.Usage) error {
	acct, id, err := l.account(typ, name)
	if err != nil {
		return err
	}
	l.rollups = append(l.rollups, []any{string(acct), id, day, u.Attempts, u.Answered, u.Seconds, u.Billed, money(u.Sell), money(u.Buy)})
	l.n.Rollups++
	return l.maybeFlush()
}

func (l *loader) Hold(h rating.Hold, expired bool) error {
	_, id, err := l.account(rating.TenantAccount, h.Tenant)
	if err != nil {
		return err
	}
	row := []any{h.Node, h.Call, id, h.Tenant, money(h.Amount), h.MaxDuration, h.Opened, h.Expires}
	if expired {
		l.expiredHolds = append(l.expiredHolds, row)
	} else {
		l.openHolds = append(l.openHolds, row)
		l.n.Holds++
	}
	return nil
}

func (l *loader) Schedule(tenant string, sc rating.Schedule, posted []rating.Month) error {
	_, id, err := l.account(rating.TenantAccount, tenant)
	if err != nil {
		return err
	}
	var stop *string
	if sc.End != "" {
		stop = &sc.End
	}
	if _, err := l.tx.Exec(l.ctx, `INSERT INTO schedules (id, tenant_id, name, amount, top_up_to, day, start, stop)
		OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		int64(sc.ID), id, sc.Name, money(sc.Amount), money(sc.TopUpTo), sc.Day, sc.Start, stop); err != nil {
		return err
	}
	months := make([]int32, len(posted))
	for i, m := range posted {
		months[i] = int32(m.Int())
	}
	l.n.Schedules++
	_, err = l.tx.Exec(l.ctx, `INSERT INTO schedule_posted (schedule_id, month) SELECT $1, unnest($2::integer[])`, int64(sc.ID), months)
	return err
}

func (l *loader) OnceKey(key string, at time.Time) error {
	_, err := l.tx.Exec(l.ctx, `INSERT INTO once_keys (key, at, expires) VALUES ($1, $2, $3)`, key, at, at.Add(onceTTL))
	return err
}

func (l *loader) Event(ev rating.Event) error {
	deliveries, err := json.Marshal(ev.Deliveries)
	if err != nil {
		return err
	}
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("null")
	}
	l.n.Events++
	_, err = l.tx.Exec(l.ctx, `INSERT INTO outbox (seq, id, type, at, data, deliveries, done) OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, int64(ev.Seq), ev.ID, ev.Type, ev.Time, string(ev.Data), string(deliveries), ev.Done)
	return err
}

func (l *loader) Audit(e rating.AuditEntry) error {
	l.n.Audit++
	_, err := l.tx.Exec(l.ctx, `INSERT INTO audit (id, at, actor, action, object, summary) OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, $3, $4, $5, $6)`, int64(e.ID), e.Time, e.Actor, e.Action, e.Object, e.Summary)
	return err
}

func (l *loader) Follow(p store.FollowPos) error {
	pos, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = l.tx.Exec(l.ctx, `INSERT INTO follow_positions (path, pos) VALUES ($1, $2)`, p.Path, string(pos))
	return err
}

func (l *loader) Rejected(r rating.RejectedLine) error {
	_, err := l.tx.Exec(l.ctx, `INSERT INTO rejected_lines (path, line, text, error, at) VALUES ($1, $2, $3, $4, $5)`,
		r.Path, r.Line, r.Text, r.Error, r.At)
	return err
}

// maybeFlush inserts the buffered records once a chunk is full.
func (l *loader) maybeFlush() error {
	if len(l.entries)+len(l.cdrs)+len(l.rollups) < loadChunk {
		return nil
	}
	return l.flush()
}

// flush inserts what is buffered, each kind with one statement of
// parallel arrays per chunk.
func (l *loader) flush() error {
	if err := l.endTable(); err != nil {
		return err
	}
	for _, b := range []struct {
		rows  *[][]any
		sql   string
		types []string
	}{
		{&l.entries, `INSERT INTO ledger (id, account_type, account_id, at, amount, kind, ref, balance) OVERRIDING SYSTEM VALUE
			SELECT * FROM unnest(%s)`, []string{"bigint", `"char"`, "bigint", "timestamptz", "numeric", "text", "text", "numeric"}},
		{&l.cdrs, `INSERT INTO cdrs (node, id, tenant_id, provider_id, tenant_ref, provider_ref, kind, number, start, duration,
			rated, reason, billed, cost, provider_cost, prefix, rate_table, received) SELECT * FROM unnest(%s)`,
			[]string{"text", "text", "bigint", "bigint", "text", "text", "smallint", "text", "timestamptz", "integer",
				"boolean", "text", "integer", "numeric", "numeric", "text", "text", "timestamptz"}},
		{&l.rollups, `INSERT INTO rollups (account_type, account_id, day, attempts, answered, seconds, billed, sell, buy)
			SELECT * FROM unnest(%s)`, []string{`"char"`, "bigint", "date", "bigint", "bigint", "bigint", "bigint", "numeric", "numeric"}},
		{&l.openHolds, `INSERT INTO holds (node, call, tenant_id, tenant, amount, max_duration, opened, expires)
			SELECT * FROM unnest(%s)`, []string{"text", "text", "bigint", "text", "numeric", "integer", "timestamptz", "timestamptz"}},
		{&l.expiredHolds, `INSERT INTO holds_expired (node, call, tenant_id, tenant, amount, max_duration, opened, expires)
			SELECT * FROM unnest(%s)`, []string{"text", "text", "bigint", "text", "numeric", "integer", "timestamptz", "timestamptz"}},
	} {
		if len(*b.rows) == 0 {
			continue
		}
		args := make([]any, len(b.types))
		params := make([]string, len(b.types))
		for c := range b.types {
			col := make([]any, len(*b.rows))
			for i, r := range *b.rows {
				col[i] = r[c]
			}
			args[c] = col
			params[c] = fmt.Sprintf("$%d::%s[]", c+1, b.types[c])
		}
		if _, err := l.tx.Exec(l.ctx, fmt.Sprintf(b.sql, strings.Join(params, ", ")), args...); err != nil {
			return err
		}
		*b.rows = (*b.rows)[:0]
	}
	return nil
}
