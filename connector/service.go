package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/netguard"
)

// Blobs stores file contents, encrypted (blob.Store).
type Blobs interface {
	Put(ctx context.Context, tenantID, fileID, key string, r io.Reader, max int64) (int64, string, error)
}

// Users finds the users provider events name.
type Users interface {
	FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error)
}

// KYC is what the connector needs of the KYC service (kyc.Service): to
// submit what an ingestion fetched to a Core process, and to reopen one a
// provider verified and later rejected.
type KYC interface {
	UpdateProcess(ctx context.Context, u *kycd.User, code string, up *kycd.ProcessUpdate) (*kyc.ProcessView, []kyc.Warning, error)
	ReopenProcess(ctx context.Context, u *kycd.User, code, provider, reason string) (bool, error)
}

// Config is what the connector service needs.
type Config struct {
	Store     kycd.IngestionStore
	Events    kycd.ProviderEventStore
	Users     Users
	Files     kycd.FileStore
	KYC       KYC
	Blobs     Blobs
	Providers map[string]Provider
	Clock     kycd.Clock
	// Guard is the policy provider calls dial with: a baseUrl whose host it
	// refuses is refused when it is set, and plain http is allowed only
	// where private networks are (netguard still guards every dial).
	Guard netguard.Policy
	// OnVerdict, when set, is told of every provider verdict about a linked
	// user (idempotently: a redelivered event may call it again); it
	// reports whether the verdict was a liveness check's, which is no KYC
	// verification: it is neither ingested nor reopens a process.
	OnVerdict func(ctx context.Context, ev *kycd.ProviderEvent) (liveness bool, err error)
}

// LivenessProvider is a provider that issues liveness checks: an access
// token for its SDK ("token") or a link to its hosted flow ("url").
type LivenessProvider interface {
	Liveness(ctx context.Context, cfg *kycd.ConnectorConfig, kind, userID, levelName string, ttl time.Duration) (string, error)
}

// Liveness issues a liveness token or link of the tenant's Sumsub account
// for a user: provider-not-configured (409) without a Sumsub
// configuration, service_unavailable (503) when Sumsub does not answer.
func (s *Service) Liveness(ctx context.Context, tenantID, kind, userID, levelName string, ttl time.Duration) (string, error) {
	cfg, err := s.config(ctx, tenantID, kycd.ProviderSumsub)
	if err != nil {
		return "", err
	}
	p, ok := s.Providers[kycd.ProviderSumsub].(LivenessProvider)
	if !ok {
		return "", fmt.Errorf("connector: sumsub issues no liveness checks")
	}
	v, err := p.Liveness(ctx, cfg, kind, userID, levelName, ttl)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &kycd.Error{Code: kycd.EServiceUnavailable, Message: "Sumsub did not issue the liveness check; try again shortly"}
	}
	return v, nil
}

// DocumentReviewer is a provider that tells how it reviewed the document
// images of an applicant.
type DocumentReviewer interface {
	DocumentReviews(ctx context.Context, cfg *kycd.ConnectorConfig, applicantID string) ([]kycd.DocumentReview, error)
}

// DocumentReviews reads how the tenant's Sumsub account reviewed the
// document images of an applicant: provider-not-configured (409) without a
// Sumsub configuration; the provider's errors otherwise (the caller, a
// job, retries).
func (s *Service) DocumentReviews(ctx context.Context, tenantID, applicantID string) ([]kycd.DocumentReview, error) {
	cfg, err := s.config(ctx, tenantID, kycd.ProviderSumsub)
	if err != nil {
		return nil, err
	}
	p, ok := s.Providers[kycd.ProviderSumsub].(DocumentReviewer)
	if !ok {
		return nil, fmt.Errorf("connector: sumsub tells no document reviews")
	}
	return p.DocumentReviews(ctx, cfg, applicantID)
}

// Service runs the KYC Connector: provider configurations, ingestions and
// their worker.
type Service struct{ Config }

// New returns the connector service.
func New(c Config) *Service { return &Service{Config: c} }

// SumsubRequest is a request for a Sumsub ingestion: a share token, or (a
// kycd extension) an applicant of the tenant's own Sumsub account.
type SumsubRequest struct {
	ShareToken  string
	ApplicantID string
	Processes   []string
	// Key, when set, makes the creation idempotent (EAlreadyApplied).
	Key string
}

