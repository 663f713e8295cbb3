package kycd

import (
	"context"
	"maps"
	"time"
)

// KYC application statuses (the STASIS-compatible levels surface). An
// application is filled in while new; send-to-review puts it in review; a
// compliance officer approves it (the client holds the level), returns it
// as pending with corrections to make (then it is filled in and sent
// again), or rejects it (final: a new application is needed).
const (
	ApplicationNew      = "new"
	ApplicationInReview = "in_review"
	ApplicationPending  = "pending"
	ApplicationApproved = "approved"
	ApplicationRejected = "rejected"
)

// ApplicationStatuses lists the statuses.
var ApplicationStatuses = []string{ApplicationNew, ApplicationInReview, ApplicationPending, ApplicationApproved, ApplicationRejected}

// EventApplicationStatusChanged is announced on every status change.
const EventApplicationStatusChanged = "kyc-application.status-changed"

// ApplicationEvent announces an application's status: ids and status only.
func ApplicationEvent(a *Application) *Event {
	return &Event{TenantID: a.TenantID, Type: EventApplicationStatusChanged, EntityType: "kyc-application", EntityID: a.ID,
		Data: map[string]any{"kycApplication": map[string]any{"uuid": a.ID, "clientUuid": a.UserID, "kycLevelUuid": a.LevelID, "status": a.Status}}}
}

// ApplicationCreated is the change that records a new application: its
// status event and its audit entry.
func ApplicationCreated(a *Application) Change {
	return Change{Events: []*Event{ApplicationEvent(a)},
		Audit: AuditRecord{Action: "kyc-application.created", EntityType: "kyc-application", EntityID: a.ID, Details: map[string]any{"userId": a.UserID, "levelId": a.LevelID}}}
}

// ApplicationSaved is the change that records a change of an application:
// its audit entry (action and details), a status event when its status
// changed, and the jobs it starts.
func ApplicationSaved(a *Application, statusChanged bool, action string, details map[string]any, jobs ...JobArgs) Change {
	c := Change{Jobs: jobs, Audit: AuditRecord{Action: action, EntityType: "kyc-application", EntityID: a.ID, Details: details}}
	if statusChanged {
		c.Events = []*Event{ApplicationEvent(a)}
	}
	return c
}

// ApplicationAssigned is the change that records an application in review
// given to a reviewer (or to no one): its audit entry, naming the assignee,
// with the caller's details (who assigned it).
func ApplicationAssigned(id string, a Assignment, details map[string]any) Change {
	d := map[string]any{"assignee": a.To}
	maps.Copy(d, details)
	return Change{Audit: AuditRecord{Action: "kyc-application.assigned", EntityType: "kyc-application", EntityID: id, Details: d}}
}

// LevelCatalogReplaced is the change that records a new version of a
// tenant's own levels catalog: its audit entry (the version's number).
func LevelCatalogReplaced(tenantID string, version int) Change {
	return Change{Audit: AuditRecord{Action: "kyc-levels.replaced", EntityType: "tenant", EntityID: tenantID, Details: map[string]any{"version": version}}}
}

// DocumentCreated is the change that records a new document of a user:
// its audit entry.
func DocumentCreated(d *KYCDocument) Change {
	return Change{Audit: AuditRecord{Action: "kyc-document.created", EntityType: "user", EntityID: d.UserID,
		Details: map[string]any{"documentId": d.ID, "attributeKey": d.AttributeKey, "fileIds": d.FileIDs}}}
}

// SignCodeIssued is the change that records a new sign code: its audit
// entry and the job that sends it.
func SignCodeIssued(vc *VerificationCode, send JobArgs) Change {
	return Change{Jobs: []JobArgs{send},
		Audit: AuditRecord{Action: "kyc.sign-code.issued", EntityType: "user", EntityID: vc.UserID, Details: map[string]any{"codeId": vc.ID, "channel": vc.Channel}}}
}

// Application is a client's application for a KYC level: the values of
// its attributes, what a reviewer asked to correct and the reviews. Data
// is personal and sealed at rest.
type Application struct {
	ID       string
	TenantID string
	UserID   string
	LevelID  string
	// Catalog names the levels catalog the application was created under
	// and is judged against ("builtin:1", "tenant:3"; "" for the tenant's
	// current one).
	Catalog string
	Status  string
	Data    ApplicationData
	// Assignee is the id of the reviewer who took the application in the
	// console ("" while no one has).
	Assignee string
	// Version counts saves: a save of a stale copy fails with EStale.
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SubmittedAt *time.Time
	DecidedAt   *time.Time
}

// ApplicationData is the sealed part of an application.
type ApplicationData struct {
	Attributes map[string]*AttributeValue `json:"attributes"`
	// Corrections are what the last return to pending asked to correct, by
	// attribute key; a change of the attribute clears its entry.
	Corrections map[string]string `json:"corrections,omitempty"`
	Reviews     []Review          `json:"reviews,omitempty"`
	// Proposal is a final decision (approved or rejected) awaiting its
	// second reviewer under four eyes; the status stays in review
	// meanwhile. Once confirmed or disputed it moves to Reviews.
	Proposal *Review `json:"proposal,omitempty"`
	// Core is what an approved application's submission into the Core KYC
	// processes came to, by process: "submitted", or the refusal's code.
	Core map[string]string `json:"core,omitempty"`
}

