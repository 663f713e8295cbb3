package kycd

import (
	"context"
	"time"
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
// open.
type ReviewerStore interface {
	// CreateReviewer stores a new reviewer, setting ID and CreatedAt,
	// audited. Errors: ENotFound ("tenant"), EConflict (the email is
	// taken).
	CreateReviewer(ctx context.Context, r *Reviewer) error
	// FindReviewerByID returns ENotFound ("reviewer").
	FindReviewerByID(ctx context.Context, id string) (*Reviewer, error)
	// FindReviewerByEmail returns ENotFound ("reviewer").
	FindReviewerByEmail(ctx context.Context, email string) (*Reviewer, error)
	// SetReviewerRole changes a reviewer's role, audited. Errors: ENotFound
	// ("reviewer").
	SetReviewerRole(ctx context.Context, id, role string) error
	// FindReviewers lists a tenant's reviewers by email.
	FindReviewers(ctx context.Context, tenantID string) ([]*Reviewer, error)
	// SetReviewerDisabled disables a reviewer of a tenant, ending every
	// session of theirs in the same transaction, or enables them again,
	// audited (reviewer.disabled, reviewer.enabled). Errors: ENotFound
	// ("reviewer", also for another tenant's).
	SetReviewerDisabled(ctx context.Context, tenantID, id string, disabled bool) error
	// RecordLogin records a sign-in attempt of a reviewer, audited (a
	// failure too: it names the reviewer, never the password).
	RecordLogin(ctx context.Context, reviewerID string, a LoginAttempt) error
	// CreateReviewerSession stores a new session.
	CreateReviewerSession(ctx context.Context, s *ReviewerSession) error
	// FindReviewerSession returns a session by its token's hash, or
	// ENotFound ("session").
	FindReviewerSession(ctx context.Context, tokenHash string) (*ReviewerSession, error)
	// TouchReviewerSession moves a session's last use to at.
	TouchReviewerSession(ctx context.Context, tokenHash string, at time.Time) error
	// DeleteReviewerSession ends a session (no error when there is none).
	DeleteReviewerSession(ctx context.Context, tokenHash string) error
	// RecordView writes the audit entry of a look at personal data: the
	// context's actor names the reviewer, details what was opened (ids).
	RecordView(ctx context.Context, tenantID, entityType, entityID string, details map[string]any) error
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
