package kycd

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Reviewer roles: what a person may do in the back-office console.
const (
	// RoleAnalyst reads and decides cases.
	RoleAnalyst = "analyst"
	// RoleSupervisor decides, gives the second approval under four eyes and
	// reassigns cases.
	RoleSupervisor = "supervisor"
	// RoleAuditor reads everything and decides nothing.
	RoleAuditor = "auditor"
	// RoleAdmin manages reviewers, lists and settings; decides nothing.
	RoleAdmin = "admin"
)

// ESignInFailed refuses a sign-in: the email, password or code is wrong
// (which one is never said).
const ESignInFailed = "sign_in_failed"

// Roles are the reviewer roles, in the order the docs list them.
var Roles = []string{RoleAnalyst, RoleSupervisor, RoleAuditor, RoleAdmin}

// Reviewer is a person of a tenant's compliance team who signs in to the
// console. The email names the person (unique across kycd, lower case);
// secrets are stored only as a hash (the password) or sealed (the TOTP
// secret).
type Reviewer struct {
	ID       string
	TenantID string
	Email    string
	Role     string
	// PasswordHash is the Argon2id hash of the password ("" signs in only
	// through OIDC).
	PasswordHash string
	// TOTPSecret is the base32 secret of the second factor.
	TOTPSecret string
	// TOTPStep is the last time step a code was accepted for: a code is
	// never accepted twice.
	TOTPStep int64
	// FailedLogins counts the failed sign-ins since the last good one;
	// LockedUntil refuses sign-ins until then.
	FailedLogins int
	LockedUntil  *time.Time
	// LastSignInAt is the last good sign-in (nil: never signed in).
	LastSignInAt *time.Time
	// DisabledAt, when set, is when an admin disabled the reviewer: no
	// sign-in, no session.
	DisabledAt *time.Time
	CreatedAt  time.Time
}

// ReviewerSession is a signed-in reviewer's session. Only a hash of the
// cookie's token is stored.
type ReviewerSession struct {
	TokenHash  string
	ReviewerID string
	TenantID   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session (the idle timeout is the
	// console's setting, counted from LastSeenAt).
	ExpiresAt time.Time
}

// LoginAttempt is the outcome of a sign-in, to record: a success resets
// the failures and stores the accepted TOTP step, a failure counts and may
// lock the account.
type LoginAttempt struct {
	OK          bool
	TOTPStep    int64
	LockedUntil *time.Time
}

// ReviewerStore keeps reviewers, their sessions and the audit of what they
// open. Each change is recorded with the change given, which the
// constructors below build.
type ReviewerStore interface {
	// CreateReviewer stores a new reviewer whose ID its change
	// (ReviewerCreated) chose, setting CreatedAt. Errors: ENotFound
	// ("tenant"), EConflict (the email is taken).
	CreateReviewer(ctx context.Context, r *Reviewer, change Change) error
	// FindReviewerByID returns ENotFound ("reviewer").
	FindReviewerByID(ctx context.Context, id string) (*Reviewer, error)
	// FindReviewerByEmail returns ENotFound ("reviewer").
	FindReviewerByEmail(ctx context.Context, email string) (*Reviewer, error)
	// SetReviewerRole changes a reviewer's role with its change
	// (ReviewerRoleChanged). Errors: ENotFound ("reviewer").
	SetReviewerRole(ctx context.Context, id, role string, change Change) error
	// FindReviewers lists a tenant's reviewers by email.
	FindReviewers(ctx context.Context, tenantID string) ([]*Reviewer, error)
	// SetReviewerDisabled disables a reviewer of a tenant, ending every
	// session of theirs in the same transaction, or enables them again,
	// with its change (ReviewerDisabled). Errors: ENotFound ("reviewer",
	// also for another tenant's).
	SetReviewerDisabled(ctx context.Context, tenantID, id string, disabled bool, change Change) error
	// RecordLogin records a sign-in attempt of a reviewer with its change
	// (ReviewerSignIn: a failure too, naming the reviewer, never the
	// password). Errors: ENotFound ("reviewer").
	RecordLogin(ctx context.Context, reviewerID string, a LoginAttempt, change Change) error
	// CreateReviewerSession stores a new session.
	CreateReviewerSession(ctx context.Context, s *ReviewerSession) error
	// FindReviewerSession returns a session by its token's hash, or
	// ENotFound ("session").
	FindReviewerSession(ctx context.Context, tokenHash string) (*ReviewerSession, error)
	// TouchReviewerSession moves a session's last use to at.
	TouchReviewerSession(ctx context.Context, tokenHash string, at time.Time) error
	// DeleteReviewerSession ends a session (no error when there is none).
	DeleteReviewerSession(ctx context.Context, tokenHash string) error
	// RecordView records a look at personal data in a tenant's trail: its
	// change (Viewed) names what was opened, the context's actor who.
	RecordView(ctx context.Context, tenantID string, change Change) error
}

// ReviewerCreated is the change that records a new reviewer: its audit
// entry (role and email; never a secret). It chooses the reviewer's ID when
// the caller has not, and writes the email as it is kept (lower case,
// trimmed).
func ReviewerCreated(r *Reviewer) Change {
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	r.Email = strings.ToLower(strings.TrimSpace(r.Email))
	return Change{Audit: AuditRecord{Action: "reviewer.created", EntityType: "reviewer", EntityID: r.ID,
		Details: map[string]any{"role": r.Role, "email": r.Email}}}
}

// ReviewerRoleChanged is the change that records a reviewer's new role.
func ReviewerRoleChanged(id, role string) Change {
	return Change{Audit: AuditRecord{Action: "reviewer.role-changed", EntityType: "reviewer", EntityID: id, Details: map[string]any{"role": role}}}
}

// ReviewerDisabled is the change that records a reviewer disabled, or
// enabled again.
func ReviewerDisabled(id string, disabled bool) Change {
	action := "reviewer.enabled"
	if disabled {
		action = "reviewer.disabled"
	}
	return Change{Audit: AuditRecord{Action: action, EntityType: "reviewer", EntityID: id}}
}

// ReviewerSignIn is the change that records a reviewer's sign-in attempt:
// signed in, or failed (and until when the account is locked, if it is).
func ReviewerSignIn(id string, a LoginAttempt) Change {
	if a.OK {
		return Change{Audit: AuditRecord{Action: "reviewer.signed-in", EntityType: "reviewer", EntityID: id}}
	}
	details := map[string]any{}
	if a.LockedUntil != nil {
		details["lockedUntil"] = a.LockedUntil.UTC().Format(time.RFC3339)
	}
	return Change{Audit: AuditRecord{Action: "reviewer.sign-in-failed", EntityType: "reviewer", EntityID: id, Details: details}}
}

// Viewed is the change that records a look at personal data: entityType's
// "<entityType>.viewed" audit entry, details naming what was opened (ids)
// and by whom.
func Viewed(entityType, entityID string, details map[string]any) Change {
	return Change{Audit: AuditRecord{Action: entityType + ".viewed", EntityType: entityType, EntityID: entityID, Details: details}}
}

// Assignment moves a case or an application from the reviewer the caller
// saw holding it (From; "" for no one) to another (To; "" for no one). It
// applies only while From still holds it, else EStale: two reviewers who
// take the same item at once cannot both have it.
type Assignment struct {
	From, To string
}

// ErrAssignmentMoved is the refusal of an assignment whose item another
// reviewer took or reassigned meanwhile.
func ErrAssignmentMoved() error {
	return &Error{Code: EStale, Message: "Another reviewer took or reassigned it meanwhile: look again"}
}
