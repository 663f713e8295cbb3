package levels

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// SendCode sends a one-time code that signs changes of an application
// (objectID) by SMS or email. The destination is the one given, else the
// application's phone or email attribute, else the client's declared one.
func (s *Service) SendCode(ctx context.Context, tenantID, userID, objectID, provider, destination string) (*kycd.VerificationCode, error) {
	a, _, err := s.Application(ctx, kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: objectID})
	if err != nil {
		return nil, err
	}
	channel := map[string]string{SignSMS: kycd.ChannelPhone, SignEmail: kycd.ChannelEmail}[provider]
	if channel == "" {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "provider_type", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{SignSMS, SignEmail}}})
	}
	if s.Senders == nil || !s.Senders.Supports(channel) {
		return nil, &kycd.Error{Code: ESignProviderUnavailable, Message: "No " + provider + " sender is configured on this kycd"}
	}
	if destination == "" {
		destination = s.destination(ctx, a, provider)
	}
	switch {
	case destination == "":
		return nil, kycd.Invalid("body", kycd.Violation{Property: "destination", Rule: "required"})
	case provider == SignSMS:
		if _, ok := s.Geo.PhoneRegion(destination); !ok {
			return nil, kycd.Invalid("body", kycd.Violation{Property: "destination", Rule: "phone", RuleParams: map[string]any{"format": "E.164"}})
		}
	case !strings.Contains(destination, "@"):
		return nil, kycd.Invalid("body", kycd.Violation{Property: "destination", Rule: "format", RuleParams: map[string]any{"format": "email"}})
	}
	vc, err := kycd.NewVerificationCode(ctx, s.Digest, tenantID, userID, kycd.SignChannel(provider, a.ID), destination, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	if err := s.Store.IssueSignCode(ctx, vc, kycd.SignCodeIssued(vc, kycd.SendCodeArgs{TenantID: tenantID, CodeID: vc.ID})); err != nil {
		return nil, err
	}
	return vc, nil
}

// destination is where a code goes by default: the newest email or phone
// the client gave in its applications, else the one it declared.
func (s *Service) destination(ctx context.Context, a *kycd.Application, provider string) string {
	info, err := s.contact(ctx, a)
	if err != nil {
		return ""
	}
	d, _ := info[map[string]string{SignSMS: "phone", SignEmail: "email"}[provider]].(string)
	return d
}

// SendToReview puts a complete application in the review queue: every
// required question answered, every correction asked for made, and the
// signature the level asks for given. It waits for the application's
// other changes (serial).
func (s *Service) SendToReview(ctx context.Context, tenantID, userID, id string, codes map[string]string) (a *kycd.Application, cat *Catalog, err error) {
	err = s.serial(ctx, applicationKey(tenantID, id), func() error {
		a, cat, err = s.sendToReview(ctx, tenantID, userID, id, codes)
		return err
	})
	return a, cat, err
}

func (s *Service) sendToReview(ctx context.Context, tenantID, userID, id string, codes map[string]string) (*kycd.Application, *Catalog, error) {
	a, cat, level, err := s.editable(ctx, tenantID, userID, id, "are sent to review")
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, st := range level.Steps {
		for _, q := range st.Questions {
			// A liveness question is answered once its check was issued
			// (the result reaches the reviewer as diagnostics).
			if q.Required && a.Data.Attributes[q.Attribute] == nil {
				missing = append(missing, q.Attribute)
			}
		}
	}
	for key := range a.Data.Corrections {
		missing = append(missing, key)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, nil, &kycd.Error{Code: EApplicationIncomplete, Message: "Answer every required question (and every correction asked for) first",
			Details: map[string]any{"missing_attributes": slices.Compact(missing)}}
	}
	var used map[string]string
	if len(level.SignToReview) > 0 {
		if used, _, err = s.signatures(ctx, a, map[string][]string{"send-to-review": level.SignToReview}, codes); err != nil {
			return nil, nil, err
		}
	}
	now := s.Clock.Now()
	a.Status, a.SubmittedAt = kycd.ApplicationInReview, &now
	ids := make([]string, 0, len(used))
	for _, id := range used {
		ids = append(ids, id)
	}
	return a, cat, s.Store.SaveApplication(ctx, a, ids, kycd.ApplicationSaved(a, true, "kyc-application.sent-to-review", map[string]any{"status": a.Status}))
}

// Queue returns a tenant's applications waiting for review, oldest first,
// each with its catalog.
func (s *Service) Queue(ctx context.Context, tenantID, status, after string, limit int) ([]*kycd.Application, []*Catalog, error) {
	list, err := s.Store.FindApplicationsByStatus(ctx, tenantID, status, after, limit)
	if err != nil {
		return nil, nil, err
	}
	cats := make([]*Catalog, len(list))
	byRef := map[string]*Catalog{}
	for i, a := range list {
		if cats[i] = byRef[a.Catalog]; cats[i] == nil {
			if cats[i], err = s.catalogOf(ctx, a); err != nil {
				return nil, nil, err
			}
			byRef[a.Catalog] = cats[i]
		}
	}
	return list, cats, nil
}

