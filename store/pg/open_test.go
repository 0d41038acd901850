package pg_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// TestOpen creates the schema once, opens it again without migrating,
// and refuses another time zone or currency, as the bbolt store does.
func TestOpen(t *testing.T) {
	url := pgtest.URL(t)
	a, err := pg.Open(url, store.Options{TZ: "Europe/London", Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.Created() {
		t.Error("the first Open did not report creating the schema")
	}
	b, err := pg.Open(url, store.Options{TZ: "Europe/London", Currency: "gbp"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Created() || b.Currency() != "GBP" || b.Location().String() != "Europe/London" {
		t.Errorf("second Open: created %v, currency %s, zone %s", b.Created(), b.Currency(), b.Location())
	}
	for _, o := range []store.Options{{TZ: "UTC", Currency: "GBP"}, {TZ: "Europe/London", Currency: "EUR"}} {
		if c, err := pg.Open(url, o); err == nil {
			c.Close()
			t.Errorf("Open with %+v: no error", o)
		} else if rating.ErrorCode(err) != rating.EInvalid || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("Open with %+v: %v", o, err)
		}
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != pg.SchemaVersion() {
		t.Errorf("schema_migrations: %d rows (%v), want %d", n, err, pg.SchemaVersion())
	}
	if _, err := c.Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	if d, err := pg.Open(url, store.Options{TZ: "Europe/London", Currency: "GBP"}); err == nil {
		d.Close()
		t.Error("opened a schema newer than this binary")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}
}

// TestOpenConcurrently starts several nodes on an empty database at
// once: the migrations run once, under the advisory lock.
func TestOpenConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := pg.Open(url, store.Options{Now: func() time.Time { return time.Unix(0, 0) }})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestOpenUnreachable names the server it could not reach, without the
// password.
func TestOpenUnreachable(t *testing.T) {
	_, err := pg.Open("postgres://u:secret@127.0.0.1:1/x?connect_timeout=2", store.Options{})
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable: %v", err)
	}
}

// TestOpenReadOnly refuses a database without pbxbill's schema and writes
// nothing: a check never creates tables.
func TestOpenReadOnly(t *testing.T) {
	url := pgtest.URL(t)
	if s, err := pg.OpenReadOnly(url, store.Options{}); err == nil {
		s.Close()
		t.Fatal("opened an empty database read-only")
	} else if !strings.Contains(err.Error(), "no pbxbill schema") {
		t.Errorf("empty database: %v", err)
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var tables int
	if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("%d tables after a read-only open (%v), want none", tables, err)
	}
	w, err := pg.Open(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := pg.OpenReadOnly(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := pg.OpenReadOnly(url, store.Options{Currency: "USD"}); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("read-only open with another currency: %v", err)
	}
}

// TestOpenReadOnlyOneInstant: a store opened read-only reads the database
// as it was at Open, whatever the nodes write after, so that a check of a
// live database sees its balances and ledgers at one instant.
func TestOpenReadOnlyOneInstant(t *testing.T) {
	url := pgtest.URL(t)
	w, err := pg.Open(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.CreateTenant(rating.Tenant{Name: "Acme", BillingMode: rating.Prepaid, Status: rating.Active}); err != nil {
		t.Fatal(err)
	}
	ten, _ := rating.ParseMoney("10")
	if _, err := w.Credit(rating.TenantAccount, "Acme", ten, rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	r, err := pg.OpenReadOnly(url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.Credit(rating.TenantAccount, "Acme", ten, rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTenant(rating.Tenant{Name: "Later", BillingMode: rating.Prepaid, Status: rating.Active}); err != nil {
		t.Fatal(err)
	}
	ts, err := r.Tenants()
	if err != nil || len(ts) != 1 || ts[0].Balance != ten {
		t.Fatalf("read-only tenants %+v (%v): want Acme alone with 10, as at Open", ts, err)
	}
	entries, _, err := r.Ledger(rating.TenantAccount, "Acme", time.Time{}, time.Time{}, "", 10)
	if err != nil || len(entries) != 1 || entries[0].Balance != ten {
		t.Fatalf("read-only ledger %+v (%v): want the one entry of Open's instant", entries, err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if now, err := w.Tenants(); err != nil || len(now) != 2 {
		t.Fatalf("the writing node's tenants: %+v %v", now, err)
	}
}
