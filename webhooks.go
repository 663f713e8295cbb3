package kycd

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// WebhookEndpoint is where a tenant receives its events: a URL, the event
// types it subscribes to (exact names, or prefixes ending with "." such as
// "core.kyc."), and signing secrets. Secrets are sealed at rest; the newest
// signs, and a rotated one keeps signing until it expires.
type WebhookEndpoint struct {
	ID             string
	TenantID       string
	URL            string
	Description    string
	EventTypes     []string
	Enabled        bool
	DisabledReason string
	Secrets        []WebhookSecret
	// Bundle delivers events of the checks surface (Upvest's envelope)
	// several per request: {"payload": [...]}, ordered by created_at.
	Bundle bool
	// FailingSince is when deliveries started failing without a success.
	FailingSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// WebhookSecret is a signing secret; ExpiresAt is set once it was rotated.
type WebhookSecret struct {
	Secret    string     `json:"secret"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Subscribes reports whether the endpoint takes an event type.
func (e *WebhookEndpoint) Subscribes(eventType string) bool {
	for _, t := range e.EventTypes {
		if t == "*" || t == eventType || (strings.HasSuffix(t, ".") && strings.HasPrefix(eventType, t)) {
			return true
		}
	}
	return false
}

// ActiveSecrets are the secrets that sign at a time (the newest first).
func (e *WebhookEndpoint) ActiveSecrets(at time.Time) []string {
	var out []string
	for _, s := range e.Secrets {
		if s.ExpiresAt == nil || s.ExpiresAt.After(at) {
			out = append(out, s.Secret)
		}
	}
	return out
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event for one endpoint, with its last attempt.
type WebhookDelivery struct {
	ID         string
	TenantID   string
	EndpointID string
	EventID    string
	EventType  string
	Status     string
	Attempts   int
	// The last attempt: HTTP status (0: no answer), latency, the start of
	// the answer's body, and what went wrong.
	LastStatus    int
	LastLatencyMS int
	LastResponse  string
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// EntityRef names an entity of a tenant's data: its type ("user", "check",
// "file", "ingestion", "kyc-application", "case") and id.
type EntityRef struct {
	Type, ID string
}

// WebhookStore keeps endpoints, dispatches the outbox into deliveries and
// records their attempts.
type WebhookStore interface {
	// CreateWebhookEndpoint stores a new endpoint (ID chosen by
	// EndpointCreated) with its change.
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint, change Change) error
	// FindWebhookEndpoint returns ENotFound ("webhook-endpoint").
	FindWebhookEndpoint(ctx context.Context, tenantID, id string) (*WebhookEndpoint, error)
	FindWebhookEndpoints(ctx context.Context, tenantID string) ([]*WebhookEndpoint, error)
	// UpdateWebhookEndpoint replaces an endpoint with its change
	// (EndpointUpdated); ENotFound ("webhook-endpoint").
	UpdateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint, change Change) error
	// DeleteWebhookEndpoint removes an endpoint with its change
	// (EndpointDeleted); ENotFound ("webhook-endpoint").
	DeleteWebhookEndpoint(ctx context.Context, tenantID, id string, change Change) error
	// DispatchEvents turns up to limit undispatched outbox events into one
	// delivery (and its job) per subscribed, enabled endpoint of their
	// tenant, and gives each event its place in the tenant's feed, in one
	// transaction. It returns how many events it dispatched.
	DispatchEvents(ctx context.Context, limit int) (int, error)
	// FindDelivery returns a delivery with its event (ENotFound "delivery").
	FindDelivery(ctx context.Context, tenantID, id string) (*WebhookDelivery, *Event, error)
	// RecordAttempt saves a delivery's attempt and, when it changed (e not
	// nil), the endpoint's failing state with its change
	// (EndpointStateChanged).
	RecordAttempt(ctx context.Context, d *WebhookDelivery, e *WebhookEndpoint, change Change) error
	// FindEvents returns a tenant's dispatched events after a feed position,
	// in feed order, with each one's position.
	FindEvents(ctx context.Context, tenantID string, after int64, limit int) ([]*Event, []int64, error)
	// FindEntityEvents returns a tenant's events about the given entities
	// (at most MaxAuditEntities), dispatched or not, newest first, at most
	// limit of them.
	FindEntityEvents(ctx context.Context, tenantID string, entities []EntityRef, limit int) ([]*Event, error)
	// FindDeliveries returns an endpoint's deliveries, newest first, before
	// a delivery id ("" for the first page).
	FindDeliveries(ctx context.Context, tenantID, endpointID, before string, limit int) ([]*WebhookDelivery, error)
	// Redeliver creates a new delivery (and its job) of each event to an
	// endpoint, with its change (EventsRedelivered), returning their ids.
	Redeliver(ctx context.Context, tenantID, endpointID string, eventIDs []string, change Change) ([]string, error)
	// EventPosition returns an event's feed position (ENotFound "event").
	EventPosition(ctx context.Context, tenantID, eventID string) (int64, error)
	// EarlierPending reports whether an earlier event about the same object
	// (entity) still waits for its first attempt to the same endpoint.
	EarlierPending(ctx context.Context, d *WebhookDelivery, ev *Event) (bool, error)
	// ClaimBundle makes a delivery carry a bundle: on its first attempt it
	// claims, besides itself, up to max-1 other deliveries of its endpoint
	// that wait for their first attempt and whose events' types start with
	// typePrefix; later attempts carry what was claimed then. It returns the
	// bundle's events ordered by creation, or none when another delivery
	// carries this one.
	ClaimBundle(ctx context.Context, d *WebhookDelivery, typePrefix string, max int) ([]*Event, error)
	// SendTestEvent records a change (WebhookTestSent) whose events are
	// delivered to one endpoint only, at once, and returns the delivery's id
	// (of its last event). They are not in the
	// feed) and its delivery, returning the delivery's id.
	SendTestEvent(ctx context.Context, tenantID, endpointID string, change Change) (string, error)
	// PruneEvents removes up to limit dispatched events created before a
	// time, with their deliveries, once no delivery of them to an existing
	// endpoint is pending; it returns how many it removed.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// EventWebhookTest is the type of the test event an endpoint can be sent.
const EventWebhookTest = "kycd.webhook.test"

// EventWebhookEndpointDisabled announces that kycd disabled an endpoint.
const EventWebhookEndpointDisabled = "kycd.webhook-endpoint.disabled"

// EndpointCreated is the change that records a new endpoint: its audit
// entry. It chooses the endpoint's ID when the caller has not.
func EndpointCreated(e *WebhookEndpoint) Change {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	return Change{Audit: AuditRecord{Action: "webhook-endpoint.created", EntityType: "webhook-endpoint", EntityID: e.ID,
		Details: map[string]any{"url": e.URL, "eventTypes": e.EventTypes}}}
}

// EndpointUpdated is the change that records an endpoint's new settings or
// secrets: its audit entry (how many secrets, not what they are).
func EndpointUpdated(e *WebhookEndpoint) Change {
	return Change{Audit: AuditRecord{Action: "webhook-endpoint.updated", EntityType: "webhook-endpoint", EntityID: e.ID,
		Details: map[string]any{"url": e.URL, "eventTypes": e.EventTypes, "enabled": e.Enabled, "secrets": len(e.Secrets), "bundle": e.Bundle}}}
}

// EndpointDeleted is the change that records an endpoint's removal.
func EndpointDeleted(id string) Change {
	return Change{Audit: AuditRecord{Action: "webhook-endpoint.deleted", EntityType: "webhook-endpoint", EntityID: id}}
}

// EventsRedelivered is the change that records events delivered to an
// endpoint again: its audit entry (how many).
func EventsRedelivered(endpointID string, events int) Change {
	return Change{Audit: AuditRecord{Action: "webhook.redelivered", EntityType: "webhook-endpoint", EntityID: endpointID, Details: map[string]any{"events": events}}}
}

// WebhookTestSent is the change that records a test event sent to an
// endpoint: the event and its audit entry.
func WebhookTestSent(tenantID, endpointID string) Change {
	return Change{
		Events: []*Event{{TenantID: tenantID, Type: EventWebhookTest, EntityType: "webhook-endpoint", EntityID: endpointID,
			Data: map[string]any{"endpointId": endpointID, "message": "A test event from kycd"}}},
		Audit: AuditRecord{Action: "webhook.test-sent", EntityType: "webhook-endpoint", EntityID: endpointID},
	}
}

// EndpointStateChanged is the change that records an endpoint's failing
// state changed by a delivery's attempt: its audit entry and, when the
// endpoint was disabled, its event.
func EndpointStateChanged(e *WebhookEndpoint, deliveryID string) Change {
	c := Change{Audit: AuditRecord{Action: "webhook-endpoint.state-changed", EntityType: "webhook-endpoint", EntityID: e.ID,
		Details: map[string]any{"enabled": e.Enabled, "reason": e.DisabledReason, "failing": e.FailingSince != nil, "deliveryId": deliveryID}}}
	if !e.Enabled {
		c.Events = []*Event{{TenantID: e.TenantID, Type: EventWebhookEndpointDisabled, EntityType: "webhook-endpoint", EntityID: e.ID,
			Data: map[string]any{"endpointId": e.ID, "reason": e.DisabledReason}}}
	}
	return c
}

// DeliverArgs is the job that delivers one event to one endpoint.
type DeliverArgs struct {
	TenantID   string `json:"tenant_id"`
	DeliveryID string `json:"delivery_id"`
}

// Kind implements JobArgs.
func (DeliverArgs) Kind() string { return "webhook_deliver" }
