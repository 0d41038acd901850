// Package pg keeps pbxbill's records in PostgreSQL, so that several pbxbill
// nodes can share one installation: tenants' balances and holds, the
// ledger, CDRs, rate tables and the rest. It keeps the same contract as the
// bbolt store (store/storetest) and decides nothing about money: rating
// decides, this package keeps what it decided, in one transaction per
// change.
//
// Each node keeps the live rate indexes in memory, as the bbolt store
// does, and reloads a table when another node changes it, told by
// LISTEN/NOTIFY. Balances, holds and limits are read in the transaction
// that decides, with the tenant's row locked, so two nodes never grant the
// same credit twice.
package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"pbxbill/rating"
	"pbxbill/store"
)

// Store is the PostgreSQL-backed store. All methods are safe for
// concurrent use, within a process and across the processes sharing the
// database.
//
// A Store is a handle on one shared state: Audited makes another handle
// on the same state whose changes record an audit entry.
type Store struct {
	*state
	note *auditNote // nil: changes are not audited
}

// state is what every handle of one open database shares.
type state struct {
	pool     *pgxpool.Pool
	url      string
	created  bool
	loc      *time.Location
	tz       string
	currency string
	now      func() time.Time
	// holdSlack is Options.HoldSlack.
	holdSlack time.Duration
	book      rating.Book
	rater     rating.Rater

	readOnly bool // OpenReadOnly
	// snapshot is the id of the snapshot every read of a read-only store
	// imports, exported by a transaction open on frozen.
	snapshot string
	frozen   *pgxpool.Conn

	rates rateState // the rate indexes' reloads (rates.go)
	holds holdState // the hold counters (holds.go)
	group postGroup // single CDR posts committed together (cdrgroup.go)
	stop  context.CancelFunc
}

// Open connects to the database at url (postgres://...), creates or
// migrates its schema, checks its time zone and currency, and loads every
// rate table into the Book. Options are those of the bbolt store;
// MmapSize means nothing here.
func Open(url string, opt store.Options) (*Store, error) {
	return open(url, opt, false)
}

// OpenReadOnly opens the database for "pbxbill check": every connection is
// read-only, so the check writes nothing; a database without pbxbill's
// schema, or with an older one, is refused rather than migrated.
func OpenReadOnly(url string, opt store.Options) (*Store, error) {
	return open(url, opt, true)
}

func open(url string, opt store.Options, readOnly bool) (*Store, error) {
	if opt.TZ == "" {
		opt.TZ = "UTC"
	}
	if opt.Currency == "" {
		opt.Currency = "EUR"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	loc, err := time.LoadLocation(opt.TZ)
	if err != nil {
		return nil, rating.Errorf(rating.EInvalid, "tz %q: not a known time zone", opt.TZ)
	}
	cur := strings.ToUpper(strings.TrimSpace(opt.Currency))
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return nil, rating.Errorf(rating.EInvalid, "currency %q: want a three-letter ISO 4217 code", opt.Currency)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	ctx, cancel := context.WithCancel(context.Background())
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("connect to %s: %w", Redact(url), err)
	}
	s := &Store{state: &state{pool: pool, url: url, loc: loc, tz: opt.TZ, currency: cur, now: opt.Now,
		holdSlack: opt.HoldSlack, stop: cancel, readOnly: readOnly}}
	if s.holdSlack <= 0 {
		s.holdSlack = rating.DefaultHoldSlack
	}
	s.rater = rating.Rater{Book: &s.book, Numbering: opt.Numbering, Currency: cur, Zone: loc, Load: s.loadMissing}
	if err := s.init(ctx); err != nil {
		if s.frozen != nil {
			s.frozen.Release()
		}
		pool.Close()
		cancel()
		return nil, err
	}
	return s, nil
}

// init migrates the schema, checks the settings, loads the rate indexes
// and starts listening for other nodes' changes.
func (s *Store) init(ctx context.Context) error {
	if err := pingable(ctx, s.pool, s.url); err != nil {
		return err
	}
	if s.readOnly {
		if err := schemaCurrent(ctx, s.pool); err != nil {
			return err
		}
	} else {
		created, err := migrate(ctx, s.pool)
		if err != nil {
			return err
		}
		s.created = created
	}
	if err := s.checkMeta(ctx); err != nil {
		return err
	}
	if s.readOnly {
		if err := s.freeze(ctx); err != nil {
			return err
		}
	}
	return s.startRates(ctx)
}

func pingable(ctx context.Context, pool *pgxpool.Pool, url string) error {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(c); err != nil {
		return fmt.Errorf("connect to %s: %w", Redact(url), err)
	}
	return nil
}

// checkMeta writes the time zone and currency of a new database, and
// refuses to open one created with others: its days are bucketed in its
// zone, its money is in its currency.
func (s *Store) checkMeta(ctx context.Context) error {
	return s.write(ctx, func(tx *txn) error {
		for _, kv := range [][2]string{{"tz", s.tz}, {"currency", s.currency}} {
			if s.readOnly {
				break
			}
			if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, kv[0], kv[1]); err != nil {
				return err
			}
		}
		var tz, cur string
		if err := tx.QueryRow(ctx, `SELECT (SELECT value FROM meta WHERE key = 'tz'), (SELECT value FROM meta WHERE key = 'currency')`).Scan(&tz, &cur); err != nil {
			return err
		}
		if tz != s.tz {
			return rating.Errorf(rating.EInvalid, "the database was created with time zone %q; refusing to open it with %q, because its days are already bucketed in %q", tz, s.tz, tz)
		}
		if cur != s.currency {
			return rating.Errorf(rating.EInvalid, "the database was created with currency %s; refusing to open it with %s", cur, s.currency)
		}
		return nil
	})
}

