package storetest

import (
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

// schedulesPosted lists the tenant's fee and refill references, oldest
// first, failing on one seen twice.
func schedulesPosted(t *testing.T, b Backend, tenant string) []string {
	t.Helper()
	entries, _, err := b.Ledger(rating.TenantAccount, tenant, time.Time{}, time.Time{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind == rating.Fee || e.Kind == rating.Refill {
			if seen[e.Ref] {
				t.Errorf("%s posted twice", e.Ref)
			}
			seen[e.Ref] = true
			out = append(out, e.Ref)
		}
	}
	return out
}

// Each (schedule, month) is posted once, through the ledger: by two
// schedulers at once, after the clock steps back, and after a backup
// taken halfway is restored.
func testSchedulesOnce(t *testing.T, h Harness) {
	b, c := books(t, h.Open)
	s := must[rating.Schedule](t)(b.CreateSchedule("Acme", rating.Schedule{Name: "seats", Amount: mustMoney(t, "-10"),
		TopUpTo: rating.NoMoney, Day: 31, Start: "2025-01-15"}))
	if s.ID == 0 || s.NextDue == nil || *s.NextDue != "2025-01-31" {
		t.Fatalf("created %+v", s)
	}
	// Day is 1 March 2025: January and February (the 28th) are due.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := b.PostDueSchedules()
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 2 {
		t.Fatalf("two schedulers posted %d, want 2", total)
	}
	r := h.Restore(t, b)
	c.set(time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC))
	if n := must[int](t)(b.PostDueSchedules()); n != 2 {
		t.Fatalf("posted %d for March and April", n)
	}
	c.set(Day)
	if n := must[int](t)(b.PostDueSchedules()); n != 0 {
		t.Fatalf("posted %d after the clock stepped back", n)
	}
	want := []string{"schedule 1 2025-01", "schedule 1 2025-02", "schedule 1 2025-03", "schedule 1 2025-04"}
	c.set(time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC))
	if n := must[int](t)(r.PostDueSchedules()); n != 2 {
		t.Fatalf("the restored backup posted %d, want March and April", n)
	}
	for _, x := range []Backend{b, r} {
		if got := schedulesPosted(t, x, "Acme"); len(got) != len(want) || got[0] != want[0] || got[3] != want[3] {
			t.Errorf("posted %v, want %v", got, want)
		}
		check(t, x)
	}
	if tn := must[rating.Tenant](t)(b.Tenant("Acme")); tn.Balance != mustMoney(t, "-40") {
		t.Errorf("balance %s, want -40", tn.Balance)
	}
	ss := must[[]rating.Schedule](t)(b.Schedules("Acme"))
	if len(ss) != 1 || *ss[0].NextDue != "2025-05-31" {
		t.Errorf("schedules %+v", ss)
	}
	if err := b.DeleteSchedule("Acme", s.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.DeleteSchedule("Acme", s.ID), rating.ENotFound)
}

// A change that moves a tenant's billing state writes its tenant.state
// event with it; a refused batch writes none; a month's statement closes
// on the balance after its last entry.
func testAlertsAndStatements(t *testing.T, open Open) {
	b, _ := books(t, open)
	must[rating.Tenant](t)(b.UpdateTenant("Acme", func(x *rating.Tenant) error {
		x.LowBalanceThreshold = mustMoney(t, "99.9")
		return nil
	}))
	must[Posted](t)(b.PostCDRs("", []rating.CDR{cdr("a", "4471", 60)})) // 0.12: 99.88 available, low
	bad := cdr("c", "4471", 60)
	bad.Provider = "nobody"
	if _, err := b.PostCDRs("", []rating.CDR{cdr("b", "4471", 60), bad}); err == nil {
		t.Fatal("a batch naming an unknown provider was accepted")
	}
	evs, _, err := b.Events("", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != rating.EventTenantState || evs[0].ID == "" ||
		string(evs[0].Data) != `{"tenant":"Acme","from":"ok","to":"low","balance":"-0.12","available":"99.88"}` {
		t.Fatalf("events %+v", evs)
	}
	if p := must[[]rating.Event](t)(b.PendingEvents(0, 10)); len(p) != 1 {
		t.Fatalf("pending %+v", p)
	}
	if err := b.SaveDelivery(evs[0].Seq, []rating.Delivery{{Target: "webhook x", State: rating.DeliveryDelivered, Attempts: 1}}, true); err != nil {
		t.Fatal(err)
	}
	if p := must[[]rating.Event](t)(b.PendingEvents(0, 10)); len(p) != 0 {
		t.Fatalf("pending after delivery %+v", p)
	}
	st := must[rating.Statement](t)(b.Statement("Acme", rating.Month{Year: 2025, Month: time.March}))
	if st.Opening.Sign() != 0 || st.Closing != mustMoney(t, "-0.12") || len(st.Calls) != 1 || st.Calls[0].Count != 1 ||
		st.Sections[0].Total != mustMoney(t, "-0.12") {
		t.Errorf("statement %+v", st)
	}
}
