package main

import (
	"encoding/binary"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
	"pbxbill/store"
)

// A (schedule, month) posted twice, as a lost posted key would make the
// scheduler do, fails the check by its reference.
func TestCheckFindsScheduleTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pbxbill.db")
	open := func() *store.Store {
		st, err := store.Open(db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	if _, err := st.CreateTenant(rating.Tenant{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().AddDate(0, -3, 0).Format("2006-01") + "-01"
	if _, err := st.CreateSchedule("Acme", rating.Schedule{Name: "seats", Amount: rating.MoneyOf(-1e8), TopUpTo: rating.NoMoney, Day: 1, Start: start}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PostDueSchedules(); err != nil || n < 3 {
		t.Fatalf("posted %d: %v", n, err)
	}
	st.Close()
	var out strings.Builder
	if err := runCheck([]string{"-db", db}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("check before the damage: %v", err)
	}

	// Lose the key of the first month, and let the scheduler run again.
	bdb, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		first, err := strconv.Atoi(start[:4] + start[5:7])
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, 1), uint32(first))
		return tx.Bucket([]byte("schedule_posted")).Delete(key)
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	st = open()
	if _, err := st.UpdateSchedule("Acme", 1, func(*rating.Schedule) error { return nil }); err != nil { // rewinds its cursor
		t.Fatal(err)
	}
	if n, err := st.PostDueSchedules(); err != nil || n != 1 {
		t.Fatalf("posted %d again: %v", n, err)
	}
	st.Close()
	err = runCheck([]string{"-db", db}, env(nil), io.Discard, io.Discard)
	want := "schedule 1 " + start[:7] + " posted 2 times"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("check: %v; want %q", err, want)
	}
}

// A statement that does not close on the ledger's balance at the month's
// end is a problem that names the month.
func TestMoneyCheckStatementMismatch(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "pbxbill.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateTenant(rating.Tenant{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	e, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(5e8), rating.Topup, "")
	if err != nil {
		t.Fatal(err)
	}
	mc := newMoneyCheck(st, rating.TenantAccount, "Acme")
	mc.entry(e)
	if err := mc.check(); err != nil {
		t.Fatalf("a true ledger: %v", err)
	}
	e.Balance = rating.MoneyOf(6e8)
	mc = newMoneyCheck(st, rating.TenantAccount, "Acme")
	mc.entry(e)
	m := rating.MonthOf(e.Time, time.UTC).String()
	if err := mc.check(); err == nil || !strings.Contains(err.Error(), "statement "+m+" closes at 5") {
		t.Errorf("a statement off the ledger: %v", err)
	}
}
