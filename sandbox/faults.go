// Package sandbox holds what the provider sandboxes (sandbox/sumsubsbx,
// sandbox/veriffsbx) share: scripted faults, latency and rate limits, and the
// sending of their webhooks.
package sandbox

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Faults scripts how a provider sandbox misbehaves for one applicant or
// session, so that tests and integrators can watch kycd cope. Counters
// count down: "serverErrors": 2 answers 503 twice, then normally.
type Faults struct {
	// ServerErrors answers 503 this many times.
	ServerErrors int `json:"serverErrors,omitempty"`
	// RateLimited answers 429 with Retry-After (seconds, default 1) this many times.
	RateLimited int `json:"rateLimited,omitempty"`
	RetryAfter  int `json:"retryAfter,omitempty"`
	// Slow delays this many answers by DelayMS milliseconds.
	Slow    int `json:"slow,omitempty"`
	DelayMS int `json:"delayMs,omitempty"`
	// Malformed answers JSON reads with a body that is not JSON.
	Malformed bool `json:"malformed,omitempty"`
	// OversizedImage serves images of OversizedBytes.
	OversizedImage bool `json:"oversizedImage,omitempty"`
}

// OversizedBytes is the size of a scripted oversized image: over the 25 MB
// kycd accepts for any document or image.
const OversizedBytes = 30 << 20

// FaultScript holds the faults of a sandbox's applicants or sessions, a
// sandbox-wide latency (for benchmarks) and the provider's rate limit.
type FaultScript struct {
	mu      sync.Mutex
	byRef   map[string]*Faults
	latency time.Duration
	limits  map[string]*rate.Limiter // by HTTP method
}

// NewFaultScript returns a script that rate-limits each method to
// perWindow requests per window (none when perWindow is empty).
func NewFaultScript(window time.Duration, perWindow map[string]int) *FaultScript {
	s := &FaultScript{byRef: map[string]*Faults{}, limits: map[string]*rate.Limiter{}}
	for method, n := range perWindow {
		s.limits[method] = rate.NewLimiter(rate.Limit(float64(n)/window.Seconds()), n)
	}
	return s
}

// Set replaces the faults of a reference.
func (s *FaultScript) Set(ref string, f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byRef[ref] = &f
}

// Copy gives to the faults of from (a share token imported as an
// applicant), when it has any.
func (s *FaultScript) Copy(from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.byRef[from]; f != nil {
		c := *f
		s.byRef[to] = &c
	}
}

// SetLatency delays every answer (benchmarks measure against it).
func (s *FaultScript) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Intercept applies the latency, the rate limit and the faults of ref to a
// request; it reports whether it answered the request itself. Malformed
// and OversizedImage are left for the sandbox to act on (Flags).
func (s *FaultScript) Intercept(w http.ResponseWriter, r *http.Request, ref string, fail func(w http.ResponseWriter, status int)) bool {
	s.mu.Lock()
	latency := s.latency
	var delay time.Duration
	status, retryAfter := 0, 0
	if lim := s.limits[r.Method]; lim != nil && !lim.Allow() {
		status, retryAfter = http.StatusTooManyRequests, 1
	} else if f := s.byRef[ref]; f != nil {
		switch {
		case f.RateLimited > 0:
			f.RateLimited--
			status, retryAfter = http.StatusTooManyRequests, max(f.RetryAfter, 1)
		case f.ServerErrors > 0:
			f.ServerErrors--
			status = http.StatusServiceUnavailable
		}
		if f.Slow > 0 {
			f.Slow--
			delay = time.Duration(f.DelayMS) * time.Millisecond
		}
	}
	s.mu.Unlock()
	if d := latency + delay; d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return true
		}
	}
	if status == 0 {
		return false
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	fail(w, status)
	return true
}

// Flags returns the scripted answer shape of a reference.
func (s *FaultScript) Flags(ref string) (malformed, oversized bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.byRef[ref]; f != nil {
		return f.Malformed, f.OversizedImage
	}
	return false, false
}

// Oversized returns an image-looking body of OversizedBytes: a PNG header
// followed by zeros.
func Oversized() []byte {
	b := make([]byte, OversizedBytes)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}
