package api

import (
	"math"
	"sync"
	"time"

	"github.com/kycd/kycd"
)

// guesses limits failed client authentications at the token endpoint, per
// client id and per source address: past a few failures each new one makes
// the key wait longer (doubling, up to a cap) before its next attempt is
// verified at all; until then attempts are answered too_many_requests with
// Retry-After, without the cost of a verification. A client id's wait does
// not apply to an address the client authenticated from before (it
// succeeded there within the trust period), so that guessing at a client's
// secret from elsewhere does not lock the client out. Per process, like the
// rate limits.
type guesses struct {
	mu      sync.Mutex
	clock   kycd.Clock
	keys    map[string]*guessState
	trusted map[string]time.Time // client id + address -> last success
}

type guessState struct {
	failures int
	until    time.Time // no verification before
	seen     time.Time
}

const (
	// guessFree are the failures a key may make before it waits.
	guessFree = 5
	// guessBase is the first wait; each further failure doubles it, up to guessMax.
	guessBase = time.Second
	guessMax  = 15 * time.Minute
	// guessForget is how long after its last failure a key starts afresh.
	guessForget = time.Hour
	// guessTrust is how long an address a client authenticated from stays
	// exempt from that client's wait.
	guessTrust = 24 * time.Hour
	// guessKeys bounds the keys kept: past it, forgotten ones are dropped.
	guessKeys = 100_000
)

func newGuesses(clock kycd.Clock) *guesses {
	return &guesses{clock: clock, keys: map[string]*guessState{}, trusted: map[string]time.Time{}}
}

// wait returns too_many_requests with the time left when the address, or
// the client id from an address it never authenticated from, must wait.
func (g *guesses) wait(clientID, ip string) error {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	left := g.left("ip:"+ip, now)
	if !g.trustedLocked(clientID, ip, now) {
		left = max(left, g.left("client:"+clientID, now))
	}
	if left <= 0 {
		return nil
	}
	return &retryLater{
		err:   &kycd.Error{Code: kycd.ETooManyRequests, Message: "Too many failed attempts; try again later"},
		after: int(math.Ceil(left.Seconds())),
	}
}

func (g *guesses) left(key string, now time.Time) time.Duration {
	if s, ok := g.keys[key]; ok {
		return s.until.Sub(now)
	}
	return 0
}

// known reports whether a client authenticated from an address within
// the trust period.
func (g *guesses) known(clientID, ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.trustedLocked(clientID, ip, g.clock.Now())
}

func (g *guesses) trustedLocked(clientID, ip string, now time.Time) bool {
	t, ok := g.trusted[clientID+"|"+ip]
	return ok && now.Sub(t) <= guessTrust
}

// failed counts a failed authentication from an address, and against the
// client when it exists ("" otherwise: ids of no client are not kept, so
// that made-up ids cannot fill the table).
func (g *guesses) failed(clientID, ip string) {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.keys) >= guessKeys {
		g.prune(now)
	}
	keys := []string{"ip:" + ip}
	if clientID != "" {
		keys = append(keys, "client:"+clientID)
	}
	for _, key := range keys {
		s := g.keys[key]
		if s == nil && len(g.keys) >= guessKeys {
			continue // full of keys still waiting: new ones go uncounted (the verifier's budget still bounds them)
		}
		if s == nil || now.Sub(s.seen) > guessForget {
			s = &guessState{}
			g.keys[key] = s
		}
		s.failures++
		s.seen = now
		if n := s.failures - guessFree; n > 0 {
			wait := guessMax
			if n < 20 {
				wait = min(guessMax, guessBase<<(n-1))
			}
			s.until = now.Add(wait)
		}
	}
}

// succeeded clears the failures of a client id and its address, and
// trusts the address for the client.
func (g *guesses) succeeded(clientID, ip string) {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.keys, "ip:"+ip)
	delete(g.keys, "client:"+clientID)
	if len(g.trusted) >= guessKeys {
		g.prune(now)
	}
	if len(g.trusted) < guessKeys {
		g.trusted[clientID+"|"+ip] = now
	}
}

// prune drops the keys forgotten and the trust expired.
func (g *guesses) prune(now time.Time) {
	for k, s := range g.keys {
		if now.Sub(s.seen) > guessForget && now.After(s.until) {
			delete(g.keys, k)
		}
	}
	for k, t := range g.trusted {
		if now.Sub(t) > guessTrust {
			delete(g.trusted, k)
		}
	}
}
