package kycd

import (
	"context"
	"time"
)

// AuditEntry is one link of a tenant's audit chain. Entries hold ids, never
// personal data: Details carries only codes, ids and counts.
type AuditEntry struct {
	TenantID   string         `json:"-"`
	Seq        int64          `json:"seq"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	EntityType string         `json:"entityType"`
	EntityID   string         `json:"entityId"`
	RequestID  string         `json:"requestId,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	PrevHash   string         `json:"prevHash"`
	Hash       string         `json:"hash"`
}

// AuditFilter selects audit entries. Its zero value selects a tenant's
// newest entries.
type AuditFilter struct {
	// Actor, when set, is the exact actor ("reviewer:<id>", "client:<id>").
	Actor string
	// EntityIDs, when set, selects entries about these entities (at most
	// MaxAuditEntities of them).
	EntityIDs []string
	// Action, when set, is the exact action ("user.viewed").
	Action string
	// From and To, when set, bound the entries' time: From <= at < To.
	From, To time.Time
	// Before, when set, pages: entries with a smaller sequence number.
	Before int64
	// Limit is how many entries at most (1 to 1000; 0 is 100).
	Limit int
}

// MaxAuditEntities is how many entities an AuditFilter names at most.
const MaxAuditEntities = 500

// AuditBreak describes the first place an audit chain does not hold.
type AuditBreak struct {
	TenantID string `json:"tenantId"`
	Seq      int64  `json:"seq"`
	Reason   string `json:"reason"`
}

// AuditReport is the result of verifying every tenant's audit chain.
type AuditReport struct {
	Tenants int          `json:"tenants"`
	Entries int64        `json:"entries"`
	Breaks  []AuditBreak `json:"breaks"`
}

// OK reports whether every chain held.
func (r *AuditReport) OK() bool { return len(r.Breaks) == 0 }

// AuditService reads and verifies the audit trail. Entries are appended by
// the store inside the transaction of the change they record.
type AuditService interface {
	// FindAuditEntries lists a tenant's entries in chain order.
	FindAuditEntries(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]*AuditEntry, error)
	// FindAuditLog lists a tenant's entries the filter selects, newest
	// first (pending entries are chained first).
	FindAuditLog(ctx context.Context, tenantID string, f AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit recomputes every chain and reports the first break of each.
	VerifyAudit(ctx context.Context) (*AuditReport, error)
}

// Event is a domain event written to the outbox in the transaction of the
// change it announces; the webhook dispatcher delivers it later.
type Event struct {
	ID         string         `json:"id"`
	TenantID   string         `json:"-"`
	Type       string         `json:"type"`
	EntityType string         `json:"-"`
	EntityID   string         `json:"-"`
	Data       map[string]any `json:"data"`
	CreatedAt  time.Time      `json:"createdAt"`
}

// EventEntities reads the entities that pick names in events (pick returns
// "" to pass an event by), one find per tenant, and returns the lookup of
// the entity an event names, of the event's own tenant: what completing a
// page or bundle of events reads.
func EventEntities[T any](ctx context.Context, events []*Event, pick func(*Event) string,
	find func(ctx context.Context, tenantID string, ids []string) ([]T, error), idOf func(T) string) (func(*Event) (T, bool), error) {
	byTenant := map[string][]string{}
	for _, ev := range events {
		if id := pick(ev); id != "" {
			byTenant[ev.TenantID] = append(byTenant[ev.TenantID], id)
		}
	}
	type key struct{ tenantID, id string }
	found := map[key]T{}
	for tenantID, ids := range byTenant {
		list, err := find(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			found[key{tenantID, idOf(x)}] = x
		}
	}
	return func(ev *Event) (T, bool) {
		x, ok := found[key{ev.TenantID, pick(ev)}]
		return x, ok
	}, nil
}

// Event types. The user events are Uphold's; the file event is kycd's own,
// under kycd's prefix (kycd.), so that no endpoint subscribed to Uphold's
// core. events receives a type Uphold's documents do not define. Events
// carry ids: the webhook dispatcher builds each payload when it delivers.
const (
	EventUserCreated  = "core.user.created"
	EventUserDeleted  = "core.user.deleted"
	EventFileUploaded = "kycd.file.uploaded"
)
