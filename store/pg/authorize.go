package pg

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Authorizations arrive by the thousand a second, from many channels at
// once, and each would cost a transaction of its own: a lock, a few
// reads, an insert and a commit's fsync. A node therefore combines the
// authorizations that arrive while others are being answered into one
// batch, as the bbolt store shares one fsync among them: one transaction
// locks every tenant the batch names (in id order, so that batches of two
// nodes never deadlock), reads their commitments and the calls' holds in
// statements that start once the locks are held, decides each call in
// turn in arrival order, counting the holds decided before it, and
// inserts the new holds in one statement. Another node's authorization of
// the same tenant waits for the lock, then reads what this one committed:
// two nodes never grant the same credit twice. Authorizations that hold
// nothing are combined too, into one read statement without a lock.

// Bounds of a node's batches: how many run at once, and how many
// authorizations one takes. Batches running at once keep both cores and
// the commits' fsyncs busy; a bounded batch keeps a transaction short.
const (
	authSlots    = 2
	maxAuthBatch = 256
)

// authReq is one authorization waiting for its batch.
type authReq struct {
	q    rating.CallQuery
	ans  rating.CallAnswer
	err  error
	done chan struct{}
}

// combiner runs requests in batches: a request that finds a free slot
// runs the pending requests, its own among them, as one batch; one that
// finds none waits, and is taken by the next batch to start.
type combiner struct {
	mu      sync.Mutex
	pending []*authReq
	running int
}

// do answers r with run, in a batch, and returns once r is answered.
func (c *combiner) do(r *authReq, run func([]*authReq)) {
	r.done = make(chan struct{})
	c.mu.Lock()
	c.pending = append(c.pending, r)
	if c.running >= authSlots {
		c.mu.Unlock()
		<-r.done
		return
	}
	batch := c.take()
	c.mu.Unlock()
	c.run(batch, run)
	<-r.done // answered by this batch, or by one a batch before it started
}

// take takes the next batch and a slot; the caller holds mu.
func (c *combiner) take() []*authReq {
	n := min(len(c.pending), maxAuthBatch)
	batch := c.pending[:n:n]
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	c.running++
	return batch
}

// run runs batch and gives its slot to the requests that came meanwhile.
// A panic (a Resolve that failed) answers the batch with an error rather
// than leave its requests and the slot waiting for ever.
func (c *combiner) run(batch []*authReq, run func([]*authReq)) {
	func() {
		defer func() {
			if p := recover(); p != nil {
				for _, r := range batch {
					r.ans, r.err = rating.CallAnswer{}, fmt.Errorf("authorization failed: %s", rating.Excerpt(fmt.Sprint(p)))
				}
			}
		}()
		run(batch)
	}()
	for _, r := range batch {
		close(r.done)
	}
	c.mu.Lock()
	c.running--
	if len(c.pending) > 0 && c.running < authSlots {
		next := c.take()
		go c.run(next, run)
	}
	c.mu.Unlock()
}

// Authorize answers an authorization (DOMAIN.md "Authorizing a call").
// The tenant q names is found by name, then by accountcode; q.Resolve
// resolves the call for it. With a call id, a call whose hold is open
// answers that hold's grant again, before any other rule, and opens
// nothing; otherwise rating.Authorize decides, and an allowed call's hold
// is stored before the answer: all in the transaction of its batch, with
// the tenant's row locked. Without one, nothing is held and nothing
// locked.
func (s *Store) Authorize(q rating.CallQuery) (rating.CallAnswer, error) {
	r := &authReq{q: q}
	if q.Call == "" {
		s.holds.reads.do(r, s.authorizeReads)
	} else {
		s.holds.calls.do(r, s.authorizeCalls)
	}
	if r.err != nil {
		return rating.CallAnswer{}, r.err
	}
	return r.ans, nil
}

// tenantsSQL reads the tenant each of the references $1 names (by name
// first, then by accountcode), with its spend on day $2 and the sum and
// number of its holds open at $3.
const tenantsSQL = `WITH t AS (
		SELECT DISTINCT ON (r.ref) r.ref, x.* FROM unnest($1::text[]) r(ref)
		JOIN tenants x ON x.name = r.ref OR x.accountcode = r.ref
		ORDER BY r.ref, x.name = r.ref DESC)
	SELECT t.ref, ` + tenantCols + `, coalesce(ro.sell, 0), ` + openHeld + `
	FROM t LEFT JOIN rollups ro ON ro.account_type = 't' AND ro.account_id = t.id AND ro.day = $2
	LEFT JOIN hold_totals ht ON ht.tenant_id = t.id
	LEFT JOIN LATERAL (SELECT sum(amount) AS held, count(*) AS calls FROM holds
		WHERE tenant_id = t.id AND expires <= $3) x ON true`

