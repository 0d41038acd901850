package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Schedules (DOMAIN.md "Recurring charges and refills"). A schedule is
// stored under its tenant's id, so a rename keeps it; the posted
// occurrences are keyed by (schedule, month), written in the transaction
// of their ledger entry: that key, not the clock or a cursor, is what
// keeps an occurrence from being posted twice.
var (
	bucketSchedules      = []byte("schedules")       // tenant id | schedule id → scheduleRecord JSON
	bucketSchedulePosted = []byte("schedule_posted") // schedule id | YYYYMM → entry id (0: a top-up with nothing to add)
)

// scheduleRecord is a schedule as stored. Next is the first month not yet
// settled (YYYYMM; 0 is the start month): a cursor that spares the
// scheduler a walk from the start month each minute. An edit resets it,
// and the posted keys skip what was done.
type scheduleRecord struct {
	TenantID uint64 `json:"tenant_id"`
	rating.Schedule
	Next uint32 `json:"next"`
}

func scheduleKey(tenant, id uint64) []byte {
	return binary.BigEndian.AppendUint64(itob(tenant), id)
}

func postedKey(id uint64, m rating.Month) []byte {
	return binary.BigEndian.AppendUint32(itob(id), m.Int())
}

// from is the first month the record has not settled, the zero Month
// for its first (rating.Schedule.Pending).
func (r *scheduleRecord) from() rating.Month {
	if r.Next == 0 {
		return rating.Month{}
	}
	return rating.MonthFromInt(r.Next)
}

// pending is rating.Schedule.Pending from the record's cursor, posted
// being the bucket of the months posted (nil: none).
func (r *scheduleRecord) pending(posted *bolt.Bucket, loc *time.Location) (m rating.Month, due time.Time, settled rating.Month, ok bool) {
	return r.Pending(r.from(), loc, func(m rating.Month) bool { return posted != nil && posted.Get(postedKey(r.ID, m)) != nil })
}

// view is the schedule with its next due date.
func (r *scheduleRecord) view(tx *bolt.Tx, loc *time.Location) rating.Schedule {
	posted := tx.Bucket(bucketSchedulePosted)
	return r.WithNextDue(r.from(), loc, func(m rating.Month) bool { return posted != nil && posted.Get(postedKey(r.ID, m)) != nil })
}

// Schedules lists a tenant's schedules by id, with their next due dates.
func (s *Store) Schedules(tenant string) ([]rating.Schedule, error) {
	out := []rating.Schedule{}
	err := s.db.View(func(tx *bolt.Tx) error {
		t, err := getTenant(tx, tenant)
		if err != nil {
			return err
		}
		prefix := itob(t.ID)
		c := tx.Bucket(bucketSchedules).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r scheduleRecord
			if err := decodeSchedule(k, v, &r); err != nil {
				return err
			}
			out = append(out, r.view(tx, s.loc))
		}
		return nil
	})
	return out, err
}

func decodeSchedule(k, v []byte, r *scheduleRecord) error {
	if err := json.Unmarshal(v, r); err != nil {
		return fmt.Errorf("schedule %x: %w", k, err)
	}
	return nil
}

// CreateSchedule adds a schedule to a tenant. It posts nothing itself: the
// scheduler posts each occurrence due from the start date on, once,
// the past ones of a start date in the past included.
func (s *Store) CreateSchedule(tenant string, sc rating.Schedule) (rating.Schedule, error) {
	return s.CreateScheduleOnce("", tenant, sc)
}

// CreateScheduleOnce is CreateSchedule that creates at most once for a
// key (an admin form's one-time token, an API Idempotency-Key), checked
// in the transaction that creates it: a form sent twice must not charge
// a tenant's fee twice a month. A key used before answers EConflict.
func (s *Store) CreateScheduleOnce(key, tenant string, sc rating.Schedule) (rating.Schedule, error) {
	if err := sc.Validate(); err != nil {
		return rating.Schedule{}, err
	}
	if err := CheckOnceKey(key); err != nil {
		return rating.Schedule{}, err
	}
	var out rating.Schedule
	err := s.update(func(tx *txn) error {
		if key != "" {
			if err := useOnce(tx, "schedule "+key); err != nil {
				return err
			}
		}
		t, err := getTenant(tx.Tx, tenant)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketSchedules)
		if sc.ID, err = nextID(b); err != nil {
			return err
		}
		r := scheduleRecord{TenantID: t.ID, Schedule: sc}
		r.NextDue = nil
		if err := putJSON(b, scheduleKey(t.ID, sc.ID), &r); err != nil {
			return err
		}
		out = r.view(tx.Tx, s.loc)
		return nil
	})
	return out, err
}

