// Package reviewers is the service of the people who sign in to the
// back-office console: their accounts (password and TOTP), sign-in with a
// limit on failures, server-side sessions with idle and absolute timeouts,
// what each role may do, and the audit of what they open.
package reviewers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
)

// Defaults of a Config.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	DefaultMaxFailures = 5
	DefaultLockFor     = 15 * time.Minute
	// totpPeriod is the TOTP time step (RFC 6238's default, what every
	// authenticator app uses).
	totpPeriod = 30
	// minPassword is the shortest password accepted (NIST SP 800-63B).
	minPassword = 12
)

// Config holds the service's dependencies and settings.
type Config struct {
	Store   kycd.ReviewerStore
	Tenants interface {
		FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error)
	}
	Clock kycd.Clock
	// RequireTOTP refuses a sign-in without a good TOTP code (every
	// deployment but the sandbox).
	RequireTOTP bool
	// IdleTimeout ends a session unused that long; MaxAge ends any session
	// that old.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// MaxFailures failed sign-ins in a row lock the account for LockFor.
	MaxFailures int
	LockFor     time.Duration
	// Issuer names kycd in authenticator apps.
	Issuer string
	// PasswordCost is what passwords are hashed at (zero: auth's default).
	PasswordCost auth.Cost
}

// Service manages reviewers and their sessions.
type Service struct {
	store   kycd.ReviewerStore
	tenants interface {
		FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error)
	}
	clock       kycd.Clock
	requireTOTP bool
	idle        time.Duration
	maxAge      time.Duration
	maxFailures int
	lockFor     time.Duration
	issuer      string
	cost        auth.Cost
	dummy       string // dummyHash, or one made at cost
}

// dummyHash is checked for unknown emails, so that a sign-in takes as long
// whether the email exists or not: an Argon2id hash at the default cost,
// every password's (made once, here, rather than at every start); a
// service hashing at another cost makes its own.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$vj0aXD01w0MQKS5rOlx9gQ$+3+0uTAuJC0N4ybhsMx6EO93MksuvH6koonG5a7ulj4"

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Tenants == nil {
		return nil, errors.New("reviewers: missing dependency")
	}
	if c.Clock == nil {
		c.Clock = kycd.SystemClock{}
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.LockFor <= 0 {
		c.LockFor = DefaultLockFor
	}
	if c.Issuer == "" {
		c.Issuer = "kycd"
	}
	dummy := dummyHash
	if c.PasswordCost != (auth.Cost{}) {
		dummy = c.PasswordCost.Hash(auth.NewSecret())
	}
	return &Service{store: c.Store, tenants: c.Tenants, clock: c.Clock, requireTOTP: c.RequireTOTP, idle: c.IdleTimeout, maxAge: c.MaxAge,
		maxFailures: c.MaxFailures, lockFor: c.LockFor, issuer: c.Issuer, cost: c.PasswordCost, dummy: dummy}, nil
}

// RequiresTOTP reports whether a sign-in needs a TOTP code.
func (s *Service) RequiresTOTP() bool { return s.requireTOTP }

// CreateRequest is a new reviewer. Without a password one is generated
// (and returned once).
type CreateRequest struct {
	TenantID string
	Email    string
	Role     string
	Password string
}

// Created is a new reviewer with what is shown once: the password (when
// generated) and the TOTP secret, with its otpauth:// URL for
// authenticator apps.
type Created struct {
	Reviewer   *kycd.Reviewer
	Password   string
	TOTPSecret string
	TOTPURL    string
}

// Create makes a reviewer of a tenant. Errors: ERequestInvalid (email,
// role, password), ENotFound ("tenant"), EConflict (the email is taken).
func (s *Service) Create(ctx context.Context, req CreateRequest) (*Created, error) {
	var vs []kycd.Violation
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		vs = append(vs, kycd.Violation{Property: "email", Rule: "format", RuleParams: map[string]any{"format": "email"}})
	}
	if !slices.Contains(kycd.Roles, req.Role) {
		vs = append(vs, kycd.Violation{Property: "role", Rule: "enum", RuleParams: map[string]any{"enum": kycd.Roles}})
	}
	password, generated := req.Password, req.Password == ""
	if generated {
		password = auth.NewSecret()
	} else if n := len([]rune(password)); n < minPassword || n > 256 {
		vs = append(vs, kycd.Violation{Property: "password", Rule: "length", RuleParams: map[string]any{"min": minPassword, "max": 256}})
	}
	if len(vs) > 0 {
		return nil, kycd.Invalid("body", vs...)
	}
	if _, err := s.tenants.FindTenantByID(ctx, req.TenantID); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: email, Period: totpPeriod, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	r := &kycd.Reviewer{TenantID: req.TenantID, Email: email, Role: req.Role, PasswordHash: s.cost.Hash(password), TOTPSecret: key.Secret()}
	if err := s.store.CreateReviewer(ctx, r, kycd.ReviewerCreated(r)); err != nil {
		return nil, err
	}
	out := &Created{Reviewer: r, TOTPSecret: key.Secret(), TOTPURL: key.URL()}
	if generated {
		out.Password = password
	}
	return out, nil
}

