package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kycd/kycd"
)

// limiter is a per-key token bucket (keys are client ids, or client IPs on
// the routes that come before a token). Limits are per process.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	clock   kycd.Clock
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int, clock kycd.Clock) *limiter {
	return &limiter{every: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}, clock: clock}
}

// allow takes one token from key's bucket, or returns too_many_requests
// with the seconds to wait.
func (l *limiter) allow(key string) error {
	if l == nil || l.every <= 0 {
		return nil
	}
	now := l.clock.Now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 50_000 {
			for k, old := range l.buckets {
				if now.Sub(old.seen) > time.Minute {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > 0 {
		res.CancelAt(now)
	}
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	secs := int(math.Ceil(delay.Seconds()))
	return &kycd.Error{Code: kycd.ETooManyRequests, Message: "Try again later",
		Details: map[string]any{"retryAfter": strconv.Itoa(secs)}}
}
