package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// receiver is a webhook receiver as API.md asks one to be: it checks the
// signature and drops an id it has seen. answer decides each answer by
// the number of the request, from 1.
type receiver struct {
	t      *testing.T
	secret string
	answer func(n int, w http.ResponseWriter)

	mu     sync.Mutex
	n      int
	bad    int             // requests with a wrong signature or header
	seen   map[string]bool // ids taken
	events []map[string]any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := hmac.New(sha256.New, []byte(rc.secret))
	m.Write(body)
	var ev map[string]any
	_ = json.Unmarshal(body, &ev)
	rc.mu.Lock()
	rc.n++
	n := rc.n
	if !hmac.Equal([]byte(r.Header.Get("X-Pbxbill-Signature")), []byte("sha256="+hex.EncodeToString(m.Sum(nil)))) ||
		r.Header.Get("X-Pbxbill-Event") != ev["id"] || r.Header.Get("Content-Type") != "application/json" {
		rc.bad++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.mu.Unlock()
	rc.answer(n, w)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if id, _ := ev["id"].(string); !rc.seen[id] {
		rc.seen[id] = true
		rc.events = append(rc.events, ev)
	}
}

func (rc *receiver) counts() (requests, bad, unique int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n, rc.bad, len(rc.events)
}

// alertStore opens a store with tenant Acme, prepaid, low below 5.
func alertStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "pbxbill.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateTenant(rating.Tenant{Name: "Acme", LowBalanceThreshold: rating.MoneyOf(5e8), Email: "billing@acme.example"}); err != nil {
		t.Fatal(err)
	}
	return st
}

var fastDelivery = deliveryOptions{Poll: 5 * time.Millisecond, FirstRetry: 10 * time.Millisecond, MaxRetry: 40 * time.Millisecond,
	GiveUp: time.Hour, Timeout: 200 * time.Millisecond, Batch: 100}

