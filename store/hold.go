package store

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Holds (DOMAIN.md "Holding credit for calls in progress") live twice: in
// memory, where every authorization reads them under one lock, and in the
// holds bucket, so that a restart keeps them. An authorization decides and
// reserves its hold under the lock, then commits it through the group
// commit that single CDR posts take, and answers once it is durable: many
// channels share one fsync, and no two decisions see the same free credit.
//
// A hold leaves memory only after the transaction that removes it from the
// bucket has committed (a CDR, a release by hand, an expiry). Between that
// commit and the drop an authorization sees the new balance and the old
// hold together: it may refuse a call it could allow, never the reverse.
var (
	bucketHolds   = []byte("holds")         // node 0x00 call → holdRecord JSON
	bucketExpired = []byte("holds_expired") // sequence → holdRecord JSON: the last maxExpired expired holds
)

// maxExpired bounds the expired holds kept for the admin to see: each
// means a PBX that did not send a CDR, so the recent ones are what count.
const maxExpired = 1000

// holdRecord is a hold as stored.
type holdRecord struct {
	TenantID uint64 `json:"tenant_id"`
	rating.Hold
}

// heldCall is an open hold in memory. ready is closed once its commit has
// ended, with err its failure; a retried authorization waits for it.
type heldCall struct {
	holdRecord
	key   string
	ready chan struct{}
	err   error
	// at is the hold's index in its tenant's heap, -1 once it has left
	// the tenant's sum (expired, or removed).
	at int
}

// holdBook is the memory side of the holds.
type holdBook struct {
	mu      sync.Mutex
	calls   map[string]*heldCall
	tenants map[uint64]*tenantHolds
	// decoded keeps each tenant's record as last decoded, with the bytes
	// it was decoded from: an authorization compares the stored bytes and
	// decodes only a record that changed, which spares the JSON decoding
	// of the hot path without any invalidation to get wrong.
	decoded map[uint64]decodedTenant
	n       atomic.Int64 // len(calls), read without the lock by CDR posts

	opened, byCDR, byHand, expired atomic.Uint64
}

// tenantHolds keeps a tenant's open holds summed, and in a heap by expiry,
// so that an authorization reads the sum in time that does not grow with
// the tenant's calls in progress: a trunk with thousands of channels open
// must not slow every authorization down.
type tenantHolds struct {
	sum  rating.Money
	n    int
	heap byExpiry
}

func newHoldBook() *holdBook {
	return &holdBook{calls: map[string]*heldCall{}, tenants: map[uint64]*tenantHolds{}, decoded: map[uint64]decodedTenant{}}
}

type decodedTenant struct {
	raw []byte
	rec tenantRecord
}

// tenant reads tenant id in tx, decoding its record only when its bytes
// differ from the last decoded ones; the caller holds mu.
func (b *holdBook) tenant(tx *bolt.Tx, id uint64) (tenantRecord, error) {
	v := tx.Bucket(bucketTenants).Get(itob(id))
	if d, ok := b.decoded[id]; ok && v != nil && bytes.Equal(d.raw, v) {
		return d.rec, nil
	}
	rec, err := getTenantByID(tx, id)
	if err == nil && v != nil {
		if len(b.decoded) > 10000 { // a bound, not a policy: tenants are few
			clear(b.decoded)
		}
		b.decoded[id] = decodedTenant{raw: bytes.Clone(v), rec: rec}
	}
	return rec, err
}

// add files h and counts it; the caller holds mu.
func (b *holdBook) add(h *heldCall) {
	b.calls[h.key] = h
	th := b.tenants[h.TenantID]
	if th == nil {
		th = &tenantHolds{}
		b.tenants[h.TenantID] = th
	}
	th.sum, th.n = th.sum.Add(h.Amount), th.n+1
	heap.Push(&th.heap, h)
	b.n.Add(1)
}

// remove takes h out if it is still the hold of its key; the caller holds
// mu. It reports whether it did.
func (b *holdBook) remove(h *heldCall) bool {
	if b.calls[h.key] != h {
		return false
	}
	delete(b.calls, h.key)
	if th := b.tenants[h.TenantID]; th != nil {
		if h.at >= 0 {
			heap.Remove(&th.heap, h.at)
			th.sum, th.n = th.sum.Sub(h.Amount), th.n-1
		}
		if th.n == 0 {
			delete(b.tenants, h.TenantID)
		}
	}
	b.n.Add(-1)
	return true
}

