package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pbxbill/rating"
)

const moneyToken = "e2e-money-token"

// send makes one JSON request with the bootstrap token and fails unless
// it answers want.
func send(t *testing.T, p *proc, method, path, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+moneyToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return string(b)
}

// feesPosted reads Acme's balance: each of its fees is -1.
func feesPosted(t *testing.T, p *proc) int {
	t.Helper()
	var tn struct{ Balance rating.Money }
	if err := json.Unmarshal([]byte(send(t, p, "GET", "/api/v1/tenants/Acme", "", http.StatusOK)), &tn); err != nil {
		t.Fatal(err)
	}
	n, _ := tn.Balance.Neg().Int64()
	return int(n / 1e8)
}

// The built binary, killed with SIGKILL while it catches up 26 years of
// four monthly fees, posts each (schedule, month) exactly once after it
// starts again; pbxbill check agrees.
func TestSchedulerSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "pbxbill.db")
	args := []string{"-db", db, "-api-token", moneyToken}
	p := start(t, bin, args...)
	send(t, p, "POST", "/api/v1/tenants", `{"name": "Acme", "billing_mode": "postpaid", "credit_limit": "100000"}`, http.StatusCreated)
	want := 0
	now := time.Now().UTC()
	for i, day := range []int{1, 10, 19, 31} {
		body := `{"name": "seat ` + string(rune('A'+i)) + `", "amount": "-1", "day": ` + itoa(day) + `, "start": "2000-01-01"}`
		send(t, p, "POST", "/api/v1/tenants/Acme/schedules", body, http.StatusCreated)
		s := rating.Schedule{Day: day, Start: "2000-01-01", Amount: rating.MoneyOf(-1)}
		for m := (rating.Month{Year: 2000, Month: time.January}); !now.Before(m.Start(time.UTC)); m = m.Next() {
			if at, ok := s.DueAt(m, time.UTC); ok && !at.After(now) {
				want++
			}
		}
	}
	// The first process may have begun; SIGTERM lets it stop between two
	// postings, and the second is killed in the middle of the catch-up.
	p.stop(t)
	p = start(t, bin, args...)
	for i := 0; feesPosted(t, p) < 20 && i < 3000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	// Read the file as the kill left it: the catch-up was under way.
	out, err := exec.Command(bin, "check", "-db", db).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok: ") {
		t.Fatalf("check after the kill: %v\n%s", err, out)
	}
	p = start(t, bin, args...)
	if n := feesPosted(t, p); n == 0 || n >= want {
		t.Logf("the kill came at %d of %d fees: not in the middle of the catch-up", n, want)
	}
	got := 0
	for i := 0; i < 6000; i++ {
		if got = feesPosted(t, p); got >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if got = feesPosted(t, p); got != want {
		t.Fatalf("%d fees posted, want %d", got, want)
	}
	seen := map[string]bool{}
	after := ""
	for range 100 {
		var page struct {
			Items []rating.Entry
			Next  string
		}
		if err := json.Unmarshal([]byte(send(t, p, "GET", "/api/v1/tenants/Acme/ledger?limit=1000&after="+after, "", http.StatusOK)), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if _, _, ok := rating.ParseScheduleRef(e.Ref); !ok || e.Kind != rating.Fee || seen[e.Ref] {
				t.Fatalf("entry %+v: a repeat or not a fee", e)
			}
			seen[e.Ref] = true
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct fees in the ledger, want %d", len(seen), want)
	}
	p.stop(t)
	out, err = exec.Command(bin, "check", "-db", db).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Errorf("check: %v\n%s", err, out)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// An event whose webhook request is in flight when the binary is killed
// is sent again after the restart (the outbox), signed and with the same
// id, which the receiver takes once.
func TestWebhookSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	inFlight, again := make(chan struct{}), make(chan struct{}, 10)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	rc := &receiver{t: t, secret: "e2e-secret", seen: map[string]bool{}, answer: func(n int, w http.ResponseWriter) {
		if n == 1 {
			close(inFlight)
			select {
			case <-release:
			case <-time.After(time.Minute):
			}
			return
		}
		w.WriteHeader(http.StatusOK)
		again <- struct{}{}
	}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	defer unblock() // before Close, which waits for the handler
	db := filepath.Join(t.TempDir(), "pbxbill.db")
	args := []string{"-db", db, "-api-token", moneyToken, "-webhook-url", hook.URL + "/pbxbill", "-webhook-secret", "e2e-secret"}
	p := start(t, bin, args...)
	send(t, p, "POST", "/api/v1/tenants", `{"name": "Acme", "low_balance_threshold": "5"}`, http.StatusCreated)
	send(t, p, "POST", "/api/v1/tenants/Acme/credits", `{"amount": "3"}`, http.StatusCreated) // blocked → low
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook request within 30 s")
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	unblock()
	p = start(t, bin, args...)
	select {
	case <-again:
	case <-time.After(30 * time.Second):
		t.Fatal("the event was not sent again within 30 s of the restart")
	}
	n, bad, unique := rc.counts()
	if n != 2 || bad != 0 || unique != 1 {
		t.Errorf("%d requests, %d badly signed, %d events; want 2, 0, 1", n, bad, unique)
	}
	var evs struct{ Items []rating.Event }
	for range 100 { // the state is saved just after the answer
		if err := json.Unmarshal([]byte(send(t, p, "GET", "/api/v1/events", "", http.StatusOK)), &evs); err != nil {
			t.Fatal(err)
		}
		if len(evs.Items) == 1 && evs.Items[0].Done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(evs.Items) != 1 || !evs.Items[0].Done || evs.Items[0].Deliveries[0].State != rating.DeliveryDelivered ||
		evs.Items[0].ID != rc.events[0]["id"] {
		t.Errorf("events %+v", evs.Items)
	}
	p.stop(t)
}
