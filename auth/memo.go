package auth

import (
	"sync"
	"time"
)

// memo remembers values by a SHA-256 digest, each until a time it is given:
// what the verifier knows matched, what the token verifier knows is valid.
// It keeps at most max entries; when that many are kept, the expired ones are
// dropped, and all of them when that frees less than a tenth (so that a full
// memo is not swept again at each new entry).
type memo[V any] struct {
	mu      sync.Mutex
	entries map[[32]byte]memoEntry[V]
	max     int
}

type memoEntry[V any] struct {
	value V
	until time.Time
}

func newMemo[V any](max int) *memo[V] {
	return &memo[V]{entries: map[[32]byte]memoEntry[V]{}, max: max}
}

// get returns the value remembered for digest, unless its time is over.
func (m *memo[V]) get(digest [32]byte, now time.Time) (V, bool) {
	m.mu.Lock()
	e, ok := m.entries[digest]
	m.mu.Unlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put remembers value for digest until a time.
func (m *memo[V]) put(digest [32]byte, value V, until, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= m.max {
		for k, e := range m.entries {
			if !now.Before(e.until) {
				delete(m.entries, k)
			}
		}
		if len(m.entries) >= m.max-m.max/10 {
			clear(m.entries)
		}
	}
	m.entries[digest] = memoEntry[V]{value, until}
}

// len is how many entries are kept.
func (m *memo[V]) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
