package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
	"pbxbill/store/pg"
)

// maxProblems bounds the problems a check lists; one broken account is
// enough to know that a file must not be restored.
const maxProblems = 20

// runCheck is "pbxbill check": it verifies a database file, typically a
// backup before it is restored. It takes the server's flags, so the same
// -db, -tz and -currency (or PBXBILL_* variables) name the same file; the
// others are ignored. It returns nil and prints what it counted when the
// file is consistent, and an error that lists the problems otherwise.
//
// It opens the file read-only, so that a check writes nothing to it: a
// backup checked before it is restored stays byte for byte the file that
// was taken. The file must not be in use: bbolt locks it, and the open
// fails after a second while the server holds it. Check a backup instead,
// or stop the server first.
func runCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// Read-only, a mistyped path fails here rather than passing as a new
	// empty database.
	opt := store.Options{TZ: c.TZ, Currency: c.Currency}
	if pg.IsURL(c.DB) {
		// On PostgreSQL the check may run while the nodes serve: every
		// read imports one snapshot, so it judges one instant.
		name := pg.Redact(c.DB)
		st, err := pg.OpenReadOnly(c.DB, opt)
		if err != nil {
			return fmt.Errorf("check %s: %w", name, err)
		}
		defer st.Close()
		return checkStore(st, name, stdout)
	}
	st, err := store.OpenReadOnly(c.DB, opt)
	if err != nil {
		return fmt.Errorf("check %s: %w", c.DB, err)
	}
	defer st.Close()
	return checkStore(st, c.DB, stdout)
}

// checkStore is runCheck once the file is open. Store.Check reads every
// page first and reports a damaged one; a panic of bbolt on a page that
// its check did not reach still ends as an error naming the file.
func checkStore(st backend, path string, stdout io.Writer) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check %s: FAILED: the file is damaged: %v", path, r)
		}
	}()
	var problems []error
	if err := st.Check(); err != nil {
		problems = append(problems, err)
	}
	n, err := checkLedgers(st)
	if err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: FAILED:\n%w", path, errors.Join(problems...))
	}
	cdrs := 0
	if err := st.EachCDR(rating.CDRFilter{}, func(*rating.CDR) error { cdrs++; return nil }); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "ok: %s: %d tenants, %d providers, %d ledger entries, %d CDRs checked\n",
		path, n.tenants, n.providers, n.entries, cdrs)
	return nil
}

// ledgerCount is what checkLedgers walked.
type ledgerCount struct{ tenants, providers, entries int }

// checkLedgers reads every account's ledger through the store's public
// API, independently of store.Check: each entry's balance must be the one
// before it plus its amount, starting from zero, and the last one must be
// the account's balance. It returns the counts and the problems found.
func checkLedgers(st backend) (n ledgerCount, err error) {
	tenants, err := st.Tenants()
	if err != nil {
		return n, err
	}
	providers, err := st.Providers()
	if err != nil {
		return n, err
	}
	type account struct {
		typ, name string
		balance   rating.Money
	}
	var accounts []account
	for _, t := range tenants {
		accounts = append(accounts, account{rating.TenantAccount, t.Name, t.Balance})
	}
	for _, p := range providers {
		accounts = append(accounts, account{rating.ProviderAccount, p.Name, p.Balance})
	}
	n.tenants, n.providers = len(tenants), len(providers)
	var problems []error
	for _, a := range accounts {
		if len(problems) >= maxProblems {
			break
		}
		mc := newMoneyCheck(st, a.typ, a.name)
		k, err := checkLedger(st, a.typ, a.name, a.balance, mc.entry)
		n.entries += k
		if err == nil {
			err = mc.check()
		}
		if err != nil {
			problems = append(problems, err)
		}
	}
	return n, errors.Join(problems...)
}

// checkLedger walks one account's ledger newest first, a page at a time so
// that a ledger of millions of entries is never held whole. Going back
// from the balance, each entry must show the balance that is left, and
// taking every amount away must leave zero.
// each sees every entry, newest first.
func checkLedger(st backend, typ, name string, balance rating.Money, each func(rating.Entry)) (entries int, err error) {
	left, after := balance, ""
	for {
		page, next, err := st.Ledger(typ, name, time.Time{}, time.Time{}, after, store.MaxLimit)
		if err != nil {
			return entries, fmt.Errorf("%s %q: ledger: %w", typ, name, err)
		}
		for _, e := range page {
			if e.Balance != left {
				return entries, fmt.Errorf("%s %q: ledger entry %d (%s %s): balance %s, but the balance %s and the entries after it leave %s",
					typ, name, e.ID, e.Kind, e.Amount, e.Balance, balance, left)
			}
			left = left.Sub(e.Amount)
			entries++
			each(e)
		}
		if next == "" {
			break
		}
		after = next
	}
	if left.Sign() != 0 {
		return entries, fmt.Errorf("%s %q: balance %s, but its %d ledger entries sum to %s",
			typ, name, balance, entries, balance.Sub(left))
	}
	return entries, nil
}
