package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// followStore opens a store in a temporary file with tenant Acme
// (accountcode acme), whose outbound table charges 0.60 a minute per
// second on 44, so a call of d seconds costs d × 0.01; and provider
// Carrier on trunk carrier1, which buys at half that.
func followStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "follow.db")
	st, err := store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for name, rate := range map[string]string{"Sell": "0.60", "Buy": "0.30"} {
		tb := rating.NewTable(name, rating.Outbound, "EUR")
		tb.InitialIncrement, tb.Increment = 1, 1
		if _, err := st.CreateRateTable(tb); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceRates(name, []rating.Row{rating.NewRow("44", mustAmount(t, rate))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateProvider(rating.Provider{Name: "Carrier", Trunk: "carrier1", Status: rating.Active, OutboundTable: "Buy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateTenant(rating.Tenant{Name: "Acme", AccountCode: "acme", BillingMode: rating.Postpaid,
		Status: rating.Active, OutboundTable: "Sell", CreditLimit: mustMoney(t, "1000")}); err != nil {
		t.Fatal(err)
	}
	return st, db
}

func mustAmount(t *testing.T, s string) rating.Amount {
	t.Helper()
	a, err := rating.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustMoney(t *testing.T, s string) rating.Money {
	t.Helper()
	m, err := rating.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// call is an Asterisk cdr_csv line: Acme's extension 1001 calls a UK
// number through carrier1, answered, for billsec seconds. id "" leaves
// out the uniqueid column.
func acmeCall(id string, billsec int) string {
	line := fmt.Sprintf(`"acme","1001","4420794609%02d","from-internal","""Doe, Jane"" <1001>","PJSIP/1001-00000001",`+
		`"PJSIP/carrier1-00000002","Dial","PJSIP/442079460958@carrier1,60,T","2026-11-24 09:15:02","2026-11-24 09:15:09",`+
		`"2026-11-24 09:20:00",%d,%d,"ANSWERED","DOCUMENTATION"`, billsec%100, billsec+7, billsec)
	if id != "" {
		line += fmt.Sprintf(`,"%s",""`, id)
	}
	return line + "\n"
}

// internal is a call between two extensions: no accountcode.
const internal = `"","1001","1002","from-internal","""Jane"" <1001>","PJSIP/1001-0000000a","PJSIP/1002-0000000b","Dial","PJSIP/1002,30","2026-11-24 10:10:00","2026-11-24 10:10:02","2026-11-24 10:12:02",122,120,"ANSWERED","DOCUMENTATION","1795515000.9",""` + "\n"

// appendTo appends text to the file at path, creating it.
func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// testFollower follows path with a debug log in logs.
func testFollower(st *store.Store, path string, logs *syncBuffer) *follower {
	return newFollower(st, followConfig{FollowPath: path, FollowFormat: rating.Asterisk,
		FollowInterval: 5 * time.Millisecond}, zerolog.New(logs).Level(zerolog.DebugLevel))
}

// running is a follower in its own goroutine, as run starts it.
type running struct {
	fl     *follower
	cancel context.CancelFunc
	done   chan struct{}
}

func startTest(fl *follower) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{fl: fl, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); fl.run(ctx) }()
	return r
}

// stop ends the follower and waits for it; its counters are then safe to
// read.
func (r *running) stop() *follower { r.cancel(); <-r.done; return r.fl }

// stored returns the ids and the seconds of every stored CDR.
func stored(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := st.EachCDR(rating.CDRFilter{}, func(c *rating.CDR) error {
		if _, dup := got[c.ID]; dup {
			t.Errorf("CDR %s stored twice", c.ID)
		}
		got[c.ID] = c.Duration
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitStored polls the store, for at most 10 seconds, until it holds n CDRs.
func waitStored(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if got := len(stored(t, st)); got >= n {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("the follower stored %d CDRs within 10 s, want %d", got, n)
		}
	}
}

// assertBilled checks that the store holds exactly the CDRs of want (id →
// seconds), each priced once to Acme and to Carrier, and that its books
// check.
func assertBilled(t *testing.T, st *store.Store, want map[string]int) {
	t.Helper()
	got := stored(t, st)
	total := 0
	for id, d := range want {
		if got[id] != d {
			t.Errorf("CDR %s: %d s stored, want %d s", id, got[id], d)
		}
		total += d
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("CDR %s stored, and no such line was written", id)
		}
	}
	acme, err := st.Tenant("Acme")
	if err != nil {
		t.Fatal(err)
	}
	if w := rating.MoneyOf(-int64(total) * int64(mustAmount(t, "0.01"))); acme.Balance != w {
		t.Errorf("Acme's balance %s after %d s, want %s", acme.Balance, total, w)
	}
	if err := st.Check(); err != nil {
		t.Errorf("check: %v", err)
	}
}

// position returns the stored position of path.
func position(t *testing.T, st *store.Store, path string) store.FollowPos {
	t.Helper()
	pos, err := st.FollowPos(path)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

func TestFollowAppendsAndRestarts(t *testing.T) {
	st, _ := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	logs := &syncBuffer{}
	want := map[string]int{}
	write := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("1795511702.%d", i)
			want[id] = 10 + i
			appendTo(t, path, acmeCall(id, 10+i))
		}
	}
	// The file appears only after the follower has started.
	r := startTest(testFollower(st, path, logs))
	waitFor(t, logs, "waiting for the CDR file")
	write(0, 3)
	waitStored(t, st, 3)
	appendTo(t, path, internal)
	write(3, 5)
	waitStored(t, st, 5)
	fl := r.stop()

	// Written while pbxbill is down, then read by a new follower.
	write(5, 8)
	r = startTest(testFollower(st, path, logs))
	waitStored(t, st, 8)
	write(8, 9)
	waitStored(t, st, 9)
	fl2 := r.stop()
	assertBilled(t, st, want)
	if n := fl.duplicate + fl2.duplicate; n != 0 || fl.rated+fl2.rated != 9 {
		t.Errorf("%d + %d rated, %d duplicates: a line was read twice", fl.rated, fl2.rated, n)
	}
	fi, _ := os.Stat(path)
	if pos := position(t, st, path); pos.Offset != fi.Size() || pos.Line != 10 || pos.Inode != inode(fi) {
		t.Errorf("stored position %+v, want the whole file: %d bytes, 10 lines", pos, fi.Size())
	}
	for _, msg := range []string{"following the CDR file", "stopped following the CDR file"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("the log does not say %q:\n%s", msg, logs)
		}
	}
}

// TestFollowStoppedMidBacklog stops followers at random points of a long
// backlog read in small batches, and reopens the store from its file
// between them: every line is still billed exactly once.
func TestFollowStoppedMidBacklog(t *testing.T) {
	st, db := followStore(t)
	path := filepath.Join(t.TempDir(), "Master.csv")
	want := map[string]int{}
	var b strings.Builder
	for i := range 2000 {
		id := fmt.Sprintf("1795520000.%d", i)
		want[id] = 1 + i%50
		b.WriteString(acmeCall(id, 1+i%50))
	}
	appendTo(t, path, b.String())
	dups := 0
	for round := 0; len(stored(t, st)) < len(want); round++ {
		if round == 100 {
			t.Fatalf("2000 lines not billed in 100 rounds")
		}
		fl := testFollower(st, path, &syncBuffer{})
		fl.batch = 50
		r := startTest(fl)
		waitStored(t, st, min(len(want), len(stored(t, st))+1))
		dups += r.stop().duplicate
		if round%3 == 0 {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			var err error
			if st, err = store.Open(db, store.Options{TZ: "UTC", Currency: "EUR"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { st.Close() })
	assertBilled(t, st, want)
	if dups != 0 {
		t.Errorf("%d lines were read again after a restart", dups)
	}
}
