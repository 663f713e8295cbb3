package api

import (
	"errors"
	"math"
	"net/http"
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
	return &retryLater{
		err:   &kycd.Error{Code: kycd.ETooManyRequests, Message: "Try again later"},
		after: int(math.Ceil(delay.Seconds())),
	}
}

// failedCredentials counts a request whose credentials failed (an access
// token or the metrics token) against its source address, in the limiter
// every token request draws on: past the limit it returns too_many_requests
// for the request to answer instead of its refusal, so guessing costs the
// guesser, whichever credential it guesses.
func (s *Server) failedCredentials(r *http.Request) error {
	return s.ipLimits.allow("ip:" + clientIP(r))
}

// retryLater is an error after which the client should wait: renderers send
// its delay as Retry-After.
type retryLater struct {
	err   *kycd.Error
	after int
}

func (e *retryLater) Error() string { return e.err.Error() }
func (e *retryLater) Unwrap() error { return e.err }

// setRetryAfter sets Retry-After when err asks the client to wait: a rate
// limit, or a change that lost its race with other changes of its entity
// (whose competitors are done within about a second).
func setRetryAfter(w http.ResponseWriter, err error) {
	var rl *retryLater
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(rl.after))
	} else if kycd.ErrorCode(err) == kycd.EConcurrentChange {
		w.Header().Set("Retry-After", "1")
	}
}
