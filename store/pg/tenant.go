package pg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// Tenants lists every tenant by name, in the byte order of the names as
// the bbolt store lists them, whatever the database's collation.
func (s *Store) Tenants() ([]rating.Tenant, error) {
	ctx := context.Background()
	var recs []rating.Tenant
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		rows, _ := tx.Query(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY name COLLATE "C"`)
		recs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (rating.Tenant, error) {
			r, err := scanTenant(row)
			return r.Tenant, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []rating.Tenant{}
	}
	return recs, nil
}

// Tenant reads one tenant by name.
func (s *Store) Tenant(name string) (rating.Tenant, error) {
	ctx := context.Background()
	r, err := tenantNamed(ctx, s.pool, name, false)
	if err != nil {
		return rating.Tenant{}, dbError(err)
	}
	return r.Tenant, nil
}

// TenantByAccountCode reads one tenant by accountcode, falling back to
// name: the order for CDRs, which carry what the PBX wrote.
func (s *Store) TenantByAccountCode(code string) (rating.Tenant, error) {
	ctx := context.Background()
	r, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE accountcode = $1 OR name = $1
		ORDER BY (accountcode = $1) IS TRUE DESC LIMIT 1`, code))
	return tenantRef(r, err, code)
}

// TenantByName reads one tenant by name, falling back to accountcode: the
// order for rating requests, whose tenant=T is a name (API.md) but which a
// dialplan fills with ${CDR(accountcode)}. One statement either way.
func (s *Store) TenantByName(name string) (rating.Tenant, error) {
	ctx := context.Background()
	r, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE name = $1 OR accountcode = $1
		ORDER BY name = $1 DESC LIMIT 1`, name))
	return tenantRef(r, err, name)
}

func tenantRef(r tenantRow, err error, ref string) (rating.Tenant, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return rating.Tenant{}, rating.Errorf(rating.ENotFound, "no tenant has accountcode or name %s", rating.Excerpt(ref))
	}
	if err != nil {
		return rating.Tenant{}, dbError(err)
	}
	return r.Tenant, nil
}

// CreateTenant creates a tenant with balance 0. AccountCode defaults to the
// name, BillingMode to prepaid and Status to active. Each assigned table
// must exist and be of the right kind.
//
// Two nodes creating the same name or accountcode at once both pass the
// checks; the unique constraints let one insert, and the other, finding
// its insert skipped, checks again and answers as if it had come second.
func (s *Store) CreateTenant(t rating.Tenant) (rating.Tenant, error) {
	ctx := context.Background()
	in := t
	err := s.write(ctx, func(tx *txn) error {
		t = in
		t.Balance, t.Created = rating.Money{}, micro(tx.now)
		if t.AccountCode == "" {
			t.AccountCode = t.Name
		}
		if t.BillingMode == "" {
			t.BillingMode = rating.Prepaid
		}
		if t.Status == "" {
			t.Status = rating.Active
		}
		if err := checkTenant(ctx, tx, &t); err != nil {
			return err
		}
		if err := tenantTaken(ctx, tx, &t, 0); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO tenants (name, accountcode, billing_mode, balance, credit_limit,
			low_balance_threshold, status, outbound_table, inbound_table, conference_table, max_calls,
			daily_spend_limit, max_call_duration, email, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT DO NOTHING RETURNING id`,
			t.Name, nullString(t.AccountCode), t.BillingMode, money(t.Balance), money(t.CreditLimit),
			money(t.LowBalanceThreshold), t.Status, t.OutboundTable, t.InboundTable, t.ConferenceTable, t.MaxCalls,
			money(t.DailySpendLimit), t.MaxCallDuration, t.Email, t.Created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Another node's tenant committed meanwhile: this
			// statement's snapshot sees it.
			if err := tenantTaken(ctx, tx, &t, 0); err != nil {
				return err
			}
			return rating.Errorf(rating.EConflict, "tenant %q already exists", t.Name)
		}
		return err
	})
	if err != nil {
		return rating.Tenant{}, err
	}
	return t, nil
}

