package kycd

import (
	"context"
	"time"
)

// Check types: what a partner verified outside kycd and records as a check
// (the Upvest-compatible checks surface).
const (
	CheckKYC           = "KYC"            // identity, by video ident, in person, eID, ...
	CheckPOR           = "POR"            // proof of residence
	CheckInstrumentFit = "INSTRUMENT_FIT" // suitability of financial instruments
	CheckCompliance    = "COMPLIANCE"     // a compliance officer's clearance
)

// CheckTypes lists the check types.
var CheckTypes = []string{CheckKYC, CheckPOR, CheckInstrumentFit, CheckCompliance}

// Check statuses: PENDING until kycd decides.
const (
	CheckPending = "PENDING"
	CheckPassed  = "PASSED"
	CheckFailed  = "FAILED"
)

// Event types of checks, in Upvest's vocabulary (delivered in its envelope).
const (
	EventCheckCreated = "USER_CHECK.CREATED"
	EventCheckPassed  = "USER_CHECK.PASSED"
	EventCheckFailed  = "USER_CHECK.FAILED"
)

// Check is an externally performed check of a user, recorded by a partner,
// with kycd's decision. Data holds personal data and is sealed at rest; the
// rest is not personal and stays queryable.
type Check struct {
	ID          string
	TenantID    string
	UserID      string
	Type        string
	Status      string
	ConfirmedAt time.Time
	Data        CheckData
	// Reasons say why a check failed (machine-readable codes).
	Reasons []CheckReason
	// EvidenceFileID is the stored evidence (KYC and POR checks), once fetched.
	EvidenceFileID string
	// SupersededBy is the KYC refresh (kyc_update) that replaced this
	// passed KYC check.
	SupersededBy string
	// Effects is what a passed KYC or POR check came to in each Core KYC
	// process it feeds, by process code (not personal: statuses and codes).
	Effects   map[string]*CheckEffect
	CreatedAt time.Time
	UpdatedAt time.Time
	DecidedAt *time.Time
	// Version counts saves: a save of a stale copy fails with EStale.
	Version int
}

// CheckData is what the partner sent about a check besides its type and
// confirmation time, in the wire's own names.
type CheckData struct {
	DataDownloadLink       string                 `json:"data_download_link,omitempty"`
	DocumentType           string                 `json:"document_type,omitempty"`
	DocumentExpirationDate string                 `json:"document_expiration_date,omitempty"`
	IssuanceDate           string                 `json:"issuance_date,omitempty"`
	Nationality            string                 `json:"nationality,omitempty"`
	Provider               string                 `json:"provider,omitempty"`
	Method                 string                 `json:"method,omitempty"`
	ConfirmedAddress       *ConfirmedAddress      `json:"confirmed_address,omitempty"`
	KYCUpdate              bool                   `json:"kyc_update,omitempty"`
	InstrumentSuitability  *InstrumentSuitability `json:"instrument_suitability,omitempty"`
}

// ConfirmedAddress is an address a check confirmed. State is an ISO 3166-2
// subdivision code, with or without its country prefix ("BE", "DE-BE").
type ConfirmedAddress struct {
	AddressLine1 string `json:"address_line1"`
	AddressLine2 string `json:"address_line2,omitempty"`
	Postcode     string `json:"postcode"`
	City         string `json:"city"`
	State        string `json:"state,omitempty"`
	Country      string `json:"country"`
}

// InstrumentSuitability is the result of an instrument fit check.
type InstrumentSuitability struct {
	Suitability bool `json:"suitability"`
}

// CheckReason is one reason a check failed: a stable code, a message, and
// what it concerns (a property of the check, or the KYC process it fed).
type CheckReason struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Reasons a check fails.
const (
	ReasonEvidenceDownloadFailed  = "evidence_download_failed"  // the link kept failing (network, HTTP status)
	ReasonEvidenceDownloadRefused = "evidence_download_refused" // the link leads where kycd may not connect
	ReasonEvidenceTooLarge        = "evidence_too_large"        // more than MaxEvidenceSize bytes
	ReasonEvidenceInvalid         = "evidence_invalid"          // not a safe, valid zip
	ReasonDocumentExpired         = "document_expired"          // expired by the time of the decision
	ReasonConfirmationTooOld      = "check_confirmation_too_old"
	ReasonInstrumentNotSuitable   = "instrument_not_suitable"
)

