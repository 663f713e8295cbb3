// Package checks records checks a partner performed outside kycd (video
// ident, in-person ident, eID, proof of residence, instrument fit,
// compliance clearance), in the shape of Upvest's user checks: it
// validates them, fetches and keeps their evidence safely, decides PASSED
// or FAILED, feeds the Core KYC processes and announces each step.
package checks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/evidence"
	"github.com/kycd/kycd/keylock"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/netguard"
)

// Blobs stores file contents, encrypted (blob.Store).
type Blobs interface {
	Put(ctx context.Context, tenantID, fileID, key string, r io.Reader, max int64) (int64, string, error)
}

// Files finds and records the evidence files.
type Files interface {
	FindFileByID(ctx context.Context, k kycd.FileKey) (*kycd.File, error)
	// SaveIngestedFiles records files whose ids and blob keys the caller
	// chose (a file recorded before is left as it is), with the change
	// ingested returns for those it recorded.
	SaveIngestedFiles(ctx context.Context, files []*kycd.File, ingested func(fileIDs []string) kycd.Change) error
}

// KYC is what checks need of the KYC service (kyc.Service): to submit
// what a passed check proves to the Core processes, built from the user as
// declared when it applies, and to read a process's state.
type KYC interface {
	UpdateProcessFrom(ctx context.Context, u *kycd.User, code string, build func(declared *kycd.User) (*kycd.ProcessUpdate, error)) (*kyc.ProcessView, []kyc.Warning, error)
	Overview(ctx context.Context, u *kycd.User, detailed []string, lang string) (*kyc.Overview, error)
}

// Users reads the users checks are about.
type Users interface {
	FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error)
}

// Config is what the checks service needs.
type Config struct {
	Store kycd.CheckStore
	Users Users
	Files Files
	KYC   KYC
	Blobs Blobs
	Geo   Geography
	Clock kycd.Clock
	// HTTP fetches evidence: a netguard client that follows redirects.
	HTTP *http.Client
	// Guard is the policy HTTP dials with: a link whose host is refused by
	// it is refused when the check is created.
	Guard netguard.Policy
	// AllowHTTP accepts plain http download links (https only otherwise).
	AllowHTTP bool
	// ScratchDir holds evidence while it is checked ("" for the system's
	// temporary folder); it is encrypted there and removed after.
	ScratchDir string
	// MaxSize caps an evidence file (kycd.MaxEvidenceSize when 0).
	MaxSize int64
	// Limits bound what an evidence zip may expand to.
	Limits evidence.Limits
	// IdleTimeout fails a download that receives nothing for this long.
	IdleTimeout time.Duration
	// Schedule is the waits before each new attempt to fetch evidence
	// (DefaultSchedule when nil); after the last, the check fails.
	Schedule kycd.Schedule
}

// DefaultSchedule retries a failing evidence download for about two and a
// half hours.
var DefaultSchedule = kycd.Schedule{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}

// NextRetry is when a decision whose attempt-th attempt (1 is the first)
// failed is tried again; ok is false when no retry is left.
func (s *Service) NextRetry(attempt int) (time.Duration, bool) {
	return s.Schedule.Or(DefaultSchedule).Next(attempt)
}

// Service runs the checks.
type Service struct {
	Config
	// users queues the creations of each user's checks in this process, so
	// that the refresh rule (checkRefresh) holds for checks sent at once.
	users keylock.Locks
}

// New returns the checks service.
func New(c Config) *Service {
	if c.MaxSize <= 0 {
		c.MaxSize = kycd.MaxEvidenceSize
	}
	if c.Limits == (evidence.Limits{}) {
		c.Limits = evidence.DefaultLimits
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Second
	}
	return &Service{Config: c}
}

// Refusals of a new check (409, problem+json).
const (
	// EKYCCheckExists: a KYC check is recorded already; a refresh says kyc_update.
	EKYCCheckExists = "kyc_check_exists"
	// ENoKYCCheckToUpdate: a refresh (kyc_update) without a KYC check to refresh.
	ENoKYCCheckToUpdate = "no_kyc_check_to_update"
)