// AttributeValue is the value of one attribute of an application.
type AttributeValue struct {
	Value     any       `json:"value"`
	UpdatedAt time.Time `json:"updatedAt"`
	// SignedWith names the signature that confirmed the last change.
	SignedWith string `json:"signedWith,omitempty"`
	// ExpiresAt ends a value kycd issued (a liveness token or link), and
	// Info is what it was issued for (the client's email and phone).
	ExpiresAt *time.Time     `json:"expiresAt,omitempty"`
	Info      map[string]any `json:"info,omitempty"`
	// Verification holds what a provider said of the value (a liveness check).
	Verification map[string]any `json:"verification,omitempty"`
}

// Review is one reviewer's decision.
type Review struct {
	Decision    string            `json:"decision"` // approved, pending, rejected
	Reviewer    string            `json:"reviewer"`
	Reason      string            `json:"reason"`
	Corrections map[string]string `json:"corrections,omitempty"`
	At          time.Time         `json:"at"`
	// FourEyes is the decision's four-eyes step (FourEyesProposed,
	// FourEyesConfirmed, FourEyesDisputed); "" for a decision one reviewer
	// made alone.
	FourEyes string `json:"fourEyes,omitempty"`
}

// KYCDocument is a document a client made of uploaded files, for one
// document attribute: its id is the attribute's value.
type KYCDocument struct {
	ID           string
	TenantID     string
	UserID       string
	AttributeKey string
	FileIDs      []string
	CreatedAt    time.Time
}

// ApplicationKey names an application of a tenant. TenantID and ID are
// required; UserID narrows the look-up when set (an application of another
// user is then not found) and matches any user when empty (reviewers and
// jobs, which know only the id).
type ApplicationKey struct {
	TenantID string
	UserID   string
	ID       string
}

// ApplicationStore keeps applications and documents (sign codes are
// verification codes of their own channels). Every
// save records its audit entry and events in its transaction.
type ApplicationStore interface {
	// CreateApplication stores a new application (ID set by the caller)
	// with its change (ApplicationCreated). ENotFound ("user").
	CreateApplication(ctx context.Context, a *Application, change Change) error
	// FindApplication returns the application a key names: ENotFound
	// ("kyc-application") for an unknown id, or one of another tenant or,
	// when the key names one, of another user.
	FindApplication(ctx context.Context, k ApplicationKey) (*Application, error)
	// FindApplications returns a user's applications, oldest first.
	FindApplications(ctx context.Context, u UserRef) ([]*Application, error)
	// FindDocuments returns a user's documents, oldest first.
	FindDocuments(ctx context.Context, u UserRef) ([]*KYCDocument, error)
	// FindApplicationsByStatus returns a tenant's applications in a status,
	// oldest first, after an id ("" for the first page): the review queue.
	FindApplicationsByStatus(ctx context.Context, tenantID, status, after string, limit int) ([]*Application, error)
	// SaveApplication saves a changed application if its version is still
	// the one read (EStale otherwise), with the sign codes used
	// (verification code ids) marked used (EStale when one was used
	// meanwhile), and its change (ApplicationSaved).
	SaveApplication(ctx context.Context, a *Application, usedCodes []string, change Change) error
	// CreateDocument stores a new document (ID set by the caller) with its
	// change (DocumentCreated). ENotFound ("user").
	CreateDocument(ctx context.Context, d *KYCDocument, change Change) error
	// FindDocument returns ENotFound ("document").
	FindDocument(ctx context.Context, tenantID, userID, id string) (*KYCDocument, error)
	// ApplicationLevels returns the levels a tenant's applications are for.
	ApplicationLevels(ctx context.Context, tenantID string) ([]string, error)
	// SaveLevelCatalog stores a new version of a tenant's own levels catalog
	// (raw JSON, checked by the caller) and returns its number (1, 2, ...).
	// The store numbers it in its transaction, and records the change
	// replaced returns for that number (LevelCatalogReplaced).
	SaveLevelCatalog(ctx context.Context, tenantID string, raw []byte, replaced func(version int) Change) (int, error)
	// FindLevelCatalog returns a version of a tenant's own catalog (0: the
	// newest) and its number, or ENotFound ("catalog").
	FindLevelCatalog(ctx context.Context, tenantID string, version int) ([]byte, int, error)
	// IssueSignCode stores a one-time code that signs changes of an
	// application (a VerificationCode of channel SignChannel(provider,
	// application)), replacing the last one of its channel, with its change
	// (SignCodeIssued).
	IssueSignCode(ctx context.Context, vc *VerificationCode, change Change) error
}

// SyncApplicationArgs is the job that submits what an approved
// application collected into the Core KYC processes.
type SyncApplicationArgs struct {
	TenantID      string `json:"tenant_id"`
	ApplicationID string `json:"application_id"`
}

// Kind implements JobArgs.
func (SyncApplicationArgs) Kind() string { return "kyc_application_sync" }

// SignChannel is the code channel of signatures of an object by a
// provider ("sms" or "email"): "sign:sms:<object>".
func SignChannel(provider, objectID string) string { return "sign:" + provider + ":" + objectID }

// DocumentReview is a provider's review of one document image of the
// applicant a liveness check ran for: its kind (Sumsub's idDocType and
// idDocSubType, FRONT_SIDE or BACK_SIDE), the review's status (approved,
// rejected, or ignored: not reviewed) and what it said to the client.
type DocumentReview struct {
	Type   string
	Side   string
	Status string
	Note   string
}
