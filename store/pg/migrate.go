package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions, applied in the order of their
// numbers: NNNN_what.sql. A released migration is never edited; a change
// is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock that serialises migrations, so that
// nodes starting together migrate once.
const migrationLock = 0x706278_62696c6c // "pbx" "bill"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: its name must start with its number", base)
		}
		b, err := migrations.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, base, string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the newest migration this binary carries.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its version recorded, under an advisory lock. It
// refuses a database migrated by a newer pbxbill, and reports whether it
// created the schema.
func migrate(ctx context.Context, pool *pgxpool.Pool) (created bool, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return false, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return false, fmt.Errorf("lock for migration: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	have := map[int]bool{}
	newest := 0
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return false, err
	}
	for _, v := range versions {
		have[int(v)] = true
		newest = max(newest, int(v))
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return false, fmt.Errorf("database schema version %d is newer than this pbxbill understands (%d)", newest, ms[len(ms)-1].version)
	}
	created = len(have) == 0
	for _, m := range ms {
		if have[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return created, nil
}

// schemaCurrent checks, without changing anything, that the database
// holds pbxbill's schema at this binary's version.
func schemaCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	var have int32
	if exists {
		if err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
	}
	want := SchemaVersion()
	switch {
	case have == 0:
		return errors.New("the database holds no pbxbill records: it has no pbxbill schema")
	case int(have) > want:
		return fmt.Errorf("database schema version %d is newer than this pbxbill understands (%d)", have, want)
	case int(have) < want:
		return fmt.Errorf("database schema version %d is older than this pbxbill's (%d): start pbxbill on it once to migrate it, then check", have, want)
	}
	return nil
}
