package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/netguard"
)

// store is an in-memory WebhookStore holding one endpoint and one delivery.
type store struct {
	kycd.WebhookStore // the methods Deliver does not use are not here
	endpoint          *kycd.WebhookEndpoint
	delivery          *kycd.WebhookDelivery
	event             *kycd.Event
	change            kycd.Change // the last endpoint state change recorded
}

func (s *store) FindDelivery(context.Context, string, string) (*kycd.WebhookDelivery, *kycd.Event, error) {
	d := *s.delivery
	return &d, s.event, nil
}

func (s *store) FindWebhookEndpoint(context.Context, string, string) (*kycd.WebhookEndpoint, error) {
	e := *s.endpoint
	return &e, nil
}

func (s *store) EarlierPending(context.Context, *kycd.WebhookDelivery, *kycd.Event) (bool, error) {
	return false, nil
}

func (s *store) RecordAttempt(_ context.Context, d *kycd.WebhookDelivery, e *kycd.WebhookEndpoint, c kycd.Change) error {
	s.delivery = d
	if e != nil {
		s.endpoint, s.change = e, c
	}
	return nil
}

func newDelivery(url string) *store {
	secret, _ := NewSecret()
	return &store{
		endpoint: &kycd.WebhookEndpoint{ID: "ep", TenantID: "t", URL: url, EventTypes: []string{"core."}, Enabled: true, Secrets: []kycd.WebhookSecret{{Secret: secret}}},
		delivery: &kycd.WebhookDelivery{ID: "d", TenantID: "t", EndpointID: "ep", EventID: "evt", Status: kycd.DeliveryPending},
		event:    &kycd.Event{ID: "evt", TenantID: "t", Type: "core.user.created", Data: map[string]any{"userId": "u"}, CreatedAt: time.Now()},
	}
}

// TestDeliverGuarded: at delivery time the address actually dialed is
// checked again (an endpoint that now resolves to loopback gets nothing),
// and redirects are not followed.
func TestDeliverGuarded(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()

	st := newDelivery(target.URL)
	guarded := netguard.Policy{}
	s := &Service{Store: st, Guard: guarded, HTTP: guarded.Client(5*time.Second, netguard.NoRedirects), Clock: kycd.SystemClock{}}
	if err := s.Deliver(context.Background(), "t", "d", false); !errors.Is(err, ErrFailed) {
		t.Fatalf("loopback delivery: %v", err)
	}
	if hits.Load() != 0 || st.delivery.LastError != "the endpoint's address is not allowed" || st.delivery.Attempts != 1 {
		t.Errorf("loopback: %d hits, %+v", hits.Load(), st.delivery)
	}

	st = newDelivery(redirect.URL)
	open := netguard.Policy{AllowPrivate: true}
	s = &Service{Store: st, Guard: open, HTTP: open.Client(5*time.Second, netguard.NoRedirects), Clock: kycd.SystemClock{}}
	if err := s.Deliver(context.Background(), "t", "d", false); !errors.Is(err, ErrFailed) {
		t.Fatalf("redirect: %v", err)
	}
	if hits.Load() != 0 || st.delivery.LastStatus != http.StatusFound {
		t.Errorf("redirect followed: %d hits, %+v", hits.Load(), st.delivery)
	}
}

// TestDeliverFailingEndpoint: with a fake clock, an endpoint that fails
// for five days without a success is disabled; a success clears the
// failing state; the final attempt ends the delivery as failed.
func TestDeliverFailingEndpoint(t *testing.T) {
	status := atomic.Int64{}
	status.Store(500)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(int(status.Load())) }))
	defer recv.Close()
	clock := mock.NewClock(time.Now())
	st := newDelivery(recv.URL)
	open := netguard.Policy{AllowPrivate: true}
	s := &Service{Store: st, Guard: open, HTTP: open.Client(5*time.Second, netguard.NoRedirects), Clock: clock}
	ctx := context.Background()
	if err := s.Deliver(ctx, "t", "d", false); !errors.Is(err, ErrFailed) || st.endpoint.FailingSince == nil || !st.endpoint.Enabled {
		t.Fatalf("first failure: %v %+v", err, st.endpoint)
	}
	clock.Advance(4 * 24 * time.Hour)
	if err := s.Deliver(ctx, "t", "d", false); !errors.Is(err, ErrFailed) || !st.endpoint.Enabled {
		t.Fatalf("four days: %v %+v", err, st.endpoint)
	}
	clock.Advance(25 * time.Hour)
	if err := s.Deliver(ctx, "t", "d", false); err != nil || st.endpoint.Enabled || st.delivery.Status != kycd.DeliveryFailed {
		t.Fatalf("five days: %v %+v %+v", err, st.endpoint, st.delivery)
	}
	// The service builds what disabling records: the event and audit entry.
	if c := st.change; len(c.Events) != 1 || c.Events[0].Type != kycd.EventWebhookEndpointDisabled || c.Events[0].Data["reason"] != "deliveries failed for five days" ||
		c.Audit.Action != "webhook-endpoint.state-changed" || c.Audit.Details["enabled"] != false {
		t.Errorf("disabling recorded %+v", c)
	}
	// Enabled again, a success clears the failing state.
	st.endpoint.Enabled, st.delivery.Status = true, kycd.DeliveryPending
	status.Store(204)
	if err := s.Deliver(ctx, "t", "d", false); err != nil || st.endpoint.FailingSince != nil || st.delivery.Status != kycd.DeliverySucceeded {
		t.Fatalf("success: %v %+v", err, st.endpoint)
	}
	// The last attempt of a failing delivery ends it.
	status.Store(500)
	st.delivery.Status = kycd.DeliveryPending
	if err := s.Deliver(ctx, "t", "d", true); err != nil || st.delivery.Status != kycd.DeliveryFailed {
		t.Fatalf("final attempt: %v %+v", err, st.delivery)
	}
	// 503 with Retry-After asks the job to wait.
	status.Store(503)
	st.delivery.Status = kycd.DeliveryPending
	recv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(503)
	})
	var wait *RetryAfter
	if err := s.Deliver(ctx, "t", "d", false); !errors.As(err, &wait) || wait.Wait != 7*time.Second {
		t.Fatalf("503 with Retry-After: %v", err)
	}
}