// Close stops listening and closes the connections.
func (s *Store) Close() error {
	s.stop()
	s.stopRates()
	if s.frozen != nil {
		s.frozen.Release() // its connection is closed with the pool, and the snapshot with it
	}
	s.pool.Close()
	return nil
}

// Created reports whether Open created the schema, because the database
// had none.
func (s *Store) Created() bool { return s.created }

// Location is the installation's time zone.
func (s *Store) Location() *time.Location { return s.loc }

// Now reads the store's clock: the one clock of this node.
func (s *Store) Now() time.Time { return s.now() }

// Currency is the installation's currency code.
func (s *Store) Currency() string { return s.currency }

// Book holds the live index of every rate table.
func (s *Store) Book() *rating.Book { return &s.book }

// Rater resolves calls against the live indexes with the installation's
// numbering.
func (s *Store) Rater() *rating.Rater { return &s.rater }

// Redact hides the password of a database URL, for logs and errors.
func Redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, ":"+cfg.Password+"@", ":xxxxx@", 1)
}

// IsURL reports whether a -db value names PostgreSQL rather than a file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// txn is a transaction with the clock read once, so every record it
// writes carries the same instant.
type txn struct {
	pgx.Tx
	now time.Time
	// changed holds the tenants whose balance or settings this
	// transaction changed, as first read, for the alert hook (alerts.go).
	changed map[int64]*tenantChange
	// committed run once the transaction has committed (onCommit).
	committed []func()
}

// onCommit runs fn after the transaction commits, never if it fails: a
// count kept in memory follows what the database kept.
func (tx *txn) onCommit(fn func()) { tx.committed = append(tx.committed, fn) }

// write runs fn in a transaction and commits it. A serialization failure
// or a deadlock, which PostgreSQL resolves by failing one of the
// transactions, runs fn again from the start, so fn must set its results
// afresh on each call. A handle made by Audited writes its entry in the
// first write that commits.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) error {
	for try := 0; ; try++ {
		var tx *txn
		err := pgx.BeginFunc(ctx, s.pool, func(ptx pgx.Tx) error {
			tx = &txn{Tx: ptx, now: s.now().UTC().Truncate(time.Microsecond)} // what timestamptz keeps
			if err := fn(tx); err != nil {
				return err
			}
			if err := s.queueAlerts(ctx, tx); err != nil {
				return err
			}
			return s.note.write(ctx, tx)
		})
		if err == nil {
			s.note.done()
			for _, fn := range tx.committed {
				fn()
			}
			return nil
		}
		if retryable(err) && try < 10 {
			time.Sleep(time.Duration(try+1) * time.Millisecond)
			continue
		}
		return dbError(err)
	}
}

// read runs fn in a read-only transaction: one snapshot of the database.
//
// A store opened read-only reads every transaction in the one snapshot it
// exported at Open (freeze), as pg_dump does, so that "pbxbill check" sees
// one instant of a database the nodes go on writing.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if s.snapshot != "" {
			if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+s.snapshot+`'`); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	return dbError(err)
}

// freeze exports a snapshot from a transaction kept open on a connection
// of its own until Close, for every later read to import.
func (s *Store) freeze(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err == nil {
		err = tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&s.snapshot)
	}
	if err != nil {
		conn.Release()
		return err
	}
	s.frozen = conn
	return nil
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// dbError keeps a rating.Error as it is and names a database failure as
// one, so that the handlers answer 500 with a message and no internals.
func dbError(err error) error {
	if err == nil {
		return nil
	}
	var re *rating.Error
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("database: %w", err)
}

// isUnique reports whether err is a unique violation of the named
// constraint ("" for any).
func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// pageLimit is the bbolt store's rule for a listing's limit.
func pageLimit(n int) int {
	if n <= 0 {
		return store.DefaultLimit
	}
	return min(n, store.MaxLimit)
}

// auditNote is the entry an audited handle writes with its change.
type auditNote struct {
	entry   rating.AuditEntry
	pending atomic.Bool // written in a transaction not yet known committed
	written atomic.Bool // a write that wrote it has committed
}

// Audited returns a handle on the same store whose changes record e: the
// entry is written in the transaction of the first change that commits,
// with that transaction's time. A request that changed nothing leaves no
// record; a change made in several transactions records once.
func (s *Store) Audited(e rating.AuditEntry) *Store {
	return &Store{state: s.state, note: &auditNote{entry: e}}
}

func (n *auditNote) write(ctx context.Context, tx *txn) error {
	if n == nil || n.written.Load() {
		return nil
	}
	e := n.entry
	if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, object, summary) VALUES ($1, $2, $3, $4, $5)`,
		tx.now, e.Actor, e.Action, e.Object, e.Summary); err != nil {
		return err
	}
	n.pending.Store(true)
	return nil
}

// done marks the entry written once its transaction committed.
func (n *auditNote) done() {
	if n != nil && n.pending.Load() {
		n.written.Store(true)
	}
}