// deliverUntil runs passes of d until cond holds, for at most 2000 passes.
func deliverUntil(t *testing.T, d *deliverer, cond func() bool) {
	t.Helper()
	for range 2000 {
		d.pass(context.Background())
		if cond() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the condition did not hold within 2000 passes")
}

func pendingCount(t *testing.T, st *store.Store) int {
	t.Helper()
	p, err := st.PendingEvents(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

// A webhook that answers 500 twice and then does not answer in time gets
// the event again, signed each time, until it answers 2xx; the delivery
// state says so, and the receiver keeps the event once.
func TestWebhookRetries(t *testing.T) {
	st := alertStore(t)
	release := make(chan struct{})
	defer close(release)
	rc := &receiver{t: t, secret: "s3cret", seen: map[string]bool{}, answer: func(n int, w http.ResponseWriter) {
		switch n {
		case 1, 2:
			w.WriteHeader(http.StatusInternalServerError)
		case 3:
			select { // no answer within the timeout
			case <-release:
			case <-time.After(time.Second):
			}
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	d := newDeliverer(st, alertConfig{WebhookURLs: []string{hook.URL}, WebhookSecret: "s3cret"}, fastDelivery, zerolog.Nop())

	if _, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(3e8), rating.Topup, ""); err != nil { // blocked → low
		t.Fatal(err)
	}
	deliverUntil(t, d, func() bool { return pendingCount(t, st) == 0 })
	n, bad, unique := rc.counts()
	if n != 4 || bad != 0 || unique != 1 {
		t.Fatalf("%d requests, %d badly signed, %d events; want 4, 0, 1", n, bad, unique)
	}
	ev := rc.events[0]
	data, _ := ev["data"].(map[string]any)
	if ev["type"] != rating.EventTenantState || data["tenant"] != "Acme" || data["from"] != "blocked" || data["to"] != "low" || data["balance"] != "3" {
		t.Errorf("event %v", ev)
	}
	evs, _, err := st.Events("", 10)
	if err != nil {
		t.Fatal(err)
	}
	dl := evs[0].Deliveries
	if !evs[0].Done || len(dl) != 1 || dl[0].State != rating.DeliveryDelivered || dl[0].Attempts != 4 || dl[0].Target != "webhook "+hook.URL {
		t.Errorf("delivery state %+v", evs[0])
	}
	// A receiver that drops repeats by id takes a resent event once.
	d2 := newDeliverer(st, alertConfig{WebhookURLs: []string{hook.URL}, WebhookSecret: "s3cret"}, fastDelivery, zerolog.Nop())
	evs[0].Deliveries = nil
	d2.deliver(context.Background(), &evs[0])
	if n, _, unique := rc.counts(); n != 5 || unique != 1 {
		t.Errorf("after a repeat: %d requests, %d events", n, unique)
	}
}

// A webhook that never answers 2xx is given up after the retry window,
// with a log line; a wrong secret is what the receiver refuses.
func TestWebhookGivesUp(t *testing.T) {
	st := alertStore(t)
	rc := &receiver{t: t, secret: "right", seen: map[string]bool{}, answer: func(int, http.ResponseWriter) {}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	var log strings.Builder
	opt := fastDelivery
	opt.GiveUp = 100 * time.Millisecond
	d := newDeliverer(st, alertConfig{WebhookURLs: []string{hook.URL}, WebhookSecret: "wrong"}, opt, zerolog.New(&syncWriter{w: &log}))
	if _, err := st.QueueEvent(rating.EventTest, map[string]string{"message": "x"}); err != nil {
		t.Fatal(err)
	}
	deliverUntil(t, d, func() bool { return pendingCount(t, st) == 0 })
	n, bad, _ := rc.counts()
	evs, _, _ := st.Events("", 10)
	if n < 2 || bad != n || evs[0].Deliveries[0].State != rating.DeliveryFailed || !strings.Contains(evs[0].Deliveries[0].LastError, "401") {
		t.Errorf("%d requests, %d refused; %+v", n, bad, evs[0].Deliveries)
	}
	if !strings.Contains(log.String(), "gave up delivering an event") {
		t.Errorf("no log line of giving up:\n%s", log.String())
	}
}

// syncWriter lets the deliverer's log and the test share a builder.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Events with no webhook and no mail server are done at once.
func TestEventsWithoutTargets(t *testing.T) {
	st := alertStore(t)
	if _, err := st.QueueEvent(rating.EventTest, nil); err != nil {
		t.Fatal(err)
	}
	newDeliverer(st, alertConfig{}, fastDelivery, zerolog.Nop()).pass(context.Background())
	if n := pendingCount(t, st); n != 0 {
		t.Errorf("%d pending", n)
	}
}

func TestAlertFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-webhook-url", "ftp://x"}, "-webhook-url"},
		{[]string{"-webhook-url", "http://127.0.0.1:9/hook"}, "-webhook-secret"},
		{[]string{"-smtp-url", "http://x"}, "-smtp-url"},
		{[]string{"-smtp-url", "smtp://mail.example.net"}, "-smtp-from"},
		{[]string{"-alert-email", "ops@example.net"}, "-smtp-url"},
		{[]string{"-smtp-url", "smtp://mail.example.net", "-smtp-from", "pbx@example.net", "-alert-email", "not an address"}, "-alert-email"},
	} {
		_, err := parseConfig(c.args, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error naming %s", c.args, err, c.want)
		}
	}
	env := map[string]string{"PBXBILL_WEBHOOK_URL": "http://a.example/h, https://b.example/h", "PBXBILL_WEBHOOK_SECRET": "k",
		"PBXBILL_SMTP_URL": "smtp://u:p@mail.example.net", "PBXBILL_SMTP_FROM": "pbx@example.net", "PBXBILL_ALERT_EMAIL": "ops@example.net"}
	c, err := parseConfig([]string{"-webhook-url", "http://c.example/h"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.WebhookURLs) != 1 || c.SMTP == nil || c.SMTP.addr != "mail.example.net:587" || c.SMTP.user != "u" || c.AlertEmail != "ops@example.net" {
		t.Errorf("config %+v %+v", c.alertConfig, c.SMTP)
	}
	c, err = parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || len(c.WebhookURLs) != 2 {
		t.Errorf("comma-separated variable: %v %v", c.WebhookURLs, err)
	}
}

// One pass reads every pending event, a page at a time: events waiting on
// a retry do not hold back the newer ones behind them.
func TestPassReadsEveryPage(t *testing.T) {
	st := alertStore(t)
	rc := &receiver{t: t, secret: "k", seen: map[string]bool{}, answer: func(int, http.ResponseWriter) {}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	opt := fastDelivery
	opt.Batch, opt.FirstRetry, opt.MaxRetry = 2, time.Hour, time.Hour
	d := newDeliverer(st, alertConfig{WebhookURLs: []string{"http://user:pw@" + hook.Listener.Addr().String()}, WebhookSecret: "k"}, opt, zerolog.Nop())
	for range 5 {
		if _, err := st.QueueEvent(rating.EventTest, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.pass(context.Background())
	if n, bad, unique := rc.counts(); n != 5 || bad != 0 || unique != 5 {
		t.Fatalf("one pass: %d requests, %d bad, %d events; want 5, 0, 5", n, bad, unique)
	}
	evs, _, _ := st.Events("", 10)
	if got := evs[4].Deliveries[0].Target; got != "webhook http://user:xxxxx@"+hook.Listener.Addr().String() {
		t.Errorf("target %q: the password must not show", got)
	}
}