// UpdateTenant applies fn, validates and saves, with the tenant's row
// locked, so that no charge or authorization decides on the old record
// meanwhile. fn must not change Balance; the store keeps the stored
// balance (and Created). AccountCode does not follow a rename; an
// AccountCode that fn empties keeps its stored value. A change of the
// billing state queues its alert in the same transaction.
func (s *Store) UpdateTenant(name string, fn func(*rating.Tenant) error) (rating.Tenant, error) {
	ctx := context.Background()
	var t rating.Tenant
	err := s.write(ctx, func(tx *txn) error {
		rec, err := tenantNamed(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if t, err = rec.Tenant.Edit(fn); err != nil {
			return err
		}
		if err := checkTenant(ctx, tx, &t); err != nil {
			return err
		}
		if err := tenantTaken(ctx, tx, &t, rec.ID); err != nil {
			return err
		}
		tx.noteTenant(rec.ID, rec.Tenant, &t)
		_, err = tx.Exec(ctx, `UPDATE tenants SET name = $2, accountcode = $3, billing_mode = $4, credit_limit = $5,
			low_balance_threshold = $6, status = $7, outbound_table = $8, inbound_table = $9, conference_table = $10,
			max_calls = $11, daily_spend_limit = $12, max_call_duration = $13, email = $14 WHERE id = $1`,
			rec.ID, t.Name, nullString(t.AccountCode), t.BillingMode, money(t.CreditLimit), money(t.LowBalanceThreshold),
			t.Status, t.OutboundTable, t.InboundTable, t.ConferenceTable, t.MaxCalls, money(t.DailySpendLimit),
			t.MaxCallDuration, t.Email)
		switch {
		case isUnique(err, "tenants_name_key"):
			return rating.Errorf(rating.EConflict, "tenant %q already exists", t.Name)
		case isUnique(err, "tenants_accountcode_key"):
			return rating.Errorf(rating.EConflict, "accountcode %q is already used by another tenant", t.AccountCode)
		}
		return err
	})
	if err != nil {
		return rating.Tenant{}, err
	}
	return t, nil
}

// DeleteTenant deletes a tenant that has no ledger entries or CDRs; one
// that has is EConflict ("suspend it instead"). Its row is locked first,
// so no charge lands between the check and the delete.
func (s *Store) DeleteTenant(name string) error {
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		rec, err := tenantNamed(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if used, err := hasHistory(ctx, tx, tenantAcct, rec.ID); err != nil || used {
			if err == nil {
				err = rating.Errorf(rating.EConflict, "tenant %q has ledger entries; suspend it instead", name)
			}
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, rec.ID)
		return err
	})
}

// querier is a transaction or the pool: a single statement reads one
// snapshot without a transaction around it.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tenantNamed reads a tenant by its exact name, locking its row with
// forUpdate; a missing one is ENotFound.
func tenantNamed(ctx context.Context, q querier, name string, forUpdate bool) (tenantRow, error) {
	sql := `SELECT ` + tenantCols + ` FROM tenants WHERE name = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanTenant(q.QueryRow(ctx, sql, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, rating.Errorf(rating.ENotFound, "tenant %s not found", rating.Excerpt(name))
	}
	return r, err
}

// checkTenant validates t and its table assignments.
func checkTenant(ctx context.Context, tx pgx.Tx, t *rating.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := checkTableRef(ctx, tx, "outbound_rate_table", t.OutboundTable, rating.Outbound); err != nil {
		return err
	}
	if err := checkTableRef(ctx, tx, "inbound_rate_table", t.InboundTable, rating.Inbound); err != nil {
		return err
	}
	return checkTableRef(ctx, tx, "conference_rate_table", t.ConferenceTable, rating.Conference)
}

// tenantTaken refuses t's name or accountcode when another tenant than
// id (0: any) holds it, with the bbolt store's messages: the name first.
func tenantTaken(ctx context.Context, tx pgx.Tx, t *rating.Tenant, id int64) error {
	var byName, byCode string
	err := tx.QueryRow(ctx, `SELECT coalesce((SELECT name FROM tenants WHERE name = $1 AND id <> $3), ''),
		coalesce((SELECT name FROM tenants WHERE accountcode = $2 AND id <> $3), '')`,
		t.Name, t.AccountCode, id).Scan(&byName, &byCode)
	switch {
	case err != nil:
		return err
	case byName != "":
		return rating.Errorf(rating.EConflict, "tenant %q already exists", t.Name)
	case byCode != "":
		return rating.Errorf(rating.EConflict, "accountcode %q is already used by tenant %q", t.AccountCode, byCode)
	}
	return nil
}

// hasHistory reports whether an account has ledger entries or CDRs, which
// keep it from being deleted. Every CDR attributed to an account is in its
// roll-ups, priced or not.
func hasHistory(ctx context.Context, tx pgx.Tx, acct byte, id int64) (bool, error) {
	var used bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger WHERE account_type = $1 AND account_id = $2)
		OR EXISTS (SELECT 1 FROM rollups WHERE account_type = $1 AND account_id = $2)`, acct, id).Scan(&used)
	return used, err
}

// micro is t as PostgreSQL keeps it, to the microsecond, so that a record
// a change returns equals the record read back.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
