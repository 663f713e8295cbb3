// Package api is kycd's HTTP server: every route of every surface is listed
// in routes.go; handlers return errors that one renderer per surface writes
// (Uphold's envelope on /core, RFC 9457 problem+json elsewhere).
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/policy"
)

// Health is what readiness checks.
type Health interface {
	Ping(ctx context.Context) error
	MigrationsCurrent(ctx context.Context) (bool, error)
}

// Config holds the server's dependencies and settings.
type Config struct {
	Clients kycd.ClientService
	Users   kycd.UserService
	// Files is the files service.
	Files Files
	Audit kycd.AuditService
	// Terms is the terms of service service.
	Terms Terms
	// Metadata keeps the partner's metadata of users and files.
	Metadata kycd.MetadataService
	KYC      KYC
	// Connector is the KYC Connector service.
	Connector Connector
	// Checks is the checks service.
	Checks Checks
	// Levels is the KYC levels service.
	Levels Levels
	// Screening screens names against the screening lists; Cases are the
	// cases reviewers decide.
	Screening Screening
	Cases     Cases
	// Webhooks manages endpoints, their deliveries and the feed.
	Webhooks Webhooks
	Policy   *policy.Policy
	Health   Health
	Tokens   *auth.Tokens
	Vault    kycd.Vault
	Geo      *geo.Geo
	Clock    kycd.Clock
	Logger   *slog.Logger
	// Registry receives the server's metrics and is what /metrics serves.
	Registry *prometheus.Registry
	// MetricsOnAPI serves /metrics on the API's handler; otherwise only
	// MetricsHandler (a listener of its own) serves it.
	MetricsOnAPI bool
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// PublicURL is the base of the URLs kycd hands out (upload, download).
	PublicURL string
	// RateLimit is each client's sustained requests per second (0: no limit),
	// RateBurst its burst.
	RateLimit float64
	RateBurst int
	// ClientCacheTTL is how long a client's state is trusted without reading
	// it again: the longest a revocation takes to apply (0: read it every time).
	ClientCacheTTL time.Duration
	// SecretMemory is the memory the verifications of client secrets
	// (Argon2id) may take at once, in bytes (default 40 MiB: one at a time,
	// counted at auth.SecretMemory each); SecretWait how long a token request waits for its turn before
	// it is answered too_many_requests (default 2s).
	SecretMemory int64
	SecretWait   time.Duration
	// SecretRemember is how long a client secret that matched is
	// remembered (auth.Verifier; 0: never).
	SecretRemember time.Duration
	// BodyTimeout is how long a request body may take beyond what its
	// bytes earn at BodyMinRate (bytes per second), BodyMax the longest it
	// may take in all (slowbody.go); defaults 10s, 4 KiB/s, 30m.
	BodyTimeout time.Duration
	BodyMinRate float64
	BodyMax     time.Duration
	// MaxBodyBytes caps JSON and form bodies (default 1 MiB).
	MaxBodyBytes int64
	// Mount adds routes served outside the API surfaces (the sandboxes).
	Mount func(mux *http.ServeMux)
	// Sandbox, in sandbox mode, serves the outbox and the test clock.
	Sandbox *Sandbox
}

// Server is the HTTP server.
type Server struct {
	clients      kycd.ClientService
	clientsC     *clientCache
	users        kycd.UserService
	files        Files
	metadata     kycd.MetadataService
	audit        kycd.AuditService
	terms        Terms
	kyc          KYC
	connector    Connector
	checks       Checks
	levels       Levels
	screening    Screening
	cases        Cases
	webhooks     Webhooks
	sandbox      *Sandbox
	policy       *policy.Policy
	health       Health
	tokens       *auth.Tokens
	vault        kycd.Vault
	geo          *geo.Geo
	clock        kycd.Clock
	logger       *slog.Logger
	registry     *prometheus.Registry
	metrics      *Metrics
	metricsOnAPI bool
	metricsToken string
	publicURL    string
	limits       *limiter
	ipLimits     *limiter
	guesses      *guesses
	verifier     *auth.Verifier
	secretWait   time.Duration
	bodyTimeout  time.Duration
	bodyMinRate  float64
	bodyMax      time.Duration
	maxBody      int64
	spec         *spec
	countries    []byte
	mux          *http.ServeMux
	handler      http.Handler
}

// New returns the server's handler.
func New(cfg Config) (*Server, error) {
	if cfg.Clients == nil || cfg.Users == nil || cfg.Files == nil || cfg.Audit == nil || cfg.Terms == nil || cfg.Metadata == nil || cfg.KYC == nil || cfg.Connector == nil || cfg.Checks == nil || cfg.Levels == nil || cfg.Screening == nil || cfg.Cases == nil || cfg.Webhooks == nil || cfg.Policy == nil || cfg.Health == nil || cfg.Tokens == nil ||
		cfg.Vault == nil || cfg.Geo == nil || cfg.Registry == nil {
		return nil, errors.New("api: missing dependency")
	}
	if cfg.Clock == nil {
		cfg.Clock = kycd.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SecretMemory <= 0 {
		cfg.SecretMemory = 40 << 20
	}
	if cfg.SecretWait <= 0 {
		cfg.SecretWait = 2 * time.Second
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 10 * time.Second
	}
	if cfg.BodyMinRate <= 0 {
		cfg.BodyMinRate = 4 << 10
	}
	if cfg.BodyMax <= 0 {
		cfg.BodyMax = 30 * time.Minute
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	s := &Server{
		clients: cfg.Clients, users: cfg.Users, files: cfg.Files, metadata: cfg.Metadata, audit: cfg.Audit, terms: cfg.Terms, kyc: cfg.KYC, connector: cfg.Connector, checks: cfg.Checks, levels: cfg.Levels, screening: cfg.Screening, cases: cfg.Cases, webhooks: cfg.Webhooks, sandbox: cfg.Sandbox,
		policy: cfg.Policy, health: cfg.Health, tokens: cfg.Tokens,
		vault: cfg.Vault, geo: cfg.Geo, clock: cfg.Clock, logger: cfg.Logger,
		registry: cfg.Registry, metrics: NewMetrics(cfg.Registry), metricsOnAPI: cfg.MetricsOnAPI, metricsToken: cfg.MetricsToken,
		publicURL:   strings.TrimRight(cfg.PublicURL, "/"),
		limits:      newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Clock),
		ipLimits:    newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Clock),
		bodyTimeout: cfg.BodyTimeout, bodyMinRate: cfg.BodyMinRate, bodyMax: cfg.BodyMax,
		guesses: newGuesses(cfg.Clock), verifier: auth.NewVerifier(cfg.SecretMemory, cfg.Clock, cfg.SecretRemember), secretWait: cfg.SecretWait,
		maxBody: cfg.MaxBodyBytes, spec: sp,
		clientsC: newClientCache(cfg.Clients, cfg.ClientCacheTTL, cfg.Clock),
	}
	if s.countries, err = countriesJSON(cfg.Geo); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes(s.mux)
	if cfg.Mount != nil {
		cfg.Mount(s.mux)
	}
	s.handler = s.observe(s.mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
