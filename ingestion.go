package kycd

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Providers the KYC Connector ingests from.
const (
	ProviderSumsub = "sumsub"
	ProviderVeriff = "veriff"
)

// Ingestion statuses.
const (
	IngestionQueued   = "queued"
	IngestionRunning  = "running"
	IngestionFinished = "finished"
)

// Statuses of one process of an ingestion. "completed" means submitted into
// the KYC process, not approved: the process's own status says that.
const (
	ResultProcessing = "processing"
	ResultCompleted  = "completed"
	ResultFailed     = "failed"
)

// Steps of an ingestion where a process can fail.
const (
	StepFetch    = "fetch-provider-data"
	StepDownload = "download-provider-files"
	StepUpdate   = "update-kyc-process"
)

// Error codes of an ingestion's process results (Uphold's).
const (
	EWorkflow                = "workflow_error"
	EProviderDataUnavailable = "provider_data_not_available"
	EProviderDataInvalid     = "provider_data_invalid"
	EProviderFileDownload    = "provider_file_download_failed"
	EDependentProcessFailed  = "dependent_process_failed"
	ESumsubClient            = "sumsub_client_error"
	ESumsubReviewState       = "sumsub_applicant_review_state_invalid"
	EVeriffClient            = "veriff_client_error"
	EVeriffNotApproved       = "veriff_session_not_approved"
)

// IngestionProcesses are the processes an ingestion can submit, in the
// order it submits them (later ones depend on earlier ones).
var IngestionProcesses = []string{ProcessProfile, ProcessAddress, ProcessIdentity, ProcessProofOfAddress}

// Ingestion pulls an approved verification from a provider into a user's
// KYC processes. Parameters, results and the worker's progress hold
// personal data: they are sealed at rest.
type Ingestion struct {
	ID         string
	TenantID   string
	UserID     string
	Provider   string
	Status     string
	Processes  []string
	Parameters map[string]any
	// Result is keyed by process code.
	Result map[string]*IngestionResult
	// Sources are the provider references the worker reads, with what it
	// learnt of them (the applicant a share token was imported as).
	Sources    []*IngestionSource
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	// Version counts saves: a save of a stale copy fails with EStale.
	Version int
	// EventID is the provider event that started the ingestion (auto
	// ingestion), which its creation marks handled: at most one each.
	EventID string
	// SourceKey, when set, makes the creation idempotent: a second
	// ingestion with the same key is refused with EAlreadyApplied.
	SourceKey string
}

// IngestionSource is one provider reference of an ingestion: a Sumsub share
// token or applicant, or a Veriff session of an integration, and the
// processes it provides data for.
type IngestionSource struct {
	Kind        string   `json:"kind"` // shareToken, applicantId, sessionId
	Ref         string   `json:"ref"`
	Integration string   `json:"integration,omitempty"`
	Processes   []string `json:"processes"`
	// Resolved is the provider's id once known (the imported applicant).
	Resolved string `json:"resolved,omitempty"`
}

// IngestionResult is the outcome of one process of an ingestion.
type IngestionResult struct {
	Status string          `json:"status"`
	Data   map[string]any  `json:"data,omitempty"`
	Files  []IngestedFile  `json:"files,omitempty"`
	Error  *IngestionError `json:"error,omitempty"`
}

// IngestedFile is a provider file stored in kycd's file store.
type IngestedFile struct {
	ID              string         `json:"id"`
	Category        string         `json:"category"`
	Context         string         `json:"context"`
	ContentType     string         `json:"contentType"`
	Size            int64          `json:"size"`
	ProviderDetails map[string]any `json:"providerDetails,omitempty"`
}

