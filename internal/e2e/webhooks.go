package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Receiver is a loopback webhook endpoint that records what arrives and
// answers as scripted.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []Delivery
	answers  []int // statuses to answer, in order, then 200
	retry    string
	attempts int
}

// Delivery is a request the receiver answered with 200.
type Delivery struct {
	Header http.Header
	Body   []byte
	at     time.Time
}

// NewReceiver starts a webhook receiver that records what it is sent; it closes
// when the test ends.
func NewReceiver(t *testing.T) *Receiver {
	rc := &Receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.attempts++
		status := http.StatusOK
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		if status == http.StatusOK {
			rc.got = append(rc.got, Delivery{Header: r.Header.Clone(), Body: body, at: time.Now()})
		}
		retry := rc.retry
		rc.mu.Unlock()
		if retry != "" && (status == 429 || status == 503) {
			w.Header().Set("Retry-After", retry)
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"ok": true}`)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Events returns the events received, by type.
func (rc *Receiver) Events() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []map[string]any
	for _, g := range rc.got {
		var m map[string]any
		_ = json.Unmarshal(g.Body, &m)
		out = append(out, m)
	}
	return out
}

// Script sets the statuses the receiver answers with, in order (then 200),
// and forgets what it received.
func (rc *Receiver) Script(retryAfter string, statuses ...int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answers, rc.retry, rc.got, rc.attempts = statuses, retryAfter, nil, 0
}

// WaitUntil polls cond until it holds, failing the test after 30 seconds.
func WaitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Deliveries are the requests the receiver answered with 200, in order.
func (rc *Receiver) Deliveries() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Delivery(nil), rc.got...)
}

// AttemptCount is how many requests arrived, whatever the answer.
func (rc *Receiver) AttemptCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts
}
