package store

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pbxbill/rating"
)

// scheduleStore opens a store in zone tz whose clock the test sets, with
// tenant Acme.
func scheduleStore(t *testing.T, tz string, at time.Time) (*Store, *testClock) {
	t.Helper()
	c := &testClock{t: at}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{TZ: tz, Now: c.Now})
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", LowBalanceThreshold: rating.MoneyOf(5 * unit)}))
	return s, c
}

func fee(name string, units int64, day int, start, end string) rating.Schedule {
	return rating.Schedule{Name: name, Amount: rating.MoneyOf(units * unit), TopUpTo: rating.NoMoney, Day: day, Start: start, End: end}
}

// postedRefs lists the tenant's schedule entries, oldest first, by
// reference, failing on a reference posted twice.
func postedRefs(t *testing.T, s *Store, tenant string) []string {
	t.Helper()
	entries := must[[]rating.Entry](t)(func() ([]rating.Entry, error) {
		e, _, err := s.Ledger(rating.TenantAccount, tenant, time.Time{}, time.Time{}, "", MaxLimit)
		return e, err
	}())
	seen := map[string]bool{}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Kind != rating.Fee && e.Kind != rating.Refill {
			continue
		}
		if seen[e.Ref] {
			t.Errorf("%s posted twice", e.Ref)
		}
		seen[e.Ref] = true
		out = append(out, e.Ref)
	}
	return out
}

func postDue(t *testing.T, s *Store) int {
	t.Helper()
	return must[int](t)(s.PostDueSchedules())
}