// committedTenant is a tenant as tenantsSQL reads it.
type committedTenant struct {
	tenantRow
	com rating.Commitments
}

// readTenants runs tenantsSQL's rows into a map by reference. The
// references that name one tenant (its name and its accountcode) share
// one record, whose commitments a batch moves as it decides.
func readTenants(rows pgx.Rows) (map[string]*committedTenant, error) {
	defer rows.Close()
	out := map[string]*committedTenant{}
	byID := map[int64]*committedTenant{}
	for rows.Next() {
		var ref string
		t := &committedTenant{}
		if err := rows.Scan(tenantDest(&t.tenantRow, &ref, scanMoney(&t.com.SpentToday), scanMoney(&t.com.Held), &t.com.Calls)...); err != nil {
			return nil, err
		}
		t.Created = t.Created.UTC()
		if same := byID[t.ID]; same != nil {
			t = same
		}
		byID[t.ID] = t
		out[ref] = t
	}
	return out, rows.Err()
}

// tenantDest are the scan targets of first, then tenantCols into r, then
// more.
func tenantDest(r *tenantRow, first any, more ...any) []any {
	t := &r.Tenant
	return append([]any{first, &r.ID, &t.Name, &t.AccountCode, &t.BillingMode, scanMoney(&t.Balance), scanMoney(&t.CreditLimit),
		scanMoney(&t.LowBalanceThreshold), &t.Status, &t.OutboundTable, &t.InboundTable, &t.ConferenceTable,
		&t.MaxCalls, scanMoney(&t.DailySpendLimit), &t.MaxCallDuration, &t.Email, &t.Created}, more...)
}

// refsOf lists the distinct tenant references of reqs.
func refsOf(reqs []*authReq) []string {
	seen := make(map[string]bool, len(reqs))
	var out []string
	for _, r := range reqs {
		if !seen[r.q.Tenant] {
			seen[r.q.Tenant] = true
			out = append(out, r.q.Tenant)
		}
	}
	return out
}

// answerTenant is the answer's copy of t, nil for no tenant: each answer
// has its own.
func answerTenant(t *committedTenant) *rating.Tenant {
	if t == nil {
		return nil
	}
	c := t.Tenant
	return &c
}

// authorizeReads answers authorizations without a call id: one statement
// reads every tenant they name with its commitments, a consistent
// snapshot without a transaction or a lock.
func (s *Store) authorizeReads(reqs []*authReq) {
	now := s.now()
	rows, err := s.pool.Query(context.Background(), tenantsSQL, refsOf(reqs), dayOf(now, s.loc), now)
	var tenants map[string]*committedTenant
	if err == nil {
		tenants, err = readTenants(rows)
	}
	for _, r := range reqs {
		if err != nil {
			r.err = dbError(err)
			continue
		}
		var com rating.Commitments
		t := tenants[r.q.Tenant]
		if t != nil {
			com = t.com
		}
		r.ans.Tenant = answerTenant(t)
		r.ans.Resolution = r.q.Resolve(r.ans.Tenant)
		r.ans.Authorization = rating.Authorize(r.ans.Tenant, &r.ans.Resolution, r.q.MaxCall, com, false)
	}
}

// errHoldTaken: a hold this batch decided to open was opened meanwhile by
// an authorization of the same call for another tenant, under that
// tenant's lock. The batch runs again, and answers that hold's grant.
var errHoldTaken = errors.New("a call's hold was opened meanwhile")

// holdKey is a hold's (node, call).
type holdKey struct{ node, call string }

// authorizeCalls answers a batch of authorizations with call ids in one
// transaction.
func (s *Store) authorizeCalls(reqs []*authReq) {
	ctx := context.Background()
	refs := refsOf(reqs)
	var nodes, calls []string
	for _, r := range reqs {
		nodes, calls = append(nodes, r.q.Node), append(calls, r.q.Call)
	}
	plain := &Store{state: s.state} // no handle's audit entry: an authorization is not audited
	var opened int
	var err error
	for try := 0; try < 10; try++ {
		err = plain.write(ctx, func(tx *txn) error {
			opened = 0
			return s.decideCalls(ctx, tx, reqs, refs, nodes, calls, &opened)
		})
		if !errors.Is(err, errHoldTaken) {
			break
		}
	}
	if err != nil {
		for _, r := range reqs {
			r.ans, r.err = rating.CallAnswer{}, err
		}
		return
	}
	s.holds.opened.Add(uint64(opened))
}

