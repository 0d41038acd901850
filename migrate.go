package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"pbxbill/store"
	"pbxbill/store/pg"
)

// runMigrate is "pbxbill migrate -from FILE -to postgres://...": it copies
// an installation from its bbolt file to an empty PostgreSQL database, in
// one transaction, then checks both with what "pbxbill check" runs and
// compares their dashboards. The file is opened read-only and must not be
// in use: stop the server first, or migrate a backup.
func runMigrate(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pbxbill migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "`path` of the bbolt database file to copy")
	to := fs.String("to", getenv("PBXBILL_DB"), "`URL` of an empty PostgreSQL database (postgres://user:pass@host/dbname)")
	tz := fs.String("tz", or(getenv("PBXBILL_TZ"), "UTC"), "the installation's time `zone`, as the file was created with")
	currency := fs.String("currency", or(getenv("PBXBILL_CURRENCY"), "EUR"), "the installation's currency `code`, as the file was created with")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pbxbill migrate -from pbxbill.db -to postgres://user:pass@host/dbname\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("migrate: unexpected argument %q: every setting is a -flag", fs.Arg(0))
	case *from == "" || pg.IsURL(*from):
		return errors.New("migrate: -from names the bbolt database file to copy")
	case !pg.IsURL(*to):
		return errors.New("migrate: -to names the PostgreSQL database to copy to, as postgres://user:pass@host/dbname")
	}
	opt := store.Options{TZ: *tz, Currency: *currency}
	src, err := store.OpenReadOnly(*from, opt)
	if err != nil {
		return fmt.Errorf("migrate: %s: %w", *from, err)
	}
	defer src.Close()
	name := pg.Redact(*to)
	dst, err := pg.Open(*to, opt)
	if err != nil {
		return fmt.Errorf("migrate: %s: %w", name, err)
	}
	defer dst.Close()
	n, err := dst.Load(src.Dump)
	if err != nil {
		return fmt.Errorf("migrate: nothing was copied to %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "copied %s to %s: %s\n", *from, name, n)
	if err := checkStore(src, *from, stdout); err != nil {
		return err
	}
	if err := checkStore(dst, name, stdout); err != nil {
		return err
	}
	if err := sameDashboards(src, dst, src.Now()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintln(stdout, "ok: both databases check, and their dashboards agree")
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sameDashboards compares the Tenants Dashboard and the Providers
// Dashboard of the last 90 days of two stores, as the admin shows them.
func sameDashboards(a, b backend, now time.Time) error {
	for _, d := range []struct {
		name string
		of   func(backend) (any, error)
	}{
		{"Tenants Dashboard", func(s backend) (any, error) { return s.TenantDashboard() }},
		{"Providers Dashboard", func(s backend) (any, error) {
			today := now.In(s.Location())
			rows, totals, err := s.ProviderDashboard(today.AddDate(0, 0, -90), today)
			return []any{rows, totals}, err
		}},
	} {
		x, err := d.of(a)
		if err != nil {
			return err
		}
		y, err := d.of(b)
		if err != nil {
			return err
		}
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if string(jx) != string(jy) {
			return fmt.Errorf("the %s differs after the copy:\n%s\n%s", d.name, excerpt(jx), excerpt(jy))
		}
	}
	return nil
}

func excerpt(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