// A test clock drives the scheduler across months, a restart, a clock
// stepping back and a backup restored: every occurrence is posted exactly
// once, on its day, and missed months are caught up one by one.
func TestSchedulerAcrossMonths(t *testing.T) {
	s, clock := scheduleStore(t, "Europe/Berlin", time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC))
	seats := must[rating.Schedule](t)(s.CreateSchedule("Acme", fee("12 seats", -60, 31, "2026-01-01", "")))
	if seats.NextDue == nil || *seats.NextDue != "2026-01-31" {
		t.Fatalf("next due %v", seats.NextDue)
	}
	if n := postDue(t, s); n != 0 {
		t.Fatalf("posted %d before the 31st", n)
	}
	// One second before the 31st begins in Berlin: nothing.
	clock.t = time.Date(2026, 1, 30, 22, 59, 59, 0, time.UTC)
	if n := postDue(t, s); n != 0 {
		t.Fatalf("posted %d a second early", n)
	}
	clock.t = time.Date(2026, 1, 30, 23, 0, 0, 0, time.UTC)
	if n := postDue(t, s); n != 1 {
		t.Fatalf("posted %d on the 31st", n)
	}
	if n := postDue(t, s); n != 0 {
		t.Fatalf("posted %d again", n)
	}
	// February has no 31st: its last day. The store is restarted first.
	s = reopen(t, s)
	clock.t = time.Date(2026, 2, 27, 23, 0, 0, 0, time.UTC)
	if n := postDue(t, s); n != 1 {
		t.Fatalf("posted %d on 28 February", n)
	}
	// pbxbill stopped from March to June: three missed months at once.
	backup := filepath.Join(t.TempDir(), "backup.db")
	copyFile(t, s.db.Path(), backup)
	clock.t = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	if n := postDue(t, s); n != 3 {
		t.Fatalf("caught up %d months, want 3 (March to May)", n)
	}
	// The clock steps back a month: nothing is posted again.
	clock.t = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if n := postDue(t, s); n != 0 {
		t.Fatalf("posted %d after the clock stepped back", n)
	}
	want := []string{"schedule 1 2026-01", "schedule 1 2026-02", "schedule 1 2026-03", "schedule 1 2026-04", "schedule 1 2026-05"}
	if got := postedRefs(t, s, "Acme"); !equal(got, want) {
		t.Errorf("posted %v, want %v", got, want)
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != rating.MoneyOf(-300*unit) {
		t.Errorf("balance %s, want -300", b)
	}
	// A backup taken before the catch-up holds the keys of what it holds,
	// and catches up the rest once.
	r := MustOpenAt(t, backup, Options{TZ: "Europe/Berlin", Now: clock.Now})
	clock.t = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	if n := postDue(t, r); n != 3 {
		t.Fatalf("the restored backup caught up %d, want 3", n)
	}
	if n := postDue(t, r); n != 0 {
		t.Fatalf("the restored backup posted %d again", n)
	}
	if got := postedRefs(t, r, "Acme"); !equal(got, want) {
		t.Errorf("restored: posted %v, want %v", got, want)
	}
	if sc := must[[]rating.Schedule](t)(r.Schedules("Acme")); *sc[0].NextDue != "2026-06-30" {
		t.Errorf("next due %s, want 2026-06-30", *sc[0].NextDue)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// Start and end dates, no proration, a top-up that has nothing to add,
// an edit, a delete, and a second scheduler racing the first.
func TestSchedulerRules(t *testing.T) {
	s, clock := scheduleStore(t, "UTC", time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(10*unit), rating.Topup, ""))
	// Starts on the 20th with day 1: first posts on 1 April.
	late := must[rating.Schedule](t)(s.CreateSchedule("Acme", fee("DID", -2, 1, "2026-03-20", "2026-05-01")))
	top := must[rating.Schedule](t)(s.CreateSchedule("Acme", rating.Schedule{Name: "plan", Amount: rating.NoMoney,
		TopUpTo: rating.MoneyOf(25 * unit), Day: 20, Start: "2026-03-20"}))
	if *late.NextDue != "2026-04-01" || *top.NextDue != "2026-03-20" {
		t.Fatalf("next due %s and %s", *late.NextDue, *top.NextDue)
	}
	// Two schedulers at once post each occurrence once.
	done := make(chan int, 2)
	for range 2 {
		go func() { n, _ := s.PostDueSchedules(); done <- n }()
	}
	if n := <-done + <-done; n != 1 {
		t.Fatalf("two schedulers posted %d, want 1 (the top-up of March)", n)
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != rating.MoneyOf(25*unit) {
		t.Fatalf("topped up to %s", b)
	}
	clock.t = time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	postDue(t, s) // April: the fee, then the top-up brings it back
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != rating.MoneyOf(25*unit) {
		t.Fatalf("balance %s after April", b)
	}
	// An edit changes the later occurrences; what was posted stays.
	must[rating.Schedule](t)(s.UpdateSchedule("Acme", late.ID, func(x *rating.Schedule) error {
		x.Amount = rating.MoneyOf(-3 * unit)
		return nil
	}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(5*unit), rating.Topup, ""))
	clock.t = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	// May: -3 (the end date, 1 May, is due), then no more. The top-ups of
	// May and June find 27 and add nothing, but the months count as done.
	postDue(t, s)
	want := []string{"schedule 2 2026-03", "schedule 1 2026-04", "schedule 2 2026-04", "schedule 1 2026-05"}
	if got := postedRefs(t, s, "Acme"); !equal(got, want) {
		t.Errorf("posted %v, want %v", got, want)
	}
	ss := must[[]rating.Schedule](t)(s.Schedules("Acme"))
	if ss[0].NextDue != nil || *ss[1].NextDue != "2026-07-20" {
		t.Errorf("next due %v and %v", ss[0].NextDue, ss[1].NextDue)
	}
	if err := s.DeleteSchedule("Acme", top.ID); err != nil {
		t.Fatal(err)
	}
	clock.t = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if n := postDue(t, s); n != 0 {
		t.Errorf("posted %d after the delete", n)
	}
	wantCode(t, s.DeleteSchedule("Acme", top.ID), rating.ENotFound, "schedule 2")
	_, err := s.CreateSchedule("Acme", fee("bad", -1, 0, "2026-01-01", ""))
	wantCode(t, err, rating.EInvalid, "day")
	_, err = s.CreateSchedule("nobody", fee("x", -1, 1, "2026-01-01", ""))
	wantCode(t, err, rating.ENotFound)
}

// Each posting writes a schedule.posted event, and a fee that blocks a
// prepaid tenant writes its tenant.state event, in the same transaction.
func TestSchedulePostedEvents(t *testing.T) {
	s, clock := scheduleStore(t, "UTC", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(10*unit), rating.Topup, ""))
	must[rating.Schedule](t)(s.CreateSchedule("Acme", fee("seats", -6, 1, "2026-03-01", "")))
	postDue(t, s)
	clock.t = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	postDue(t, s)
	evs, _, err := s.Events("", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Type)
	}
	want := []string{rating.EventTenantState, rating.EventSchedulePosted, rating.EventTenantState, rating.EventSchedulePosted, rating.EventTenantState}
	// Credit: blocked → ok; March: ok → low (4 < 5); April: low → blocked.
	if !equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}
