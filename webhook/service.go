package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/netguard"
)

// DefaultSchedule is how long a failed delivery waits before each retry,
// close to Standard Webhooks' example: about three days in all, then the
// delivery has failed.
var DefaultSchedule = kycd.Schedule{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DisableAfter is how long an endpoint may fail without a success before
// kycd disables it.
const DisableAfter = 5 * 24 * time.Hour

// Service manages endpoints and delivers events.
type Service struct {
	Store kycd.WebhookStore
	// HTTP posts deliveries: netguard's client, no redirects.
	HTTP   *http.Client
	Guard  netguard.Policy
	Clock  kycd.Clock
	Logger *slog.Logger
	// Schedule is the wait before each retry (DefaultSchedule when nil).
	Schedule kycd.Schedule
	// Complete, when set, fills in what events' outbox copies leave out
	// because it is personal (the outbox is not sealed): it runs on every
	// event as it is delivered or read from the feed, once per delivery,
	// bundle or page of the feed.
	Complete func(ctx context.Context, events []*kycd.Event) error
}

// complete applies Complete.
func (s *Service) complete(ctx context.Context, events ...*kycd.Event) error {
	if s.Complete == nil || len(events) == 0 {
		return nil
	}
	return s.Complete(ctx, events)
}

// Events reads the tenant's feed after a position, completed.
func (s *Service) Events(ctx context.Context, tenantID string, after int64, limit int) ([]*kycd.Event, []int64, error) {
	events, seqs, err := s.Store.FindEvents(ctx, tenantID, after, limit)
	if err != nil {
		return nil, nil, err
	}
	if err := s.complete(ctx, events...); err != nil {
		return nil, nil, err
	}
	return events, seqs, nil
}

// EndpointRequest creates or changes an endpoint; nil fields keep their value.
type EndpointRequest struct {
	URL         *string
	Description *string
	EventTypes  []string
	Enabled     *bool
	// Bundle, for events of the checks surface: several per request.
	Bundle *bool
}

// Endpoint returns one of a tenant's endpoints: ENotFound
// ("webhook-endpoint").
func (s *Service) Endpoint(ctx context.Context, tenantID, id string) (*kycd.WebhookEndpoint, error) {
	return s.Store.FindWebhookEndpoint(ctx, tenantID, id)
}

// Endpoints lists a tenant's endpoints.
func (s *Service) Endpoints(ctx context.Context, tenantID string) ([]*kycd.WebhookEndpoint, error) {
	return s.Store.FindWebhookEndpoints(ctx, tenantID)
}

// DeleteEndpoint removes an endpoint and stops its deliveries: ENotFound
// ("webhook-endpoint").
func (s *Service) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return s.Store.DeleteWebhookEndpoint(ctx, tenantID, id, kycd.EndpointDeleted(id))
}

// Deliveries lists an endpoint's deliveries, newest first, before a
// delivery id ("" for the newest); none for an endpoint the tenant does not
// have (callers that must tell it apart read the Endpoint first).
func (s *Service) Deliveries(ctx context.Context, tenantID, endpointID, before string, limit int) ([]*kycd.WebhookDelivery, error) {
	return s.Store.FindDeliveries(ctx, tenantID, endpointID, before, limit)
}

// CheckURL refuses an endpoint URL kycd must not post to: not https (http
// only where private networks are allowed), credentials in it, or a host
// that resolves to an address the guard refuses. Delivery checks the
// address again at dial time (DNS can change).
func (s *Service) CheckURL(ctx context.Context, raw string) error {
	bad := func(reason string) error {
		return kycd.Invalid("body", kycd.Violation{Property: "url", Rule: "format", RuleParams: map[string]any{"format": "public-https-url", "reason": reason}})
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return bad("not an absolute URL without credentials")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && s.Guard.Local()) {
		return bad("not https")
	}
	switch err := s.Guard.CheckHost(ctx, u.Hostname()); {
	case errors.Is(err, netguard.ErrUnresolved):
		return bad("the host does not resolve")
	case err != nil:
		return bad("the host resolves to an address kycd does not post to")
	}
	return nil
}

