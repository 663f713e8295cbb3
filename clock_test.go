package kycd

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestOffsetClockBounded: the offset moves forward only, never past
// MaxClockOffset (the move that would is refused whole), and concurrent
// moves cannot pass it together; 2562047h twice, which wrapped the offset
// backwards, is refused at once.
func TestOffsetClockBounded(t *testing.T) {
	t.Parallel()
	var c OffsetClock
	for _, d := range []time.Duration{0, -time.Hour, MaxClockOffset + 1, 2562047 * time.Hour} {
		if err := c.Advance(d); !errors.Is(err, ErrClockOffset) || c.Offset() != 0 {
			t.Errorf("Advance(%s): %v, offset %s", d, err, c.Offset())
		}
	}
	if err := c.Advance(MaxClockOffset - time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(time.Hour + 1); !errors.Is(err, ErrClockOffset) || c.Offset() != MaxClockOffset-time.Hour {
		t.Errorf("past the bound: %v, offset %s", err, c.Offset())
	}
	if err := c.Advance(time.Hour); err != nil || c.Offset() != MaxClockOffset {
		t.Errorf("up to the bound: %v, offset %s", err, c.Offset())
	}
	if err := c.Advance(1); !errors.Is(err, ErrClockOffset) || c.Offset() != MaxClockOffset {
		t.Errorf("at the bound: %v, offset %s", err, c.Offset())
	}
	if ahead := time.Until(c.Now()); ahead < MaxClockOffset-time.Minute || ahead > MaxClockOffset+time.Minute {
		t.Errorf("Now is %s ahead", ahead)
	}

	// 40 moves of a tenth of the bound at once: exactly 10 succeed.
	var d OffsetClock
	var wg sync.WaitGroup
	var mu sync.Mutex
	moved := 0
	for range 40 {
		wg.Go(func() {
			if d.Advance(MaxClockOffset/10) == nil {
				mu.Lock()
				moved++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if moved != 10 || d.Offset() != MaxClockOffset {
		t.Errorf("concurrent moves: %d succeeded, offset %s", moved, d.Offset())
	}
}
