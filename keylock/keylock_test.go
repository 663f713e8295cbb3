package keylock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSerializesOneKey: work under one key never overlaps, work under
// other keys does, and no key is left behind.
func TestSerializesOneKey(t *testing.T) {
	t.Parallel()
	var l Locks
	var inside [2]atomic.Int32
	var overlapped atomic.Bool
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % 2
			unlock, err := l.Lock(context.Background(), []string{"a", "b"}[k])
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			if inside[k].Add(1) != 1 {
				overlapped.Store(true)
			}
			time.Sleep(time.Millisecond)
			inside[k].Add(-1)
		}()
	}
	wg.Wait()
	if overlapped.Load() {
		t.Error("two holders of one key at once")
	}
	if n := l.size(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}

// TestOtherKeysDoNotWait: a held key blocks only its own waiters.
func TestOtherKeysDoNotWait(t *testing.T) {
	t.Parallel()
	var l Locks
	unlock, err := l.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlockB, err := l.Lock(ctx, "b")
	if err != nil {
		t.Fatalf("b waited for a: %v", err)
	}
	unlockB()
}

// TestCanceledWaiter: a waiter whose context ends gets its error, holds
// nothing, and the key passes on to the next.
func TestCanceledWaiter(t *testing.T) {
	t.Parallel()
	var l Locks
	unlock, err := l.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "a"); err != context.DeadlineExceeded {
		t.Fatalf("canceled waiter: %v", err)
	}
	got := make(chan struct{})
	go func() {
		u, err := l.Lock(context.Background(), "a")
		if err == nil {
			u()
		}
		close(got)
	}()
	unlock()
	unlock() // a second unlock is harmless
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the next waiter did not get the key")
	}
	if n := l.size(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}

// BenchmarkLock is a lock and unlock of one user's key among many users
// (what every KYC change now does), against a sync.Mutex's (the baseline,
// in the same run): the cost a change pays for its queue.
func BenchmarkLock(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "tenant/user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	b.Run("keylock", func(b *testing.B) {
		var l Locks
		ctx := context.Background()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				unlock, err := l.Lock(ctx, keys[i%len(keys)])
				if err != nil {
					b.Fatal(err)
				}
				unlock()
				i++
			}
		})
	})
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				mu.Unlock()
			}
		})
	})
}