// Session is a signed-in reviewer: Token is the cookie's value (only its
// hash is stored).
type Session struct {
	Token    string
	Reviewer *kycd.Reviewer
	Expires  time.Time
}

// errSignIn is the one answer to a wrong email, password or code.
var errSignIn = &kycd.Error{Code: kycd.ESignInFailed, Message: "The email, password or code is wrong"}

// SignIn checks a reviewer's password and TOTP code (when required) and
// starts a session. Failures in a row lock the account for a while.
// Errors: ESignInFailed, ETooManyRequests (locked).
func (s *Service) SignIn(ctx context.Context, email, password, code string) (*Session, error) {
	r, err := s.store.FindReviewerByEmail(ctx, email)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		_, _ = auth.VerifySecret(s.dummy, password)
		return nil, errSignIn
	} else if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	if r.LockedUntil != nil && now.Before(*r.LockedUntil) {
		return nil, &kycd.Error{Code: kycd.ETooManyRequests, Message: "Too many failed sign-ins: try again later"}
	}
	if r.DisabledAt != nil {
		// A disabled reviewer is refused whatever is given, and no attempt
		// counts, right password or wrong: nothing (a lockout arriving
		// sooner or later) tells an attacker which password was right.
		_, _ = auth.VerifySecret(s.dummy, password)
		return nil, errSignIn
	}
	ok, err := auth.VerifySecret(r.PasswordHash, password)
	if err != nil {
		ok = false // an account without a password (OIDC only)
	}
	step := r.TOTPStep
	if ok && (s.requireTOTP || code != "") {
		step, ok = s.checkCode(r, code, now)
	}
	ctx = kycd.NewContextWithActor(ctx, Actor(r))
	if !ok {
		a := kycd.LoginAttempt{}
		if r.FailedLogins+1 >= s.maxFailures {
			until := now.Add(s.lockFor)
			a.LockedUntil = &until
		}
		if err := s.recordSignIn(ctx, r.ID, a); err != nil {
			return nil, err
		}
		return nil, errSignIn
	}
	if err := s.recordSignIn(ctx, r.ID, kycd.LoginAttempt{OK: true, TOTPStep: step}); err != nil {
		return nil, err
	}
	return s.start(ctx, r, now)
}

// SignInExternal starts a session for a person the tenant's identity
// provider vouched for (OIDC): a reviewer without password or TOTP is made
// at the first sign-in, and the role is the provider's each time. Errors:
// ERequestInvalid (role), ESignInFailed (the email is another tenant's
// reviewer).
func (s *Service) SignInExternal(ctx context.Context, tenantID, email, role string) (*Session, error) {
	if !slices.Contains(kycd.Roles, role) {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "role", Rule: "enum", RuleParams: map[string]any{"enum": kycd.Roles}})
	}
	r, err := s.store.FindReviewerByEmail(ctx, email)
	switch {
	case kycd.ErrorCode(err) == kycd.ENotFound:
		r = &kycd.Reviewer{TenantID: tenantID, Email: email, Role: role}
		if err := s.store.CreateReviewer(kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "oidc", ID: email}), r, kycd.ReviewerCreated(r)); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case r.TenantID != tenantID, r.DisabledAt != nil:
		return nil, errSignIn
	case r.Role != role:
		if err := s.store.SetReviewerRole(kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "oidc", ID: r.ID}), r.ID, role, kycd.ReviewerRoleChanged(r.ID, role)); err != nil {
			return nil, err
		}
		r.Role = role
	}
	ctx = kycd.NewContextWithActor(ctx, Actor(r))
	if err := s.recordSignIn(ctx, r.ID, kycd.LoginAttempt{OK: true, TOTPStep: r.TOTPStep}); err != nil {
		return nil, err
	}
	return s.start(ctx, r, s.clock.Now().UTC())
}

// recordSignIn records a reviewer's sign-in attempt with its change.
func (s *Service) recordSignIn(ctx context.Context, id string, a kycd.LoginAttempt) error {
	return s.store.RecordLogin(ctx, id, a, kycd.ReviewerSignIn(id, a))
}

// start opens a session for a reviewer.
func (s *Service) start(ctx context.Context, r *kycd.Reviewer, now time.Time) (*Session, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	sess := &kycd.ReviewerSession{TokenHash: hashToken(token), ReviewerID: r.ID, TenantID: r.TenantID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.maxAge)}
	if err := s.store.CreateReviewerSession(ctx, sess); err != nil {
		return nil, err
	}
	return &Session{Token: token, Reviewer: r, Expires: sess.ExpiresAt}, nil
}

