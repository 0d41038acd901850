package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"pbxbill/rating"
)

// Sink receives every record of a database, as `pbxbill migrate` copies an
// installation to another store. Records come in an order a loader can
// follow: accounts and tables before what refers to them, each account's
// ledger oldest first.
type Sink interface {
	Tenant(rating.Tenant) error
	Provider(rating.Provider) error
	// Table gives a rate table and its rows, a page at a time.
	Table(t rating.Table, rows []rating.Row) error
	Node(n rating.Node, tokenHash []byte) error
	// Admin gives an admin user with its bcrypt hash. Sessions are not
	// copied: the users log in again on the new store.
	Admin(a rating.Admin, bcrypt []byte) error
	// Entry gives a ledger entry; e.Account names the account.
	Entry(e rating.Entry) error
	// CDR gives a CDR as stored: c.Tenant and c.Provider as the PBX
	// posted them, tenant and provider the names of the accounts they
	// were matched to ("" for none).
	CDR(c rating.CDR, tenant, provider string) error
	// Rollup gives an account's usage of one day of the installation's
	// zone (a date at midnight UTC).
	Rollup(accountType, name string, day time.Time, u rating.Usage) error
	// Hold gives an open hold, or with expired one of the expired holds
	// kept for the admin.
	Hold(h rating.Hold, expired bool) error
	// Schedule gives a schedule with the months already posted.
	Schedule(tenant string, s rating.Schedule, posted []rating.Month) error
	OnceKey(key string, at time.Time) error
	Event(rating.Event) error
	Audit(rating.AuditEntry) error
	Follow(FollowPos) error
	Rejected(rating.RejectedLine) error
}

// Dump gives every record to sink from one read transaction: one
// consistent instant of the database, however long the copy takes.
func (s *Store) Dump(sink Sink) error {
	return s.db.View(func(tx *bolt.Tx) error {
		d := dumper{tx: tx, sink: sink, tenants: map[uint64]string{}, providers: map[uint64]string{}}
		for _, step := range []func() error{d.accounts, d.tables, d.nodes, d.admins, d.ledger, d.cdrs, d.rollups,
			d.holds, d.schedules, d.once, d.events, d.audit, d.follow} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

type dumper struct {
	tx        *bolt.Tx
	sink      Sink
	tenants   map[uint64]string // id → name
	providers map[uint64]string
}

func (d *dumper) accounts() error {
	if err := eachTenant(d.tx, func(r *tenantRecord) error {
		d.tenants[r.ID] = r.Name
		return d.sink.Tenant(r.Tenant)
	}); err != nil {
		return err
	}
	return d.each(bucketProviders, func(k, v []byte) error {
		var r providerRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("provider %x: %w", k, err)
		}
		d.providers[r.ID] = r.Name
		return d.sink.Provider(r.Provider)
	})
}

func (d *dumper) tables() error {
	return d.each(bucketTables, func(k, v []byte) error {
		var rec tableRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("rate table %x: %w", k, err)
		}
		var after []byte
		rows := make([]rating.Row, 0, defaultExportPage)
		in := Interner{}
		for {
			var more bool
			var err error
			rows, after, more, err = ratePage(rateRows(d.tx, rec.ID), nil, after, rows[:0], defaultExportPage, in)
			if err != nil {
				return err
			}
			if len(rows) > 0 || !more {
				if err := d.sink.Table(rec.Table, rows); err != nil {
					return err
				}
			}
			if !more {
				return nil
			}
		}
	})
}

func (d *dumper) nodes() error {
	return d.each(bucketNodes, func(k, v []byte) error {
		var r nodeRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("node %q: %w", k, err)
		}
		return d.sink.Node(r.Node, r.TokenHash)
	})
}

func (d *dumper) admins() error {
	return d.each(bucketAdmins, func(k, v []byte) error {
		var r adminRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("admin %q: %w", k, err)
		}
		return d.sink.Admin(rating.Admin{Name: r.Name, Changed: r.Changed}, r.Hash)
	})
}

