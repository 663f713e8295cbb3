// Package kycd holds the domain of the kycd KYC platform: its types, the
// services that act on them with their error contracts, and the context
// helpers shared by every adapter. It imports no adapter: the packages named
// after their technology (sqlstore, api, vault, ...) implement or consume
// what is declared here, and only internal/cli (the kycd command) wires them
// together.
package kycd

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Clock tells the time. It is injected everywhere a decision depends on the
// time (token lifetimes, upload windows, retry schedules) so tests can move it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// OffsetClock is the system clock moved forward by an offset: the test
// clock of sandbox mode, which lets an integrator see cooldowns and expiry
// end without waiting. Its zero value is the system clock. One OffsetClock
// serves a whole process (every tenant, every job, the store), so moving it
// moves time for all of them.
type OffsetClock struct{ offset atomic.Int64 }

// MaxClockOffset is how far an OffsetClock may be moved ahead: ten years,
// far more than any cooldown, expiry or retention period needs, and far
// from the 292 years after which the offset would wrap.
const MaxClockOffset = 10 * 365 * 24 * time.Hour

// ErrClockOffset is Advance's refusal of a move that is not forward or that
// would take the clock more than MaxClockOffset ahead.
var ErrClockOffset = errors.New("kycd: the clock may only move forward, at most MaxClockOffset ahead")

// Now returns the current time in UTC plus the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d. It returns ErrClockOffset, and
// leaves the clock as it was, when d is not positive or when the offset
// would pass MaxClockOffset; concurrent moves never pass it together.
func (c *OffsetClock) Advance(d time.Duration) error {
	for {
		cur := c.offset.Load()
		if d <= 0 || d > MaxClockOffset-time.Duration(cur) {
			return ErrClockOffset
		}
		if c.offset.CompareAndSwap(cur, cur+int64(d)) {
			return nil
		}
	}
}

// Offset is how far the clock is ahead of the system clock.
func (c *OffsetClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Actor is who performs a change: recorded in every audit entry.
type Actor struct {
	// Kind is "client" (an OAuth2 client through the API), "cli" (an operator
	// through the kycd command) or "system" (a job).
	Kind string
	// ID identifies the actor within its kind (the client id, the job kind).
	ID string
	// OnBehalfOf is the user the client acts for, if any.
	OnBehalfOf string
}

// String renders the actor as "kind:id" (and "/user:id" when acting for one).
func (a Actor) String() string {
	if a.Kind == "" {
		return "unknown"
	}
	s := a.Kind
	if a.ID != "" {
		s += ":" + a.ID
	}
	if a.OnBehalfOf != "" {
		s += "/user:" + a.OnBehalfOf
	}
	return s
}

type contextKey int

const (
	actorKey contextKey = iota
	requestIDKey
)

// NewContextWithActor returns a context that carries the actor of a change.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFromContext returns the actor carried by ctx, or the system actor.
func ActorFromContext(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey).(Actor); ok {
		return a
	}
	return Actor{Kind: "system"}
}

// NewContextWithRequestID returns a context that carries the request id.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFromContext returns the request id carried by ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
