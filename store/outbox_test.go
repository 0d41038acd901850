package store

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pbxbill/rating"
)

func events(t *testing.T, s *Store) []rating.Event {
	t.Helper()
	evs, _, err := s.Events("", MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// The events of DOMAIN.md "Alerts" are written with the change that
// causes them: a state change by a CDR charge, a credit or an edit of
// the tenant; the daily spend limit reached; none for a new tenant or a
// change that keeps the state.
func TestAlertsQueuedWithTheirChange(t *testing.T) {
	s := books(t) // Acme: postpaid, credit limit 100, threshold 0
	if n := len(events(t, s)); n != 0 {
		t.Fatalf("%d events for creating records", n)
	}
	must[rating.Tenant](t)(s.UpdateTenant("Acme", func(x *rating.Tenant) error {
		x.LowBalanceThreshold = mustMoney(t, "99.90")
		x.DailySpendLimit = mustMoney(t, "0.25")
		return nil
	}))
	// 100 available, threshold 99.90: still ok. One call of 0.18 makes it low.
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "447911123456", "carrier-a", 90)}); err != nil {
		t.Fatal(err)
	}
	// A second call of 0.18 keeps it low and crosses the spend limit of 0.25.
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c2", "acme", rating.Outbound, "447911123456", "carrier-a", 90)}); err != nil {
		t.Fatal(err)
	}
	// A third call spends more, past the limit: no second event.
	if _, err := s.PostCDRs("", []rating.CDR{cdr("c3", "acme", rating.Outbound, "447911123456", "carrier-a", 90)}); err != nil {
		t.Fatal(err)
	}
	must[rating.Tenant](t)(s.UpdateTenant("Acme", func(x *rating.Tenant) error { x.Status = rating.Suspended; return nil }))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", mustMoney(t, "1"), rating.Topup, "")) // suspended either way

	evs := events(t, s)
	var got []string
	for _, e := range evs {
		got = append(got, e.Type+" "+string(e.Data))
	}
	want := []string{
		`tenant.state {"tenant":"Acme","from":"ok","to":"low","balance":"-0.18","available":"99.82"}`,
		`tenant.spend_limit {"tenant":"Acme","day":"2025-03-01","limit":"0.25","spend":"0.36"}`,
		`tenant.state {"tenant":"Acme","from":"low","to":"suspended","balance":"-0.54","available":"99.46"}`,
	}
	if !equal(got, want) {
		t.Fatalf("events:\n%v\nwant:\n%v", got, want)
	}
	ids := map[string]bool{}
	for i, e := range evs {
		if e.Seq != uint64(i+1) || ids[e.ID] || e.Done || len(e.Deliveries) != 0 || e.Time.IsZero() {
			t.Errorf("event %d: %+v", i, e)
		}
		ids[e.ID] = true
	}
	var d rating.TenantStateData
	if err := json.Unmarshal(evs[0].Data, &d); err != nil || !d.Mailed() {
		t.Errorf("entering low is mailed: %+v %v", d, err)
	}
}

// A failed change writes no event: the outbox shares its transaction.
func TestAlertsRolledBackWithTheirChange(t *testing.T) {
	s := books(t)
	must[rating.Tenant](t)(s.UpdateTenant("Acme", func(x *rating.Tenant) error {
		x.LowBalanceThreshold = mustMoney(t, "99.90")
		return nil
	}))
	// The first CDR would make Acme low; the second names an unknown
	// provider, which refuses the whole batch.
	_, err := s.PostCDRs("", []rating.CDR{cdr("c1", "acme", rating.Outbound, "447911123456", "carrier-a", 90),
		cdr("c2", "acme", rating.Outbound, "447911123456", "nope", 90)})
	if err == nil {
		t.Fatal("a batch with an unknown provider was accepted")
	}
	if evs := events(t, s); len(evs) != 0 {
		t.Errorf("events of a refused batch: %+v", evs)
	}
}

// The deliverer's side: pending events, delivery state saved, done ones
// leave the pending list; paging of the events list.
func TestOutboxDelivery(t *testing.T) {
	s := MustOpen(t)
	for range 3 {
		must[rating.Event](t)(s.QueueEvent(rating.EventTest, map[string]string{"m": "x"}))
	}
	p := must[[]rating.Event](t)(s.PendingEvents(0, 10))
	if len(p) != 3 {
		t.Fatalf("%d pending", len(p))
	}
	if err := s.SaveDelivery(p[0].Seq, []rating.Delivery{{Target: "webhook http://x", State: rating.DeliveryDelivered, Attempts: 1}}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDelivery(p[1].Seq, []rating.Delivery{{Target: "webhook http://x", State: rating.DeliveryPending, Attempts: 1}}, false); err != nil {
		t.Fatal(err)
	}
	if p = must[[]rating.Event](t)(s.PendingEvents(0, 10)); len(p) != 2 || p[0].Deliveries[0].Attempts != 1 {
		t.Fatalf("pending after saving: %+v", p)
	}
	page, next, err := s.Events("", 2)
	if err != nil || len(page) != 2 || next != "2" || !page[0].Done {
		t.Fatalf("first page %+v %q %v", page, next, err)
	}
	page, next, err = s.Events(next, 2)
	if err != nil || len(page) != 1 || next != "" || page[0].Seq != 3 {
		t.Fatalf("second page %+v %q %v", page, next, err)
	}
	_, _, err = s.Events("x", 2)
	wantCode(t, err, rating.EInvalid, "after")
	if r := must[[]rating.Event](t)(s.RecentEvents(2)); len(r) != 2 || r[0].Seq != 3 {
		t.Errorf("recent %+v", r)
	}
}

// A hold that expires before its CDR writes a hold.expired event with the
// hold, in the transaction that takes it off the open holds.
func TestHoldExpiredEvent(t *testing.T) {
	c := &testClock{t: epoch}
	s := MustOpenAt(t, filepath.Join(t.TempDir(), "pbxbill.db"), Options{Now: c.Now, HoldSlack: time.Minute})
	books2(t, s)
	prepaid(t, s, "0.5", nil)
	authorize(t, s, "Pre", "441", "", "lost")
	c.Add(10 * time.Minute)
	must[[]rating.Hold](t)(s.ExpireHolds())
	evs := events(t, s)
	last := evs[len(evs)-1]
	if last.Type != rating.EventHoldExpired || !strings.Contains(string(last.Data), `"tenant":"Pre","node":"","call":"lost","amount":"0.5"`) {
		t.Errorf("last event %s %s", last.Type, last.Data)
	}
}
