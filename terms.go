package kycd

import (
	"context"
	"time"
)

// TermsStore keeps users' acceptances of terms of service. Which terms exist
// and apply is policy (package policy), which may be accepted is the terms
// service's rule (package terms); this is the record of consent.
type TermsStore interface {
	// AcceptTerms records that a user accepted the terms of code, with the
	// end-user context as evidence, and returns when. Returns
	// EOperationNotAllowed (reason "terms-of-service-already-accepted") when
	// the user had accepted them, ENotFound ("user").
	// The change (TermsAccepted) is recorded with it.
	AcceptTerms(ctx context.Context, tenantID, userID, code string, evidence EndUserContext, c Change) (time.Time, error)
	// FindTermsAcceptances returns when a user accepted each terms code.
	FindTermsAcceptances(ctx context.Context, u UserRef) (map[string]time.Time, error)
}

// EventTermsAccepted announces that a user accepted terms of service.
const EventTermsAccepted = "kycd.user.terms-of-service.accepted"

// TermsAccepted is the change that records a user's acceptance of the terms
// of code: its event and its audit entry (the evidence is the store's,
// sealed).
func TermsAccepted(tenantID, userID, code string) Change {
	return Change{
		Events: []*Event{{TenantID: tenantID, Type: EventTermsAccepted, EntityType: "user", EntityID: userID,
			Data: map[string]any{"userId": userID, "termsOfService": code}}},
		Audit: AuditRecord{Action: "terms.accepted", EntityType: "user", EntityID: userID, Details: map[string]any{"termsOfService": code}},
	}
}