// ForReview returns any application of a tenant, with its catalog.
func (s *Service) ForReview(ctx context.Context, tenantID, id string) (*kycd.Application, *Catalog, error) {
	a, err := s.Store.FindApplication(ctx, kycd.ApplicationKey{TenantID: tenantID, ID: id})
	if err != nil {
		return nil, nil, err
	}
	cat, err := s.catalogOf(ctx, a)
	return a, cat, err
}

// Decision is a reviewer's decision on an application.
type Decision struct {
	// Status is approved, pending (returned for corrections) or rejected.
	Status   string
	Reviewer string
	Reason   string
	// Corrections, for pending: what to correct, by attribute key.
	Corrections map[string]string
}

// Decide records a compliance officer's decision on an application in
// review: approve (the client holds the level), return as pending with
// corrections, or reject (final). Each names its reviewer and reason. It
// waits for the application's other changes (serial).
//
// Under four eyes (the tenant's setting) a final decision (approve or
// reject) is first a proposal (Data.Proposal; the application stays in
// review, audited kyc-application.proposed). A second, different reviewer
// confirms it (the same decision takes effect, both reviews recorded) or
// disputes it (another final decision: the proposal is dropped, both
// reviews recorded, kyc-application.disputed, and the application is
// decided anew). A return for corrections is not final and stays one
// reviewer's: it takes effect at once, and a proposal awaiting is dropped
// as disputed. While a proposal awaits, its reviewer decides nothing more
// (EOperationNotAllowed, four-eyes-same-reviewer). A proposal still
// awaiting when four eyes is turned off is dropped, on record, by the next
// decision, which takes effect alone.
func (s *Service) Decide(ctx context.Context, tenantID, id string, d Decision) (a *kycd.Application, cat *Catalog, err error) {
	err = s.serial(ctx, applicationKey(tenantID, id), func() error {
		a, cat, err = s.decide(ctx, tenantID, id, d)
		return err
	})
	return a, cat, err
}

func (s *Service) decide(ctx context.Context, tenantID, id string, d Decision) (*kycd.Application, *Catalog, error) {
	a, err := s.Store.FindApplication(ctx, kycd.ApplicationKey{TenantID: tenantID, ID: id})
	if err != nil {
		return nil, nil, err
	}
	cat, err := s.catalogOf(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	if a.Status != kycd.ApplicationInReview {
		return nil, nil, &kycd.Error{Code: EApplicationNotEditable, Message: "Only applications in review are decided; this one is " + a.Status,
			Details: map[string]any{"status": a.Status}}
	}
	var vs []kycd.Violation
	if strings.TrimSpace(d.Reviewer) == "" {
		vs = append(vs, kycd.Violation{Property: "reviewer", Rule: "required"})
	}
	if strings.TrimSpace(d.Reason) == "" {
		vs = append(vs, kycd.Violation{Property: "reason", Rule: "required"})
	}
	level, _ := cat.Level(a.LevelID)
	if d.Status == kycd.ApplicationPending {
		if len(d.Corrections) == 0 {
			vs = append(vs, kycd.Violation{Property: "corrections", Rule: "minProperties", RuleParams: map[string]any{"limit": 1}})
		}
		for key := range d.Corrections {
			if level == nil || !slices.Contains(level.Attributes(), key) {
				vs = append(vs, kycd.Violation{Property: "corrections." + key, Rule: "unknown_attribute"})
			}
		}
	}
	if len(vs) > 0 {
		return nil, nil, kycd.Invalid("body", vs...)
	}
	review := kycd.Review{Decision: d.Status, Reviewer: d.Reviewer, Reason: d.Reason, Corrections: d.Corrections, At: s.Clock.Now()}
	details := map[string]any{"reviewer": d.Reviewer, "reason": d.Reason, "corrections": slices.Sorted(maps.Keys(d.Corrections))}
	proposal := a.Data.Proposal
	if proposal != nil {
		details["proposer"], details["proposed"] = proposal.Reviewer, proposal.Decision
	}
	final := d.Status == kycd.ApplicationApproved || d.Status == kycd.ApplicationRejected
	if final || proposal != nil {
		t, err := s.Tenants.FindTenantByID(ctx, tenantID)
		if err != nil {
			return nil, nil, err
		}
		if t.Settings.FourEyes {
			var proposer, proposed string
			if proposal != nil {
				proposer, proposed = proposal.Reviewer, proposal.Decision
			}
			step, err := kycd.FourEyesStep(proposer, proposed, d.Reviewer, d.Status)
			if err != nil {
				return nil, nil, err
			}
			review.FourEyes, details["fourEyes"] = step, step
			if step == kycd.FourEyesProposed || step == kycd.FourEyesDisputed && final {
				// The application stays in review: the decision is
				// proposed, or the proposal is dropped to decide anew.
				if step == kycd.FourEyesProposed {
					a.Data.Proposal = &review
				} else {
					a.Data.Reviews, a.Data.Proposal = append(a.Data.Reviews, *proposal, review), nil
				}
				details["status"], details["decision"] = a.Status, d.Status
				return a, cat, s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, false, "kyc-application."+step, details))
			}
			// Confirmed, or a return for corrections disputing the
			// proposal: it takes effect.
		}
	}
	s.apply(a, review)
	details["status"] = a.Status
	return a, cat, s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, true, "kyc-application.reviewed", details, s.syncJob(a)...))
}