// drop removes the hold of key after the commit that deleted it, and
// counts why.
func (b *holdBook) drop(h *heldCall, why *atomic.Uint64) {
	b.mu.Lock()
	ok := b.remove(h)
	b.mu.Unlock()
	if ok {
		why.Add(1)
	}
}

// stored returns the committed hold of key, nil when there is none.
func (b *holdBook) stored(key string) *heldCall {
	if b.n.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.calls[key]
	if h == nil || !h.stored() {
		return nil
	}
	return h
}

// held is the sum and number of the tenant's holds open at now; the
// caller holds mu. The holds expired by now leave the sum here, at the
// instant they stop setting credit aside, and stay listed until
// ExpireHolds takes them off.
func (b *holdBook) held(tenant uint64, now time.Time) (rating.Money, int) {
	th := b.tenants[tenant]
	if th == nil {
		return rating.Money{}, 0
	}
	for len(th.heap) > 0 && !th.heap[0].Open(now) {
		h := heap.Pop(&th.heap).(*heldCall)
		th.sum, th.n = th.sum.Sub(h.Amount), th.n-1
	}
	return th.sum, th.n
}

// byExpiry is a heap of holds, the first to expire on top.
type byExpiry []*heldCall

func (q byExpiry) Len() int           { return len(q) }
func (q byExpiry) Less(i, j int) bool { return q[i].Expires.Before(q[j].Expires) }
func (q byExpiry) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].at, q[j].at = i, j
}
func (q *byExpiry) Push(x any) {
	h := x.(*heldCall)
	h.at = len(*q)
	*q = append(*q, h)
}
func (q *byExpiry) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	h.at = -1
	return h
}

// stored reports whether h's commit has ended, and stored it.
func (h *heldCall) stored() bool {
	select {
	case <-h.ready:
		return h.err == nil
	default:
		return false
	}
}

// Authorize answers an authorization (DOMAIN.md "Authorizing a call") with
// one read of the tenant, under the holds' lock: the tenant q names (name
// first, then accountcode), its spend today and its open holds as they are
// at this instant. q.Resolve resolves the call for the tenant found. A
// call whose hold is open answers that hold's grant again, before any
// other rule, and opens nothing; otherwise rating.Authorize decides, and
// with a call id an allowed call's hold is reserved under the lock and the
// answer waits until it is stored. A CDR that charged the tenant meanwhile
// is seen with its hold still set aside, never without it.
func (s *Store) Authorize(q rating.CallQuery) (rating.CallAnswer, error) {
	hb := s.holds
	now := s.now()
	var key string
	if q.Call != "" {
		key = string(cdrKey(q.Node, q.Call))
	}
	var ans rating.CallAnswer
	hb.mu.Lock()
	rec, com, err := s.commitments(q.Tenant, now, true)
	switch {
	case err == nil:
		ans.Tenant = &rec.Tenant
	case rating.ErrorCode(err) != rating.ENotFound:
		hb.mu.Unlock()
		return ans, err
	}
	ans.Resolution = q.Resolve(ans.Tenant)
	if h := hb.calls[key]; h != nil && h.Open(now) {
		hb.mu.Unlock()
		if <-h.ready; h.err != nil {
			return ans, h.err
		}
		ans.Authorization = rating.Regrant(ans.Tenant, &h.Hold, com)
		hold := h.Hold
		ans.Hold = &hold
		return ans, nil
	}
	if key != "" && s.cdrStored(key) {
		key = "" // a late retry of a call already billed: nothing to hold
	}
	a := rating.Authorize(ans.Tenant, &ans.Resolution, q.MaxCall, com, key != "")
	ans.Authorization = a
	if !a.Allowed || key == "" {
		hb.mu.Unlock()
		return ans, nil
	}
	h := &heldCall{key: key, ready: make(chan struct{}),
		holdRecord: holdRecord{TenantID: rec.ID, Hold: rating.NewHold(rec.Name, q.Node, q.Call, &a, now, s.holdSlack)}}
	if old := hb.calls[key]; old != nil {
		hb.remove(old) // the same call id again after its hold expired: the new hold replaces it
	}
	hb.add(h)
	hb.mu.Unlock()

	err = s.postHold(h)
	h.err = err
	close(h.ready)
	if err != nil {
		hb.mu.Lock()
		hb.remove(h)
		hb.mu.Unlock()
		return ans, err
	}
	hb.opened.Add(1)
	ans.Free = a.Free.Sub(a.Hold) // what is left once this call holds its part
	hold := h.Hold
	ans.Hold = &hold
	return ans, nil
}