// UpdateSchedule applies fn to schedule id of tenant, validates and saves.
// The occurrences already posted stay posted; the changed schedule applies
// to the ones not posted yet.
func (s *Store) UpdateSchedule(tenant string, id uint64, fn func(*rating.Schedule) error) (rating.Schedule, error) {
	var out rating.Schedule
	err := s.update(func(tx *txn) error {
		r, key, err := getSchedule(tx.Tx, tenant, id)
		if err != nil {
			return err
		}
		sc := r.Schedule
		if err := fn(&sc); err != nil {
			return err
		}
		sc.ID, sc.NextDue = id, nil
		if err := sc.Validate(); err != nil {
			return err
		}
		r.Schedule, r.Next = sc, 0
		if err := putJSON(tx.Bucket(bucketSchedules), key, &r); err != nil {
			return err
		}
		out = r.view(tx.Tx, s.loc)
		return nil
	})
	return out, err
}

// DeleteSchedule removes schedule id of tenant; its entries stay, and so
// do its posted keys, which check reads.
func (s *Store) DeleteSchedule(tenant string, id uint64) error {
	return s.update(func(tx *txn) error {
		_, key, err := getSchedule(tx.Tx, tenant, id)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSchedules).Delete(key)
	})
}

func getSchedule(tx *bolt.Tx, tenant string, id uint64) (scheduleRecord, []byte, error) {
	t, err := getTenant(tx, tenant)
	if err != nil {
		return scheduleRecord{}, nil, err
	}
	var r scheduleRecord
	key := scheduleKey(t.ID, id)
	if ok, err := getJSON(tx.Bucket(bucketSchedules), key, &r); err != nil {
		return r, nil, err
	} else if !ok {
		return r, nil, rating.Errorf(rating.ENotFound, "tenant %q has no schedule %d", t.Name, id)
	}
	return r, key, nil
}

// PostDueSchedules posts every occurrence due by now that is not posted
// yet, each in a transaction of its own: the key of its (schedule, month),
// its ledger entry through the one ledger path, its schedule.posted event,
// and the state alerts of the balance it moved. Missed months are posted
// one by one, oldest first. It answers how many occurrences it settled,
// and the first error; a schedule that fails is retried at the next call.
func (s *Store) PostDueSchedules() (int, error) {
	var keys [][]byte
	now := s.now()
	err := s.db.View(func(tx *bolt.Tx) error {
		posted := tx.Bucket(bucketSchedulePosted)
		return tx.Bucket(bucketSchedules).ForEach(func(k, v []byte) error {
			var r scheduleRecord
			if err := decodeSchedule(k, v, &r); err != nil {
				return err
			}
			if _, due, _, ok := r.pending(posted, s.loc); ok && !due.After(now) {
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, k := range keys {
		// Bounded: each pass settles one month, and a schedule has at
		// most one occurrence a month from 2000 to 2199.
		for range 12 * 300 {
			done, err := s.postOccurrence(k)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if !done {
				break
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// postOccurrence posts the first due occurrence of the schedule under key, in one
// transaction; false when none is due (any more).
func (s *Store) postOccurrence(key []byte) (bool, error) {
	var done bool
	err := s.update(func(tx *txn) error {
		done = false
		sb := tx.Bucket(bucketSchedules)
		var r scheduleRecord
		if ok, err := getJSON(sb, key, &r); err != nil || !ok {
			return err // deleted meanwhile
		}
		tenant, err := getTenantByID(tx.Tx, r.TenantID)
		if err != nil {
			// The tenant was deleted: its schedules go with it.
			return sb.Delete(key)
		}
		posted := tx.Bucket(bucketSchedulePosted)
		m, due, settled, ok := r.pending(posted, s.loc)
		if settled.Int() != r.Next {
			r.Next = settled.Int()
			if err := putJSON(sb, key, &r); err != nil {
				return err
			}
		}
		if !ok || due.After(tx.now) {
			return nil
		}
		b := s.newBatch(tx)
		t, err := b.tenant(r.TenantID)
		if err != nil {
			return err
		}
		occ := r.Post(m, t.Balance)
		var entry uint64
		if occ.Amount.Sign() != 0 {
			e, err := b.book(tenantAcct, r.TenantID, occ.Amount, occ.Kind, occ.Ref)
			if err != nil {
				return fmt.Errorf("schedule %d of tenant %q, %s: %w", r.ID, tenant.Name, m, err)
			}
			entry = e.ID
			if _, err := queueEvent(tx.Tx, tx.now, rating.EventSchedulePosted, rating.SchedulePostedData{
				Tenant: tenant.Name, Schedule: r.ID, Name: r.Name, Month: m.String(), Kind: occ.Kind,
				Amount: occ.Amount, Balance: e.Balance, Entry: e.ID}); err != nil {
				return err
			}
		}
		if err := posted.Put(postedKey(r.ID, m), itob(entry)); err != nil {
			return err
		}
		r.Next = m.Next().Int()
		if err := putJSON(sb, key, &r); err != nil {
			return err
		}
		done = true
		return b.flush()
	})
	return done, err
}
