// Package store keeps pbxbill's records in one bbolt file and the live rate
// indexes in a rating.Book. Nothing bbolt-typed leaves the package: public
// methods own their transaction and return rating types; private helpers
// take the transaction.
//
// Each exported method runs in one transaction: a read transaction for a
// read, a write transaction for a change, so a change that fails changes
// nothing. ReplaceRates and ImportRates are the exception that keeps the
// rule: they write a large deck aside in several transactions and make it
// visible in one. EachRate and EachCDR, which feed the exports, read a
// page per transaction and call back between transactions, so that a slow
// client never holds a transaction open that a commit would wait for; each
// says what a change during the walk means for it.
// Returned values are copies that stay valid after the transaction.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"pbxbill/rating"
)

// schemaVersion is the layout this code reads and writes. Open refuses a
// newer file rather than misreading it.
//
// Version 2 holds money in 128 bits (rating.Money): a varint of up to 19
// bytes in CDRs and ledger entries, 16 bytes each for a roll-up's sell and
// buy. A version 1 file is read as it is, since every value it holds
// decodes unchanged (codec.go, cdrcodec.go), and is marked version 2 at
// its first Open (OpenReadOnly reads it and writes nothing), so that an
// older pbxbill refuses it instead of misreading an amount past an int64.
//
// Version 3 adds rate rows with times of the week and blocked rows: a
// timed row's key carries its days and hours after its effective_from,
// and a blocked row sets a flag bit (codec.go). Older rows read
// unchanged; an older pbxbill must refuse the file rather than read a
// timed key as corrupt or price calls to a blocked destination.
const schemaVersion = 3

// Bucket names. Every top-level bucket is created at Open so that readers
// never have to handle a missing one.
var (
	bucketMeta          = []byte("meta")
	bucketTables        = []byte("tables")         // id → tableRecord JSON
	bucketTableNames    = []byte("table_names")    // name → id
	bucketRates         = []byte("rates")          // table id → bucket of rows
	bucketTenants       = []byte("tenants")        // id → tenantRecord JSON
	bucketTenantNames   = []byte("tenant_names")   // name → id
	bucketTenantCodes   = []byte("tenant_codes")   // accountcode → id
	bucketProviders     = []byte("providers")      // id → providerRecord JSON
	bucketProviderNames = []byte("provider_names") // name → id
	bucketLedger        = []byte("ledger")         // type|account id|entry id → entry, binary
	bucketNodes         = []byte("nodes")          // name → nodeRecord JSON
	bucketNodeTokens    = []byte("node_tokens")    // SHA-256(token) → name
	bucketStaging       = []byte("staging")        // table id → rows of an import in progress
	bucketCDRs          = []byte("cdrs")           // sequence → cdrRecord
	bucketCDRKeys       = []byte("cdr_keys")       // node 0x00 id → sequence (idempotency)
	bucketUnrated       = []byte("cdr_unrated")    // sequence → empty, the unrated CDRs
	bucketRollups       = []byte("rollups")        // type|account id|YYYYMMDD → usage
	bucketFollow        = []byte("follow")         // file path → FollowPos JSON
	bucketOnce          = []byte("once")           // the one-time keys of credits (ledger.go useOnce)
)

var allBuckets = [][]byte{bucketMeta, bucketTables, bucketTableNames, bucketRates,
	bucketTenants, bucketTenantNames, bucketTenantCodes, bucketProviders, bucketProviderNames,
	bucketLedger, bucketNodes, bucketNodeTokens, bucketStaging, bucketAdmins, bucketSessions,
	bucketCDRs, bucketCDRKeys, bucketUnrated, bucketRollups, bucketFollow, bucketRejected,
	bucketHolds, bucketExpired, bucketCDRStarts, bucketAudit,
	bucketSchedules, bucketSchedulePosted, bucketOutbox, bucketOutboxPending}

// initialMmap is the address space mapped at Open: 1 GiB on 64-bit
// systems, where it costs nothing until pages are touched.
const initialMmap = (strconv.IntSize / 64) << 30

// Keys of the meta bucket.
var (
	metaVersion  = []byte("schema_version")
	metaTZ       = []byte("tz")
	metaCurrency = []byte("currency")
)

// Options are fixed when the database is created; a later Open with a
// different TZ or Currency fails with a clear error.
type Options struct {
	TZ       string           // IANA zone, default "UTC"
	Currency string           // ISO 4217 code, default "EUR"
	Now      func() time.Time // clock, default time.Now; tests fix it
	// Numbering normalises CDR numbers before they are priced.
	Numbering rating.Numbering
	// HoldSlack is how long past its grant a hold waits for its CDR
	// (-hold-slack); 0 is rating.DefaultHoldSlack.
	HoldSlack time.Duration
	// MmapSize is the address space mapped at Open, 0 for initialMmap.
	// A commit that grows the file past the mapping remaps it, and waits
	// for every open read transaction first; tests map little to make
	// that happen without a 1 GiB file.
	MmapSize int
}

