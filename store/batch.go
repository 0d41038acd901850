package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// batch is one transaction's worth of CDR work. It reads each account it
// touches once, keeps its balance and the day roll-up deltas in memory, and
// writes them back once in flush: a batch of ten thousand CDRs for one
// tenant decodes and encodes that tenant once, not ten thousand times.
type batch struct {
	s  *Store
	tx *txn

	cdrs, keys, unrated, starts *bolt.Bucket
	ledgers                     map[uint64]*bolt.Bucket // account ledgers, by id<<1 | provider

	tenants     map[uint64]*tenantRecord
	was         map[uint64]rating.Tenant // each tenant as the batch first read it, for its state alerts
	tenantRefs  map[string]uint64        // accountcode or name → id; 0: unknown
	providers   map[uint64]*providerRecord
	providerRef map[string]uint64 // name or trunk → id, built on first use
	dirtyT      map[uint64]bool
	dirtyP      map[uint64]bool
	rollups     map[rollupID]rating.Usage // deltas
	arena       arena
}

// arena hands out the keys and values of one transaction from large
// chunks. bbolt keeps every slice given to Put until the commit, so each
// needs memory of its own; a chunk per 64 KiB instead of an allocation
// per slice spares the garbage collector millions of small objects.
type arena struct{ buf []byte }