func checkTypes(types []string) error {
	if len(types) == 0 {
		return kycd.Invalid("body", kycd.Violation{Property: "eventTypes", Rule: "minItems", RuleParams: map[string]any{"limit": 1}})
	}
	return nil
}

// CreateEndpoint registers an endpoint with a new signing secret, which it
// returns (shown once).
func (s *Service) CreateEndpoint(ctx context.Context, tenantID string, req EndpointRequest) (*kycd.WebhookEndpoint, string, error) {
	if req.URL == nil {
		return nil, "", kycd.Invalid("body", kycd.Violation{Property: "url", Rule: "required"})
	}
	if err := s.CheckURL(ctx, *req.URL); err != nil {
		return nil, "", err
	}
	if err := checkTypes(req.EventTypes); err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	e := &kycd.WebhookEndpoint{TenantID: tenantID, URL: *req.URL, EventTypes: req.EventTypes, Enabled: true,
		Secrets: []kycd.WebhookSecret{{Secret: secret}}}
	if req.Description != nil {
		e.Description = *req.Description
	}
	if req.Enabled != nil {
		e.Enabled = *req.Enabled
	}
	if req.Bundle != nil {
		e.Bundle = *req.Bundle
	}
	return e, secret, s.Store.CreateWebhookEndpoint(ctx, e, kycd.EndpointCreated(e))
}

// UpdateEndpoint changes an endpoint; enabling it again clears why it was
// disabled.
func (s *Service) UpdateEndpoint(ctx context.Context, tenantID, id string, req EndpointRequest) (*kycd.WebhookEndpoint, error) {
	e, err := s.Store.FindWebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if req.URL != nil {
		if err := s.CheckURL(ctx, *req.URL); err != nil {
			return nil, err
		}
		e.URL = *req.URL
	}
	if req.EventTypes != nil {
		if err := checkTypes(req.EventTypes); err != nil {
			return nil, err
		}
		e.EventTypes = req.EventTypes
	}
	if req.Description != nil {
		e.Description = *req.Description
	}
	if req.Bundle != nil {
		e.Bundle = *req.Bundle
	}
	if req.Enabled != nil {
		e.Enabled = *req.Enabled
		if e.Enabled {
			e.DisabledReason, e.FailingSince = "", nil
		}
	}
	return e, s.Store.UpdateWebhookEndpoint(ctx, e, kycd.EndpointUpdated(e))
}

// RotateSecret gives an endpoint a new secret; the ones before keep
// signing (both signatures are sent) until overlap has passed.
func (s *Service) RotateSecret(ctx context.Context, tenantID, id string, overlap time.Duration) (*kycd.WebhookEndpoint, string, error) {
	e, err := s.Store.FindWebhookEndpoint(ctx, tenantID, id)
	if err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	now := s.Clock.Now()
	until := now.Add(overlap)
	kept := []kycd.WebhookSecret{{Secret: secret}}
	for _, old := range e.Secrets {
		if old.ExpiresAt == nil {
			old.ExpiresAt = &until
		}
		if old.ExpiresAt.After(now) {
			kept = append(kept, old)
		}
	}
	e.Secrets = kept
	return e, secret, s.Store.UpdateWebhookEndpoint(ctx, e, kycd.EndpointUpdated(e))
}

