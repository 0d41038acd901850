package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
	"pbxbill/store"
)

// billedDemo makes a database file with the demo records and the CDRs of
// examples/Master.csv, closed again, and returns its path and the number
// of CDRs stored.
func billedDemo(t *testing.T, tz string) (string, int) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "pbxbill.db")
	st, err := store.Open(db, store.Options{TZ: tz, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := seedDemo(st, time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("examples/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _, err := rating.ParsePBXFile(f, rating.Asterisk, st.Location())
	if err != nil {
		t.Fatal(err)
	}
	resolve, err := st.ProviderByTrunk()
	if err != nil {
		t.Fatal(err)
	}
	cdrs := make([]rating.CDR, len(recs))
	for i := range recs {
		cdrs[i] = recs[i].CDR(0, resolve)
	}
	p, err := st.PostCDRs("", cdrs)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rated == 0 {
		t.Fatalf("no CDR of examples/Master.csv was rated: %+v", p)
	}
	return db, len(cdrs)
}

func TestCheckOK(t *testing.T) {
	db, cdrs := billedDemo(t, "UTC")
	var out, errs strings.Builder
	if err := runCheck([]string{"-db", db}, env(nil), &out, &errs); err != nil {
		t.Fatalf("check of a consistent file: %v\n%s", err, errs.String())
	}
	var tenants, providers, entries, n int
	var path string
	if _, err := fmt.Sscanf(out.String(), "ok: %s %d tenants, %d providers, %d ledger entries, %d CDRs checked\n",
		&path, &tenants, &providers, &entries, &n); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	// Three opening topups, then at least one charge for each rated CDR.
	if path != db+":" || tenants != 2 || providers != 2 || entries <= 3+cdrs/2 || n != cdrs {
		t.Errorf("output %q, want %s, 2 tenants, 2 providers, more than %d entries and %d CDRs", out.String(), db, 3+cdrs/2, cdrs)
	}
}

// TestCheckFindsTamperedBalance edits a balance behind the store's back,
// as a damaged or hand-edited file would have it.
func TestCheckFindsTamperedBalance(t *testing.T) {
	db, _ := billedDemo(t, "UTC")
	bdb, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("tenants"))
		if b == nil {
			return errors.New("no tenants bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			var rec map[string]any
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec["name"] != demoPrepaid {
				return nil
			}
			rec["balance"] = "1000"
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			return b.Put(k, v)
		})
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := st.Tenant(demoPrepaid)
	st.Close()
	if err != nil || tn.Balance != mustMoney(t, "1000") {
		t.Fatalf("the tampering did not take: %+v, %v", tn, err)
	}

	var out strings.Builder
	err = runCheck([]string{"-db", db}, env(nil), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), demoPrepaid) || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("check of a tampered balance: %v; want a failure naming %s", err, demoPrepaid)
	}
	if out.Len() > 0 {
		t.Errorf("a failed check printed %q", out.String())
	}
}

func TestCheckRefuses(t *testing.T) {
	london, _ := billedDemo(t, "Europe/London")
	missing := filepath.Join(t.TempDir(), "typo.db")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"missing file", []string{"-db", missing}, nil, "typo.db"},
		{"another zone", []string{"-db", london}, nil, "Europe/London"},
		{"another currency", []string{"-db", london, "-tz", "Europe/London", "-currency", "USD"}, nil, "USD"},
		{"bad flag", []string{"-db", london, "-verbose"}, nil, "-verbose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := runCheck(tc.args, env(tc.env), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check %q: %v; want an error naming %s", tc.args, err, tc.want)
			}
			if out.Len() > 0 {
				t.Errorf("a refused check printed %q", out.String())
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("check created the missing file: %v", err)
	}
	// The zone from the environment, as a unit file would set it.
	var out strings.Builder
	if err := runCheck(nil, env(map[string]string{"PBXBILL_DB": london, "PBXBILL_TZ": "Europe/London"}), &out, io.Discard); err != nil ||
		!strings.HasPrefix(out.String(), "ok: ") {
		t.Errorf("check with PBXBILL_DB and PBXBILL_TZ: %v, %q", err, out.String())
	}
}

// TestCheckLockedFile: a running server holds the file; check says so
// instead of reading a file that changes under it.
func TestCheckLockedFile(t *testing.T) {
	db, _ := billedDemo(t, "UTC")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = runCheck([]string{"-db", db}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("check of a file in use: %v; want an error that says it is locked", err)
	}
}

// TestCheckWritesNothing: a check leaves the file byte for byte as it
// was, for a database closed by the store and for one the server has just
// closed after billing a CDR file.
func TestCheckWritesNothing(t *testing.T) {
	demo, _ := billedDemo(t, "UTC")

	served := filepath.Join(t.TempDir(), "served.db")
	cdrs := filepath.Join(t.TempDir(), "Master.csv")
	b, err := os.ReadFile("examples/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cdrs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(b), "\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-db", served, "-listen", "127.0.0.1:0", "-demo", "-log-level", "debug",
			"-follow-cdr-csv", cdrs, "-follow-interval", "10ms"}, env(nil), logs)
	}()
	waitFor(t, logs, fmt.Sprintf(`"line":%d,"rated":`, lines))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	for _, db := range []string{demo, served} {
		before := fileSum(t, db)
		var out strings.Builder
		if err := runCheck([]string{"-db", db}, env(nil), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "ok: ") {
			t.Fatalf("check %s: %v, %q", db, err, out.String())
		}
		if after := fileSum(t, db); after != before {
			t.Errorf("check changed %s: SHA-256 %s before, %s after", db, before, after)
		}
	}
}

// fileSum is the SHA-256 of the file at path, in hex.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
