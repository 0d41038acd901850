package store

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests need zones whatever the machine has

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"pbxbill/rating"
)

// testClock is a clock the tests move by hand. With step set, every
// reading advances it, so each transaction gets its own instant.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// MustOpen opens a store on a new file in a temporary directory, with a
// clock that ticks one second per reading.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	c := &testClock{t: epoch, step: time.Second}
	return MustOpenAt(tb, filepath.Join(tb.TempDir(), "pbxbill.db"), Options{Now: c.Now})
}

// MustOpenAt opens the store at path. Its cleanup checks the file's
// consistency and fails the test on any error, then closes it.
func MustOpenAt(tb testing.TB, path string, opt Options) *Store {
	tb.Helper()
	s, err := Open(path, opt)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Check(); err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			tb.Errorf("books: %v", err)
		}
		err := s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				tb.Errorf("consistency check: %v", err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			tb.Errorf("consistency check: %v", err)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// reopen closes s and opens its file again with the same options.
func reopen(tb testing.TB, s *Store) *Store {
	tb.Helper()
	path := s.db.Path()
	opt := Options{TZ: s.tz, Currency: s.currency, Now: s.now}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	return MustOpenAt(tb, path, opt)
}

// wantCode fails unless err is an *rating.Error with code and, when
// given, a message containing each of parts.
func wantCode(tb testing.TB, err error, code string, parts ...string) {
	tb.Helper()
	if got := rating.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			tb.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func mustTable(tb testing.TB, s *Store, name string, k rating.Kind) rating.Table {
	tb.Helper()
	return must[rating.Table](tb)(s.CreateRateTable(rating.NewTable(name, k, "")))
}

func TestReopenKeepsData(t *testing.T) {
	s := MustOpen(t)
	mustTable(t, s, "retail", rating.Outbound)
	rows := []rating.Row{rating.NewRow("44", 1_000_000), rating.NewRow("*", 5_000_000)}
	if err := s.ReplaceRates("retail", rows); err != nil {
		t.Fatal(err)
	}
	must[rating.Tenant](t)(s.CreateTenant(rating.Tenant{Name: "Acme", OutboundTable: "retail"}))
	must[rating.Entry](t)(s.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(25*100_000_000), rating.Topup, ""))
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "Carrier"}))
	_, token, err := s.CreateNode("pbx1")
	if err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s)
	if tn := must[rating.Tenant](t)(s.Tenant("Acme")); tn.Balance != rating.MoneyOf(25*100_000_000) || tn.OutboundTable != "retail" {
		t.Errorf("tenant after reopen: %+v", tn)
	}
	must[rating.Provider](t)(s.Provider("Carrier"))
	if n := must[rating.Node](t)(s.NodeByToken(token)); n.Name != "pbx1" {
		t.Errorf("node after reopen: %+v", n)
	}
	x := s.Book().Get("retail")
	if x == nil || x.Table().Rows != 2 {
		t.Fatalf("book after reopen: %v", x)
	}
	if r, ok := x.Lookup("4420", epoch); !ok || r.Prefix != "44" {
		t.Errorf("lookup after reopen: %+v %v", r, ok)
	}
	if empty := must[bool](t)(s.Empty()); empty {
		t.Error("Empty after reopen: true")
	}
}

func TestOpenRefusesOtherTZOrCurrency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pbxbill.db")
	s := MustOpenAt(t, path, Options{TZ: "Europe/Berlin", Currency: "chf"})
	if s.Currency() != "CHF" || s.Location().String() != "Europe/Berlin" {
		t.Errorf("options: %s %s", s.Currency(), s.Location())
	}
	s.Close()

	_, err := Open(path, Options{TZ: "UTC", Currency: "CHF"})
	wantCode(t, err, rating.EInvalid, `"Europe/Berlin"`, `"UTC"`)
	_, err = Open(path, Options{TZ: "Europe/Berlin"}) // currency defaults to EUR
	wantCode(t, err, rating.EInvalid, "CHF", "EUR")

	s = MustOpenAt(t, path, Options{TZ: "Europe/Berlin", Currency: "CHF"})
	if tb := mustTable(t, s, "t", rating.Inbound); tb.Currency != "CHF" {
		t.Errorf("table currency %q, want the installation's CHF", tb.Currency)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "a.db"), Options{TZ: "Mars/Olympus"})
	wantCode(t, err, rating.EInvalid, "Mars/Olympus")
	_, err = Open(filepath.Join(dir, "b.db"), Options{Currency: "EURO"})
	wantCode(t, err, rating.EInvalid, "EURO")
}

func TestEmpty(t *testing.T) {
	s := MustOpen(t)
	if !must[bool](t)(s.Empty()) {
		t.Fatal("new store is not empty")
	}
	if _, _, err := s.CreateNode("pbx"); err != nil {
		t.Fatal(err)
	}
	if !must[bool](t)(s.Empty()) {
		t.Error("a node alone made the store non-empty")
	}
	must[rating.Provider](t)(s.CreateProvider(rating.Provider{Name: "P"}))
	if must[bool](t)(s.Empty()) {
		t.Error("store with a provider is empty")
	}
}