// cdrStored reports whether the CDR of a call's key (node, id) is stored:
// its call has ended and been billed, so an authorization of it that
// arrives now, a late retry, must hold nothing, or the hold would stay
// until it expired.
func (s *Store) cdrStored(key string) bool {
	found := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketCDRKeys).Get([]byte(key)) != nil
		return nil
	})
	return found
}

// commitments reads the tenant ref names (by name, then with byCode by
// accountcode) and what it has committed at now: its open holds, and its
// spend today from the day's roll-up. The caller holds s.holds.mu.
func (s *Store) commitments(ref string, now time.Time, byCode bool) (tenantRecord, rating.Commitments, error) {
	var rec tenantRecord
	var com rating.Commitments
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bucketTenantNames).Get([]byte(ref))
		if id == nil && byCode {
			id = tx.Bucket(bucketTenantCodes).Get([]byte(ref))
		}
		if id == nil {
			return rating.Errorf(rating.ENotFound, "no tenant has the name %s", rating.Excerpt(ref))
		}
		if rec, err = s.holds.tenant(tx, btoi(id)); err != nil {
			return err
		}
		u := decodeUsage(tx.Bucket(bucketRollups).Get(rollupKey(tenantAcct, rec.ID, dayOf(now, s.loc))))
		com.SpentToday = u.Sell
		return nil
	})
	if err == nil {
		com.Held, com.Calls = s.holds.held(rec.ID, now)
	}
	return rec, com, err
}

// Commitments is what the tenant named name has committed now: its open
// holds and its spend today. The tenant pages show it, with the free
// credit it leaves.
func (s *Store) Commitments(name string) (rating.Commitments, error) {
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	_, com, err := s.commitments(name, s.now(), false)
	return com, err
}

// AllCommitments is every tenant's commitments now, by name, in one read:
// what a list of tenants shows.
func (s *Store) AllCommitments() (map[string]rating.Commitments, error) {
	now := s.now()
	today := dayOf(now, s.loc)
	out := map[string]rating.Commitments{}
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	err := s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRollups)
		return tx.Bucket(bucketTenantNames).ForEach(func(name, id []byte) error {
			var c rating.Commitments
			c.SpentToday = decodeUsage(rb.Get(rollupKey(tenantAcct, btoi(id), today))).Sell
			c.Held, c.Calls = s.holds.held(btoi(id), now)
			out[string(name)] = c
			return nil
		})
	})
	return out, err
}

// Holds lists the holds open now, oldest first; tenant "" lists every
// tenant's. A tenant is matched by its id, so a renamed tenant keeps its
// holds; they show the name they were opened under.
func (s *Store) Holds(tenant string) ([]rating.Hold, error) {
	id, err := s.tenantID(tenant)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []rating.Hold{}
	s.holds.mu.Lock()
	for _, h := range s.holds.calls {
		if h.Open(now) && h.stored() && (id == 0 || h.TenantID == id) {
			out = append(out, h.Hold)
		}
	}
	s.holds.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Opened.Equal(out[j].Opened) {
			return out[i].Opened.Before(out[j].Opened)
		}
		return out[i].Call < out[j].Call
	})
	return out, nil
}

// ExpiredHolds lists up to limit of the holds that expired without a CDR,
// newest first: each is a PBX that did not send one in time.
func (s *Store) ExpiredHolds(tenant string, limit int) ([]rating.Hold, error) {
	id, err := s.tenantID(tenant)
	if err != nil {
		return nil, err
	}
	out := []rating.Hold{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketExpired)
		if b == nil { // an older file, opened read-only
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var rec holdRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if id == 0 || rec.TenantID == id {
				out = append(out, rec.Hold)
			}
		}
		return nil
	})
	return out, err
}

// tenantID is the id of the tenant named name, 0 for "", ENotFound for
// no such tenant.
func (s *Store) tenantID(name string) (uint64, error) {
	if name == "" {
		return 0, nil
	}
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTenantNames).Get([]byte(name))
		if v == nil {
			return rating.Errorf(rating.ENotFound, "tenant %s not found", rating.Excerpt(name))
		}
		id = btoi(v)
		return nil
	})
	return id, err
}

