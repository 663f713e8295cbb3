package kycd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"
)

// KYC process codes, in the order the overview lists them.
const (
	ProcessProfile        = "profile"
	ProcessAddress        = "address"
	ProcessEmail          = "email"
	ProcessPhone          = "phone"
	ProcessIdentity       = "identity"
	ProcessProofOfAddress = "proof-of-address"
	ProcessCDD            = "customer-due-diligence"
	ProcessEDD            = "enhanced-due-diligence"
	ProcessCRA            = "crypto-risk-assessment"
	ProcessSCS            = "self-categorization-statement"
	ProcessTaxDetails     = "tax-details"
	ProcessScreening      = "screening"
	ProcessRisk           = "risk"
)

// ProcessCodes lists every KYC process, in overview order.
var ProcessCodes = []string{
	ProcessProfile, ProcessAddress, ProcessEmail, ProcessPhone, ProcessIdentity, ProcessProofOfAddress,
	ProcessCDD, ProcessEDD, ProcessCRA, ProcessSCS, ProcessTaxDetails, ProcessScreening, ProcessRisk,
}

// ProcessKey returns the overview key of a process code ("proof-of-address"
// → "proofOfAddress").
func ProcessKey(code string) string {
	out := make([]byte, 0, len(code))
	upper := false
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c == '-' {
			upper = true
			continue
		}
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		out = append(out, c)
	}
	return string(out)
}

// Process statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusRunning = "running"
	StatusPending = "pending"
	StatusExempt  = "exempt"
)

// Verification models: who verified a process. The platform model is named
// as Uphold names it on the wire ("uphold-verified"): verified by this kycd.
const (
	ModelNone     = "none"
	ModelPartner  = "partner-verified"
	ModelPlatform = "uphold-verified"
)

// Submission types of the identity and proof-of-address processes.
const (
	TypeNone                   = "none"
	TypeDocumentSubmission     = "document-submission"
	TypeElectronicVerification = "electronic-verification"
	TypeFromIdentity           = "from-identity"
)

// Process is the stored state of one KYC process of one user. Input, Output
// and Form hold personal data and are encrypted at rest; the rest is not
// personal and stays queryable.
type Process struct {
	TenantID string
	UserID   string
	Code     string
	Status   string
	Type     string
	Model    string
	Input    map[string]any
	Output   map[string]any
	// Form is the form instance of a form-based process, while one exists.
	Form *FormInstance
	// Attempts counts completed evaluations (crypto risk assessment,
	// self-categorization); RetryAt ends a cooldown after a rejection.
	Attempts int
	RetryAt  *time.Time
	// Version is the stored row's version (0: never stored). Saving checks
	// it, so that two concurrent changes of one process cannot both win.
	Version   int
	UpdatedAt time.Time
}

// FormInstance is one run through a form: its id (the formId clients
// resume it with), the definition version it started on, the answers given
// so far, and whether it is complete.
type FormInstance struct {
	ID        string         `json:"id"`
	Code      string         `json:"code"`
	Version   int            `json:"version"`
	Answers   map[string]any `json:"answers"`
	Completed bool           `json:"completed,omitempty"`
	// Previous is the id of the last completed form of the process, so a
	// late call with it is told the form is complete rather than unknown.
	Previous string `json:"previous,omitempty"`
}

// JobArgs are a River job's arguments (River's own interface, restated so
// the domain need not import River).
type JobArgs interface {
	Kind() string
}

// ProcessChange is one atomic change of a user's KYC: the new state of some
// processes, optionally the user's declared data, the identity document the
// user is linked to, its events, its audit entry and the jobs it starts.
type ProcessChange struct {
	TenantID  string
	UserID    string
	Processes []*Process
	// User, when set, replaces the user's declared data (profile, email, phone).
	User *User
	// DocumentIndex, when set, links an identity document (a blind index of
	// its type, country and number) to the user; EDocumentLinked when it is
	// linked to another user of the tenant, other than DocumentFrom: the
	// closed user whose link released it (DocumentLink.Holds), read by the
	// caller, from whom the user takes it over.
	DocumentIndex string
	DocumentFrom  string
	// Code, when set, is a new one-time code (replacing the user's last one
	// of its channel); UseCode marks a code used (EStale when it was already).
	Code    *VerificationCode
	UseCode string
	// Case, when set, is a case to create (Version 0) or to save (EStale
	// when its Version no longer matches); Hits are the user's screening
	// hits it sets (each replacing the stored one of its listing).
	Case   *Case
	Hits   []ScreeningHit
	Events []*Event
	Jobs   []JobArgs
	// Key is the update's idempotency key, recorded with the change.
	Key     string
	Action  string
	Details map[string]any
}

