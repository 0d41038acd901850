package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// ratesChannel is the channel on which a node announces a committed change
// of a rate table or its rows. The payload is "id version node": the
// table's id, its version after the change, and the changing node's
// token, for whoever reads the channel. A node's own announcements need
// nothing: it installs its index before anything else of its own may
// look at the version, under rates.mu, so it finds that version there;
// should the commit's outcome have been lost, the announcement mends
// the index all the same. A change of a few prefixes' rows adds
// " was p1,p2,...": the version it changed and the prefixes, so that a
// node at version was reads only those prefixes' rows, as the changing
// node amended its own index, instead of every row of the table.
const ratesChannel = "pbxbill_rates"

// rateState is what keeps this node's rate indexes current.
type rateState struct {
	// mu serialises this node's changes of rate tables and every install
	// of an index into the Book, so that the Book and tables agree and
	// no older version is ever installed over a newer one. It is held
	// across a change's transaction and its install, as the bbolt store's
	// rateMu is; a change on another node is serialised by the table's
	// row lock instead.
	mu sync.Mutex
	// tables holds, by table id, the name and version of the index this
	// node has installed.
	tables map[int64]tableVersion
	node   string // this node's token in announcements

	exportPage int // rows per read transaction of EachRate; tests make it small
	// foldAt is how many changed prefixes a live index carries before it
	// is rebuilt from its rows in the background (raterow.go).
	foldAt int

	folding map[int64]bool  // tables whose rebuild is under way
	missing sync.Mutex      // one loadMissing at a time
	ctx     context.Context // the store's, cancelled by Close
	jobs    sync.WaitGroup
}

// tableVersion is the version of one table that the Book holds.
type tableVersion struct {
	name    string
	version int64
}

// startRates loads every table's index into the Book and starts the
// listener that follows the other nodes' changes. The listener listens
// before the tables are read, so that no change falls between the two.
func (s *Store) startRates(ctx context.Context) error {
	r := &s.rates
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	r.node, r.tables, r.folding, r.ctx = hex.EncodeToString(tok[:]), map[int64]tableVersion{}, map[int64]bool{}, ctx
	if r.exportPage == 0 {
		r.exportPage = defaultExportPage
	}
	if r.foldAt == 0 {
		r.foldAt = defaultFoldAt
	}
	if s.readOnly {
		// pbxbill check: the indexes as they are, no cleaning, no following.
		return s.reloadAll(ctx)
	}
	// Rows of generations no table uses: an import that crashed after its
	// swap, before it deleted the old deck.
	if _, err := s.pool.Exec(ctx, `DELETE FROM rates r WHERE NOT EXISTS
		(SELECT 1 FROM rate_tables t WHERE t.gen = r.gen)`); err != nil {
		return dbError(err)
	}
	conn, err := s.listen(ctx)
	if err != nil {
		return err
	}
	if err := s.reloadAll(ctx); err != nil {
		conn.Close(context.Background())
		return err
	}
	r.jobs.Add(1)
	go s.follow(ctx, conn)
	return nil
}

// stopRates waits for the listener and the background rebuilds, which
// the store's context (cancelled by Close) stops.
func (s *Store) stopRates() { s.rates.jobs.Wait() }

// listen opens the listener's connection: a connection of its own, not
// one of the pool's, because it stays in LISTEN for as long as the store
// is open.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "pbxbill rates listener"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", Redact(s.url), err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+ratesChannel); err != nil {
		conn.Close(context.Background())
		return nil, dbError(err)
	}
	return conn, nil
}

