package rating

import (
	"sync"
	"sync/atomic"
)

// Book holds the live index of every rate table by name. Readers load a
// snapshot with one atomic read and never block; writers build a new index
// aside and swap it in, so a lookup never sees a half-loaded table.
type Book struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string]*Index]
}

// Get returns the live index of the named table, or nil.
func (b *Book) Get(name string) *Index {
	m := b.m.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// Set installs x as the live index of its table.
func (b *Book) Set(x *Index) { b.update(func(m map[string]*Index) { m[x.table.Name] = x }) }

// Delete removes the named table's index.
func (b *Book) Delete(name string) { b.update(func(m map[string]*Index) { delete(m, name) }) }

func (b *Book) update(fn func(map[string]*Index)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.m.Load()
	m := make(map[string]*Index)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	fn(m)
	b.m.Store(&m)
}
