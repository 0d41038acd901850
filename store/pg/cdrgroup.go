package pg

import (
	"context"
	"sync"

	"pbxbill/rating"
)

// postGroup commits concurrent single-CDR posts together, as the bbolt
// store's group does: many PBX channels each posting its own CDR share one
// transaction, one round of locks and one fsync instead of paying one
// each, where they would queue one by one behind their tenant's row lock.
// The first post that finds no group running leads: it commits every post
// waiting, up to maxGroup, and hands on to a goroutine while more wait, so
// that an idle system answers at once, with no timer, and no goroutine
// outlives the load.
type postGroup struct {
	mu      sync.Mutex
	queue   []*groupPost
	leading bool
}

type groupPost struct {
	node string
	cdr  rating.CDR // as posted; a retry starts from it again
	out  rating.CDR // as processed
	err  error
	done chan struct{}
}

// maxGroup bounds one group's transaction.
const maxGroup = 1024

// postOne posts one validated CDR in a group and waits for its commit.
func (s *Store) postOne(node string, c rating.CDR) (rating.CDR, error) {
	p := &groupPost{node: node, cdr: c, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		s.lead()
	}
	<-p.done
	return p.out, p.err
}

// lead commits the waiting posts, one group, then hands on while more
// wait: its own post was in the group it committed.
func (s *Store) lead() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	posts := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	s.commitGroup(posts)
	g.mu.Lock()
	more := len(g.queue) > 0
	g.leading = more
	g.mu.Unlock()
	if more {
		go s.lead()
	}
}

// commitGroup processes posts in one transaction. Any failure (a post
// naming an unknown provider, say) undoes the whole group, and each post
// is then tried alone, so that one bad post fails alone and the others
// are stored.
func (s *Store) commitGroup(posts []*groupPost) {
	ctx := context.Background()
	err := s.write(ctx, func(tx *txn) error {
		nodes, cdrs := make([]string, len(posts)), make([]rating.CDR, len(posts))
		for i, p := range posts {
			nodes[i], cdrs[i] = p.node, p.cdr
		}
		b := s.newBatch(tx)
		if err := b.post(ctx, nodes, cdrs); err != nil {
			return err
		}
		for i, p := range posts {
			p.out = cdrs[i]
		}
		return b.flush(ctx)
	})
	if err != nil && len(posts) > 1 {
		for _, p := range posts {
			s.commitGroup([]*groupPost{p})
		}
		return
	}
	for _, p := range posts {
		p.err = err
		close(p.done)
	}
}