// follow reloads each table another node announces a change of, until
// ctx ends. When the connection is lost it connects again, backing off up
// to 5 s, and then reloads every table that changed meanwhile, since
// announcements are not kept for a listener that was away.
func (s *Store) follow(ctx context.Context, conn *pgx.Conn) {
	defer s.rates.jobs.Done()
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = s.listen(ctx); err == nil {
				err = s.reloadAll(ctx)
			}
			if err != nil {
				if conn != nil {
					conn.Close(context.Background())
					conn = nil
				}
				if ctx.Err() == nil {
					log.Printf("pg: rate tables: follow other nodes: %v; retrying in %s", err, backoff)
				}
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 50 * time.Millisecond
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Printf("pg: rate tables: the listener's connection was lost: %v; reconnecting", err)
			}
			conn.Close(context.Background())
			conn = nil
			continue
		}
		a, ok := parseAnnouncement(n.Payload)
		if !ok {
			continue
		}
		s.rates.mu.Lock()
		have := s.rates.tables[a.id]
		s.rates.mu.Unlock()
		if have.name != "" && have.version >= a.version {
			continue
		}
		if a.prefixes != nil && have.name != "" && have.version == a.was {
			err = s.amendFrom(ctx, a)
		} else {
			err = s.reload(ctx, a.id, false)
		}
		if err != nil && ctx.Err() == nil {
			// The next announcement or reconnection tries again.
			log.Printf("pg: rate tables: reload table %d: %v", a.id, err)
		}
	}
}

// announce tells every node, once tx commits, that table id is now at
// version.
func (s *Store) announce(ctx context.Context, tx pgx.Tx, id, version int64) error {
	return s.announceRows(ctx, tx, id, version, 0, nil)
}

// announceRows is announce for a change of the rows of prefixes (nil:
// of the whole table) made to version was.
func (s *Store) announceRows(ctx context.Context, tx pgx.Tx, id, version, was int64, prefixes []string) error {
	p := strconv.FormatInt(id, 10) + " " + strconv.FormatInt(version, 10) + " " + s.rates.node
	if list := strings.Join(prefixes, ","); prefixes != nil && len(list) < maxPayload-len(p)-24 {
		p += " " + strconv.FormatInt(was, 10) + " " + list
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ratesChannel, p)
	return err
}

// maxPayload is below NOTIFY's limit on a payload, 8000 bytes.
const maxPayload = 7900

// announcement is a change another node announced.
type announcement struct {
	id, version int64
	node        string
	was         int64
	prefixes    []string // nil: reload the table
}

func parseAnnouncement(p string) (a announcement, ok bool) {
	f := strings.Fields(p)
	if len(f) < 3 || len(f) > 5 {
		return a, false
	}
	var err1, err2, err3 error
	a.id, err1 = strconv.ParseInt(f[0], 10, 64)
	a.version, err2 = strconv.ParseInt(f[1], 10, 64)
	a.node = f[2]
	if len(f) > 3 {
		a.was, err3 = strconv.ParseInt(f[3], 10, 64)
		a.prefixes = []string{} // a change of no rows
	}
	if len(f) == 5 {
		a.prefixes = strings.Split(f[4], ",")
	}
	return a, err1 == nil && err2 == nil && err3 == nil
}

// amendFrom brings this node's index of a table from version a.was to
// a.version by reading only the rows of the prefixes the change touched,
// as the changing node did: a row changed in a table of a million costs
// the other nodes one small query. When the table has moved on past
// a.version, or the index here is no longer at a.was, it reloads the
// table whole.
func (s *Store) amendFrom(ctx context.Context, a announcement) error {
	var changes map[string][]rating.Row
	current := false
	err := s.read(ctx, func(tx pgx.Tx) error {
		t, err := tableByID(ctx, tx, a.id, false)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && t.version != a.version {
			return nil
		}
		if err != nil {
			return err
		}
		current = true
		changes, err = prefixRows(ctx, tx, t, a.prefixes)
		return err
	})
	if err != nil {
		return err
	}
	if current {
		s.rates.mu.Lock()
		have := s.rates.tables[a.id]
		live := s.book.Get(have.name)
		amended := have.version == a.was && live != nil && len(changes) < s.rates.foldAt-live.Overlaid()
		if amended {
			s.install(a.id, a.version, live.WithPrefixes(changes))
		}
		s.rates.mu.Unlock()
		if amended {
			return nil
		}
	}
	return s.reload(ctx, a.id, false)
}

