package checks

import "github.com/kycd/kycd"

// Event is a check's event of type typ: the check as the API shows it
// without what the partner sent about the person (the outbox is not
// sealed), rendered when the store writes it, so with the times the store
// stamps on the check.
func Event(c *kycd.Check, typ string) *kycd.Event {
	return &kycd.Event{TenantID: c.TenantID, Type: typ, EntityType: "check", EntityID: c.ID,
		Data: map[string]any{"check": kycd.Later(func() any { return NewView(c, false) })}}
}

// Created is the change that records a new check: its created event, its
// audit entry and the job that decides it.
func Created(c *kycd.Check, decide kycd.JobArgs) kycd.Change {
	return kycd.Change{Events: []*kycd.Event{Event(c, kycd.EventCheckCreated)}, Jobs: []kycd.JobArgs{decide},
		Audit: kycd.AuditRecord{Action: "check.created", EntityType: "check", EntityID: c.ID, Details: map[string]any{"userId": c.UserID, "type": c.Type}}}
}

// Decided is the change that records a check's decision: its PASSED or
// FAILED event and its audit entry (the status, the effects, the checks it
// supersedes, a failure's reason codes).
func Decided(c *kycd.Check, supersedes []string) kycd.Change {
	details := map[string]any{"userId": c.UserID, "status": c.Status}
	if len(c.Effects) > 0 {
		details["coreProcesses"] = c.Effects
	}
	if c.Refreshes() {
		details["supersedes"] = supersedes
	}
	typ := kycd.EventCheckPassed
	if c.Status == kycd.CheckFailed {
		typ = kycd.EventCheckFailed
		codes := make([]string, 0, len(c.Reasons))
		for _, r := range c.Reasons {
			codes = append(codes, r.Code)
		}
		details["reasons"] = codes
	}
	return kycd.Change{Events: []*kycd.Event{Event(c, typ)}, Audit: kycd.AuditRecord{Action: "check.decided", EntityType: "check", EntityID: c.ID, Details: details}}
}
