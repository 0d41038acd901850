package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// Schedules (DOMAIN.md "Recurring charges and refills"). A schedule is
// stored under its tenant's id, so a rename keeps it. Each posted
// occurrence is a schedule_posted row keyed by (schedule, month), written
// in the transaction of its ledger entry with the tenant's row locked:
// that key, not the clock, a cursor or which node runs the scheduler, is
// what keeps an occurrence from being posted twice.

// scheduleRow is a schedule as stored, with the months posted from its
// cursor on.
type scheduleRow struct {
	tenantID int64
	rating.Schedule
	// next is the first month not yet settled (YYYYMM; 0: the start
	// month). An edit resets it, and the posted keys skip what was done.
	next   uint32
	posted map[uint32]bool
}

// scheduleSelect reads schedules with their posted months from the
// cursor on; a WHERE clause on s follows.
const scheduleSelect = `SELECT s.id, s.tenant_id, s.name, s.amount, s.top_up_to, s.day, s.start, s.stop, s.next,
	array(SELECT p.month FROM schedule_posted p WHERE p.schedule_id = s.id AND p.month >= s.next ORDER BY p.month)
	FROM schedules s `

// loadSchedules runs scheduleSelect followed by tail.
func loadSchedules(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]scheduleRow, error) {
	rows, err := tx.Query(ctx, scheduleSelect+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scheduleRow
	for rows.Next() {
		var r scheduleRow
		var id int64
		var day int16
		var next int32
		var start time.Time
		var stop *time.Time
		var posted []int32
		if err := rows.Scan(&id, &r.tenantID, &r.Name, scanMoney(&r.Amount), scanMoney(&r.TopUpTo), &day, &start, &stop,
			&next, &posted); err != nil {
			return nil, err
		}
		r.ID, r.Day, r.next = uint64(id), int(day), uint32(next)
		r.Start = start.Format(time.DateOnly)
		if stop != nil {
			r.End = stop.Format(time.DateOnly)
		}
		r.posted = make(map[uint32]bool, len(posted))
		for _, m := range posted {
			r.posted[uint32(m)] = true
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// from is the first month the row has not settled, the zero Month for
// its first (rating.Schedule.Pending).
func (r *scheduleRow) from() rating.Month {
	if r.next == 0 {
		return rating.Month{}
	}
	return rating.MonthFromInt(r.next)
}

// done reports whether the row's month m is posted.
func (r *scheduleRow) done(m rating.Month) bool { return r.posted[m.Int()] }

// pending is rating.Schedule.Pending from the row's cursor.
func (r *scheduleRow) pending(loc *time.Location) (m rating.Month, due time.Time, settled rating.Month, ok bool) {
	return r.Pending(r.from(), loc, r.done)
}

// view is the schedule with its next due date.
func (r *scheduleRow) view(loc *time.Location) rating.Schedule {
	return r.WithNextDue(r.from(), loc, r.done)
}

// tenantIDByName is the id of the tenant named name, ENotFound when none
// is, as the bbolt store's getTenant answers.
func tenantIDByName(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM tenants WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, rating.Errorf(rating.ENotFound, "tenant %s not found", rating.Excerpt(name))
	}
	return id, err
}

// Schedules lists a tenant's schedules by id, with their next due dates.
func (s *Store) Schedules(tenant string) ([]rating.Schedule, error) {
	ctx := context.Background()
	out := []rating.Schedule{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		id, err := tenantIDByName(ctx, tx, tenant)
		if err != nil {
			return err
		}
		rows, err := loadSchedules(ctx, tx, `WHERE s.tenant_id = $1 ORDER BY s.id`, id)
		for i := range rows {
			out = append(out, rows[i].view(s.loc))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateSchedule adds a schedule to a tenant. It posts nothing itself: the
// scheduler posts each occurrence due from the start date on, once, the
// past ones of a start date in the past included.
func (s *Store) CreateSchedule(tenant string, sc rating.Schedule) (rating.Schedule, error) {
	return s.CreateScheduleOnce("", tenant, sc)
}

// CreateScheduleOnce is CreateSchedule that creates at most once for a
// key (an admin form's one-time token, an API Idempotency-Key), checked
// in the transaction that creates it: a form sent twice must
// not charge a tenant's fee twice a month. A key used before answers
// EConflict.
func (s *Store) CreateScheduleOnce(key, tenant string, sc rating.Schedule) (rating.Schedule, error) {
	if err := sc.Validate(); err != nil {
		return rating.Schedule{}, err
	}
	if err := store.CheckOnceKey(key); err != nil {
		return rating.Schedule{}, err
	}
	ctx := context.Background()
	var out rating.Schedule
	err := s.write(ctx, func(tx *txn) error {
		if key != "" {
			if err := useOnce(ctx, tx, "schedule "+key); err != nil {
				return err
			}
		}
		tid, err := tenantIDByName(ctx, tx, tenant)
		if err != nil {
			return err
		}
		r := scheduleRow{tenantID: tid, Schedule: sc, posted: map[uint32]bool{}}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO schedules (tenant_id, name, amount, top_up_to, day, start, stop)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, tid, sc.Name, money(sc.Amount), money(sc.TopUpTo), sc.Day,
			sc.Start, nullString(sc.End)).Scan(&id); err != nil {
			return err
		}
		r.ID = uint64(id)
		out = r.view(s.loc)
		return nil
	})
	if err != nil {
		return rating.Schedule{}, err
	}
	return out, nil
}

// getSchedule reads schedule id of the tenant named tenant, locked for
// update.
func getSchedule(ctx context.Context, tx pgx.Tx, tenant string, id uint64) (scheduleRow, error) {
	tid, err := tenantIDByName(ctx, tx, tenant)
	if err != nil {
		return scheduleRow{}, err
	}
	var rows []scheduleRow
	if id < 1<<63 {
		rows, err = loadSchedules(ctx, tx, `WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE`, tid, int64(id))
		if err != nil {
			return scheduleRow{}, err
		}
	}
	if len(rows) == 0 {
		return scheduleRow{}, rating.Errorf(rating.ENotFound, "tenant %q has no schedule %d", tenant, id)
	}
	return rows[0], nil
}

// UpdateSchedule applies fn to schedule id of tenant, validates and saves.
// The occurrences already posted stay posted; the changed schedule applies
// to the ones not posted yet.
func (s *Store) UpdateSchedule(tenant string, id uint64, fn func(*rating.Schedule) error) (rating.Schedule, error) {
	ctx := context.Background()
	var out rating.Schedule
	err := s.write(ctx, func(tx *txn) error {
		r, err := getSchedule(ctx, tx, tenant, id)
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
		if _, err := tx.Exec(ctx, `UPDATE schedules SET name = $2, amount = $3, top_up_to = $4, day = $5, start = $6, stop = $7, next = 0
			WHERE id = $1`, int64(id), sc.Name, money(sc.Amount), money(sc.TopUpTo), sc.Day, sc.Start, nullString(sc.End)); err != nil {
			return err
		}
		rows, err := loadSchedules(ctx, tx, `WHERE s.id = $1`, int64(id))
		if err != nil {
			return err
		}
		out = rows[0].view(s.loc)
		return nil
	})
	if err != nil {
		return rating.Schedule{}, err
	}
	return out, nil
}

// DeleteSchedule removes schedule id of tenant; its entries stay, and so
// do its posted keys.
func (s *Store) DeleteSchedule(tenant string, id uint64) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		if _, err := getSchedule(ctx, tx, tenant, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM schedules WHERE id = $1`, int64(id))
		return err
	})
}

// PostDueSchedules posts every occurrence due by now that is not posted
// yet, each in a transaction of its own: the key of its (schedule, month),
// its ledger entry through the one ledger path, its schedule.posted event,
// and the state alerts of the balance it moved. Missed months are posted
// one by one, oldest first. Schedulers on several nodes may run it at
// once: each occurrence is posted by one of them, and counted by that one
// only. It answers how many occurrences it settled, and the first error;
// a schedule that fails is retried at the next call.
func (s *Store) PostDueSchedules() (int, error) {
	ctx := context.Background()
	now := s.now()
	var due []int64
	err := s.read(ctx, func(tx pgx.Tx) error {
		due = nil
		rows, err := loadSchedules(ctx, tx, `ORDER BY s.id`)
		for i := range rows {
			if _, at, _, ok := rows[i].pending(s.loc); ok && !at.After(now) {
				due = append(due, int64(rows[i].ID))
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range due {
		// Bounded: each pass settles one month, and a schedule has at
		// most one occurrence a month from 2000 to 2199.
		for range 12 * 300 {
			posted, more, err := s.postOccurrence(ctx, id)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if posted {
				n++
			}
			if !more {
				break
			}
		}
	}
	return n, errors.Join(errs...)
}

// postOccurrence posts the first due occurrence of schedule id, in one
// transaction that locks its tenant's row before it reads which months
// are posted: another node posting the same schedule waits for the lock,
// then sees this one's key. posted reports that it posted one; more that
// another may be due.
func (s *Store) postOccurrence(ctx context.Context, id int64) (posted, more bool, err error) {
	err = s.write(ctx, func(tx *txn) error {
		posted, more = false, false
		var tid int64
		if err := tx.QueryRow(ctx, `SELECT tenant_id FROM schedules WHERE id = $1`, id).Scan(&tid); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // deleted meanwhile
			}
			return err
		}
		t, err := tenantByID(ctx, tx, tid, true)
		if err != nil || t == nil {
			return err // the tenant was deleted, and its schedules with it
		}
		rows, err := loadSchedules(ctx, tx, `WHERE s.id = $1`, id)
		if err != nil || len(rows) == 0 {
			return err
		}
		r := &rows[0]
		m, due, settled, ok := r.pending(s.loc)
		if settled.Int() != r.next {
			if _, err := tx.Exec(ctx, `UPDATE schedules SET next = $2 WHERE id = $1`, id, int64(settled.Int())); err != nil {
				return err
			}
		}
		if !ok || due.After(tx.now) {
			return nil
		}
		// The key first: taken, it means another scheduler posted the
		// month (it cannot while this one holds the tenant's lock, but
		// the key is the rule, the lock only the way to it).
		tag, err := tx.Exec(ctx, `INSERT INTO schedule_posted (schedule_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			id, int64(m.Int()))
		if err != nil {
			return err
		}
		more = true
		if tag.RowsAffected() == 0 {
			return nil
		}
		occ := r.Post(m, t.Balance)
		if occ.Amount.Sign() != 0 {
			tx.noteTenant(t.ID, t.Tenant, &t.Tenant)
			e, err := book(ctx, tx, tenantAcct, t.ID, t.Name, &t.Balance, occ.Amount, occ.Kind, occ.Ref)
			if err != nil {
				return fmt.Errorf("schedule %d of tenant %q, %s: %w", r.ID, t.Name, m, err)
			}
			if err := saveBalance(ctx, tx, tenantAcct, t.ID, t.Balance); err != nil {
				return err
			}
			if _, err := queueEvent(ctx, tx, rating.EventSchedulePosted, rating.SchedulePostedData{
				Tenant: t.Name, Schedule: r.ID, Name: r.Name, Month: m.String(), Kind: occ.Kind,
				Amount: occ.Amount, Balance: e.Balance, Entry: e.ID}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE schedule_posted SET entry = $3 WHERE schedule_id = $1 AND month = $2`,
				id, int64(m.Int()), int64(e.ID)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE schedules SET next = $2 WHERE id = $1`, id, int64(m.Next().Int())); err != nil {
			return err
		}
		posted = true
		return nil
	})
	return posted, more, err
}