// reloadAll brings every table's index up to the stored version, and
// drops the indexes of tables that are gone.
func (s *Store) reloadAll(ctx context.Context) error {
	type stored struct {
		id, version int64
	}
	var list []stored
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, version FROM rate_tables ORDER BY id`)
		var err error
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (stored, error) {
			var t stored
			return t, r.Scan(&t.id, &t.version)
		})
		return err
	})
	if err != nil {
		return err
	}
	live := map[int64]bool{}
	for _, t := range list {
		live[t.id] = true
		s.rates.mu.Lock()
		have := s.rates.tables[t.id]
		s.rates.mu.Unlock()
		if have.name != "" && have.version >= t.version {
			continue
		}
		if err := s.reload(ctx, t.id, false); err != nil {
			return err
		}
	}
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	for id, have := range s.rates.tables {
		if !live[id] {
			s.dropIndex(id, have.name)
		}
	}
	return nil
}

// reload reads table id and its rows in one snapshot and installs its
// index, unless this node already has that version or a newer one (with
// force, unless it has a newer one: a rebuild that folds the changes a
// live index carries). A table that is gone leaves the Book.
func (s *Store) reload(ctx context.Context, id int64, force bool) error {
	var (
		x       *rating.Index
		version int64
		gone    bool
	)
	err := s.read(ctx, func(tx pgx.Tx) error {
		t, err := tableByID(ctx, tx, id, false)
		if errors.Is(err, pgx.ErrNoRows) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		version = t.version
		x, err = loadIndex(ctx, tx, t)
		return err
	})
	if err != nil {
		return err
	}
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	have := s.rates.tables[id]
	if gone {
		s.dropIndex(id, have.name)
		return nil
	}
	if have.name != "" && (have.version > version || have.version == version && !force) {
		return nil
	}
	s.install(id, version, x)
	return nil
}

// install puts x, the index of table id at version, into the Book. A
// renamed table's new name is installed before its old one goes, so a
// lookup never finds neither. The caller holds rates.mu.
func (s *Store) install(id, version int64, x *rating.Index) {
	name := x.Table().Name
	// A table deleted elsewhere whose name this one took.
	for other, have := range s.rates.tables {
		if other != id && have.name == name {
			delete(s.rates.tables, other)
		}
	}
	s.book.Set(x)
	if was := s.rates.tables[id].name; was != "" && was != name {
		s.book.Delete(was)
	}
	s.rates.tables[id] = tableVersion{name: name, version: version}
	if x.Overlaid() >= s.rates.foldAt {
		s.fold(id)
	}
}

// dropIndex removes table id's index, which the Book holds under name
// (if it still holds it for that table). The caller holds rates.mu.
func (s *Store) dropIndex(id int64, name string) {
	if name != "" && s.rates.tables[id].name == name {
		s.book.Delete(name)
	}
	delete(s.rates.tables, id)
}

// fold rebuilds table id's index from its rows in the background,
// folding away the changed prefixes it carries. A failed rebuild leaves
// them in place for the next change to try again. The caller holds
// rates.mu.
func (s *Store) fold(id int64) {
	if s.rates.folding[id] {
		return
	}
	s.rates.folding[id] = true
	s.rates.jobs.Add(1)
	go func() {
		defer s.rates.jobs.Done()
		err := s.reload(s.rates.ctx, id, true)
		s.rates.mu.Lock()
		delete(s.rates.folding, id)
		s.rates.mu.Unlock()
		if err != nil && s.rates.ctx.Err() == nil {
			log.Printf("pg: rate tables: rebuild table %d: %v", id, err)
		}
	}()
}

// loadMissing loads the named table when a resolution needs it and this
// node's Book does not hold it yet: another node created it (or its
// first deck) a moment ago, and the notice is still on its way. Without
// it, a CDR priced in that moment would be stored unrated. It answers nil
// when there is no such table. One load runs at a time, and a table that
// an earlier one installed is not loaded again.
func (s *Store) loadMissing(name string) *rating.Index {
	s.rates.missing.Lock()
	defer s.rates.missing.Unlock()
	if x := s.book.Get(name); x != nil {
		return x
	}
	ctx := context.Background()
	var id int64
	err := s.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id FROM rate_tables WHERE name = $1`, name).Scan(&id)
	})
	if err != nil {
		return nil // none, or the database is away: the table is missing
	}
	if err := s.reload(ctx, id, false); err != nil {
		return nil
	}
	return s.book.Get(name)
}