// VeriffSession is one session of a Veriff ingestion request.
type VeriffSession struct {
	SessionID       string   `json:"sessionId"`
	IntegrationName string   `json:"integrationName"`
	Processes       []string `json:"processes,omitempty"`
}

// VeriffRequest is a request for a Veriff ingestion.
type VeriffRequest struct {
	Processes []string
	Sessions  []VeriffSession
	// Key, when set, makes the creation idempotent (EAlreadyApplied).
	Key string
}

func notConfigured(message string) error {
	return kycd.NotAllowed(message, "provider-not-configured")
}

// config returns a tenant's provider configuration, refusing when there is none.
func (s *Service) config(ctx context.Context, tenantID, provider string) (*kycd.ConnectorConfig, error) {
	cfg, err := s.Store.FindConnectorConfig(ctx, tenantID, provider)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil, notConfigured("The KYC connector is not configured for this organization")
	}
	return cfg, err
}

func orDefault(processes []string) []string {
	if len(processes) == 0 {
		return slices.Clone(kycd.IngestionProcesses)
	}
	return ordered(processes)
}

// ordered returns processes in submission order.
func ordered(processes []string) []string {
	var out []string
	for _, p := range kycd.IngestionProcesses {
		if slices.Contains(processes, p) {
			out = append(out, p)
		}
	}
	return out
}

// CreateSumsubIngestion queues a Sumsub ingestion for a user.
func (s *Service) CreateSumsubIngestion(ctx context.Context, u kycd.UserRef, req SumsubRequest) (*kycd.Ingestion, error) {
	if _, err := s.config(ctx, u.TenantID, kycd.ProviderSumsub); err != nil {
		return nil, err
	}
	processes := orDefault(req.Processes)
	src := &kycd.IngestionSource{Kind: "shareToken", Ref: req.ShareToken, Processes: processes}
	params := map[string]any{"shareToken": req.ShareToken}
	if req.ShareToken == "" {
		src.Kind, src.Ref, src.Resolved = "applicantId", req.ApplicantID, req.ApplicantID
		params = map[string]any{"applicantId": req.ApplicantID}
	}
	in := &kycd.Ingestion{TenantID: u.TenantID, UserID: u.UserID, Provider: kycd.ProviderSumsub, Processes: processes,
		Parameters: params, Sources: []*kycd.IngestionSource{src}, SourceKey: req.Key}
	return in, s.create(ctx, in)
}

// CreateVeriffIngestion queues a Veriff ingestion for a user: each
// requested process is read from the first session that provides it.
func (s *Service) CreateVeriffIngestion(ctx context.Context, u kycd.UserRef, req VeriffRequest) (*kycd.Ingestion, error) {
	cfg, err := s.config(ctx, u.TenantID, kycd.ProviderVeriff)
	if err != nil {
		return nil, err
	}
	processes := orDefault(req.Processes)
	seen := map[string]bool{}
	covered := map[string]bool{}
	var (
		sources  []*kycd.IngestionSource
		sessions []any
	)
	for _, sess := range req.Sessions {
		if seen[strings.ToLower(sess.SessionID)] {
			return nil, kycd.NotAllowed("Each session must reference a unique session ID", "duplicate-session")
		}
		seen[strings.ToLower(sess.SessionID)] = true
		integ := cfg.FindIntegration(sess.IntegrationName)
		if integ == nil {
			return nil, notConfigured(fmt.Sprintf("The integration %q is not in the Veriff configuration", sess.IntegrationName))
		}
		provides := integ.Processes
		if len(sess.Processes) > 0 {
			var unsupported []string
			for _, p := range sess.Processes {
				if !slices.Contains(integ.Processes, p) {
					unsupported = append(unsupported, strconv.Quote(p))
				}
			}
			if len(unsupported) > 0 {
				return nil, kycd.NotAllowed("Session specifies processes that are not supported by the integration configuration: "+
					strings.Join(unsupported, ", "), "ingestion-not-supported-by-provider-config")
			}
			provides = sess.Processes
		}
		var assigned []string
		for _, p := range processes {
			if slices.Contains(provides, p) && !covered[p] {
				covered[p] = true
				assigned = append(assigned, p)
			}
		}
		sessions = append(sessions, map[string]any{"processes": ordered(provides), "sessionId": sess.SessionID, "integrationName": sess.IntegrationName})
		if len(assigned) > 0 {
			sources = append(sources, &kycd.IngestionSource{Kind: "sessionId", Ref: sess.SessionID, Resolved: sess.SessionID,
				Integration: sess.IntegrationName, Processes: assigned})
		}
	}
	for _, p := range processes {
		if !covered[p] {
			return nil, kycd.NotAllowed(fmt.Sprintf("Process %q is not covered by any session in the ingestion parameters", p), "ingestion-process-not-resolvable")
		}
	}
	in := &kycd.Ingestion{TenantID: u.TenantID, UserID: u.UserID, Provider: kycd.ProviderVeriff, Processes: processes,
		Parameters: map[string]any{"sessions": sessions}, Sources: sources, SourceKey: req.Key}
	return in, s.create(ctx, in)
}

