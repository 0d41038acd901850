package pg

import (
	"context"
	"encoding/json"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

// cdrRow is a CDR as stored. Tenant and provider are kept by id once
// resolved (0: none), so that a rename keeps the history, and by the
// reference the PBX posted, so that a later re-rate can resolve an
// unknown tenant.
type cdrRow struct {
	Seq                    int64
	Node, ID               string
	TenantID, ProviderID   int64
	TenantRef, ProviderRef string
	Kind                   rating.Kind
	Number                 string
	Start                  time.Time
	Duration               int
	rating.Pricing
	Received time.Time
}

// PostCDRs processes a batch of CDRs posted by node ("" for the bootstrap
// token and the admin) in one transaction: each is stored under the
// idempotency key (node, id), priced from the tenant's and the provider's
// tables of its kind, charged to the ledger, and rolled up by day. The
// tenant is matched by accountcode or name, the provider by name or trunk.
// A malformed CDR (rating.CDR.Validate, or an unknown provider) rejects
// the whole batch with EInvalid naming it, and nothing is stored. A
// duplicate changes nothing; a CDR that cannot be priced is stored as
// unrated.
//
// The unique key (node, id) decides what a duplicate is, in the database:
// two nodes posting the same CDR at once store and charge it once.
// A single CDR joins a group commit (cdrgroup.go). Starts and receipt
// times are kept to the microsecond, PostgreSQL's
// precision.
func (s *Store) PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error) {
	return s.postCDRs(node, cdrs, nil)
}

func (s *Store) postCDRs(node string, cdrs []rating.CDR, pos *store.FollowPos) (rating.Posted, error) {
	for i := range cdrs {
		if cdrs[i].Kind == 0 {
			cdrs[i].Kind = rating.Outbound
		}
		if err := cdrs[i].Validate(); err != nil {
			return rating.Posted{}, err
		}
	}
	if len(cdrs) == 1 && pos == nil && s.note == nil { // an audited post writes its own entry

		c, err := s.postOne(node, cdrs[0])
		if err != nil {
			return rating.Posted{}, err
		}
		out := rating.Posted{Results: []rating.CDR{c}}
		out.Count(&c)
		return out, nil
	}
	ctx := context.Background()
	var out rating.Posted
	err := s.write(ctx, func(tx *txn) error {
		out = rating.Posted{Results: make([]rating.CDR, len(cdrs))}
		copy(out.Results, cdrs)
		b := s.newBatch(tx)
		if err := b.post(ctx, sameNode(node, len(cdrs)), out.Results); err != nil {
			return err
		}
		for i := range out.Results {
			out.Count(&out.Results[i])
		}
		if pos != nil {
			raw, err := json.Marshal(pos)
			if err != nil {
				return err
			}
			b.extra.Queue(`INSERT INTO follow_positions (path, pos) VALUES ($1, $2)
				ON CONFLICT (path) DO UPDATE SET pos = excluded.pos`, pos.Path, raw)
		}
		return b.flush(ctx)
	})
	if err != nil {
		return rating.Posted{}, err
	}
	return out, nil
}

// post stores, prices and charges the CDRs of cdrs, in order, each
// posted by nodes[i], and marks the duplicates: those already stored, and
// the repeats of a key within the batch. It locks the accounts first, then
// inserts, so that a node that meets another's CDR waits for it behind
// the same locks.
func (b *cdrBatch) post(ctx context.Context, nodes []string, cdrs []rating.CDR) error {
	if len(cdrs) == 0 {
		return nil
	}
	type place struct{ at, rec int } // a key's first place in cdrs, and its record
	first := make(map[cdrKey]place, len(cdrs))
	var recs []cdrRow
	var tenantRefs, providerRefs []string
	seenT, seenP := map[string]bool{}, map[string]bool{}
	for i := range cdrs {
		c := &cdrs[i]
		k := cdrKey{nodes[i], c.ID}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = place{i, len(recs)}
		recs = append(recs, cdrRow{Node: nodes[i], ID: c.ID, TenantRef: c.Tenant, ProviderRef: c.Provider, Kind: c.Kind,
			Number: c.Number, Start: c.Start.Truncate(time.Microsecond), Duration: c.Duration, Received: b.tx.now.Truncate(time.Microsecond)})
		if c.Tenant != "" && !seenT[c.Tenant] {
			seenT[c.Tenant] = true
			tenantRefs = append(tenantRefs, c.Tenant)
		}
		if c.Provider != "" && !seenP[c.Provider] {
			seenP[c.Provider] = true
			providerRefs = append(providerRefs, c.Provider)
		}
	}
	if err := b.lock(ctx, tenantRefs, nil, providerRefs, nil); err != nil {
		return err
	}
	for i := range recs {
		r := &recs[i]
		r.TenantID, r.ProviderID = b.tenantRefs[r.TenantRef], b.providerRefs[r.ProviderRef]
		b.price(r)
	}
	stored, err := b.insert(ctx, recs)
	if err != nil {
		return err
	}
	// A call's hold goes with its CDR, a duplicate's too, as in the
	// bbolt store.
	byNode := map[string][]string{}
	var order []string
	for i := range cdrs {
		if _, ok := byNode[nodes[i]]; !ok {
			order = append(order, nodes[i])
		}
		byNode[nodes[i]] = append(byNode[nodes[i]], cdrs[i].ID)
	}
	for _, node := range order {
		if err := b.s.releaseByCDR(ctx, b.tx, node, byNode[node]); err != nil {
			return err
		}
	}
	for i := range cdrs {
		c := &cdrs[i]
		k := cdrKey{nodes[i], c.ID}
		p := first[k]
		r := &recs[p.rec]
		if p.at != i || !stored[k] {
			c.Status, c.Cost, c.ProviderCost = rating.Duplicate, rating.NoMoney, rating.NoMoney
			continue
		}
		if r.ProviderRef != "" && r.ProviderID == 0 {
			return rating.Errorf(rating.EInvalid, "cdr %s: provider %s: no provider has that name or trunk", rating.Excerpt(c.ID), rating.Excerpt(c.Provider))
		}
		if err := b.apply(rating.Unpriced, r, true); err != nil {
			return err
		}
		*c = b.result(r)
	}
	return nil
}