// ReleaseHold releases the open hold of (node, call) without a CDR: the
// call never connected. It is ENotFound when none is open.
func (s *Store) ReleaseHold(node, call string) error {
	key := string(cdrKey(node, call))
	h := s.holds.stored(key)
	if h == nil || !h.Open(s.now()) {
		return rating.Errorf(rating.ENotFound, "no hold is open for call %s", rating.Excerpt(call))
	}
	return s.update(func(tx *txn) error {
		if err := tx.Bucket(bucketHolds).Delete([]byte(key)); err != nil {
			return err
		}
		tx.OnCommit(func() { s.holds.drop(h, &s.holds.byHand) })
		return nil
	})
}

// HoldStats counts the holds opened, released and expired since start.
func (s *Store) HoldStats() rating.HoldStats {
	hb := s.holds
	return rating.HoldStats{Opened: hb.opened.Load(), ReleasedByCDR: hb.byCDR.Load(),
		ReleasedByHand: hb.byHand.Load(), Expired: hb.expired.Load()}
}

// releaseHold releases the hold of a CDR's key in the transaction that
// processes the CDR, whatever its status: the call is over.
func (b *batch) releaseHold(key []byte) error {
	hb := b.s.holds
	h := hb.stored(string(key))
	if h == nil {
		return nil
	}
	if err := b.tx.Bucket(bucketHolds).Delete(key); err != nil {
		return err
	}
	b.tx.OnCommit(func() { hb.drop(h, &hb.byCDR) })
	return nil
}

// putHold stores a hold in a group's transaction.
func putHold(tx *bolt.Tx, h *heldCall) error {
	return putJSON(tx.Bucket(bucketHolds), []byte(h.key), &h.holdRecord)
}

// loadHolds reads the stored holds into memory at Open.
func (s *Store) loadHolds(tx *bolt.Tx) error {
	b := tx.Bucket(bucketHolds)
	if b == nil {
		return nil
	}
	ready := make(chan struct{})
	close(ready)
	return b.ForEach(func(k, v []byte) error {
		h := &heldCall{key: string(k), ready: ready}
		if err := json.Unmarshal(v, &h.holdRecord); err != nil {
			return err
		}
		s.holds.add(h)
		return nil
	})
}

// ExpireHolds moves the holds expired by now out of the holds bucket into
// the expired ones, keeping the last maxExpired. An expired hold already
// sets nothing aside (Hold.Open); this takes it off the list. Open runs it
// once, for the expiries of the downtime; the server runs it every few
// seconds. It answers the holds it took off, for the log.
func (s *Store) ExpireHolds() ([]rating.Hold, error) {
	now := s.now()
	var due []*heldCall
	s.holds.mu.Lock()
	for _, h := range s.holds.calls {
		if !h.Open(now) && h.stored() {
			due = append(due, h)
		}
	}
	s.holds.mu.Unlock()
	if len(due) == 0 {
		return nil, nil
	}
	var gone []rating.Hold
	err := s.update(func(tx *txn) error {
		gone = gone[:0]
		hb, eb := tx.Bucket(bucketHolds), tx.Bucket(bucketExpired)
		for _, h := range due {
			if hb.Get([]byte(h.key)) == nil {
				continue // its CDR came meanwhile
			}
			if err := hb.Delete([]byte(h.key)); err != nil {
				return err
			}
			seq, err := eb.NextSequence()
			if err != nil {
				return err
			}
			if err := putJSON(eb, itob(seq), &h.holdRecord); err != nil {
				return err
			}
			tx.OnCommit(func() { s.holds.drop(h, &s.holds.expired) })
			gone = append(gone, h.Hold)
			if _, err := queueEvent(tx.Tx, tx.now, rating.EventHoldExpired, h.Hold); err != nil {
				return err // the PBX may not be sending CDRs: an alert
			}
		}
		return trimBucket(eb, maxExpired)
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}

// trimBucket deletes the first keys of b until at most keep are left.
// The keys are gathered first: a bbolt cursor skips keys when deleting
// as it moves.
func trimBucket(b *bolt.Bucket, keep int) error {
	n := b.Stats().KeyN
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && n-len(old) > keep; k, _ = c.Next() {
		old = append(old, k)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
