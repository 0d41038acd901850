package pg_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// TestOutboxPages: events keep their data as written, page by sequence
// number, and list newest first.
func TestOutboxPages(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	s := hOpen(t, url, c)
	for i := range 5 {
		ev := hMust[rating.Event](t)(s.QueueEvent(rating.EventTest, map[string]any{"z": i, "a": "x"}))
		if ev.Seq == 0 || ev.ID == "" || ev.Type != rating.EventTest || ev.Deliveries == nil {
			t.Fatalf("queued %+v", ev)
		}
	}
	page, next, err := s.Events("", 2)
	if err != nil || len(page) != 2 || next != fmt.Sprint(page[1].Seq) || string(page[0].Data) != `{"a":"x","z":0}` ||
		!page[0].Time.Equal(hDay) || page[0].Deliveries == nil || len(page[0].Deliveries) != 0 {
		t.Fatalf("first page %+v, %q, %v", page, next, err)
	}
	var all []rating.Event
	for after := ""; ; {
		p, n, err := s.Events(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p...)
		if n == "" {
			break
		}
		after = n
	}
	if len(all) != 5 || string(all[4].Data) != `{"a":"x","z":4}` {
		t.Fatalf("paged %d", len(all))
	}
	if _, _, err := s.Events("x", 2); rating.ErrorCode(err) != rating.EInvalid {
		t.Fatalf("a bad cursor: %v", err)
	}
	if p, n, err := s.Events(fmt.Sprint(all[4].Seq), 2); err != nil || len(p) != 0 || p == nil || n != "" {
		t.Fatalf("past the end: %+v %q %v", p, n, err)
	}
	recent := hMust[[]rating.Event](t)(s.RecentEvents(3))
	if len(recent) != 3 || recent[0].Seq != all[4].Seq || recent[2].Seq != all[2].Seq {
		t.Fatalf("recent %+v", recent)
	}
	if r := hMust[[]rating.Event](t)(s.RecentEvents(0)); r == nil || len(r) != 0 {
		t.Fatalf("recent 0: %+v", r)
	}
	d := []rating.Delivery{{Target: "webhook x", State: rating.DeliveryPending, Attempts: 1, NextTry: hDay.Add(time.Minute), LastError: "503"}}
	if err := s.SaveDelivery(all[0].Seq, d, false); err != nil {
		t.Fatal(err)
	}
	p := hMust[[]rating.Event](t)(s.PendingEvents(0, 2))
	if len(p) != 2 || p[0].Seq != all[0].Seq || len(p[0].Deliveries) != 1 || p[0].Deliveries[0] != d[0] || p[0].Done {
		t.Fatalf("pending %+v", p)
	}
	if p := hMust[[]rating.Event](t)(s.PendingEvents(all[3].Seq, 10)); len(p) != 1 || p[0].Seq != all[4].Seq {
		t.Fatalf("pending after %d: %+v", all[3].Seq, p)
	}
	if err := s.SaveDelivery(all[0].Seq, d, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDelivery(1<<40, d, true); err != nil {
		t.Fatalf("an event that is not there: %v", err)
	}
	if p := hMust[[]rating.Event](t)(s.PendingEvents(0, 10)); len(p) != 4 || p[0].Seq != all[1].Seq {
		t.Fatalf("pending after delivery: %+v", p)
	}
}

// TestOutboxTwoDeliverers: two nodes deliver at once, each event by one
// of them; a node's claim keeps the other off until it runs out, and a
// save that comes after another node claimed the event changes nothing.
func TestOutboxTwoDeliverers(t *testing.T) {
	url := pgtest.URL(t)
	c := &hClock{t: hDay}
	nodes := []*pg.Store{hOpen(t, url, c), hOpen(t, url, c)}
	const events = 300
	for i := range events {
		hMust[rating.Event](t)(nodes[0].QueueEvent(rating.EventTest, i))
	}
	var mu sync.Mutex
	delivered := map[uint64]int{}
	var wg sync.WaitGroup
	for _, n := range nodes { // one deliverer a node, as main runs it
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 3; {
				var after uint64
				got := 0
				for {
					evs, err := n.PendingEvents(after, 7)
					if err != nil {
						t.Error(err)
						return
					}
					for _, ev := range evs {
						mu.Lock()
						delivered[ev.Seq]++
						mu.Unlock()
						if err := n.SaveDelivery(ev.Seq, []rating.Delivery{{Target: "webhook x", State: rating.DeliveryDelivered, Attempts: 1}}, true); err != nil {
							t.Error(err)
						}
						after = ev.Seq
					}
					got += len(evs)
					if len(evs) < 7 {
						break
					}
				}
				if got == 0 {
					idle++
				}
			}
		}()
	}
	wg.Wait()
	if len(delivered) != events {
		t.Fatalf("%d of %d events delivered", len(delivered), events)
	}
	for seq, k := range delivered {
		if k != 1 {
			t.Errorf("event %d delivered %d times", seq, k)
		}
	}
	if n := hCount(t, url, `SELECT count(*) FROM outbox WHERE NOT done OR claimed_by IS NOT NULL`); n != 0 {
		t.Fatalf("%d events left pending or claimed", n)
	}

	// A claim keeps the other node off, and its own node on.
	ev := hMust[rating.Event](t)(nodes[0].QueueEvent(rating.EventTest, "late"))
	if p := hMust[[]rating.Event](t)(nodes[0].PendingEvents(0, 10)); len(p) != 1 || p[0].Seq != ev.Seq {
		t.Fatalf("first node: %+v", p)
	}
	if p := hMust[[]rating.Event](t)(nodes[1].PendingEvents(0, 10)); len(p) != 0 {
		t.Fatalf("second node read a claimed event: %+v", p)
	}
	if p := hMust[[]rating.Event](t)(nodes[0].PendingEvents(0, 10)); len(p) != 1 {
		t.Fatalf("first node again: %+v", p)
	}
	// The first node stops; its claim runs out and the second takes it.
	c.add(6 * time.Minute)
	if p := hMust[[]rating.Event](t)(nodes[1].PendingEvents(0, 10)); len(p) != 1 || p[0].Seq != ev.Seq {
		t.Fatalf("after the lease: %+v", p)
	}
	late := []rating.Delivery{{Target: "webhook x", State: rating.DeliveryDelivered, Attempts: 1}}
	if err := nodes[0].SaveDelivery(ev.Seq, late, true); err != nil {
		t.Fatal(err)
	}
	if p := hMust[[]rating.Event](t)(nodes[1].PendingEvents(0, 10)); len(p) != 1 || len(p[0].Deliveries) != 0 {
		t.Fatalf("the first node's late save was kept: %+v", p)
	}
	if err := nodes[1].SaveDelivery(ev.Seq, late, true); err != nil {
		t.Fatal(err)
	}
	if p := hMust[[]rating.Event](t)(nodes[0].PendingEvents(0, 10)); len(p) != 0 {
		t.Fatalf("pending after delivery: %+v", p)
	}
}