func (s *Service) create(ctx context.Context, in *kycd.Ingestion) error {
	id, err := uuid.NewV7() // time-ordered: the list's order and cursor
	if err != nil {
		return err
	}
	in.ID = id.String()
	return s.Store.CreateIngestion(ctx, in, IngestionCreated(in, kycd.IngestArgs{TenantID: in.TenantID, IngestionID: in.ID}))
}

// Ingestion returns the ingestion a key names (see kycd.IngestionKey; the
// API's routes name the user and the provider).
func (s *Service) Ingestion(ctx context.Context, k kycd.IngestionKey) (*kycd.Ingestion, error) {
	return s.Store.FindIngestion(ctx, k)
}

// Ingestions returns a page of a user's ingestions, newest first.
func (s *Service) Ingestions(ctx context.Context, f kycd.IngestionFilter) ([]*kycd.Ingestion, error) {
	return s.Store.FindIngestions(ctx, f)
}

// ProviderConfig returns a tenant's provider configuration (secrets in
// clear: the API masks them).
func (s *Service) ProviderConfig(ctx context.Context, tenantID, provider string) (*kycd.ConnectorConfig, error) {
	return s.Store.FindConnectorConfig(ctx, tenantID, provider)
}

// VeriffConfigRequest replaces a tenant's Veriff integrations; an
// integration given without keys keeps the keys it had.
type VeriffConfigRequest struct {
	BaseURL      *string
	AutoIngest   *bool
	Integrations []kycd.VeriffIntegration
}

// SetVeriffConfig creates or replaces the tenant's Veriff configuration.
func (s *Service) SetVeriffConfig(ctx context.Context, tenantID string, req VeriffConfigRequest) (*kycd.ConnectorConfig, error) {
	old, err := s.Store.FindConnectorConfig(ctx, tenantID, kycd.ProviderVeriff)
	if err != nil && kycd.ErrorCode(err) != kycd.ENotFound {
		return nil, err
	}
	cfg := &kycd.ConnectorConfig{TenantID: tenantID, Provider: kycd.ProviderVeriff}
	if old != nil {
		cfg.BaseURL, cfg.AutoIngest = old.BaseURL, old.AutoIngest
	}
	if req.AutoIngest != nil {
		cfg.AutoIngest = *req.AutoIngest
	}
	if err := s.setBaseURL(ctx, cfg, req.BaseURL); err != nil {
		return nil, err
	}
	var violations []kycd.Violation
	names := map[string]bool{}
	for i, integ := range req.Integrations {
		at := "integrations." + strconv.Itoa(i)
		if names[integ.Name] {
			violations = append(violations, kycd.Violation{Property: at + ".name", Rule: "unique"})
		}
		names[integ.Name] = true
		if old != nil {
			if prev := old.FindIntegration(integ.Name); prev != nil {
				if integ.APIKey == "" {
					integ.APIKey = prev.APIKey
				}
				if integ.SharedSecretKey == "" {
					integ.SharedSecretKey = prev.SharedSecretKey
				}
			}
		}
		if integ.APIKey == "" {
			violations = append(violations, kycd.Violation{Property: at + ".apiKey", Rule: "required"})
		}
		if integ.SharedSecretKey == "" {
			violations = append(violations, kycd.Violation{Property: at + ".sharedSecretKey", Rule: "required"})
		}
		integ.Processes = ordered(integ.Processes)
		cfg.Integrations = append(cfg.Integrations, integ)
	}
	if len(violations) > 0 {
		return nil, invalidConfig(violations...)
	}
	return cfg, s.Store.SaveConnectorConfig(ctx, cfg, kycd.ConnectorConfigSaved(cfg))
}

