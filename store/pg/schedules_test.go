package pg_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// hRefs lists the tenant's ledger references and amounts, oldest first,
// and checks that each entry's balance is the sum so far and the last
// one the tenant's balance.
func hRefs(t *testing.T, url, tenant string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT l.ref, l.amount::text, (sum(l.amount) OVER (ORDER BY l.id) = l.balance), t.balance = l.balance
		FROM ledger l JOIN tenants t ON l.account_type = 't' AND l.account_id = t.id WHERE t.name = $1 ORDER BY l.id`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	last := false
	for rows.Next() {
		var ref, amount string
		var sums, isBalance bool
		if err := rows.Scan(&ref, &amount, &sums, &isBalance); err != nil {
			t.Fatal(err)
		}
		if !sums {
			t.Errorf("entry %s: its balance is not the sum so far", ref)
		}
		out = append(out, ref+" "+strings.TrimRight(strings.TrimRight(amount, "0"), "."))
		last = isBalance
	}
	if len(out) > 0 && !last {
		t.Errorf("the last entry's balance is not the tenant's")
	}
	return out
}

// TestSchedulesOnce: each (schedule, month) is posted once by four
// schedulers on two nodes at once, missed months are caught up one by
// one, a clock that steps back posts nothing, and the next due date
// follows.
func TestSchedulesOnce(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	nodes := []*pg.Store{hOpen(t, url, c), hOpen(t, url, c)}
	hTenant(t, url, "Acme", "acme", "0", "100", 0, 0)
	s := nodes[0]
	sc := hMust[rating.Schedule](t)(s.CreateSchedule("Acme", rating.Schedule{Name: "seats", Amount: hMoney(t, "-10"),
		TopUpTo: rating.NoMoney, Day: 31, Start: "2025-01-15"}))
	if sc.ID != 1 || sc.NextDue == nil || *sc.NextDue != "2025-01-31" {
		t.Fatalf("created %+v", sc)
	}
	// 1 March 2025: January and February (the 28th) are due.
	post := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := nodes[i%2].PostDueSchedules()
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		return total
	}
	if n := post(); n != 2 {
		t.Fatalf("four schedulers posted %d, want 2", n)
	}
	c.set(time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC))
	if n := post(); n != 2 {
		t.Fatalf("posted %d for March and April", n)
	}
	c.set(hDay)
	if n := post(); n != 0 {
		t.Fatalf("posted %d after the clock stepped back", n)
	}
	want := "schedule 1 2025-01 -10,schedule 1 2025-02 -10,schedule 1 2025-03 -10,schedule 1 2025-04 -10"
	if got := strings.Join(hRefs(t, url, "Acme"), ","); got != want {
		t.Errorf("posted %s, want %s", got, want)
	}
	if n := hCount(t, url, `SELECT count(*) FROM outbox WHERE type = 'schedule.posted'`); n != 4 {
		t.Errorf("%d schedule.posted events", n)
	}
	if n := hCount(t, url, `SELECT count(*) FROM schedule_posted WHERE entry IS NOT NULL`); n != 4 {
		t.Errorf("%d posted keys with their entry", n)
	}
	ss := hMust[[]rating.Schedule](t)(nodes[1].Schedules("Acme"))
	if len(ss) != 1 || ss[0].NextDue == nil || *ss[0].NextDue != "2025-05-31" || ss[0].Amount != hMoney(t, "-10") || ss[0].TopUpTo.Set() || ss[0].End != "" {
		t.Errorf("schedules %+v", ss)
	}

	// An edit applies to the months not posted yet, and keeps those that
	// were.
	up := hMust[rating.Schedule](t)(s.UpdateSchedule("Acme", sc.ID, func(x *rating.Schedule) error {
		x.Amount, x.End = hMoney(t, "-12.5"), "2025-06-30"
		return nil
	}))
	if up.NextDue == nil || *up.NextDue != "2025-05-31" || up.End != "2025-06-30" {
		t.Fatalf("updated %+v", up)
	}
	if _, err := s.UpdateSchedule("Acme", sc.ID, func(x *rating.Schedule) error { x.Day = 0; return nil }); rating.ErrorCode(err) != rating.EInvalid {
		t.Fatalf("an invalid edit: %v", err)
	}
	if _, err := s.UpdateSchedule("Acme", 99, func(*rating.Schedule) error { return nil }); rating.ErrorCode(err) != rating.ENotFound ||
		err.Error() != `tenant "Acme" has no schedule 99` {
		t.Fatalf("no such schedule: %v", err)
	}
	c.set(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
	if n := post(); n != 2 {
		t.Fatalf("posted %d for May and June", n)
	}
	if got := hRefs(t, url, "Acme"); len(got) != 6 || got[5] != "schedule 1 2025-06 -12.5" {
		t.Errorf("posted %v", got)
	}
	if ss := hMust[[]rating.Schedule](t)(s.Schedules("Acme")); ss[0].NextDue != nil {
		t.Errorf("an ended schedule is due %s", *ss[0].NextDue)
	}
	if err := s.DeleteSchedule("Acme", sc.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSchedule("Acme", sc.ID); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("deleted twice: %v", err)
	}
	if _, err := s.Schedules("nobody"); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("schedules of nobody: %v", err)
	}
}

// TestSchedulesTopUp: a top-up posts what brings the balance to its
// amount, and a month with nothing to add counts as done; a one-time key
// creates once, and a failed create leaves its key unused.
func TestSchedulesTopUp(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	s := hOpen(t, url, c)
	hTenant(t, url, "Beta", "", "5", "", 0, 0)
	hSQL(t, url, `INSERT INTO ledger (account_type, account_id, at, amount, kind, ref, balance)
		SELECT 't', id, now(), 5, 'topup', 'opening', 5 FROM tenants`)
	sc := rating.Schedule{Name: "plan", Amount: rating.NoMoney, TopUpTo: hMoney(t, "20"), Day: 1, Start: "2025-03-01"}
	if _, err := s.CreateScheduleOnce("k1", "nobody", sc); rating.ErrorCode(err) != rating.ENotFound {
		t.Fatalf("unknown tenant: %v", err)
	}
	got := hMust[rating.Schedule](t)(s.CreateScheduleOnce("k1", "Beta", sc))
	if _, err := s.CreateScheduleOnce("k1", "Beta", sc); rating.ErrorCode(err) != rating.EConflict {
		t.Fatalf("the key again: %v", err)
	}
	if _, err := s.CreateScheduleOnce(strings.Repeat("k", 201), "Beta", sc); rating.ErrorCode(err) != rating.EInvalid {
		t.Fatalf("a long key: %v", err)
	}
	if got.NextDue == nil || *got.NextDue != "2025-03-01" || got.TopUpTo != hMoney(t, "20") || got.Amount.Set() {
		t.Fatalf("created %+v", got)
	}
	if n := hMust[int](t)(s.PostDueSchedules()); n != 1 {
		t.Fatalf("posted %d", n)
	}
	c.set(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))
	if n := hMust[int](t)(s.PostDueSchedules()); n != 1 {
		t.Fatalf("posted %d in April", n)
	}
	if refs := strings.Join(hRefs(t, url, "Beta"), ","); refs != "opening 5,schedule 1 2025-03 15" {
		t.Fatalf("entries %s", refs)
	}
	if n := hCount(t, url, `SELECT count(*) FROM schedule_posted WHERE entry IS NULL AND month = 202504`); n != 1 {
		t.Fatalf("April's key: %d", n)
	}
	if n := hCount(t, url, `SELECT count(*) FROM schedules`); n != 1 {
		t.Fatalf("%d schedules", n)
	}
}