// checkCode checks a TOTP code against the steps around now (one each way,
// for clocks apart) and returns its step; a step at or before the last one
// accepted is refused (a code is good once).
func (s *Service) checkCode(r *kycd.Reviewer, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if r.TOTPSecret == "" || len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for _, st := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(r.TOTPSecret, time.Unix(st*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && st > r.TOTPStep {
			return st, true
		}
	}
	return 0, false
}

// ErrNoSession is returned by Authenticate for a missing, unknown or
// expired session: the reviewer signs in again.
var ErrNoSession = errors.New("reviewers: no session")

// Authenticate returns the reviewer of a session token, and keeps the
// session alive. An idle or too old session is ended (ErrNoSession).
func (s *Service) Authenticate(ctx context.Context, token string) (*kycd.Reviewer, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	h := hashToken(token)
	sess, err := s.store.FindReviewerSession(ctx, h)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.idle {
		if err := s.store.DeleteReviewerSession(ctx, h); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	r, err := s.store.FindReviewerByID(ctx, sess.ReviewerID)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, err
	}
	if r.DisabledAt != nil { // disabling ends the sessions; one racing it ends here
		if err := s.store.DeleteReviewerSession(ctx, h); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	// A session used within the last minute is not written again.
	if now.Sub(sess.LastSeenAt) >= time.Minute {
		if err := s.store.TouchReviewerSession(ctx, h, now); err != nil && kycd.ErrorCode(err) != kycd.ENotFound {
			return nil, err
		}
	}
	return r, nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.DeleteReviewerSession(ctx, hashToken(token))
}

// Viewed records that a reviewer opened personal data: one audit entry
// naming the person and what was opened.
func (s *Service) Viewed(ctx context.Context, r *kycd.Reviewer, entityType, entityID string, details map[string]any) error {
	d := map[string]any{"reviewer": r.Email, "reviewerId": r.ID}
	for k, v := range details {
		d[k] = v
	}
	return s.store.RecordView(kycd.NewContextWithActor(ctx, Actor(r)), r.TenantID, kycd.Viewed(entityType, entityID, d))
}

// Reviewers lists a tenant's reviewers.
func (s *Service) Reviewers(ctx context.Context, tenantID string) ([]*kycd.Reviewer, error) {
	return s.store.FindReviewers(ctx, tenantID)
}

// SetDisabled disables a reviewer of a tenant (their sessions end at
// once, and sign-in is refused) or enables them again, audited with the
// context's actor. A reviewer does not disable themself. Errors: ENotFound
// ("reviewer", also another tenant's), EOperationNotAllowed (oneself).
func (s *Service) SetDisabled(ctx context.Context, tenantID, id string, disabled bool) error {
	if a := kycd.ActorFromContext(ctx); a.Kind == "reviewer" && a.ID == id {
		return &kycd.Error{Code: kycd.EOperationNotAllowed, Message: "You cannot disable or enable yourself"}
	}
	return s.store.SetReviewerDisabled(ctx, tenantID, id, disabled, kycd.ReviewerDisabled(id, disabled))
}

// EnsureSandbox creates, once, the sandbox reviewer of a tenant with a
// password, and returns it.
func (s *Service) EnsureSandbox(ctx context.Context, tenantID, email, password string) (*kycd.Reviewer, error) {
	r, err := s.store.FindReviewerByEmail(ctx, email)
	if err == nil {
		if r.TenantID != tenantID {
			return nil, fmt.Errorf("reviewers: %s belongs to another tenant", email)
		}
		return r, nil
	} else if kycd.ErrorCode(err) != kycd.ENotFound {
		return nil, err
	}
	c, err := s.Create(ctx, CreateRequest{TenantID: tenantID, Email: email, Role: kycd.RoleSupervisor, Password: password})
	if err != nil {
		return nil, err
	}
	return c.Reviewer, nil
}

// Actor is the audit trail's actor of a reviewer.
func Actor(r *kycd.Reviewer) kycd.Actor { return kycd.Actor{Kind: "reviewer", ID: r.ID} }

// hashToken is what is stored of a session token: its SHA-256 (the token
// is 256 random bits, so no slow hash is needed).
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// What each role may do.
const (
	// CanDecide: propose or make a case's decision.
	CanDecide = "decide"
	// CanConfirm: give the second approval of a decision under four eyes.
	CanConfirm = "confirm"
	// CanTake: take an open case no one (or oneself) holds.
	CanTake = "take"
	// CanReassign: take a case another reviewer holds, or give it to one.
	CanReassign = "reassign"
	// CanManage: manage reviewers, lists and settings.
	CanManage = "manage"
	// CanAudit: read the tenant's whole audit trail (who did and viewed
	// what). Analysts do not: they see each user's own timeline in the
	// user's file, not their colleagues' activity.
	CanAudit = "audit"
)

var permissions = map[string][]string{
	kycd.RoleAnalyst:    {CanDecide, CanTake},
	kycd.RoleSupervisor: {CanDecide, CanConfirm, CanTake, CanReassign, CanAudit},
	kycd.RoleAuditor:    {CanAudit},
	kycd.RoleAdmin:      {CanManage, CanAudit},
}

// Can reports whether a role may do something (every role reads).
func Can(role, what string) bool { return slices.Contains(permissions[role], what) }

// MayTake reports whether a reviewer may take a case or an application
// that holder holds ("" for no one): a role that takes, and one that
// reassigns when someone else holds it.
func MayTake(r *kycd.Reviewer, holder string) bool {
	return Can(r.Role, CanTake) && (holder == "" || holder == r.ID || Can(r.Role, CanReassign))
}