// Dispatch turns the outbox into deliveries until it is empty.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.Store.DispatchEvents(ctx, 500)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// RunDispatcher dispatches every interval until ctx ends.
func (s *Service) RunDispatcher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Dispatch(ctx); err != nil && ctx.Err() == nil {
			s.Logger.LogAttrs(ctx, slog.LevelError, "webhook dispatch failed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RetryAfter is an answer that asks to wait (429, 503 with Retry-After).
type RetryAfter struct{ Wait time.Duration }

func (e *RetryAfter) Error() string { return "the endpoint asked to wait " + e.Wait.String() }

// ErrFailed is a failed attempt to be retried on the schedule.
var ErrFailed = errors.New("webhook: the delivery attempt failed")

// orderWait is how long a delivery waits for an earlier one of its object.
const orderWait = 50 * time.Millisecond

// maxResponse is how much of an endpoint's answer a delivery keeps.
const maxResponse = 1024

// upvestPrefix starts the types of the events of the checks surface.
const upvestPrefix = "USER_CHECK."

// Bundles: an endpoint that bundles gets the checks surface's events
// several per request, as Upvest sends them. A first attempt waits
// BundleDelay after its event so that others can join, and carries at
// most MaxBundle events.
const (
	BundleDelay = time.Second
	MaxBundle   = 100
)

// message builds what a delivery sends, and the message id it is signed
// under: its event in its surface's envelope, or, for an endpoint that
// bundles events of the checks surface, {"payload": [...]} of the events
// it carries, ordered by created_at (nil when another delivery's bundle
// carries it). A first attempt may be told to wait (*RetryAfter).
func (s *Service) message(ctx context.Context, d *kycd.WebhookDelivery, ev *kycd.Event, e *kycd.WebhookEndpoint, final bool) ([]byte, string, error) {
	if !e.Bundle || !strings.HasPrefix(ev.Type, upvestPrefix) {
		if err := s.complete(ctx, ev); err != nil {
			return nil, "", err
		}
		body, err := EnvelopeFor(ev.Type, e.ID).Body(ev)
		return body, ev.ID, err
	}
	if d.Attempts == 0 && !final {
		if wait := BundleDelay - s.Clock.Now().Sub(ev.CreatedAt); wait > 0 {
			return nil, "", &RetryAfter{Wait: wait}
		}
	}
	events, err := s.Store.ClaimBundle(ctx, d, upvestPrefix, MaxBundle)
	if err != nil || len(events) == 0 {
		return nil, "", err
	}
	if err := s.complete(ctx, events...); err != nil {
		return nil, "", err
	}
	payload := make([]json.RawMessage, 0, len(events))
	for _, x := range events {
		b, err := Upvest{WebhookID: e.ID}.Body(x)
		if err != nil {
			return nil, "", err
		}
		payload = append(payload, b)
	}
	body, err := json.Marshal(map[string]any{"payload": payload})
	return body, d.ID, err
}

// EnvelopeFor returns the envelope of an event type's surface.
func EnvelopeFor(eventType, endpointID string) Envelope {
	if strings.HasPrefix(eventType, upvestPrefix) {
		return Upvest{WebhookID: endpointID}
	}
	return Uphold{}
}

// Deliver makes one attempt of a delivery: nil when it is done (delivered,
// or ended for good), a *RetryAfter when the endpoint asked to wait,
// ErrFailed when it failed and final is false (the job retries). With
// final set, a failure ends the delivery as failed.
func (s *Service) Deliver(ctx context.Context, tenantID, deliveryID string, final bool) error {
	d, ev, err := s.Store.FindDelivery(ctx, tenantID, deliveryID)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if d.Status != kycd.DeliveryPending {
		return nil
	}
	e, err := s.Store.FindWebhookEndpoint(ctx, tenantID, d.EndpointID)
	if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && !e.Enabled) {
		d.Status, d.LastError = kycd.DeliveryFailed, "the endpoint was deleted or disabled"
		return s.Store.RecordAttempt(ctx, d, nil, kycd.Change{})
	} else if err != nil {
		return err
	}
	// Events about one object reach an endpoint in order: wait while an
	// earlier one has not had its first attempt (one that already failed
	// does not hold the others back).
	if d.Attempts == 0 && !final {
		if earlier, err := s.Store.EarlierPending(ctx, d, ev); err != nil {
			return err
		} else if earlier {
			return &RetryAfter{Wait: orderWait}
		}
	}
	body, msgID, err := s.message(ctx, d, ev, e, final)
	if err != nil || body == nil {
		return err // nil body: another delivery's bundle carries this one
	}
	now := s.Clock.Now()
	h, err := Sign(msgID, now, body, e.ActiveSecrets(now)...)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kycd-webhooks/1")
	start := time.Now()
	res, err := s.HTTP.Do(req)
	d.Attempts++
	d.LastLatencyMS = int(time.Since(start).Milliseconds())
	var wait time.Duration
	if err != nil {
		d.LastStatus, d.LastResponse = 0, ""
		d.LastError = describe(err)
	} else {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		res.Body.Close()
		d.LastStatus, d.LastResponse, d.LastError = res.StatusCode, strings.ToValidUTF8(string(raw), ""), ""
		if (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && res.Header.Get("Retry-After") != "" {
			wait = min(max(netguard.RetryAfter(res.Header.Get("Retry-After"), now), time.Second), time.Hour)
		}
	}
	var changed *kycd.WebhookEndpoint
	switch {
	case err == nil && res.StatusCode/100 == 2:
		d.Status = kycd.DeliverySucceeded
		if e.FailingSince != nil {
			e.FailingSince, changed = nil, e
		}
	case err == nil && res.StatusCode == http.StatusGone:
		d.Status = kycd.DeliveryFailed
		e.Enabled, e.DisabledReason, changed = false, "the endpoint answered 410 Gone", e
	default:
		if e.FailingSince == nil {
			e.FailingSince, changed = &now, e
		} else if now.Sub(*e.FailingSince) > DisableAfter {
			e.Enabled, e.DisabledReason, changed = false, "deliveries failed for five days", e
		}
		if final || !e.Enabled {
			d.Status = kycd.DeliveryFailed
		}
	}
	var change kycd.Change
	if changed != nil {
		change = kycd.EndpointStateChanged(changed, d.ID)
	}
	if err := s.Store.RecordAttempt(ctx, d, changed, change); err != nil {
		return err
	}
	switch {
	case d.Status != kycd.DeliveryPending:
		return nil
	case wait > 0:
		return &RetryAfter{Wait: wait}
	}
	return ErrFailed
}

// NextRetry is when a delivery that failed its attempt-th attempt (1 is
// the first) is tried again; ok is false when no retry is left.
func (s *Service) NextRetry(attempt int) (time.Duration, bool) {
	return s.Schedule.Or(DefaultSchedule).Next(attempt)
}

// describe says what went wrong with a request, without internals.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		return "the endpoint's address is not allowed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "connection failed"
}

// Replay delivers again to an endpoint every event of its tenant it
// subscribes to, from a time on or after an event (its id), in feed order;
// it returns how many deliveries it made.
func (s *Service) Replay(ctx context.Context, tenantID, endpointID string, since time.Time, afterEventID string) (int, error) {
	e, err := s.Store.FindWebhookEndpoint(ctx, tenantID, endpointID)
	if err != nil {
		return 0, err
	}
	var after int64
	if afterEventID != "" {
		if after, err = s.Store.EventPosition(ctx, tenantID, afterEventID); err != nil {
			return 0, err
		}
	}
	total := 0
	for {
		events, seqs, err := s.Store.FindEvents(ctx, tenantID, after, 500)
		if err != nil || len(events) == 0 {
			return total, err
		}
		var ids []string
		for _, ev := range events {
			if e.Subscribes(ev.Type) && !ev.CreatedAt.Before(since) {
				ids = append(ids, ev.ID)
			}
		}
		if len(ids) > 0 {
			if _, err := s.Store.Redeliver(ctx, tenantID, endpointID, ids, kycd.EventsRedelivered(endpointID, len(ids))); err != nil {
				return total, err
			}
		}
		total += len(ids)
		after = seqs[len(seqs)-1]
	}
}

// Resend delivers one delivery's event to its endpoint again, as a new
// delivery, and returns its id.
func (s *Service) Resend(ctx context.Context, tenantID, endpointID, deliveryID string) (string, error) {
	d, _, err := s.Store.FindDelivery(ctx, tenantID, deliveryID)
	if err != nil {
		return "", err
	}
	if d.EndpointID != endpointID {
		return "", kycd.NotFound("delivery")
	}
	ids, err := s.Store.Redeliver(ctx, tenantID, endpointID, []string{d.EventID}, kycd.EventsRedelivered(endpointID, 1))
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// SendTest sends an endpoint a test event (kycd.webhook.test).
func (s *Service) SendTest(ctx context.Context, tenantID, endpointID string) (string, error) {
	if _, err := s.Store.FindWebhookEndpoint(ctx, tenantID, endpointID); err != nil {
		return "", err
	}
	return s.Store.SendTestEvent(ctx, tenantID, endpointID, kycd.WebhookTestSent(tenantID, endpointID))
}