// CheckEffect is what a check came to in one Core KYC process: a check is
// decided on its own data and evidence; what it proves is then applied to
// the Core processes when they accept it. Applied: the process took it
// (and is ok); deferred: the process does not accept it yet (its
// dependencies are not met, the declared data is incomplete: Reasons says
// what is missing) and kycd applies it as soon as it does; conflict: the
// process refused it or took it and failed (Reasons: the refusal's reasons
// or the process's output reason), which is on the audit trail too.
type CheckEffect struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
	Message string   `json:"message,omitempty"`
}

// Statuses of a check's effect on a Core process.
const (
	EffectApplied  = "applied"
	EffectDeferred = "deferred"
	EffectConflict = "conflict"
)

// Deferred reports whether the check has an effect still to apply.
func (c *Check) Deferred() bool {
	for _, e := range c.Effects {
		if e.Status == EffectDeferred {
			return true
		}
	}
	return false
}

// MaxEvidenceSize is the largest evidence file kycd fetches: 250 MB.
const MaxEvidenceSize = 250_000_000

// CheckKey names a check of a tenant. TenantID and ID are required; UserID
// narrows the look-up when set (a check of another user is then not found)
// and matches any user when empty (the jobs, which know only the id).
type CheckKey struct {
	TenantID string
	UserID   string
	ID       string
}

// CheckStore keeps checks. Every save records its audit entry and its
// events in the same transaction.
type CheckStore interface {
	// CreateCheck stores a new check (ID and status set by the caller) at
	// version 1, with its change (CheckCreated). ENotFound ("user") for a
	// user that is not a live user of the tenant.
	CreateCheck(ctx context.Context, c *Check, change Change) error
	// FindCheck returns the check a key names: ENotFound ("check") for an
	// unknown id, or one of another tenant or, when the key names one, of
	// another user.
	FindCheck(ctx context.Context, k CheckKey) (*Check, error)
	// FindChecks returns a user's checks, oldest first.
	FindChecks(ctx context.Context, u UserRef) ([]*Check, error)
	// FindChecksByID returns the tenant's checks among ids, in one read, in
	// no particular order; unknown and malformed ids are left out.
	FindChecksByID(ctx context.Context, tenantID string, ids []string) ([]*Check, error)
	// DecideCheck saves a check's decision, evidence file and effects if
	// its version is still the one read, marks the user's checks named in
	// supersedes (Check.Supersedes) superseded by it, and records its change
	// (CheckDecided), in one transaction. EStale when the check changed
	// meanwhile or a check it supersedes was superseded meanwhile.
	DecideCheck(ctx context.Context, c *Check, supersedes []string, change Change) error
	// SaveCheckEffects saves a decided check's effects if its version is
	// still the one read (EStale otherwise), with its change
	// (CheckEffectsSaved).
	SaveCheckEffects(ctx context.Context, c *Check, change Change) error
}

// ApplyCheckEffectsArgs is the job that applies a user's checks' deferred
// effects, queued with a change that may let the Core processes accept
// them (a process of the user became settled).
type ApplyCheckEffectsArgs struct {
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
}

// Kind implements JobArgs.
func (ApplyCheckEffectsArgs) Kind() string { return "check_apply_effects" }

// DecideCheckArgs is the job that fetches a check's evidence and decides it.
type DecideCheckArgs struct {
	TenantID string `json:"tenant_id"`
	CheckID  string `json:"check_id"`
}

// Kind implements JobArgs.
func (DecideCheckArgs) Kind() string { return "check_decide" }

// Refreshes reports whether a decided check supersedes the user's earlier
// KYC checks: a passed KYC refresh (kyc_update) does.
func (c *Check) Refreshes() bool {
	return c.Status == CheckPassed && c.Type == CheckKYC && c.Data.KYCUpdate
}

// Supersedes returns the ids of the checks among the user's that a decided
// check supersedes, in their order: for a passed KYC refresh, the user's
// other passed KYC checks not superseded yet; for any other decision, none
// (nil).
func (c *Check) Supersedes(userChecks []*Check) []string {
	if !c.Refreshes() {
		return nil
	}
	var ids []string
	for _, e := range userChecks {
		if e.ID != c.ID && e.TenantID == c.TenantID && e.UserID == c.UserID && e.Type == CheckKYC && e.Status == CheckPassed && e.SupersededBy == "" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// CheckEffectsSaved is the change that records a decided check's effects
// saved on their own: its audit entry, naming the effects that changed (by
// process code).
func CheckEffectsSaved(c *Check, changed []string) Change {
	details := map[string]any{"userId": c.UserID}
	for _, code := range changed {
		if e := c.Effects[code]; e != nil {
			details[code] = e
		}
	}
	return Change{Audit: AuditRecord{Action: "check.core-processes-updated", EntityType: "check", EntityID: c.ID, Details: details}}
}