// cdrKey is a CDR's idempotency key.
type cdrKey struct{ node, id string }

// sameNode is n times node: a batch's nodes when one node posted it.
func sameNode(node string, n int) []string {
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = node
	}
	return nodes
}

// insert stores the records that are not stored yet, in one statement,
// and answers the ids it stored. ON CONFLICT DO NOTHING leaves a CDR
// another transaction stored, or is storing, to that transaction: this
// one waits for it to commit and counts a duplicate.
func (b *cdrBatch) insert(ctx context.Context, recs []cdrRow) (map[cdrKey]bool, error) {
	n := len(recs)
	nodes, ids, tenantRefs, providerRefs, numbers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	reasons, prefixes, tables := make([]string, n), make([]string, n), make([]string, n)
	tenants, providers := make([]*int64, n), make([]*int64, n)
	kinds := make([]int16, n)
	starts := make([]time.Time, n)
	durations, billed := make([]int32, n), make([]int32, n)
	rated := make([]bool, n)
	costs, providerCosts := make([]moneyArg, n), make([]moneyArg, n)
	for i := range recs {
		r := &recs[i]
		nodes[i], ids[i], tenantRefs[i], providerRefs[i], numbers[i] = r.Node, r.ID, r.TenantRef, r.ProviderRef, r.Number
		reasons[i], prefixes[i], tables[i] = r.Reason, r.Prefix, r.Table
		tenants[i], providers[i] = optionalID(r.TenantID), optionalID(r.ProviderID)
		kinds[i], starts[i], durations[i], billed[i] = int16(r.Kind), r.Start, int32(r.Duration), int32(r.Billed)
		rated[i], costs[i], providerCosts[i] = r.Rated, money(r.Cost), money(r.ProviderCost)
	}
	rows, err := b.tx.Query(ctx, `INSERT INTO cdrs (node, id, tenant_id, provider_id, tenant_ref, provider_ref, kind, number,
			start, duration, rated, reason, billed, cost, provider_cost, prefix, rate_table, received)
		SELECT u.node, u.id, u.tenant_id, u.provider_id, u.tenant_ref, u.provider_ref, u.kind, u.number,
			u.start, u.duration, u.rated, u.reason, u.billed, u.cost, u.provider_cost, u.prefix, u.rate_table, $1
		FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::smallint[], $9::text[],
			$10::timestamptz[], $11::integer[], $12::boolean[], $13::text[], $14::integer[], $15::numeric[], $16::numeric[],
			$17::text[], $18::text[])
			WITH ORDINALITY AS u(node, id, tenant_id, provider_id, tenant_ref, provider_ref, kind, number,
				start, duration, rated, reason, billed, cost, provider_cost, prefix, rate_table, ord)
		ORDER BY u.ord
		ON CONFLICT (node, id) DO NOTHING
		RETURNING node, id`, b.tx.now, nodes, ids, tenants, providers, tenantRefs, providerRefs, kinds, numbers,
		starts, durations, rated, reasons, billed, costs, providerCosts, prefixes, tables)
	if err != nil {
		return nil, err
	}
	stored := make(map[cdrKey]bool, n)
	var k cdrKey
	for rows.Next() {
		if err := rows.Scan(&k.node, &k.id); err != nil {
			rows.Close()
			return nil, err
		}
		stored[k] = true
	}
	return stored, rows.Err()
}

// optionalID is an account id as a nullable column: 0 is NULL.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// result is a CDR just posted as the API answers it, with its accounts'
// names.
func (b *cdrBatch) result(r *cdrRow) rating.CDR {
	c := r.cdr()
	if t := b.tenants[r.TenantID]; t != nil {
		c.Tenant = t.Name
	}
	if p := b.providers[r.ProviderID]; p != nil {
		c.Provider = p.Name
	}
	return c
}

// cdr converts a record with the references as posted.
func (r *cdrRow) cdr() rating.CDR {
	status := rating.Unrated
	if r.Rated {
		status = rating.Rated
	}
	return rating.CDR{ID: r.ID, Node: r.Node, Tenant: r.TenantRef, Kind: r.Kind, Number: r.Number,
		Provider: r.ProviderRef, Start: r.Start, Duration: r.Duration, Status: status,
		Reason: r.Reason, Billed: r.Billed, Cost: r.Cost, ProviderCost: r.ProviderCost,
		Prefix: r.Prefix, RateTable: r.Table, Received: r.Received}
}
