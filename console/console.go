// Package console is kycd's back office: server-rendered pages where a
// tenant's compliance team signs in, works the screening queue and decides
// cases. Every route is listed in routes.go; handlers return errors that
// one renderer turns into an HTML page. It calls the same services as the
// API, never the store.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/reviewers"
	"github.com/kycd/kycd/screening"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Reviewers is the reviewers service as the console uses it.
type Reviewers interface {
	SignIn(ctx context.Context, email, password, code string) (*reviewers.Session, error)
	Authenticate(ctx context.Context, token string) (*kycd.Reviewer, error)
	SignOut(ctx context.Context, token string) error
	Viewed(ctx context.Context, r *kycd.Reviewer, entityType, entityID string, details map[string]any) error
	Reviewers(ctx context.Context, tenantID string) ([]*kycd.Reviewer, error)
	SetDisabled(ctx context.Context, tenantID, id string, disabled bool) error
	SignInExternal(ctx context.Context, tenantID, email, role string) (*reviewers.Session, error)
	RequiresTOTP() bool
}

// Cases is the case service as the console uses it.
type Cases interface {
	Cases(ctx context.Context, tenantID string, f kycd.CaseFilter) ([]*kycd.Case, error)
	CountCases(ctx context.Context, tenantID string, f kycd.CaseFilter, reviewer string) (kycd.CaseCounts, error)
	Case(ctx context.Context, tenantID, id string) (*kycd.Case, error)
	Decide(ctx context.Context, tenantID, caseID string, d screening.Decision) (*kycd.Case, error)
	Assign(ctx context.Context, tenantID, caseID string, a kycd.Assignment, details map[string]any) error
}

// Users finds users, by id or by contact.
type Users interface {
	FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error)
	FindUserByContact(ctx context.Context, tenantID, channel, value string) (*kycd.User, error)
}

// KYC gives a user's KYC overview.
type KYC interface {
	Overview(ctx context.Context, u *kycd.User, detailed []string, lang string) (*kyc.Overview, error)
}

// Tenants reads a reviewer's tenant (its four-eyes setting).
type Tenants interface {
	FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error)
}

// Config holds the console's dependencies and settings.
type Config struct {
	Reviewers Reviewers
	Cases     Cases
	Users     Users
	KYC       KYC
	Tenants   Tenants
	// The user file's records, the audit trail and the screening lists.
	Files        Files
	Checks       Checks
	Ingestions   Ingestions
	Applications Applications
	Events       Events
	Audit        Audit
	Lists        Lists
	// Providers are the connector's providers, whose ingestions a user's
	// file lists.
	Providers []string
	// Queues and Levels serve the queues besides screening and the review
	// of applications.
	Queues Queues
	Levels Levels
	Clock  kycd.Clock
	Logger *slog.Logger
	// SecureCookies marks the session cookie Secure (every deployment but
	// plain http on loopback).
	SecureCookies bool
	// OIDC, when set, signs reviewers in through an identity provider.
	OIDC *OIDC
	// SignInRate and SignInBurst limit sign-in attempts per client address.
	SignInRate  rate.Limit
	SignInBurst int
}

// Server serves the console under /console/.
type Server struct {
	reviewers Reviewers
	cases     Cases
	users     Users
	kyc       KYC
	tenants   Tenants
	// The user file's records, the audit trail and the screening lists.
	files        Files
	checks       Checks
	ingestions   Ingestions
	applications Applications
	events       Events
	audit        Audit
	lists        Lists
	providers    []string
	queues       Queues
	levels       Levels
	clock        kycd.Clock
	logger       *slog.Logger
	secure       bool
	cookie       string
	pages        map[string]*template.Template
	oidc         *OIDC
	handler      http.Handler

	signInRate  rate.Limit
	signInBurst int
	mu          sync.Mutex
	limiters    map[string]*rate.Limiter
}

// New returns the console's handler.
func New(c Config) (*Server, error) {
	if c.Reviewers == nil || c.Cases == nil || c.Users == nil || c.KYC == nil || c.Tenants == nil ||
		c.Files == nil || c.Checks == nil || c.Ingestions == nil || c.Applications == nil || c.Events == nil || c.Audit == nil || c.Lists == nil {
		return nil, errors.New("console: missing dependency")
	}
	if c.Queues == nil || c.Levels == nil {
		return nil, errors.New("console: missing the queues or the levels service")
	}
	if c.OIDC != nil && (c.OIDC.Issuer == "" || c.OIDC.ClientID == "" || c.OIDC.TenantID == "" || c.OIDC.RedirectURL == "" || c.OIDC.HTTP == nil) {
		return nil, errors.New("console: OIDC needs an issuer, a client id, a tenant, a redirect URL and an HTTP client")
	}
	if c.Clock == nil {
		c.Clock = kycd.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SignInRate <= 0 {
		c.SignInRate = rate.Every(6 * time.Second)
	}
	if c.SignInBurst <= 0 {
		c.SignInBurst = 20
	}
	pages, err := parsedPages()
	if err != nil {
		return nil, err
	}
	s := &Server{reviewers: c.Reviewers, cases: c.Cases, users: c.Users, kyc: c.KYC, tenants: c.Tenants, queues: c.Queues, levels: c.Levels, clock: c.Clock, logger: c.Logger, secure: c.SecureCookies,
		cookie: "kycd_console", pages: pages, oidc: c.OIDC, signInRate: c.SignInRate, signInBurst: c.SignInBurst, limiters: map[string]*rate.Limiter{}}
	s.files, s.checks, s.ingestions, s.applications, s.events, s.audit, s.lists, s.providers =
		c.Files, c.Checks, c.Ingestions, c.Applications, c.Events, c.Audit, c.Lists, c.Providers
	if s.secure {
		s.cookie = "__Secure-kycd_console"
	}
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.headers(s.sameOrigin(mux))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
