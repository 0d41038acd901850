package store

import (
	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

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
// A single CDR joins a group commit (group.go), so that concurrent posts
// from many PBX channels share one transaction and one fsync instead of
// paying one each.
func (s *Store) PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error) {
	return s.postCDRs(node, cdrs, nil)
}

func (s *Store) postCDRs(node string, cdrs []rating.CDR, pos *FollowPos) (rating.Posted, error) {
	for i := range cdrs {
		if cdrs[i].Kind == 0 {
			cdrs[i].Kind = rating.Outbound
		}
		if err := cdrs[i].Validate(); err != nil {
			return rating.Posted{}, err
		}
	}
	if len(cdrs) == 1 && pos == nil {
		c, err := s.postOne(node, cdrs[0])
		if err != nil {
			return rating.Posted{}, err
		}
		out := rating.Posted{Results: []rating.CDR{c}}
		out.Count(&c)
		return out, nil
	}
	var out rating.Posted
	fn := func(tx *bolt.Tx) error {
		out = rating.Posted{Results: make([]rating.CDR, len(cdrs))}
		copy(out.Results, cdrs)
		b := s.newBatch(&txn{Tx: tx, now: s.now().UTC()})
		for i := range out.Results {
			if err := b.post(node, &out.Results[i]); err != nil {
				return err
			}
			out.Count(&out.Results[i])
		}
		if pos != nil {
			if err := putJSON(tx.Bucket(bucketFollow), []byte(pos.Path), pos); err != nil {
				return err
			}
		}
		return b.flush()
	}
	if err := s.db.Update(fn); err != nil {
		return rating.Posted{}, err
	}
	return out, nil
}

// post stores, prices, charges and rolls up one CDR, or marks it a
// duplicate.
func (b *batch) post(node string, c *rating.CDR) error {
	key := b.cdrKey(node, c.ID)
	if err := b.releaseHold(key); err != nil {
		return err
	}
	if b.keys.Get(key) != nil {
		c.Status, c.Cost, c.ProviderCost = rating.Duplicate, rating.NoMoney, rating.NoMoney
		return nil
	}
	rec := cdrRecord{Start: c.Start, Kind: c.Kind, Duration: c.Duration, Received: b.tx.now,
		ID: c.ID, Node: node, TenantRef: c.Tenant, ProviderRef: c.Provider, Number: c.Number}
	if c.Provider != "" {
		if rec.ProviderID = b.providerID(c.Provider); rec.ProviderID == 0 {
			return rating.Errorf(rating.EInvalid, "cdr %s: provider %s: no provider has that name or trunk", rating.Excerpt(c.ID), rating.Excerpt(c.Provider))
		}
	}
	rec.TenantID = b.tenantID(c.Tenant)
	if err := b.price(&rec); err != nil {
		return err
	}
	seq, err := b.cdrs.NextSequence()
	if err != nil {
		return err
	}
	sk := b.arena.u64(seq)
	if err := b.cdrs.Put(sk, rec.encode(b.arena.take(rec.size()))); err != nil {
		return err
	}
	if err := b.keys.Put(key, sk); err != nil {
		return err
	}
	if err := b.starts.Put(appendStartKey(b.arena.take(startKeyLen), rec.Start.UnixNano(), seq), nil); err != nil {
		return err
	}
	if rec.Status == statusUnrated {
		if err := b.unrated.Put(sk, nil); err != nil {
			return err
		}
	}
	if err := b.apply(rating.Unpriced, &rec, true); err != nil {
		return err
	}
	*c = b.result(&rec)
	return nil
}

// price prices a record from the tables as they are now: rating decides
// (Rater.PriceCDR), the record keeps it.
func (b *batch) price(rec *cdrRecord) error {
	t, err := b.tenant(rec.TenantID)
	if err != nil {
		return err
	}
	var tenant *rating.Tenant
	if t != nil {
		tenant = &t.Tenant
	}
	var provider *rating.Provider
	if rec.ProviderID != 0 {
		p, err := b.provider(rec.ProviderID)
		if err != nil {
			return err
		}
		provider = &p.Provider
	}
	rec.setPricing(b.s.rater.PriceCDR(tenant, provider, rec.Kind, rec.Number, rec.Start, rec.Duration))
	return nil
}

// apply writes the bill of a CDR whose prices went from was to what rec
// holds now (rating.BillCDR): the roll-ups of its day, and a ledger entry
// on each account whose money changed. fresh marks a CDR posted now.
func (b *batch) apply(was rating.Pricing, rec *cdrRecord, fresh bool) error {
	bill := rating.BillCDR(was, rec.pricing(), rec.Duration, fresh, rec.ProviderID != 0)
	day := dayOf(rec.Start, b.s.loc)
	if rec.TenantID != 0 {
		b.roll(tenantAcct, rec.TenantID, day, bill.Tenant)
		if bill.TenantAmount.Sign() != 0 {
			if _, err := b.book(tenantAcct, rec.TenantID, bill.TenantAmount, bill.Kind, rec.ID); err != nil {
				return err
			}
		}
	}
	if rec.ProviderID != 0 {
		b.roll(providerAcct, rec.ProviderID, day, bill.Provider)
		if bill.ProviderAmount.Sign() != 0 {
			if _, err := b.book(providerAcct, rec.ProviderID, bill.ProviderAmount, bill.Kind, rec.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// pricing is what rating decided for the record.
func (rec *cdrRecord) pricing() rating.Pricing {
	return rating.Pricing{Rated: rec.Status == statusRated, Reason: rec.Reason, Billed: rec.Billed,
		Cost: rec.Cost, ProviderCost: rec.ProviderCost, Prefix: rec.Prefix, Table: rec.RateTable}
}

// setPricing keeps what rating decided in the record.
func (rec *cdrRecord) setPricing(p rating.Pricing) {
	rec.Status = statusUnrated
	if p.Rated {
		rec.Status = statusRated
	}
	rec.Reason, rec.Billed, rec.Cost, rec.ProviderCost, rec.Prefix, rec.RateTable =
		p.Reason, p.Billed, p.Cost, p.ProviderCost, p.Prefix, p.Table
}

// result is the CDR as the API answers it.
func (b *batch) result(rec *cdrRecord) rating.CDR {
	c := rec.cdr()
	if t, _ := b.tenant(rec.TenantID); t != nil {
		c.Tenant = t.Name
	}
	if p, _ := b.provider(rec.ProviderID); p != nil {
		c.Provider = p.Name
	}
	return c
}

// cdr converts a record with the references as posted.
func (rec *cdrRecord) cdr() rating.CDR {
	c := rating.CDR{ID: rec.ID, Node: rec.Node, Tenant: rec.TenantRef, Kind: rec.Kind, Number: rec.Number,
		Provider: rec.ProviderRef, Start: rec.Start, Duration: rec.Duration, Status: statusName(rec.Status),
		Reason: rec.Reason, Billed: rec.Billed, Cost: rec.Cost, ProviderCost: rec.ProviderCost,
		Prefix: rec.Prefix, RateTable: rec.RateTable, Received: rec.Received}
	return c
}
