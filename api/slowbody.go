package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/kycd/kycd"
)

// A request's body must keep coming: it may take BodyTimeout, plus the
// time its bytes take at BodyMinRate, and no longer than BodyMax in all.
// The rule is a read deadline on the connection, pushed back as bytes
// arrive, so a client that sends at 1 byte/s is cut after about
// BodyTimeout, while a large upload at a reasonable rate goes on as long
// as it needs (up to BodyMax). A body cut this way is answered 408
// request_timeout (when the client still listens) and the connection is
// closed.

// slowBody is a request body whose connection's read deadline follows
// the rule above.
type slowBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     float64 // bytes per second
	max      time.Time
	read     int64
	deadline time.Time // the one set last
	timedOut bool
}

// limitBody applies the body rule to a request that has a body.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || s.bodyTimeout <= 0 {
		return
	}
	now := time.Now()
	b := &slowBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: now, grace: s.bodyTimeout, rate: s.bodyMinRate}
	if s.bodyMax > 0 {
		b.max = now.Add(s.bodyMax)
	}
	if b.push() != nil {
		return // the connection has no deadlines to set (a test's recorder)
	}
	r.Body = b
}

// push sets the read deadline the bytes read so far earn, when it moved
// by a second or more (or reached the cap).
func (b *slowBody) push() error {
	d := b.start.Add(b.grace)
	if b.rate > 0 {
		d = d.Add(time.Duration(float64(b.read) / b.rate * float64(time.Second)))
	}
	if !b.max.IsZero() && d.After(b.max) {
		d = b.max
	}
	if !b.deadline.IsZero() && d.Sub(b.deadline) < time.Second {
		return nil
	}
	b.deadline = d
	return b.rc.SetReadDeadline(d)
}

// bodyTimedOut reports whether the request's body was cut by its deadline:
// whatever a handler made of the read error, the answer is request_timeout.
func bodyTimedOut(r *http.Request) bool {
	b, ok := r.Body.(*slowBody)
	return ok && b.timedOut
}

// errSlowBody is the error a body cut by its deadline reads as.
var errSlowBody = &kycd.Error{Code: kycd.ERequestTimeout, Message: "The request body arrived too slowly"}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut = true
		return n, errSlowBody
	}
	switch {
	case err == nil:
		_ = b.push()
	case errors.Is(err, io.EOF):
		// All of it arrived: the handler's work is not held to the
		// body's deadline (the server watches the connection for the
		// client going away, and a deadline there would cancel it).
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
