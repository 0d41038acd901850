package store

import (
	"sync"

	berrors "go.etcd.io/bbolt/errors"

	"pbxbill/rating"
)

// group commits concurrent single-CDR posts and the holds of
// authorizations together. One goroutine takes every post that is waiting, processes them in one transaction with one
// set of cached accounts, and commits once: while it commits, the next
// posts queue up, so the group grows with the load and an idle system
// answers at once, with no timer. bbolt's DB.Batch would do the grouping
// too, but it flushes the accounts and roll-ups once per post.
type group struct {
	mu     sync.Mutex
	queue  []*groupPost
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

type groupPost struct {
	hold *heldCall // a hold to store, instead of a CDR
	node string
	cdr  rating.CDR // as posted; a retry starts from it again
	out  rating.CDR // as processed
	err  error
	done chan struct{}
}

// maxGroup bounds one group's transaction.
const maxGroup = 1024

func (s *Store) startGroup() {
	s.group = &group{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go s.runGroup()
}

// postOne queues one validated CDR and waits for its commit.
func (s *Store) postOne(node string, c rating.CDR) (rating.CDR, error) {
	p := &groupPost{node: node, cdr: c, done: make(chan struct{})}
	err := s.queue(p)
	return p.out, err
}

// postHold queues a hold and waits for its commit.
func (s *Store) postHold(h *heldCall) error {
	return s.queue(&groupPost{hold: h, done: make(chan struct{})})
}

// queue hands p to the group and waits for its commit.
func (s *Store) queue(p *groupPost) error {
	g := s.group
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return berrors.ErrDatabaseNotOpen
	}
	g.queue = append(g.queue, p)
	select { // under the lock, so that stopGroup cannot close wake meanwhile
	case g.wake <- struct{}{}:
	default:
	}
	g.mu.Unlock()
	<-p.done
	return p.err
}

func (s *Store) runGroup() {
	g := s.group
	defer close(g.done)
	for ok := true; ok; {
		_, ok = <-g.wake
		for { // after the close too: finish what was queued
			g.mu.Lock()
			n := min(len(g.queue), maxGroup)
			posts := g.queue[:n:n]
			g.queue = g.queue[n:]
			g.mu.Unlock()
			if n == 0 {
				break
			}
			s.commitGroup(posts)
		}
	}
}

// commitGroup processes posts in one transaction. Any failure (a post
// naming an unknown provider, say) undoes the whole group, and each post
// is then tried alone, so that one bad post fails alone and the others
// are stored.
func (s *Store) commitGroup(posts []*groupPost) {
	err := s.update(func(tx *txn) error {
		var b *batch // made at the first CDR: a group of holds needs none
		for _, p := range posts {
			if p.hold != nil {
				if err := putHold(tx.Tx, p.hold); err != nil {
					return err
				}
				continue
			}
			if b == nil {
				b = s.newBatch(tx)
			}
			c := p.cdr
			if err := b.post(p.node, &c); err != nil {
				return err
			}
			p.out = c
		}
		if b == nil {
			return nil
		}
		return b.flush()
	})
	if err != nil && len(posts) > 1 {
		for _, p := range posts {
			s.commitGroup([]*groupPost{p})
		}
		return
	}
	for _, p := range posts {
		if err != nil {
			p.err = err
		}
		close(p.done)
	}
}

// stopGroup finishes the queued posts and stops the goroutine.
func (s *Store) stopGroup() {
	g := s.group
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.wake)
	}
	g.mu.Unlock()
	<-g.done
}
