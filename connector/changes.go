package connector

import (
	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// IngestionEvent is an ingestion's event of type typ: the ingestion as the
// API shows it without the personal data it extracted, rendered when the
// store writes it, so with the times and status the store holds.
func IngestionEvent(in *kycd.Ingestion, typ string) *kycd.Event {
	return &kycd.Event{TenantID: in.TenantID, Type: typ, EntityType: "ingestion", EntityID: in.ID,
		Data: map[string]any{"ingestion": kycd.Later(func() any { return NewIngestionView(in, false) })}}
}

// IngestionCreated is the change that records a new ingestion, which is
// queued: its created event, its audit entry and the job that runs it. It
// chooses the ingestion's ID (time-ordered: the list's order and cursor)
// when the caller has not.
func IngestionCreated(in *kycd.Ingestion, run kycd.JobArgs) kycd.Change {
	if in.ID == "" {
		in.ID = uuid.Must(uuid.NewV7()).String()
	}
	in.Status = kycd.IngestionQueued
	return kycd.Change{Events: []*kycd.Event{IngestionEvent(in, kycd.EventIngestionCreated(in.Provider))}, Jobs: []kycd.JobArgs{run},
		Audit: kycd.AuditRecord{Action: "kyc-connector.ingestion.created", EntityType: "ingestion", EntityID: in.ID,
			Details: map[string]any{"userId": in.UserID, "provider": in.Provider, "processes": in.Processes}}}
}

// IngestionSaved is the change that records an ingestion's progress: a
// status-changed event when its status changed, and its audit entry (its
// status and each process's result).
func IngestionSaved(in *kycd.Ingestion, statusChanged bool) kycd.Change {
	var events []*kycd.Event
	if statusChanged {
		events = append(events, IngestionEvent(in, kycd.EventIngestionStatusChanged(in.Provider)))
	}
	results := map[string]any{}
	for code, r := range in.Result {
		results[code] = r.Status
	}
	return kycd.Change{Events: events, Audit: kycd.AuditRecord{Action: "kyc-connector.ingestion.updated", EntityType: "ingestion", EntityID: in.ID,
		Details: map[string]any{"status": in.Status, "result": results}}}
}
