package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// schema1Now is the clock testdata/schema1.json was read at.
var schema1Now = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// openSchema1 opens a copy of testdata/schema1.bbolt, which schema version
// 1's code wrote (testdata/schema1.go.txt): money as int64 varints and
// 48-byte roll-ups, an unrated CDR's cost as math.MinInt64.
func openSchema1(t *testing.T) *Store {
	t.Helper()
	return MustOpenAt(t, copySchema1(t), schema1Options)
}

var schema1Options = Options{TZ: "Europe/Paris", Currency: "EUR", Now: func() time.Time { return schema1Now }}

// copySchema1 copies testdata/schema1.bbolt to a temporary file.
func copySchema1(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "schema1.bbolt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pbxbill.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readBack is what the generator read with schema 1's code, in the same
// shape: every record, ledger, CDR and dashboard figure of the fixture.
func readBack(t *testing.T, s *Store) []byte {
	t.Helper()
	out := map[string]any{}
	out["tenants"] = withoutLater(t, must[[]rating.Tenant](t)(s.Tenants()),
		`,"max_calls":0,"daily_spend_limit":"0","max_call_duration":0,"email":""`)
	out["providers"] = must[[]rating.Provider](t)(s.Providers())
	ledgers := map[string][]rating.Entry{}
	for _, a := range [][2]string{{rating.TenantAccount, "Acme"}, {rating.TenantAccount, "Beta"},
		{rating.TenantAccount, "Big"}, {rating.ProviderAccount, "Carrier"}} {
		es, _, err := s.Ledger(a[0], a[1], time.Time{}, time.Time{}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		ledgers[a[0]+" "+a[1]] = es
	}
	out["ledgers"] = ledgers
	cdrs, _, err := s.CDRs(rating.CDRFilter{}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	out["cdrs"] = cdrs
	out["tenant_dashboard"] = withoutLater(t, must[[]rating.TenantFigures](t)(s.TenantDashboard()), `,"calls_in_progress":0`)
	ps, total, err := s.ProviderDashboard(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), schema1Now)
	if err != nil {
		t.Fatal(err)
	}
	out["provider_dashboard"] = map[string]any{"providers": ps, "totals": total}
	for _, acct := range [][2]string{{rating.TenantAccount, "Acme"}, {rating.ProviderAccount, "Carrier"}} {
		out["daily "+acct[1]] = must[[]rating.DayUsage](t)(s.DailyUsage(acct[0], acct[1], time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC), schema1Now))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// withoutLater is v as JSON without the fields that came after schema
// 1's code, as `,"name":value` texts, which its read-back cannot have:
// every field it had is still compared, in its order and spelling.
func withoutLater[T any](t *testing.T, v []T, later ...string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range later {
		n := bytes.Count(b, []byte(f))
		if b = bytes.ReplaceAll(b, []byte(f), nil); n != len(v) {
			t.Fatalf("%s: %d times in %s, want once per item", f, n, b)
		}
	}
	return b
}

// cdrsByID is a read-back with its "cdrs" sorted by id, every other value
// as it was.
func cdrsByID(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var cdrs []json.RawMessage
	if err := json.Unmarshal(m["cdrs"], &cdrs); err != nil {
		t.Fatal(err)
	}
	id := func(r json.RawMessage) string {
		var c struct{ ID string }
		_ = json.Unmarshal(r, &c)
		return c.ID
	}
	sort.SliceStable(cdrs, func(i, j int) bool { return id(cdrs[i]) < id(cdrs[j]) })
	sorted, err := json.Marshal(cdrs)
	if err != nil {
		t.Fatal(err)
	}
	m["cdrs"] = sorted
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A database of schema version 1 opens, reads exactly what the old code
// read from it, passes Check, and is marked version 2 in the same Open.
func TestOpenSchema1(t *testing.T) {
	s := openSchema1(t)
	want, err := os.ReadFile(filepath.Join("testdata", "schema1.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The CDRs are listed by call start now, where schema 1's code listed
	// them by arrival: the two lists are compared in one order, by id.
	if got, want := cdrsByID(t, readBack(t, s)), cdrsByID(t, want); !bytes.Equal(got, want) {
		t.Fatalf("read back:\n%s\nschema 1's code read:\n%s", got, want)
	}
	// The same, spelt out for the values that matter most.
	if b := balance(t, s, rating.TenantAccount, "Big"); b.String() != "99900000.99999999" {
		t.Errorf("Big's balance %s", b)
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b.String() != "20.848" {
		t.Errorf("Acme's balance %s", b)
	}
	unrated, _, err := s.CDRs(rating.CDRFilter{Status: rating.Unrated}, "", 10)
	if err != nil || len(unrated) != 2 || unrated[0].Cost.Set() || unrated[0].ProviderCost.Set() {
		t.Errorf("unrated CDRs %+v %v", unrated, err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(metaVersion)); v != strconv.Itoa(schemaVersion) {
			t.Errorf("schema version %q after Open, want %d", v, schemaVersion)
		}
		return nil
	})
}

// OpenReadOnly reads a version 1 file as Open does, and leaves it byte
// for byte as it was: still version 1.
func TestOpenSchema1ReadOnly(t *testing.T) {
	path := copySchema1(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(path, schema1Options)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Error(err)
	}
	if b := balance(t, r, rating.TenantAccount, "Big"); b.String() != "99900000.99999999" {
		t.Errorf("Big's balance %s", b)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the file changed (%v)", err)
	}
}

// Old records and new ones live side by side: 128-bit amounts posted on
// top of schema 1's balances, and a re-rate that rewrites old CDRs and
// their 48-byte roll-ups, keep the books balanced across a reopen.
func TestSchema1TakesNewPostings(t *testing.T) {
	s := openSchema1(t)
	e := must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Big", mustMoney(t, "1000000000000000"), rating.Topup, "IDR"))
	if e.Balance.String() != "1000000099900000.99999999" {
		t.Errorf("Big's balance %s", e.Balance)
	}
	big := rating.NewRow("449", amt(t, "1000000"))
	if _, _, err := s.MergeRates("Sell", []rating.Row{rating.NewRow("44", amt(t, "0.07")), big}); err != nil {
		t.Fatal(err)
	}
	r := must[rating.Rerated](t)(s.Rerate(rating.CDRFilter{}))
	if r.Corrected != 3 { // a1 and a4 at 0.07; g1 without its max_cost
		t.Errorf("rerate %+v", r)
	}
	if _, err := s.PostCDRs("", []rating.CDR{{ID: "g2", Tenant: "Big", Number: "449000", Start: schema1Now, Duration: 10800}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// 10^15 + 99900000.99999999 − (60·10^6 − 99999) for g1 − 1.8·10^8 for g2
	want := "999999859999999.99999999"
	if b := balance(t, s, rating.TenantAccount, "Big"); b.String() != want {
		t.Errorf("Big's balance %s, want %s", b, want)
	}
	s = reopen(t, s)
	if b := balance(t, s, rating.TenantAccount, "Big"); b.String() != want {
		t.Errorf("Big's balance after reopening %s, want %s", b, want)
	}
	figs := must[[]rating.TenantFigures](t)(s.TenantDashboard())
	if f := figs[2]; f.Name != "Big" || f.SpendToday.String() != "180000000" || f.SpendMonth.String() != "240000000" {
		t.Errorf("Big's figures %+v", f)
	}
}