// Create records a check of a user and queues its decision. The user must
// be a live user of the tenant (entity_not_found "user"); a request that
// breaks a rule is request_invalid with one violation per problem.
func (s *Service) Create(ctx context.Context, tenantID, userID string, req *Request) (*kycd.Check, error) {
	u, err := s.Users.FindUserByID(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	residence := u.Address.Country
	if a := req.Data.ConfirmedAddress; a != nil && s.Geo.IsCountry(a.Country) {
		residence = a.Country
	}
	if vs := Violations(req, s.Clock.Now(), residence, s.Geo); len(vs) > 0 {
		e := kycd.Invalid("body", vs...)
		e.Message = "The check has missing or invalid properties: " + describe(vs)
		return nil, e
	}
	if req.Data.DataDownloadLink != "" {
		if err := s.checkLink(ctx, req.Data.DataDownloadLink); err != nil {
			return nil, err
		}
	}
	// A user's checks are created one after another: of two first KYC
	// checks sent at once, the second finds the first.
	unlock, err := s.users.Lock(ctx, tenantID+"/"+u.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if req.Type == kycd.CheckKYC {
		if err := s.checkRefresh(ctx, u, req.Data.KYCUpdate); err != nil {
			return nil, err
		}
	}
	id, err := uuid.NewV7() // time-ordered: the list's order
	if err != nil {
		return nil, err
	}
	c := &kycd.Check{ID: id.String(), TenantID: tenantID, UserID: u.ID, Type: req.Type, Status: kycd.CheckPending, ConfirmedAt: req.ConfirmedAt.UTC(), Data: req.Data}
	if err := s.Store.CreateCheck(ctx, c, Created(c, kycd.DecideCheckArgs{TenantID: tenantID, CheckID: c.ID})); err != nil {
		return nil, err
	}
	return c, nil
}

// checkLink refuses a download link kycd will not fetch: not an absolute
// http(s) URL with a host, plain http unless allowed, credentials in it, or
// a host that is or resolves to an address the guard refuses. A name that
// does not resolve now is accepted: the download checks each address it
// dials, and retries.
func (s *Service) checkLink(ctx context.Context, link string) error {
	u, err := url.Parse(link)
	refuse := func(rule string, params map[string]any) error {
		e := kycd.Invalid("body", violation("data_download_link", rule, params))
		e.Message = "The data_download_link cannot be fetched: it must be an https URL of a public host"
		return e
	}
	switch {
	case err != nil || !u.IsAbs():
		return refuse("format", map[string]any{"format": "uri"})
	case u.Scheme != "https" && !(u.Scheme == "http" && s.AllowHTTP):
		allowed := []string{"https"}
		if s.AllowHTTP {
			allowed = append(allowed, "http")
		}
		return refuse("scheme", map[string]any{"allowedValues": allowed})
	case u.Host == "" || u.Hostname() == "":
		return refuse("format", map[string]any{"format": "uri"})
	case u.User != nil:
		return refuse("credentials", nil)
	}
	if err := s.Guard.CheckHost(ctx, u.Hostname()); errors.Is(err, netguard.ErrBlocked) {
		return refuse("host", map[string]any{"reason": "the host is or resolves to an address kycd does not connect to (private, loopback, link-local or metadata)"})
	}
	return nil
}

// checkRefresh applies the refresh rule: a first KYC check has no
// kyc_update, a later one must have it (its predecessor stays in the list,
// superseded once the refresh passes).
func (s *Service) checkRefresh(ctx context.Context, u *kycd.User, update bool) error {
	list, err := s.Store.FindChecks(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
	if err != nil {
		return err
	}
	current := ""
	for _, c := range list {
		if c.Type == kycd.CheckKYC && c.Status != kycd.CheckFailed && c.SupersededBy == "" {
			current = c.ID
		}
	}
	switch {
	case current != "" && !update:
		return &kycd.Error{Code: EKYCCheckExists, Message: "The user has a KYC check already: record a refresh with kyc_update set to true",
			Details: map[string]any{"check_id": current}}
	case current == "" && update:
		return &kycd.Error{Code: ENoKYCCheckToUpdate, Message: "kyc_update marks a refresh, but the user has no KYC check to refresh"}
	}
	return nil
}

// Check returns one of a user's checks: ENotFound ("user") for a user who
// is not a live one of the tenant, ENotFound ("check") for a check of
// another user.
func (s *Service) Check(ctx context.Context, u kycd.UserRef, id string) (*kycd.Check, error) {
	if _, err := s.Users.FindUserByID(ctx, u.TenantID, u.UserID); err != nil {
		return nil, err
	}
	return s.Store.FindCheck(ctx, kycd.CheckKey{TenantID: u.TenantID, UserID: u.UserID, ID: id})
}

// Checks returns a user's checks, oldest first, superseded ones included.
func (s *Service) Checks(ctx context.Context, u kycd.UserRef) ([]*kycd.Check, error) {
	if _, err := s.Users.FindUserByID(ctx, u.TenantID, u.UserID); err != nil {
		return nil, err
	}
	return s.Store.FindChecks(ctx, u)
}

// CompleteEvents fills check events' objects back in with what their
// outbox copy leaves out (what the partner sent about the person), keeping
// the status each event announced: the checks are read at once. Other
// events are left as they are.
func (s *Service) CompleteEvents(ctx context.Context, events []*kycd.Event) error {
	eventCheck := func(ev *kycd.Event) map[string]any {
		if !strings.HasPrefix(ev.Type, "USER_CHECK.") {
			return nil
		}
		raw, _ := ev.Data["check"].(map[string]any)
		return raw
	}
	checkOf, err := kycd.EventEntities(ctx, events, func(ev *kycd.Event) string {
		id, _ := eventCheck(ev)["id"].(string)
		return id
	}, s.Store.FindChecksByID, func(c *kycd.Check) string { return c.ID })
	if err != nil {
		return err
	}
	for _, ev := range events {
		raw := eventCheck(ev)
		if raw == nil {
			continue
		}
		c, ok := checkOf(ev)
		if !ok {
			ev.Data = raw
			continue
		}
		object, err := kycd.DataMap(NewView(c, true))
		if err != nil {
			return err
		}
		// The check as the event saw it: its status, reasons and decision then.
		for _, k := range []string{"status", "failure_reasons", "decided_at", "evidence_file_id", "superseded_by", "core_processes"} {
			if v, ok := raw[k]; ok {
				object[k] = v
			} else {
				delete(object, k)
			}
		}
		ev.Data = object
	}
	return nil
}