// Store is the bbolt-backed store. All methods are safe for concurrent use.
//
// A Store is a handle on one shared state: Audited makes another handle on
// the same state whose changes record an audit entry.
type Store struct {
	*state
	note *auditNote // nil: changes are not audited
}

// state is what every handle of one open database shares.
type state struct {
	db       *bolt.DB
	created  bool // Open created the file
	loc      *time.Location
	tz       string
	currency string
	now      func() time.Time
	book     rating.Book
	group    *group // commits concurrent single-CDR posts and holds together
	holds    *holdBook
	// holdSlack is Options.HoldSlack.
	holdSlack time.Duration
	// rater prices CDRs from book with the installation's numbering.
	rater rating.Rater

	// rateMu serialises every change that ends in a Book swap (table
	// settings and rows). It is held across the transaction and the swap,
	// so two imports of one table install their indexes in commit order.
	rateMu sync.Mutex

	seen nodeSeen

	stageChunk int // rows per staging transaction; tests make it small
	exportPage int // rows or CDRs per read transaction of EachRate and EachCDR; tests make it small

	// A live index rebuilt in the background once it carries foldAt
	// changed prefixes (raterow.go); folding holds the tables whose
	// rebuild is under way, under rateMu, and Close waits for folds.
	foldAt  int
	folding map[uint64]bool
	folds   sync.WaitGroup
}

// txn is a write transaction with the clock read once, so every record it
// writes carries the same instant.
type txn struct {
	*bolt.Tx
	now time.Time
}

// Open opens or creates the database file at path, creates the buckets,
// checks the schema version, TZ and currency, and loads every rate table
// into the Book.
func Open(path string, opt Options) (*Store, error) {
	return open(path, opt, false)
}

