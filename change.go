package kycd

import "encoding/json"

// Change is what a state change records in the transaction that writes its
// entity: the outbox events that announce it, the River jobs it starts and
// its audit entry. The domain builds it, with the constructors next to each
// entity's type (UserCreated, FileCreated, ...), or, when its events carry an
// API surface's view of the entity, in that surface's package
// (checks.Decided, connector.IngestionSaved); a store writes exactly what it
// is given and decides none of it (ProcessChange is the same for a user's KYC
// processes). A store may still refuse a change (EStale, ENotFound, a unique
// violation): then none of it is written. When the record names what only
// the store finds in its transaction (a version it numbers, which rows were
// new), the store method takes a function of that outcome returning the
// change (LevelCatalogReplaced, FilesIngested, ClientRevoked, ...): the
// outcome is the store's, the record the domain's.
type Change struct {
	Events []*Event
	Jobs   []JobArgs
	Audit  AuditRecord
}

// AuditRecord is the audit entry a change appends to its tenant's chain; the
// actor and request come from the context, the time from the transaction.
type AuditRecord struct {
	Action     string
	EntityType string
	EntityID   string
	Details    map[string]any
}

// Later is an event payload value rendered when the store writes the event,
// not when the domain builds it: the view of an entity whose times and
// version the store stamps in the same transaction (a check's createdAt, an
// ingestion's updatedAt), so that the event carries what the row holds.
type Later func() any

// MarshalJSON renders the value.
func (l Later) MarshalJSON() ([]byte, error) { return json.Marshal(l()) }
