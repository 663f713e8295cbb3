// Package keylock serializes work by key within one process: the changes of
// one user run one after another while other users' changes run at the
// same time.
package keylock

import (
	"context"
	"sync"
)

// Locks is a set of mutexes, one per key, made when a key is first locked
// and dropped when nobody holds or awaits it. The zero value is ready.
type Locks struct {
	mu   sync.Mutex
	keys map[string]*entry
}

// entry is one key's mutex: a token its holder has put in ch, and how many
// callers hold or await it.
type entry struct {
	ch   chan struct{}
	refs int
}

// Lock waits until key is free and takes it; unlock frees it (a second
// call does nothing). Waiters queue on a channel, which the runtime serves
// in about the order they came. A context that ends first is the error,
// and nothing is held.
func (l *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]*entry{}
	}
	e := l.keys[key]
	if e == nil {
		e = &entry{ch: make(chan struct{}, 1)}
		l.keys[key] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-e.ch
				l.release(key, e)
			})
		}, nil
	case <-ctx.Done():
		l.release(key, e)
		return nil, ctx.Err()
	}
}

func (l *Locks) release(key string, e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.keys, key)
	}
}

// size is how many keys are held or awaited (for tests).
func (l *Locks) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
