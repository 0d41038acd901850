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
	if b.keys.Get(key) != nil {
		c.Status, c.Cost, c.ProviderCost = rating.Duplicate, rating.NoMoney, rating.NoMoney
		return nil
	}
	rec := cdrRecord{Start: c.Start, Kind: c.Kind, Duration: c.Duration, Received: b.tx.now,
		ID: c.ID, Node: node, TenantRef: c.Tenant, ProviderRef: c.Provider, Number: c.Number}
	if c.Provider != "" {
		if rec.ProviderID = b.providerID(c.Provider); rec.ProviderID == 0 {
			return rating.Errorf(rating.EInvalid, "cdr %q: provider %q: no provider has that name or trunk", c.ID, c.Provider)
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
	if rec.Status == statusUnrated {
		if err := b.unrated.Put(sk, nil); err != nil {
			return err
		}
	}
	if err := b.apply(&cdrRecord{Cost: rating.NoMoney, ProviderCost: rating.NoMoney, Status: statusUnrated}, &rec, true); err != nil {
		return err
	}
	*c = b.result(&rec)
	return nil
}

// price sets a record's status and prices from the tables as they are now,
// through the one resolution of rating.Rater.
func (b *batch) price(rec *cdrRecord) error {
	rec.Status, rec.Reason, rec.Billed, rec.Prefix, rec.RateTable = statusUnrated, "", 0, "", ""
	rec.Cost, rec.ProviderCost = rating.NoMoney, rating.NoMoney
	t, err := b.tenant(rec.TenantID)
	if err != nil {
		return err
	}
	var tenant *rating.Tenant
	if t != nil {
		tenant = &t.Tenant
	}
	res := b.s.rater.Resolve(tenant, rec.Kind, rec.Number, rec.Start)
	if !res.Rated() {
		rec.Reason = res.UnratedReason()
		return nil
	}
	q := res.Rate.Price(rec.Duration)
	rec.Status, rec.Billed, rec.Cost, rec.Prefix, rec.RateTable = statusRated, q.Billed, q.Cost, res.Rate.Prefix, res.Table
	if rec.ProviderID == 0 {
		return nil
	}
	p, err := b.provider(rec.ProviderID)
	if err != nil {
		return err
	}
	if table := p.TableFor(rec.Kind); table != "" {
		if pr := b.s.rater.ResolveIn(table, res.Number, rec.Start); pr.Rated() {
			rec.ProviderCost = pr.Rate.Price(rec.Duration).Cost
		}
	}
	return nil
}

// apply books the difference between what a CDR was (old) and what it is
// now (rec): the roll-ups of its day, and ledger entries for changed
// money. A new CDR comes from an empty old record and counts as an
// attempt. Its first charge is a charge; a change to a charged price is a
// correction.
func (b *batch) apply(old, rec *cdrRecord, isNew bool) error {
	day := dayOf(rec.Start, b.s.loc)
	count := rating.Usage{Attempts: 1, Seconds: int64(rec.Duration)}
	if rec.Duration > 0 {
		count.Answered = 1
	}
	money := rating.Usage{Billed: int64(rec.Billed - old.Billed),
		Sell: orZero(rec.Cost).Sub(orZero(old.Cost)), Buy: orZero(rec.ProviderCost).Sub(orZero(old.ProviderCost))}
	if rec.TenantID != 0 {
		u := money
		if isNew || old.TenantID == 0 {
			u.Add(count)
		}
		b.roll(tenantAcct, rec.TenantID, day, u)
	}
	if rec.ProviderID != 0 {
		u := money
		if isNew {
			u.Add(count)
		}
		b.roll(providerAcct, rec.ProviderID, day, u)
	}
	kind := rating.Correction
	if old.Status != statusRated {
		kind = rating.Charge
	}
	if money.Sell.Sign() != 0 {
		if err := b.charge(tenantAcct, rec.TenantID, money.Sell.Neg(), kind, rec.ID); err != nil {
			return err
		}
	}
	if money.Buy.Sign() != 0 && rec.ProviderID != 0 {
		if err := b.charge(providerAcct, rec.ProviderID, money.Buy.Neg(), kind, rec.ID); err != nil {
			return err
		}
	}
	return nil
}

func orZero(a rating.Money) rating.Money {
	if !a.Set() {
		return rating.Money{}
	}
	return a
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