// take returns n bytes of length 0 and capacity n.
func (a *arena) take(n int) []byte {
	if n > cap(a.buf)-len(a.buf) {
		a.buf = make([]byte, 0, max(n, 64<<10))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	return a.buf[start : start : start+n]
}

// u64 returns v as an 8-byte big-endian key.
func (a *arena) u64(v uint64) []byte { return binary.BigEndian.AppendUint64(a.take(8), v) }

type rollupID struct {
	acct byte
	id   uint64
	day  uint32
}

func (s *Store) newBatch(tx *txn) *batch {
	b := &batch{s: s, tx: tx,
		cdrs: tx.Bucket(bucketCDRs), keys: tx.Bucket(bucketCDRKeys), unrated: tx.Bucket(bucketUnrated),
		starts:  tx.Bucket(bucketCDRStarts),
		ledgers: map[uint64]*bolt.Bucket{},
		tenants: map[uint64]*tenantRecord{}, was: map[uint64]rating.Tenant{}, tenantRefs: map[string]uint64{},
		providers: map[uint64]*providerRecord{}, dirtyT: map[uint64]bool{}, dirtyP: map[uint64]bool{},
		rollups: map[rollupID]rating.Usage{}}
	// CDRs and the unrated index only grow at the end: full pages.
	b.cdrs.FillPercent, b.unrated.FillPercent = 1, 1
	return b
}

// tenantID resolves a CDR's tenant reference: accountcode first, since
// that is what a PBX writes, then name. 0 means no such tenant.
func (b *batch) tenantID(ref string) uint64 {
	if id, ok := b.tenantRefs[ref]; ok {
		return id
	}
	var id uint64
	if v := b.tx.Bucket(bucketTenantCodes).Get([]byte(ref)); v != nil {
		id = btoi(v)
	} else if v := b.tx.Bucket(bucketTenantNames).Get([]byte(ref)); v != nil {
		id = btoi(v)
	}
	b.tenantRefs[ref] = id
	return id
}

// tenant returns the cached record of tenant id, nil for id 0.
func (b *batch) tenant(id uint64) (*tenantRecord, error) {
	if id == 0 {
		return nil, nil
	}
	if t := b.tenants[id]; t != nil {
		return t, nil
	}
	rec, err := getTenantByID(b.tx.Tx, id)
	if err != nil {
		return nil, err
	}
	b.tenants[id], b.was[id] = &rec, rec.Tenant
	return &rec, nil
}

// providerID resolves a provider by name, then by trunk; 0 means none.
func (b *batch) providerID(ref string) uint64 {
	if b.providerRef == nil {
		b.providerRef = map[string]uint64{}
		byName := map[string]uint64{}
		_ = eachProvider(b.tx.Tx, func(p *providerRecord) error {
			byName[p.Name] = p.ID
			if p.Trunk != "" {
				b.providerRef[p.Trunk] = p.ID
			}
			return nil
		})
		for name, id := range byName { // a name wins over a trunk
			b.providerRef[name] = id
		}
	}
	return b.providerRef[ref]
}

// provider returns the cached record of provider id, nil for id 0.
func (b *batch) provider(id uint64) (*providerRecord, error) {
	if id == 0 {
		return nil, nil
	}
	if p := b.providers[id]; p != nil {
		return p, nil
	}
	rec, err := getProviderByID(b.tx.Tx, id)
	if err != nil {
		return nil, err
	}
	b.providers[id] = &rec
	return &rec, nil
}

// roll adds u to an account's day.
func (b *batch) roll(acct byte, id uint64, day uint32, u rating.Usage) {
	k := rollupID{acct, id, day}
	cur := b.rollups[k]
	cur.Add(u)
	b.rollups[k] = cur
}

// book appends one ledger entry to an account and moves its cached
// balance, by rating.Post's rule. It is the one way into the ledger: CDR
// charges and corrections, top-ups and adjustments all take it, so every
// entry carries the balance after it and no balance leaves the range.
func (b *batch) book(acct byte, id uint64, amount rating.Money, kind, ref string) (rating.Entry, error) {
	var bal *rating.Money
	var name string
	if acct == tenantAcct {
		t, err := b.tenant(id)
		if err != nil {
			return rating.Entry{}, err
		}
		bal, name = &t.Balance, t.Name
		b.dirtyT[id] = true
	} else {
		p, err := b.provider(id)
		if err != nil {
			return rating.Entry{}, err
		}
		bal, name = &p.Balance, p.Name
		b.dirtyP[id] = true
	}
	after, err := rating.PostEntry(name, *bal, amount, kind, ref)
	if err != nil {
		return rating.Entry{}, err
	}
	*bal = after
	lk := id<<1 | uint64(acct-tenantAcct)
	ab := b.ledgers[lk]
	if ab == nil {
		var err error
		if ab, err = accountLedger(b.tx.Tx, acct, id); err != nil {
			return rating.Entry{}, err
		}
		b.ledgers[lk] = ab
	}
	rec, err := putEntry(b.tx.Tx, ab, &b.arena, acct, id, b.tx.now, amount, kind, ref, after)
	if err != nil {
		return rating.Entry{}, err
	}
	return rec.entry(name), nil
}

// flush writes the touched balances and adds the roll-up deltas. A
// roll-up is kept within ±MaxMoney, as a balance is, so that the sums the
// dashboards make of them stay exact.
func (b *batch) flush() error {
	if err := b.queueAlerts(); err != nil {
		return err
	}
	for id := range b.dirtyT {
		if err := putTenant(b.tx.Tx, b.tenants[id]); err != nil {
			return err
		}
	}
	for id := range b.dirtyP {
		if err := putProvider(b.tx.Tx, b.providers[id]); err != nil {
			return err
		}
	}
	rb := b.tx.Bucket(bucketRollups)
	for k, d := range b.rollups {
		key := rollupKey(k.acct, k.id, k.day)
		u := decodeUsage(rb.Get(key))
		u.Add(d)
		if !u.Sell.InRange() || !u.Buy.InRange() {
			return rating.Errorf(rating.EInvalid, "the roll-up of %s on %d would be %s sold and %s bought, beyond ±%s",
				b.accountName(k.acct, k.id), k.day, u.Sell, u.Buy, rating.MaxMoney)
		}
		if err := rb.Put(key, encodeUsage(&u)); err != nil {
			return err
		}
	}
	return nil
}

// accountName names an account for an error: its type and name.
func (b *batch) accountName(acct byte, id uint64) string {
	if acct == tenantAcct {
		if t, err := b.tenant(id); err == nil && t != nil {
			return fmt.Sprintf("tenant %q", t.Name)
		}
	} else if p, err := b.provider(id); err == nil && p != nil {
		return fmt.Sprintf("provider %q", p.Name)
	}
	return fmt.Sprintf("%s %d", acctName(acct), id)
}