// syncJob is the job an approval starts: submitting into the Core processes.
func (s *Service) syncJob(a *kycd.Application) []kycd.JobArgs {
	if a.Status != kycd.ApplicationApproved {
		return nil
	}
	return []kycd.JobArgs{kycd.SyncApplicationArgs{TenantID: a.TenantID, ApplicationID: a.ID}}
}

// apply makes a review take effect: the status, the review (after the
// proposal awaiting, which it settles or drops) and the corrections asked
// for, or the decision's time.
func (s *Service) apply(a *kycd.Application, r kycd.Review) {
	a.Status = r.Decision
	if a.Data.Proposal != nil {
		a.Data.Reviews, a.Data.Proposal = append(a.Data.Reviews, *a.Data.Proposal), nil
	}
	a.Data.Reviews = append(a.Data.Reviews, r)
	if r.Decision == kycd.ApplicationPending {
		a.Data.Corrections = r.Corrections
	} else {
		a.DecidedAt = &r.At
	}
}

// SandboxStatus changes an application's status directly (sandbox mode
// only), after the application's other changes (serial).
func (s *Service) SandboxStatus(ctx context.Context, tenantID, userID, id, status string) (a *kycd.Application, cat *Catalog, err error) {
	if !s.Sandbox {
		return nil, nil, kycd.NotFound("kyc-application")
	}
	err = s.serial(ctx, applicationKey(tenantID, id), func() error {
		a, cat, err = s.sandboxStatus(ctx, tenantID, userID, id, status)
		return err
	})
	return a, cat, err
}

func (s *Service) sandboxStatus(ctx context.Context, tenantID, userID, id, status string) (*kycd.Application, *Catalog, error) {
	a, cat, err := s.Application(ctx, kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: id})
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(kycd.ApplicationStatuses, status) {
		return nil, nil, kycd.Invalid("body", kycd.Violation{Property: "status", Rule: "enum", RuleParams: map[string]any{"allowedValues": kycd.ApplicationStatuses}})
	}
	s.apply(a, kycd.Review{Decision: status, Reviewer: "sandbox", Reason: "set in sandbox mode", At: s.Clock.Now()})
	return a, cat, s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, true, "kyc-application.sandbox-status", map[string]any{"status": status}, s.syncJob(a)...))
}

// MaxDocumentFiles is the most files one document holds.
const MaxDocumentFiles = 10

// CreateDocument makes a document of a client's uploaded files for a
// document attribute; its id is the attribute's value.
func (s *Service) CreateDocument(ctx context.Context, tenantID, userID, key string, fileIDs []string) (*kycd.KYCDocument, error) {
	if _, err := s.Users.FindUserByID(ctx, tenantID, userID); err != nil {
		return nil, err
	}
	if !slices.Contains(DocumentKeys, key) {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "attribute_key", Rule: "enum", RuleParams: map[string]any{"allowedValues": DocumentKeys}})
	}
	if len(fileIDs) == 0 || len(fileIDs) > MaxDocumentFiles {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "files", Rule: "length", RuleParams: map[string]any{"min": 1, "max": MaxDocumentFiles}})
	}
	var vs []kycd.Violation
	for i, id := range fileIDs {
		f, err := s.Files.FindFileByID(ctx, kycd.FileKey{TenantID: tenantID, UserID: userID, ID: id})
		if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && f.Status != kycd.FileUploaded) {
			vs = append(vs, kycd.Violation{Property: fmt.Sprintf("files[%d]", i), Rule: "file", RuleParams: map[string]any{"reason": "not an uploaded file of the client"}})
		} else if err != nil {
			return nil, err
		}
	}
	if len(vs) > 0 {
		return nil, kycd.Invalid("body", vs...)
	}
	d := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: tenantID, UserID: userID, AttributeKey: key, FileIDs: slices.Compact(slices.Clone(fileIDs))}
	return d, s.Store.CreateDocument(ctx, d, kycd.DocumentCreated(d))
}