// decideCalls is the transaction of authorizeCalls; it sets every
// request's answer afresh, as a write may run it again.
func (s *Store) decideCalls(ctx context.Context, tx *txn, reqs []*authReq, refs, nodes, calls []string, opened *int) error {
	now := tx.now // to the microsecond, as stored: a retry reads back the hold answered
	// One round trip: the locks, then, in statements that start once
	// they are held, the tenants with their commitments and the holds
	// of the calls.
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM tenants WHERE name = ANY($1) OR accountcode = ANY($1) ORDER BY id FOR UPDATE`, refs)
	b.Queue(tenantsSQL, refs, dayOf(now, s.loc), now)
	b.Queue(`SELECT `+holdCols+` FROM holds WHERE (node, call) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, nodes, calls)
	// The calls whose CDRs are stored: ended and billed, so a late retry
	// of their authorization holds nothing.
	b.Queue(`SELECT node, id FROM cdrs WHERE (node, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, nodes, calls)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	tenants, err := readTenants(rows)
	if err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	found, err := collectHolds(rows)
	if err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	billed := map[holdKey]bool{}
	var k holdKey
	if _, err := pgx.ForEachRow(rows, []any{&k.node, &k.call}, func() error { billed[k] = true; return nil }); err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	held := make(map[holdKey]*rating.Hold, len(found))
	for i := range found {
		held[holdKey{found[i].Node, found[i].Call}] = &found[i]
	}

	var ins []rating.Hold
	var insTenants []int64
	var replaced []holdKey
	for _, r := range reqs {
		r.ans, r.err = rating.CallAnswer{}, nil
		t := tenants[r.q.Tenant]
		var com *rating.Commitments
		if t != nil {
			com = &t.com
		} else {
			com = &rating.Commitments{}
		}
		r.ans.Tenant = answerTenant(t)
		r.ans.Resolution = r.q.Resolve(r.ans.Tenant)
		key := holdKey{r.q.Node, r.q.Call}
		if h := held[key]; h != nil && h.Open(now) {
			r.ans.Authorization = rating.Regrant(r.ans.Tenant, h, *com)
			hold := *h
			r.ans.Hold = &hold
			continue
		}
		a := rating.Authorize(r.ans.Tenant, &r.ans.Resolution, r.q.MaxCall, *com, !billed[key])
		r.ans.Authorization = a
		if !a.Allowed || billed[key] {
			continue
		}
		h := rating.NewHold(t.Name, r.q.Node, r.q.Call, &a, now, s.holdSlack)
		if held[key] != nil {
			// The same call id again after its hold expired, before
			// ExpireHolds moved it: the new hold replaces it, as in
			// the bbolt store.
			replaced = append(replaced, key)
		}
		held[key] = &h
		ins, insTenants = append(ins, h), append(insTenants, t.ID)
		com.Held, com.Calls = com.Held.Add(h.Amount), com.Calls+1
		r.ans.Free = a.Free.Sub(a.Hold) // what is left once this call holds its part
		hold := h
		r.ans.Hold = &hold
	}
	if len(ins) == 0 {
		return nil
	}
	if len(replaced) > 0 {
		var rn, rc []string
		for _, k := range replaced {
			rn, rc = append(rn, k.node), append(rc, k.call)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM holds WHERE (node, call) IN (SELECT * FROM unnest($1::text[], $2::text[]))
			AND expires <= $3`, rn, rc, now); err != nil {
			return err
		}
	}
	n := len(ins)
	hn, hc, tn, amounts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	durations := make([]int32, n)
	openedAt, expires := make([]time.Time, n), make([]time.Time, n)
	for i, h := range ins {
		hn[i], hc[i], tn[i], amounts[i] = h.Node, h.Call, h.Tenant, h.Amount.String()
		durations[i], openedAt[i], expires[i] = int32(h.MaxDuration), h.Opened, h.Expires
	}
	tag, err := tx.Exec(ctx, `INSERT INTO holds (node, call, tenant_id, tenant, amount, max_duration, opened, expires)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::numeric[], $6::integer[], $7::timestamptz[], $8::timestamptz[])
		ON CONFLICT (node, call) DO NOTHING`, hn, hc, insTenants, tn, amounts, durations, openedAt, expires)
	if err != nil {
		return err
	}
	if int(tag.RowsAffected()) != n {
		return errHoldTaken
	}
	*opened = n
	return nil
}
