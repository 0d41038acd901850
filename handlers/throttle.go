package handlers

import (
	"strconv"
	"sync"
	"time"
)

// throttleKeep bounds the memory a flood of addresses can take.
const throttleKeep = 10000

// throttle counts failures per client address: after limit failures within
// window, that address must wait until the window has passed since its
// first failure. The admin's log-in and the API's bearer tokens each have
// one.
type throttle struct {
	mu     sync.Mutex
	now    func() time.Time
	limit  int
	window time.Duration
	m      map[string]*failures
}

type failures struct {
	n     int
	first time.Time
}

func newThrottle(now func() time.Time, limit int, window time.Duration) *throttle {
	return &throttle{now: now, limit: limit, window: window, m: map[string]*failures{}}
}

// wait is how long client must wait before trying again; 0 when it may.
func (t *throttle) wait(client string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[client]
	if f == nil {
		return 0
	}
	left := t.window - t.now().Sub(f.first)
	if left <= 0 {
		delete(t.m, client)
		return 0
	}
	if f.n < t.limit {
		return 0
	}
	return left
}

func (t *throttle) fail(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.m) >= throttleKeep {
		for k, f := range t.m {
			if now.Sub(f.first) >= t.window {
				delete(t.m, k)
			}
		}
	}
	f := t.m[client]
	if f == nil || now.Sub(f.first) >= t.window {
		if len(t.m) >= throttleKeep {
			return // full of live entries: this address goes uncounted, rather than any memory
		}
		f = &failures{first: now}
		t.m[client] = f
	}
	f.n++
}

func (t *throttle) reset(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, client)
}

// retryAfter is a Retry-After header's value for wait: whole seconds,
// rounded up, so that a client that waits that long is let in.
func retryAfter(wait time.Duration) string {
	return strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
}