// ledger gives each account's entries oldest first.
func (d *dumper) ledger() error {
	lb := d.tx.Bucket(bucketLedger)
	return lb.ForEachBucket(func(name []byte) error {
		if len(name) != 9 {
			return nil
		}
		acct, id := name[0], btoi(name[1:])
		account := d.name(acct, id)
		return lb.Bucket(name).ForEach(func(k, v []byte) error {
			rec, err := decodeEntry(acct, id, k, v)
			if err != nil {
				return err
			}
			return d.sink.Entry(rec.entry(account))
		})
	})
}

// each walks a bucket; a file from an older build opened read-only may
// lack the later ones.
func (d *dumper) each(name []byte, fn func(k, v []byte) error) error {
	b := d.tx.Bucket(name)
	if b == nil {
		return nil
	}
	return b.ForEach(fn)
}

func (d *dumper) name(acct byte, id uint64) string {
	if acct == tenantAcct {
		return d.tenants[id]
	}
	return d.providers[id]
}

func (d *dumper) cdrs() error {
	return d.each(bucketCDRs, func(k, v []byte) error {
		var rec cdrRecord
		if err := rec.decode(v); err != nil {
			return fmt.Errorf("cdr %x: %w", k, err)
		}
		return d.sink.CDR(rec.cdr(), d.tenants[rec.TenantID], d.providers[rec.ProviderID])
	})
}

func (d *dumper) rollups() error {
	return d.each(bucketRollups, func(k, v []byte) error {
		if len(k) != 13 {
			return nil
		}
		acct, id, day := k[0], btoi(k[1:9]), uint32(k[9])<<24|uint32(k[10])<<16|uint32(k[11])<<8|uint32(k[12])
		date := time.Date(int(day/10000), time.Month(day/100%100), int(day%100), 0, 0, 0, 0, time.UTC)
		return d.sink.Rollup(acctName(acct), d.name(acct, id), date, decodeUsage(v))
	})
}

func (d *dumper) holds() error {
	for _, b := range []struct {
		name    []byte
		expired bool
	}{{bucketHolds, false}, {bucketExpired, true}} {
		if err := d.each(b.name, func(k, v []byte) error {
			var r holdRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("hold %q: %w", k, err)
			}
			if r.Tenant == "" {
				r.Tenant = d.tenants[r.TenantID]
			}
			return d.sink.Hold(r.Hold, b.expired)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) schedules() error {
	posted := d.tx.Bucket(bucketSchedulePosted)
	if posted == nil {
		return nil
	}
	return d.each(bucketSchedules, func(k, v []byte) error {
		var r scheduleRecord
		if err := decodeSchedule(k, v, &r); err != nil {
			return err
		}
		var months []rating.Month
		c := posted.Cursor()
		prefix := itob(r.ID)
		for pk, _ := c.Seek(prefix); pk != nil && bytes.HasPrefix(pk, prefix); pk, _ = c.Next() {
			if len(pk) == 12 {
				months = append(months, rating.MonthFromInt(uint32(pk[8])<<24|uint32(pk[9])<<16|uint32(pk[10])<<8|uint32(pk[11])))
			}
		}
		return d.sink.Schedule(d.tenants[r.TenantID], r.Schedule, months)
	})
}

func (d *dumper) once() error {
	b := d.tx.Bucket(bucketOnce)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek([]byte("k")); k != nil && k[0] == 'k'; k, v = c.Next() {
		if len(v) != 8 {
			continue
		}
		if err := d.sink.OnceKey(string(k[1:]), time.Unix(0, int64(btoi(v))).UTC()); err != nil {
			return err
		}
	}
	return nil
}

func (d *dumper) events() error {
	return d.each(bucketOutbox, func(k, v []byte) error {
		var ev rating.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %x: %w", k, err)
		}
		return d.sink.Event(ev)
	})
}

func (d *dumper) audit() error {
	return d.each(bucketAudit, func(k, v []byte) error {
		var e rating.AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("audit entry %x: %w", k, err)
		}
		return d.sink.Audit(e)
	})
}

func (d *dumper) follow() error {
	if err := d.each(bucketFollow, func(k, v []byte) error {
		var p FollowPos
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("follow position %q: %w", k, err)
		}
		return d.sink.Follow(p)
	}); err != nil {
		return err
	}
	return d.each(bucketRejected, func(k, v []byte) error {
		var l rating.RejectedLine
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("rejected line %x: %w", k, err)
		}
		return d.sink.Rejected(l)
	})
}