// Change is what the process change records besides its rows: its events,
// its jobs and its audit entry, on the user.
func (c *ProcessChange) Change() Change {
	return Change{Events: c.Events, Jobs: c.Jobs,
		Audit: AuditRecord{Action: c.Action, EntityType: "user", EntityID: c.UserID, Details: c.Details}}
}

// Error codes of the process store.
const (
	// EStale: a process changed since it was read; read again and retry.
	EStale = "stale"
	// EDocumentLinked: the identity document belongs to another user.
	EDocumentLinked = "document_linked"
)

// ProcessStore keeps KYC processes.
type ProcessStore interface {
	// FindUserKYC returns a live user and its stored processes by code, in
	// one read (processes never changed are absent: their state follows
	// from policy), or ENotFound ("user").
	FindUserKYC(ctx context.Context, u UserRef) (*User, map[string]*Process, error)
	// SaveProcesses applies a change in one transaction. Returns EStale when
	// a process's Version no longer matches, EDocumentLinked when the
	// document is linked to another user, and the user store's uniqueness
	// errors (EEmailAlreadyExists, EPhoneAlreadyExists) for User.
	SaveProcesses(ctx context.Context, c *ProcessChange) error
	// FindExpiredProcesses lists up to limit ok processes whose verified
	// result expired before the given time, oldest first.
	FindExpiredProcesses(ctx context.Context, before time.Time, limit int) ([]ProcessRef, error)
	// FindDocumentLink returns the link of an identity document to a user
	// of the tenant, closed ones included, or nil when it is linked to none.
	FindDocumentLink(ctx context.Context, tenantID, documentIndex string) (*DocumentLink, error)
	// SubmissionApplied reports whether a change with this key was saved.
	SubmissionApplied(ctx context.Context, tenantID, key string) (bool, error)
}

// DocumentLink is the user an identity document is linked to, and why that
// user was closed ("" while they are not).
type DocumentLink struct {
	UserID        string
	ClosureReason string
}

// Holds reports whether a link still binds its document to its user: a
// live user's does, and so does that of a user closed for a violation
// (fraud, compliance), so that the document cannot be used again; a user
// closed for any other reason released it, to be used by another user.
func (l *DocumentLink) Holds() bool {
	switch l.ClosureReason {
	case "", UserDeletionFraud, UserDeletionCompliance:
		return true
	}
	return false
}

// ProcessRef names one process of one user.
type ProcessRef struct {
	TenantID, UserID, Code string
}

// ExpireArgs is the periodic job that finds verified results that expired
// and announces that their processes are pending again.
type ExpireArgs struct{}

// Kind implements JobArgs.
func (ExpireArgs) Kind() string { return "kyc_expire" }

// EventProcessStatusChanged is the type of the event recorded when a
// process's status changes: core.kyc.<process-code>.status-changed.
func EventProcessStatusChanged(code string) string { return "core.kyc." + code + ".status-changed" }

// EvaluateArgs is the job that evaluates a completed form (or re-derives a
// process's state from its dependencies).
type EvaluateArgs struct {
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
	Process  string `json:"process"`
	FormID   string `json:"form_id"`
}

// Kind implements JobArgs.
func (EvaluateArgs) Kind() string { return "kyc_evaluate" }

// ProcessUpdate is a request to update a process: the submission type
// (identity, proof of address), the input and, when the partner verified
// it, the output, each of the process's type (verification.go). Language
// is a BCP 47 tag for the texts of forms.
type ProcessUpdate struct {
	Type string
	// Input is nil when none is given.
	Input ProcessInput
	// Output is nil unless the partner verified the process.
	Output   ProcessOutput
	Language string
	// Key, when set, makes the update apply at most once: an update with a
	// key applied before is refused with EAlreadyApplied (an ingestion
	// retried after a crash does not submit twice).
	Key string
}

// SubmissionRefusal reads the result of a keyed update (a submission of the
// connector, a check or a levels approval): nil and nil when it was applied,
// now or by an earlier run (EAlreadyApplied); the refusal when the rules
// refused it (to record, not to retry); err otherwise (to retry).
func SubmissionRefusal(err error) (*Error, error) {
	if err == nil || ErrorCode(err) == EAlreadyApplied {
		return nil, nil
	}
	if e, ok := AsError(err); ok && e.Code != EInternal {
		return e, nil
	}
	return nil, err
}

// DataMap turns a data struct into a generic JSON object: how a stored
// Process keeps the typed input and output of its update, as the Core API
// shows them.
func DataMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// Channels of one-time codes.
const (
	ChannelEmail = "email"
	ChannelPhone = "phone"
)

// VerificationCode is a one-time code that proves a user controls an email
// address or phone number. Only a keyed digest of the code is kept to check
// it; the code itself is kept (encrypted) only until it is sent.
type VerificationCode struct {
	ID       string
	TenantID string
	UserID   string
	Channel  string
	// Digest is the keyed digest the code is checked against.
	Digest string
	// Code and Destination are personal: sealed at rest. Code is empty once sent.
	Code        string
	Destination string
	ExpiresAt   time.Time
	Attempts    int
	CreatedAt   time.Time
	UsedAt      *time.Time
}