// IngestionError is why a process of an ingestion failed.
type IngestionError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Hint    string         `json:"hint,omitempty"`
	Step    string         `json:"step,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// ConnectorConfig is a tenant's configuration of one provider. Secrets are
// sealed at rest and shown masked.
type ConnectorConfig struct {
	TenantID string
	Provider string
	// BaseURL is the provider's API host ("" for its production host).
	BaseURL string
	// Veriff: one integration per API key.
	Integrations []VeriffIntegration
	// AutoIngest starts an ingestion when the provider reports an approval
	// of an applicant or session linked to a kycd user.
	AutoIngest bool
	// Sumsub: the app token and its secret, and the webhook secret.
	AppToken      string
	Secret        string
	WebhookSecret string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// VeriffIntegration is one Veriff integration of a tenant.
type VeriffIntegration struct {
	Name            string   `json:"name"`
	APIKey          string   `json:"apiKey"`
	SharedSecretKey string   `json:"sharedSecretKey"`
	Processes       []string `json:"processes"`
}

// FindIntegration returns the integration of a name.
func (c *ConnectorConfig) FindIntegration(name string) *VeriffIntegration {
	for i := range c.Integrations {
		if c.Integrations[i].Name == name {
			return &c.Integrations[i]
		}
	}
	return nil
}

// IngestionFilter selects a user's ingestions of a provider, newest first,
// after the cursor (an ingestion id; "" for the first page).
type IngestionFilter struct {
	TenantID, UserID, Provider string
	Before                     string
	Limit                      int
}

// IngestionKey names an ingestion of a tenant. TenantID and ID are
// required; UserID and Provider narrow the look-up when set (an ingestion
// of another user or provider is then not found) and match any user or
// provider when empty (the connector's jobs, which know only the id).
type IngestionKey struct {
	TenantID string
	UserID   string
	Provider string
	ID       string
}

// IngestionStore keeps ingestions and connector configurations. Every save
// records its audit entry and its events in the same transaction.
type IngestionStore interface {
	// CreateIngestion stores a new ingestion (IngestionCreated chose its ID
	// and status) at version 1, setting its times, with its change.
	// EAlreadyApplied when an ingestion of its SourceKey exists already.
	CreateIngestion(ctx context.Context, in *Ingestion, change Change) error
	// FindIngestion returns the ingestion a key names: ENotFound
	// ("ingestion") for an unknown id, or one of another tenant or, when
	// the key names them, of another user or provider.
	FindIngestion(ctx context.Context, k IngestionKey) (*Ingestion, error)
	FindIngestions(ctx context.Context, f IngestionFilter) ([]*Ingestion, error)
	// FindIngestionsByID returns the tenant's ingestions among ids, in one
	// read, in no particular order; unknown and malformed ids are left out.
	FindIngestionsByID(ctx context.Context, tenantID string, ids []string) ([]*Ingestion, error)
	// SaveIngestion saves a changed ingestion if its version is still the
	// one read (EStale otherwise), with its change (IngestionSaved).
	SaveIngestion(ctx context.Context, in *Ingestion, change Change) error
	// SaveConnectorConfig creates or replaces a tenant's provider config,
	// with its change (ConnectorConfigSaved).
	SaveConnectorConfig(ctx context.Context, c *ConnectorConfig, change Change) error
	// FindConnectorConfig returns ENotFound ("provider-config").
	FindConnectorConfig(ctx context.Context, tenantID, provider string) (*ConnectorConfig, error)
	// SaveIngestedFiles records, in one transaction, uploaded files whose
	// IDs and BlobKeys the ingestion chose (so that a retry finds them);
	// files recorded before are left as they are. Which files are new is
	// the store's to find: it records the change ingested returns for
	// their IDs (FilesIngested), and nothing when none is.
	SaveIngestedFiles(ctx context.Context, files []*File, ingested func(fileIDs []string) Change) error
}

// Event types of ingestions.
func EventIngestionCreated(provider string) string {
	return "kyc-connector." + provider + ".ingestion.created"
}

// EventIngestionStatusChanged is the event of an ingestion's status change.
func EventIngestionStatusChanged(provider string) string {
	return "kyc-connector." + provider + ".ingestion.status-changed"
}

// IngestArgs is the job that runs an ingestion.
type IngestArgs struct {
	TenantID    string `json:"tenant_id"`
	IngestionID string `json:"ingestion_id"`
}

// Kind implements JobArgs.
func (IngestArgs) Kind() string { return "connector_ingest" }

// ProviderEvent is a webhook a provider sent about one of its applicants
// or sessions, recorded once (by Key) before anything acts on it. It keeps
// what kycd acts on, never the personal data some payloads carry.
type ProviderEvent struct {
	ID       string
	TenantID string
	Provider string
	// Key deduplicates deliveries of the same event.
	Key  string
	Type string
	// Ref is the applicant or session; Integration the Veriff integration.
	Ref         string
	Integration string
	// ExternalUserID is the provider's reference to the user (Sumsub's
	// externalUserId, Veriff's vendorData): kycd links a kycd user id.
	ExternalUserID string
	// Outcome is approved, rejected or "" (any other event).
	Outcome string
	// Level is the provider's verification level the verdict is about
	// (Sumsub's levelName; "" when the provider names none), Note what the
	// provider's review said to the client (Sumsub's clientComment).
	Level      string
	Note       string
	ReceivedAt time.Time
	HandledAt  *time.Time
}

// Outcomes of provider events.
const (
	OutcomeApproved = "approved"
	OutcomeRejected = "rejected"
)

// ProviderEventStore keeps provider webhooks.
type ProviderEventStore interface {
	// RecordProviderEvent stores an event (ID chosen by
	// ProviderEventReceived) with its change, which starts the job that
	// handles it; EAlreadyApplied when an event of the same key was
	// recorded before.
	RecordProviderEvent(ctx context.Context, ev *ProviderEvent, change Change) error
	// FindProviderEvent returns ENotFound ("provider-event").
	FindProviderEvent(ctx context.Context, tenantID, id string) (*ProviderEvent, error)
	// MarkProviderEventHandled records that an event was acted on, with its
	// change (ProviderEventHandled); EAlreadyApplied when it was before.
	MarkProviderEventHandled(ctx context.Context, tenantID, id, action string, change Change) error
}

// ProviderEventArgs is the job that acts on a provider event.
type ProviderEventArgs struct {
	TenantID string `json:"tenant_id"`
	EventID  string `json:"event_id"`
}

// Kind implements JobArgs.
func (ProviderEventArgs) Kind() string { return "connector_provider_event" }

// ConnectorConfigSaved is the change that records a tenant's provider
// configuration saved: its audit entry (its integrations by name, never
// their secrets).
func ConnectorConfigSaved(c *ConnectorConfig) Change {
	names := make([]string, 0, len(c.Integrations))
	for _, i := range c.Integrations {
		names = append(names, i.Name)
	}
	return Change{Audit: AuditRecord{Action: "kyc-connector.config.updated", EntityType: "provider-config", EntityID: c.Provider,
		Details: map[string]any{"provider": c.Provider, "integrations": names, "baseUrl": c.BaseURL, "autoIngest": c.AutoIngest}}}
}

// ProviderEventReceived is the change that records a provider's webhook
// received: its audit entry and the job that handles it. It chooses the
// event's ID when the caller has not.
func ProviderEventReceived(ev *ProviderEvent, handle JobArgs) Change {
	if ev.ID == "" {
		ev.ID = uuid.NewString()
	}
	return Change{Jobs: []JobArgs{handle}, Audit: AuditRecord{Action: "kyc-connector.provider-event.received", EntityType: "provider-event", EntityID: ev.ID,
		Details: map[string]any{"provider": ev.Provider, "type": ev.Type, "ref": ev.Ref, "outcome": ev.Outcome}}}
}

// ProviderEventHandled is the change that records what a provider's event
// was acted on with: its audit entry.
func ProviderEventHandled(id, action string) Change {
	return Change{Audit: AuditRecord{Action: "kyc-connector.provider-event.handled", EntityType: "provider-event", EntityID: id, Details: map[string]any{"action": action}}}
}
