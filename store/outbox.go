package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// The outbox (DOMAIN.md "Alerts"): every event is written in the
// transaction of the change that causes it, so a crash loses none; the
// deliverer reads the pending ones and records each attempt.
var (
	bucketOutbox        = []byte("outbox")         // sequence → rating.Event JSON
	bucketOutboxPending = []byte("outbox_pending") // sequence → empty, the events not done
)

// queueEvent writes an event of typ with data to the outbox of tx. Its id
// joins the outbox sequence to random bits: a database restored from a
// backup reuses sequence numbers, and a receiver that drops repeats by id
// must not drop a new event as one it saw before the restore.
func queueEvent(tx *bolt.Tx, now time.Time, typ string, data any) (rating.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return rating.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	ob := tx.Bucket(bucketOutbox)
	seq, err := nextID(ob)
	if err != nil {
		return rating.Event{}, err
	}
	ev := rating.Event{ID: EventID(seq), Seq: seq,
		Type: typ, Time: now, Data: raw, Deliveries: []rating.Delivery{}}
	if err := putJSON(ob, itob(seq), &ev); err != nil {
		return rating.Event{}, err
	}
	return ev, tx.Bucket(bucketOutboxPending).Put(itob(seq), nil)
}

// QueueEvent writes one event to the outbox in a transaction of its own:
// the admin's test event.
func (s *Store) QueueEvent(typ string, data any) (rating.Event, error) {
	var ev rating.Event
	err := s.update(func(tx *txn) (err error) {
		ev, err = queueEvent(tx.Tx, tx.now, typ, data)
		return err
	})
	return ev, err
}

// queueAlerts writes the events that the batch's changes cause, before
// flush stores them: a tenant whose billing state changed, and a tenant
// whose spend today reached its daily spend limit. The stored records are
// still the old ones here. It is the one alert hook of the ledger path.
func (b *batch) queueAlerts() error {
	ids := make([]uint64, 0, len(b.dirtyT))
	for id := range b.dirtyT {
		ids = append(ids, id)
	}
	slices.Sort(ids) // events in a stable order
	for _, id := range ids {
		// The tenant as the batch first read it is the stored one: only
		// this batch has changed it, and a write transaction is alone.
		old := b.was[id]
		if d, changed := rating.StateChange(&old, &b.tenants[id].Tenant); changed {
			if _, err := queueEvent(b.tx.Tx, b.tx.now, rating.EventTenantState, d); err != nil {
				return err
			}
		}
	}
	today := dayOf(b.tx.now, b.s.loc)
	rb := b.tx.Bucket(bucketRollups)
	for _, id := range ids {
		d, ok := b.rollups[rollupID{tenantAcct, id, today}]
		if !ok || d.Sell.Sign() <= 0 {
			continue
		}
		before := decodeUsage(rb.Get(rollupKey(tenantAcct, id, today))).Sell
		t := &b.tenants[id].Tenant
		day := dayTime(today, b.s.loc).In(b.s.loc).Format(time.DateOnly)
		if data, hit := rating.SpendLimitReached(t, day, before, before.Add(d.Sell)); hit {
			if _, err := queueEvent(b.tx.Tx, b.tx.now, rating.EventSpendLimit, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// queueStateChange writes a tenant.state event when an edit of a tenant's
// limits or status changed its billing state.
func queueStateChange(tx *txn, old, new *rating.Tenant) error {
	if d, changed := rating.StateChange(old, new); changed {
		_, err := queueEvent(tx.Tx, tx.now, rating.EventTenantState, d)
		return err
	}
	return nil
}

// Events lists the outbox oldest first, from after the cursor after (a
// sequence number). A limit ≤ 0 is DefaultLimit, and it is at most MaxLimit.
func (s *Store) Events(after string, limit int) ([]rating.Event, string, error) {
	limit = pageLimit(limit)
	var from uint64
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
		}
		from = v
	}
	out, next := []rating.Event{}, ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(itob(from + 1)); k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = strconv.FormatUint(out[len(out)-1].Seq, 10)
				break
			}
			var ev rating.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("outbox event %d: %w", btoi(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, next, err
}

// RecentEvents lists the newest n events, newest first: the admin's page.
func (s *Store) RecentEvents(n int) ([]rating.Event, error) {
	out := []rating.Event{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var ev rating.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("outbox event %d: %w", btoi(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// PendingEvents lists up to limit events that are not done, oldest
// first, from after the sequence number after (0: from the first).
func (s *Store) PendingEvents(after uint64, limit int) ([]rating.Event, error) {
	var out []rating.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxPending).Cursor()
		for k, _ := c.Seek(itob(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			var ev rating.Event
			if ok, err := getJSON(ob, k, &ev); err != nil {
				return err
			} else if ok {
				out = append(out, ev)
			}
		}
		return nil
	})
	return out, err
}

// SaveDelivery stores the delivery state of event seq, and takes it out
// of the pending ones once done. Only the deliverer writes it.
func (s *Store) SaveDelivery(seq uint64, deliveries []rating.Delivery, done bool) error {
	return s.update(func(tx *txn) error {
		ob := tx.Bucket(bucketOutbox)
		var ev rating.Event
		if ok, err := getJSON(ob, itob(seq), &ev); err != nil || !ok {
			return err // an event gone with a restore is nothing to save
		}
		ev.Deliveries, ev.Done = deliveries, done
		if err := putJSON(ob, itob(seq), &ev); err != nil {
			return err
		}
		if done {
			return tx.Bucket(bucketOutboxPending).Delete(itob(seq))
		}
		return nil
	})
}