// One-time code rules, the same for every surface that sends codes.
const (
	CodeDigits      = 6
	CodeLifetime    = 10 * time.Minute
	CodeMaxAttempts = 5
)

// CodeDigester makes the keyed digest codes are checked against (the
// vault's blind index).
type CodeDigester interface {
	BlindIndex(ctx context.Context, tenantID, purpose, value string) (string, error)
}

// codeDigest is a code's keyed digest, bound to the code's id.
func codeDigest(ctx context.Context, d CodeDigester, tenantID, id, code string) (string, error) {
	return d.BlindIndex(ctx, tenantID, "verification-code", id+":"+code)
}

// NewVerificationCode makes a uniformly random code of a channel for a
// destination, valid CodeLifetime from now, with its digest.
func NewVerificationCode(ctx context.Context, d CodeDigester, tenantID, userID, channel, destination string, now time.Time) (*VerificationCode, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return nil, err
	}
	vc := &VerificationCode{ID: uuid.NewString(), TenantID: tenantID, UserID: userID, Channel: channel,
		Code: fmt.Sprintf("%0*d", CodeDigits, n.Int64()), Destination: destination, ExpiresAt: now.Add(CodeLifetime)}
	if vc.Digest, err = codeDigest(ctx, d, tenantID, vc.ID, vc.Code); err != nil {
		return nil, err
	}
	return vc, nil
}

// CodeProblem is why a presented code is not accepted (CodeAccepted: it is).
type CodeProblem int

// Code problems, in the order they are looked for.
const (
	CodeAccepted CodeProblem = iota
	CodeUsed
	CodeExpired
	CodeAttemptsExceeded
	CodeWrong
)

// Check tells whether code is this one as of now. A wrong code is not
// counted here: the caller records the attempt (RecordCodeAttempt).
func (vc *VerificationCode) Check(ctx context.Context, d CodeDigester, code string, now time.Time) (CodeProblem, error) {
	switch {
	case vc.UsedAt != nil:
		return CodeUsed, nil
	case !vc.ExpiresAt.After(now):
		return CodeExpired, nil
	case vc.Attempts >= CodeMaxAttempts:
		return CodeAttemptsExceeded, nil
	}
	want, err := codeDigest(ctx, d, vc.TenantID, vc.ID, code)
	if err != nil {
		return 0, err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(vc.Digest)) != 1 {
		return CodeWrong, nil
	}
	return CodeAccepted, nil
}

// AttemptsLeft is how many wrong codes may still be tried after one more.
func (vc *VerificationCode) AttemptsLeft() int { return max(0, CodeMaxAttempts-vc.Attempts-1) }

// VerificationCodeStore keeps one-time codes: at most one live code per user
// and channel (issuing one replaces the last).
type VerificationCodeStore interface {
	// FindVerificationCode returns the user's code of a channel, or ENotFound ("code").
	FindVerificationCode(ctx context.Context, tenantID, userID, channel string) (*VerificationCode, error)
	// RecordCodeAttempt counts a wrong guess, with its change
	// (CodeRejected). ENotFound ("code").
	RecordCodeAttempt(ctx context.Context, tenantID, codeID string, change Change) error
	// FindCodeToSend returns a code with its plaintext and destination.
	// ENotFound ("code") when it was sent (its plaintext forgotten), used
	// or replaced already.
	FindCodeToSend(ctx context.Context, tenantID, codeID string) (*VerificationCode, error)
	// MarkCodeSent stores a code's sealed part as given (the sender cleared
	// its plaintext: a code sent is forgotten) with its change (CodeSent).
	MarkCodeSent(ctx context.Context, vc *VerificationCode, change Change) error
}

// CodeRejected is the change that records a wrong guess of a code: its
// audit entry.
func CodeRejected(vc *VerificationCode) Change {
	return Change{Audit: AuditRecord{Action: "kyc.code.rejected", EntityType: "user", EntityID: vc.UserID, Details: map[string]any{"codeId": vc.ID}}}
}

// CodeSent is the change that records a code sent: its audit entry.
func CodeSent(vc *VerificationCode) Change {
	return Change{Audit: AuditRecord{Action: "kyc.code.sent", EntityType: "user", EntityID: vc.UserID, Details: map[string]any{"codeId": vc.ID, "channel": vc.Channel}}}
}

// SendCodeArgs is the job that sends a one-time code.
type SendCodeArgs struct {
	TenantID string `json:"tenant_id"`
	CodeID   string `json:"code_id"`
}

// Kind implements JobArgs.
func (SendCodeArgs) Kind() string { return "kyc_send_code" }
