package pg

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// The outbox (DOMAIN.md "Alerts"): every event is written in the
// transaction of the change that causes it (core.go's queueEvent); the
// deliverer of each node reads the pending ones and records each attempt.
//
// Several nodes run a deliverer on one database, and each event must be
// tried by one of them at a time, or every receiver would get it once per
// node. PendingEvents therefore claims what it answers: it marks each
// event with this node's claim until claimLease from now, in the
// statement that reads it, skipping the rows another node is claiming at
// that moment (FOR UPDATE SKIP LOCKED) and the events another node's
// claim still covers. SaveDelivery writes the attempt and gives the claim
// up. A node renews its claims whenever it reads or saves, so a node that
// keeps delivering keeps what it claimed, and the events of a node that
// stopped go to another once its lease runs out: delivery stays at least
// once, as DOMAIN.md promises, and receivers drop repeats by id.

// claimLease is how long a claim lasts without being renewed: longer than
// any one delivery takes (a webhook that does not answer fails after 10
// s), short enough that the events of a node that died are delivered by
// another within minutes.
const claimLease = 5 * time.Minute

// claimer names this node's claims: random, so that two processes, or two
// stores opened on one database in a test, never share one.
type claimer struct {
	once sync.Once
	id   string
}

func (c *claimer) name() string {
	c.once.Do(func() {
		var r [8]byte
		_, _ = rand.Read(r[:]) // never fails (crypto/rand)
		c.id = hex.EncodeToString(r[:])
	})
	return c.id
}

// eventCols are an outbox row's columns in the order scanEvent reads them.
const eventCols = `seq, id, type, at, data, deliveries, done`

func scanEvent(row pgx.Row) (rating.Event, error) {
	var ev rating.Event
	var seq int64
	var data, deliveries []byte
	if err := row.Scan(&seq, &ev.ID, &ev.Type, &ev.Time, &data, &deliveries, &ev.Done); err != nil {
		return ev, err
	}
	ev.Seq, ev.Time, ev.Data = uint64(seq), ev.Time.UTC(), json.RawMessage(data)
	if err := json.Unmarshal(deliveries, &ev.Deliveries); err != nil {
		return ev, fmt.Errorf("outbox event %d: deliveries: %w", seq, err)
	}
	return ev, nil
}

func collectEvents(rows pgx.Rows) ([]rating.Event, error) {
	defer rows.Close()
	var out []rating.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// QueueEvent writes one event to the outbox in a transaction of its own:
// the admin's test event.
func (s *Store) QueueEvent(typ string, data any) (rating.Event, error) {
	var ev rating.Event
	err := s.write(context.Background(), func(tx *txn) (err error) {
		ev, err = queueEvent(context.Background(), tx, typ, data)
		return err
	})
	if err != nil {
		return rating.Event{}, err
	}
	return ev, nil
}

// Events lists the outbox oldest first, from after the cursor after (a
// sequence number). A limit ≤ 0 is DefaultLimit, and it is at most
// MaxLimit.
func (s *Store) Events(after string, limit int) ([]rating.Event, string, error) {
	limit = pageLimit(limit)
	var from uint64
	if after != "" {
		v, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return nil, "", rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(after))
		}
		from = v
	}
	if from >= 1<<63-1 {
		return []rating.Event{}, "", nil // past every sequence number
	}
	rows, err := s.pool.Query(context.Background(), `SELECT `+eventCols+` FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`,
		int64(from), limit+1)
	if err != nil {
		return nil, "", dbError(err)
	}
	out, err := collectEvents(rows)
	if err != nil {
		return nil, "", dbError(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatUint(out[limit-1].Seq, 10)
	}
	if out == nil {
		out = []rating.Event{}
	}
	return out, next, nil
}

// RecentEvents lists the newest n events, newest first: the admin's page.
func (s *Store) RecentEvents(n int) ([]rating.Event, error) {
	if n <= 0 {
		return []rating.Event{}, nil
	}
	rows, err := s.pool.Query(context.Background(), `SELECT `+eventCols+` FROM outbox ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, dbError(err)
	}
	out, err := collectEvents(rows)
	if err != nil {
		return nil, dbError(err)
	}
	if out == nil {
		out = []rating.Event{}
	}
	return out, nil
}

// PendingEvents lists up to limit events that are not done, oldest
// first, from after the sequence number after (0: from the first), and
// claims them for this node: the events another node has claimed are
// left out until its claim runs out. It renews this node's other claims.
func (s *Store) PendingEvents(after uint64, limit int) ([]rating.Event, error) {
	if limit <= 0 || after >= 1<<63-1 {
		return nil, nil
	}
	ctx := context.Background()
	me := s.holds.claims.name()
	var out []rating.Event
	err := s.write(ctx, func(tx *txn) error {
		until := tx.now.Add(claimLease)
		rows, err := tx.Query(ctx, `WITH c AS (
				SELECT seq FROM outbox
				WHERE NOT done AND seq > $1 AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until <= $3)
				ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED)
			UPDATE outbox o SET claimed_by = $2, claimed_until = $5 FROM c WHERE o.seq = c.seq
			RETURNING o.seq, o.id, o.type, o.at, o.data, o.deliveries, o.done`, int64(after), me, tx.now, limit, until)
		if err != nil {
			return err
		}
		if out, err = collectEvents(rows); err != nil {
			return err
		}
		return renewClaims(ctx, tx, me, until)
	})
	if err != nil {
		return nil, err
	}
	// UPDATE ... RETURNING answers in no particular order.
	slices.SortFunc(out, func(a, b rating.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// renewClaims moves the end of this node's claims to until.
func renewClaims(ctx context.Context, tx *txn, me string, until time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE outbox SET claimed_until = $2 WHERE claimed_by = $1 AND NOT done AND claimed_until < $2`, me, until)
	return err
}

// SaveDelivery stores the delivery state of event seq, takes it out of
// the pending ones once done, and gives up this node's claim on it. An
// event that another node claimed since this node's claim ran out is
// that node's to save now, and is left as it is; so is an event gone with
// a restore.
func (s *Store) SaveDelivery(seq uint64, deliveries []rating.Delivery, done bool) error {
	raw, err := json.Marshal(deliveries)
	if err != nil {
		return fmt.Errorf("encode the deliveries of event %d: %w", seq, err)
	}
	if seq >= 1<<63 {
		return nil // no such event
	}
	ctx := context.Background()
	me := s.holds.claims.name()
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET deliveries = $2, done = $3, claimed_by = NULL, claimed_until = NULL
			WHERE seq = $1 AND (claimed_by IS NULL OR claimed_by = $4 OR claimed_until <= $5)`,
			int64(seq), raw, done, me, tx.now); err != nil {
			return err
		}
		return renewClaims(ctx, tx, me, tx.now.Add(claimLease))
	})
}