// open is Open, or with readOnly OpenReadOnly.
func open(path string, opt Options, readOnly bool) (*Store, error) {
	if opt.TZ == "" {
		opt.TZ = "UTC"
	}
	if opt.Currency == "" {
		opt.Currency = "EUR"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MmapSize <= 0 {
		opt.MmapSize = initialMmap
	}
	loc, err := time.LoadLocation(opt.TZ)
	if err != nil {
		return nil, rating.Errorf(rating.EInvalid, "tz %q: not a known time zone", opt.TZ)
	}
	cur := strings.ToUpper(strings.TrimSpace(opt.Currency))
	if !validCurrency(cur) {
		return nil, rating.Errorf(rating.EInvalid, "currency %q: want a three-letter ISO 4217 code", opt.Currency)
	}

	exists, err := checkFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	} else if readOnly && !exists {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	var db *bolt.DB
	err = safely(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second,
			// The freelist is not written at every commit: a rate import
			// frees thousands of pages, and rebuilding the list at Open is
			// cheap.
			NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
			// When a commit grows the file past the mapping, bbolt remaps
			// and first copies every key and value the transaction wrote to
			// the heap. Reserving address space (not memory) up front avoids
			// that for any file up to 1 GiB.
			InitialMmapSize: opt.MmapSize, ReadOnly: readOnly})
		return err
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the database is locked by another process", path)
	} else if errors.Is(err, berrors.ErrInvalid) {
		return nil, fmt.Errorf("open %s: not a pbxbill database: %w", path, err)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{state: &state{db: db, created: !exists, loc: loc, tz: opt.TZ, currency: cur, now: opt.Now, stageChunk: defaultStageChunk,
		exportPage: defaultExportPage, foldAt: defaultFoldAt, folding: map[uint64]bool{},
		holds: newHoldBook(), holdSlack: opt.HoldSlack}}
	if s.holdSlack <= 0 {
		s.holdSlack = rating.DefaultHoldSlack
	}
	s.rater = rating.Rater{Book: &s.book, Numbering: opt.Numbering, Currency: cur, Zone: loc}
	// A damaged page may be met at any read, the first ones included.
	err = safely(func() (err error) {
		if readOnly {
			err = db.View(s.verify)
		} else {
			err = db.Update(s.init)
		}
		if err != nil {
			return err
		}
		if err := db.View(s.loadHolds); err != nil {
			return err
		}
		if !readOnly {
			if err := s.indexStarts(); err != nil { // a file from before the start index
				return err
			}
			if _, err := s.ExpireHolds(); err != nil { // those of the downtime
				return err
			}
		}
		return s.loadBook()
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	s.startGroup()
	return s, nil
}

// init creates the buckets and checks or writes the meta values. Rows
// staged by an import that a crash interrupted are dropped.
func (s *Store) init(tx *bolt.Tx) error {
	if b := tx.Bucket(bucketStaging); b != nil && b.Stats().BucketN > 1 {
		if err := tx.DeleteBucket(bucketStaging); err != nil {
			return fmt.Errorf("drop staged rows: %w", err)
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(metaVersion) == nil {
		if err := meta.Put(metaVersion, []byte(strconv.Itoa(schemaVersion))); err != nil {
			return err
		}
		if err := meta.Put(metaTZ, []byte(s.tz)); err != nil {
			return err
		}
		return meta.Put(metaCurrency, []byte(s.currency))
	}
	if err := s.checkMeta(meta); err != nil {
		return err
	}
	// An older version is read as it is (see schemaVersion) and marked
	// as this one, in the same transaction.
	if v := strconv.Itoa(schemaVersion); string(meta.Get(metaVersion)) != v {
		return meta.Put(metaVersion, []byte(v))
	}
	return nil
}

// checkMeta checks the schema version, TZ and currency of a database that
// has them.
func (s *Store) checkMeta(meta *bolt.Bucket) error {
	if v := meta.Get(metaVersion); v == nil {
		return errors.New("not a pbxbill database: it has no schema version")
	} else if n, err := strconv.Atoi(string(v)); err != nil || n > schemaVersion {
		return fmt.Errorf("database schema version %s is newer than this pbxbill understands (%d)", v, schemaVersion)
	}
	if tz := string(meta.Get(metaTZ)); tz != s.tz {
		return rating.Errorf(rating.EInvalid, "the database was created with time zone %q; refusing to open it with %q, because its days are already bucketed in %q", tz, s.tz, tz)
	}
	if cur := string(meta.Get(metaCurrency)); cur != s.currency {
		return rating.Errorf(rating.EInvalid, "the database was created with currency %s; refusing to open it with %s", cur, s.currency)
	}
	return nil
}

// loadBook reads every table's rows and installs its index. Tables are
// loaded one at a time so only one table's rows are held at once.
func (s *Store) loadBook() error {
	var ids []uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTables).ForEach(func(k, _ []byte) error {
			ids = append(ids, btoi(k))
			return nil
		})
	}); err != nil {
		return err
	}
	for _, id := range ids {
		var rec tableRecord
		if err := s.db.View(func(tx *bolt.Tx) (err error) {
			rec, err = getTableByID(tx, id)
			return err
		}); err != nil {
			return err
		}
		x, err := s.loadIndex(id, rec.Table)
		if err != nil {
			return err
		}
		s.book.Set(x)
	}
	return nil
}

// Close closes the database, once the index rebuilds under way are done.
func (s *Store) Close() error {
	s.stopGroup()
	s.folds.Wait()
	return s.db.Close()
}

// Created reports whether Open created the database file, because there
// was none at its path.
func (s *Store) Created() bool { return s.created }

// Location is the installation's time zone.
func (s *Store) Location() *time.Location { return s.loc }

// Now reads the store's clock (Options.Now): the one clock of the
// installation, which the handlers read too.
func (s *Store) Now() time.Time { return s.now() }

// Currency is the installation's currency code.
func (s *Store) Currency() string { return s.currency }

// Book holds the live index of every rate table; it is swapped after each
// committed change of a table or its rows.
func (s *Store) Book() *rating.Book { return &s.book }

// Rater resolves calls against the live indexes with the installation's
// numbering: the one resolution that the rating endpoints, the admin and
// CDR pricing share.
func (s *Store) Rater() *rating.Rater { return &s.rater }

// Empty reports whether the store holds no tables, tenants or providers
// (the condition for -demo seeding).
func (s *Store) Empty() (bool, error) {
	empty := true
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketTables, bucketTenants, bucketProviders} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				empty = false
			}
		}
		return nil
	})
	return empty, err
}

// update runs fn in a write transaction with the clock read once.
//
// A handle made by Audited writes its entry in the first update that
// commits; the updates after it write none.
func (s *Store) update(fn func(tx *txn) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		t := &txn{Tx: tx, now: s.now().UTC()}
		if err := fn(t); err != nil {
			return err
		}
		return s.note.write(t)
	})
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// Page sizes of the listing methods that take a limit.
const (
	DefaultLimit = 100  // a limit ≤ 0 means this many
	MaxLimit     = 1000 // a larger limit is cut to this
)

func pageLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}