// SumsubConfigRequest sets a tenant's Sumsub credentials; nil fields keep
// their value.
type SumsubConfigRequest struct {
	BaseURL       *string
	AutoIngest    *bool
	AppToken      *string
	Secret        *string
	WebhookSecret *string
}

// SetSumsubConfig creates or updates the tenant's Sumsub configuration.
func (s *Service) SetSumsubConfig(ctx context.Context, tenantID string, req SumsubConfigRequest) (*kycd.ConnectorConfig, error) {
	cfg, err := s.Store.FindConnectorConfig(ctx, tenantID, kycd.ProviderSumsub)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		cfg, err = &kycd.ConnectorConfig{TenantID: tenantID, Provider: kycd.ProviderSumsub}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.setBaseURL(ctx, cfg, req.BaseURL); err != nil {
		return nil, err
	}
	if req.AutoIngest != nil {
		cfg.AutoIngest = *req.AutoIngest
	}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{req.AppToken, &cfg.AppToken}, {req.Secret, &cfg.Secret}, {req.WebhookSecret, &cfg.WebhookSecret}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	var violations []kycd.Violation
	if cfg.AppToken == "" {
		violations = append(violations, kycd.Violation{Property: "appToken", Rule: "required"})
	}
	if cfg.Secret == "" {
		violations = append(violations, kycd.Violation{Property: "secret", Rule: "required"})
	}
	if len(violations) > 0 {
		return nil, invalidConfig(violations...)
	}
	return cfg, s.Store.SaveConnectorConfig(ctx, cfg, kycd.ConnectorConfigSaved(cfg))
}

func invalidConfig(violations ...kycd.Violation) error {
	e := kycd.Invalid("body", violations...)
	e.Message = "The provider config has invalid parameters"
	return e
}

// setBaseURL checks and sets a configuration's API host: https, or http
// when the operator allows private networks; "" restores the default.
func (s *Service) setBaseURL(ctx context.Context, cfg *kycd.ConnectorConfig, v *string) error {
	if v == nil {
		return nil
	}
	if *v == "" {
		cfg.BaseURL = ""
		return nil
	}
	u, err := url.Parse(*v)
	ok := err == nil && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" &&
		(u.Scheme == "https" || (u.Scheme == "http" && s.Guard.Local()))
	if !ok {
		schemes := []string{"https"}
		if s.Guard.Local() {
			schemes = append(schemes, "http")
		}
		return invalidConfig(kycd.Violation{Property: "baseUrl", Rule: "format", RuleParams: map[string]any{"format": "url", "schemes": schemes}})
	}
	// A name that does not resolve now is kept: each call checks the
	// addresses it dials.
	if err := s.Guard.CheckHost(ctx, u.Hostname()); errors.Is(err, netguard.ErrBlocked) {
		return invalidConfig(kycd.Violation{Property: "baseUrl", Rule: "format", RuleParams: map[string]any{"format": "url", "schemes": []string{"https"},
			"reason": "the host is or resolves to an address kycd does not connect to (private, loopback, link-local or metadata)"}})
	}
	cfg.BaseURL = strings.TrimSuffix(u.String(), "/")
	return nil
}

// Mask shows the first four characters of a secret.
func Mask(secret string) string {
	if len(secret) <= 4 {
		return "****"
	}
	return secret[:4] + "****"
}

// CompleteEvents fills in the extracted data of finished ingestions'
// events: the outbox copy leaves it out (it is personal, and the outbox is
// not sealed), and a finished ingestion never changes, so what is read now
// is what the event announced. The ingestions are read at once; other
// events are left as they are.
func (s *Service) CompleteEvents(ctx context.Context, events []*kycd.Event) error {
	finished := func(ev *kycd.Event) string {
		if ev.EntityType != "ingestion" {
			return ""
		}
		if view, _ := ev.Data["ingestion"].(map[string]any); view == nil || view["status"] != kycd.IngestionFinished {
			return ""
		}
		return ev.EntityID
	}
	ingestionOf, err := kycd.EventEntities(ctx, events, finished, s.Store.FindIngestionsByID, func(in *kycd.Ingestion) string { return in.ID })
	if err != nil {
		return err
	}
	for _, ev := range events {
		if in, ok := ingestionOf(ev); ok {
			ev.Data = map[string]any{"ingestion": NewIngestionView(in, true)}
		}
	}
	return nil
}
