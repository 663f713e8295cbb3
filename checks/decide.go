package checks

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
)

// evidenceNamespace derives a check's evidence file id from the check, so
// that a decision retried after a crash finds the file it stored.
var evidenceNamespace = uuid.MustParse("0b6f3c1e-5a7d-4e58-9a0c-2d4f8e7b1c63")

// EvidenceFileID returns the id of a check's evidence file.
func EvidenceFileID(checkID string) string {
	return uuid.NewSHA1(evidenceNamespace, []byte(checkID)).String()
}

// Decide fetches a check's evidence, keeps it, decides the check on its
// own data and evidence, and applies what a passed check proves to the
// Core KYC processes (its effects: applied, deferred until the processes
// accept it, or a conflict; never a reason to fail the check). It is
// idempotent: a decided check is left alone, stored evidence is not
// fetched again, and submissions are keyed by check. A transient failure
// (the evidence host unreachable or stalling) is returned for the job to
// retry, unless final is set: then the check fails.
func (s *Service) Decide(ctx context.Context, tenantID, id string, final bool) error {
	c, err := s.Store.FindCheck(ctx, kycd.CheckKey{TenantID: tenantID, ID: id})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if c.Status != kycd.CheckPending {
		return nil
	}
	reasons, err := s.decide(ctx, c, final)
	if err != nil {
		return err
	}
	c.Status, c.Reasons = kycd.CheckPassed, reasons
	if len(reasons) > 0 {
		c.Status = kycd.CheckFailed
	} else if _, err := s.applyEffects(ctx, c); err != nil {
		return err
	}
	var supersedes []string
	if c.Refreshes() {
		mine, err := s.Store.FindChecks(ctx, kycd.UserRef{TenantID: tenantID, UserID: c.UserID})
		if err != nil {
			return err
		}
		supersedes = c.Supersedes(mine)
	}
	err = s.Store.DecideCheck(ctx, c, supersedes, Decided(c, supersedes))
	if kycd.ErrorCode(err) == kycd.EStale {
		now, ferr := s.Store.FindCheck(ctx, kycd.CheckKey{TenantID: tenantID, ID: id})
		if kycd.ErrorCode(ferr) == kycd.ENotFound || ferr == nil && now.Status != kycd.CheckPending {
			return nil // decided meanwhile by another run
		} else if ferr != nil {
			return ferr
		}
		return err // a check it supersedes was superseded meanwhile: the job decides again
	}
	if err != nil || !c.Deferred() {
		return err
	}
	// A process that became settled while the check was pending queued
	// the effects' job, which found the check undecided: try once more.
	return s.ApplyDeferred(ctx, tenantID, c.UserID)
}

// ApplyDeferred applies the deferred effects of a user's passed checks
// that the Core processes accept now (the job queued when a process of the
// user becomes settled), and saves what each came to. A superseded check's
// effects are left: its refresh's apply.
func (s *Service) ApplyDeferred(ctx context.Context, tenantID, userID string) error {
	unlock, err := s.users.Lock(ctx, "effects/"+tenantID+"/"+userID)
	if err != nil {
		return err
	}
	defer unlock()
	list, err := s.Store.FindChecks(ctx, kycd.UserRef{TenantID: tenantID, UserID: userID})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	for _, c := range list {
		if c.Status != kycd.CheckPassed || c.SupersededBy != "" || !c.Deferred() {
			continue
		}
		changed, err := s.applyEffects(ctx, c)
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			continue
		}
		// A stale save fails the job, which runs again on fresh data (the
		// submissions are keyed: they apply once).
		if err := s.Store.SaveCheckEffects(ctx, c, kycd.CheckEffectsSaved(c, changed)); err != nil {
			return err
		}
	}
	return nil
}

// FollowUp is the job a change of a user's Core processes queues when
// processes became settled (kyc.Config.OnSettled): the deferred effects
// of the user's checks are tried again when a process they wait for (the
// profile, the address) or feed settles.
func FollowUp(tenantID, userID string, settled []string) []kycd.JobArgs {
	for _, code := range settled {
		switch code {
		case kycd.ProcessProfile, kycd.ProcessAddress, kycd.ProcessIdentity, kycd.ProcessProofOfAddress:
			return []kycd.JobArgs{kycd.ApplyCheckEffectsArgs{TenantID: tenantID, UserID: userID}}
		}
	}
	return nil
}

// decide returns why a check fails, from its own data and evidence (none:
// it passes), storing its evidence.
func (s *Service) decide(ctx context.Context, c *kycd.Check, final bool) ([]kycd.CheckReason, error) {
	now := s.Clock.Now()
	switch c.Type {
	case kycd.CheckInstrumentFit:
		if c.Data.InstrumentSuitability == nil || !c.Data.InstrumentSuitability.Suitability {
			return []kycd.CheckReason{{Code: kycd.ReasonInstrumentNotSuitable, Message: "The instruments were found not suitable for the user"}}, nil
		}
		return nil, nil
	case kycd.CheckCompliance:
		return nil, nil
	}
	// Time passed since the check was recorded: its dates are checked again.
	var reasons []kycd.CheckReason
	if c.ConfirmedAt.Before(now.AddDate(0, -MaxConfirmationAgeMonths, 0)) {
		reasons = append(reasons, kycd.CheckReason{Code: kycd.ReasonConfirmationTooOld, Message: "The check was confirmed more than 24 months ago",
			Details: map[string]any{"property": "check_confirmed_at"}})
	}
	if exp, err := time.Parse(time.DateOnly, c.Data.DocumentExpirationDate); err == nil && exp.Before(now.UTC().Truncate(24*time.Hour)) {
		reasons = append(reasons, kycd.CheckReason{Code: kycd.ReasonDocumentExpired, Message: "The document expired before the check was decided",
			Details: map[string]any{"property": "document_expiration_date"}})
	}
	if len(reasons) > 0 {
		return reasons, nil
	}
	fileID, err := s.storeEvidence(ctx, c)
	var (
		r *refusal
		t *transient
	)
	switch {
	case errors.As(err, &r):
		return []kycd.CheckReason{r.reason}, nil
	case errors.As(err, &t) && final:
		return []kycd.CheckReason{{Code: kycd.ReasonEvidenceDownloadFailed, Message: "The evidence could not be downloaded: " + t.message}}, nil
	case err != nil:
		return nil, err
	}
	c.EvidenceFileID = fileID
	return nil, nil
}

// applyEffects submits what a passed KYC or POR check proves into the
// Core processes, each process not yet applied or in conflict, and
// records what each came to in c.Effects; it returns the processes whose
// effect changed. A KYC check feeds its confirmed address (when it
// differs from the declared one) and then a partner-verified identity; a
// POR check a partner-verified proof of address.
func (s *Service) applyEffects(ctx context.Context, c *kycd.Check) ([]string, error) {
	var subs []submission
	switch c.Type {
	case kycd.CheckKYC:
		subs = []submission{{kycd.ProcessAddress, s.addressSubmission}, {kycd.ProcessIdentity, s.identitySubmission}}
	case kycd.CheckPOR:
		subs = []submission{{kycd.ProcessProofOfAddress, s.proofOfAddressSubmission}}
	default:
		return nil, nil
	}
	if c.Effects == nil {
		c.Effects = map[string]*kycd.CheckEffect{}
	}
	ref := &kycd.User{ID: c.UserID, TenantID: c.TenantID}
	var changed []string
	for _, sub := range subs {
		// The update is built from the user as the process sees them when
		// it applies: a profile changed meanwhile is the one compared.
		submitted := false
		view, _, err := s.KYC.UpdateProcessFrom(ctx, ref, sub.code, func(u *kycd.User) (*kycd.ProcessUpdate, error) {
			submitted = false
			up, err := sub.build(c, u)
			if err != nil || up == nil {
				return nil, err // nothing to submit
			}
			if e := c.Effects[sub.code]; e != nil && e.Status != kycd.EffectDeferred {
				return nil, nil // applied, or in conflict: settled once
			}
			submitted = true
			up.Key = "check/" + c.ID + "/" + sub.code
			return up, nil
		})
		if !submitted && err == nil {
			continue // nothing submitted
		}
		e, err := s.effect(ctx, ref, sub.code, view, err)
		if err != nil {
			return nil, err
		}
		if old := c.Effects[sub.code]; old == nil || old.Status != e.Status || !slices.Equal(old.Reasons, e.Reasons) {
			c.Effects[sub.code] = e
			changed = append(changed, sub.code)
		}
	}
	return changed, nil
}

// A submission is the update a check makes to one Core process (code),
// built from the user as declared when it applies (a nil update: nothing
// to submit).
type submission struct {
	code  string
	build func(c *kycd.Check, u *kycd.User) (*kycd.ProcessUpdate, error)
}

// addressSubmission is a KYC check's confirmed address, when it differs
// from the declared one.
func (s *Service) addressSubmission(c *kycd.Check, u *kycd.User) (*kycd.ProcessUpdate, error) {
	a := c.Data.ConfirmedAddress
	if a == nil || (sameAddress(toAddress(a), u.Address) && c.Effects[kycd.ProcessAddress] == nil) {
		return nil, nil
	}
	return kycd.AddressUpdate(toAddress(a)), nil
}

// identitySubmission is a KYC check as a partner-verified electronic
// verification: the person the user declared, confirmed by the check (its
// document details stay on the check, which has no document number to
// record).
func (s *Service) identitySubmission(c *kycd.Check, u *kycd.User) (*kycd.ProcessUpdate, error) {
	given, family := splitName(u.FullName)
	who := kycd.VerifiedPerson{GivenName: given, FamilyName: family, Birthdate: u.Birthdate, CitizenshipCountry: c.Data.Nationality}
	if a := c.Data.ConfirmedAddress; a != nil {
		addr := toAddress(a)
		who.Address = &addr
	}
	return kycd.ElectronicVerification(who, kycd.VerificationOutput{Provider: c.Data.Provider, VerifiedAt: c.ConfirmedAt.UTC().Format(time.RFC3339)}), nil
}

// proofOfAddressSubmission is a POR check as a partner-verified proof of
// address, with its evidence as the address proof.
func (s *Service) proofOfAddressSubmission(c *kycd.Check, _ *kycd.User) (*kycd.ProcessUpdate, error) {
	addr := toAddress(c.Data.ConfirmedAddress)
	doc := kycd.VerifiedDocument{Type: strings.ToLower(strings.ReplaceAll(c.Data.DocumentType, "_", "-")), IssuedAt: c.Data.IssuanceDate}
	out := kycd.VerificationOutput{Provider: cmp.Or(c.Data.Provider, "partner"), Document: &doc, Person: &kycd.VerifiedPerson{Address: &addr},
		VerifiedAt: c.ConfirmedAt.UTC().Format(time.RFC3339)}
	return kycd.DocumentSubmission([]kycd.MediaItem{{FileID: c.EvidenceFileID, Context: "address-proof"}}, out), nil
}

// notYet are the reasons a process refuses an update that it will accept
// once the user's other processes or declared data allow it.
var notYet = []string{"kyc-process-update-not-allowed", "missing-name", "missing-birthdate", "incomplete-address"}

// storeEvidence fetches, checks and stores a check's evidence, encrypted,
// under an id and key derived from the check, and records the file.
func (s *Service) storeEvidence(ctx context.Context, c *kycd.Check) (string, error) {
	id := EvidenceFileID(c.ID)
	if f, err := s.Files.FindFileByID(ctx, kycd.FileKey{TenantID: c.TenantID, UserID: c.UserID, ID: id}); err == nil && f.Status == kycd.FileUploaded {
		return id, nil
	} else if err != nil && kycd.ErrorCode(err) != kycd.ENotFound {
		return "", err
	}
	sc, err := s.fetch(ctx, c.Data.DataDownloadLink)
	if err != nil {
		return "", err
	}
	defer sc.Close()
	// The key is fixed too: a retry overwrites, it never leaves an orphan.
	key := "tenants/" + c.TenantID + "/evidence/" + id
	size, sum, err := s.Blobs.Put(ctx, c.TenantID, id, key, sc.Reader(), s.MaxSize)
	if err != nil {
		return "", err
	}
	f := &kycd.File{ID: id, TenantID: c.TenantID, UserID: c.UserID, Category: kycd.EvidenceCategory.Name, ContentType: "application/zip",
		Size: size, SHA256: sum, BlobKey: key}
	return id, s.Files.SaveIngestedFiles(ctx, []*kycd.File{f}, func(ids []string) kycd.Change { return kycd.FilesIngested(c.UserID, ids) })
}

// effect reads a submission's result: applied when the process took it
// and is ok; deferred when it refused it for now (notYet); a conflict when
// it refused it otherwise or took it and failed; an error when it could not
// be told (the job retries).
func (s *Service) effect(ctx context.Context, u *kycd.User, code string, view *kyc.ProcessView, err error) (*kycd.CheckEffect, error) {
	refused, err := kycd.SubmissionRefusal(err)
	switch {
	case err != nil:
		return nil, err
	case refused != nil && refused.Code == kycd.EConcurrentChange:
		return nil, refused // lost its races: the job tries again
	case refused != nil:
		reasons, _ := refused.Details["reasons"].([]string)
		if refused.Code == kycd.EOperationNotAllowed && len(reasons) > 0 && !slices.ContainsFunc(reasons, func(r string) bool { return !slices.Contains(notYet, r) }) {
			return &kycd.CheckEffect{Status: kycd.EffectDeferred, Reasons: reasons, Message: refused.Message}, nil
		}
		if len(reasons) == 0 {
			reasons = []string{refused.Code}
		}
		return &kycd.CheckEffect{Status: kycd.EffectConflict, Reasons: reasons, Message: "The " + code + " process refused it: " + refused.Message}, nil
	case view == nil:
		// Submitted by an earlier run that did not get to save it.
		o, err := s.KYC.Overview(ctx, u, []string{kycd.ProcessKey(code)}, "")
		if err != nil {
			return nil, err
		}
		view = o.Processes[kycd.ProcessKey(code)]
	}
	if view != nil && view.Status == kycd.StatusFailed {
		e := &kycd.CheckEffect{Status: kycd.EffectConflict, Message: "The " + code + " process took it and failed"}
		if r, ok := view.Output["reason"].(string); ok {
			e.Reasons = []string{r}
		}
		return e, nil
	}
	return &kycd.CheckEffect{Status: kycd.EffectApplied}, nil
}

func toAddress(a *kycd.ConfirmedAddress) kycd.Address {
	return kycd.Address{Country: strings.ToUpper(strings.TrimSpace(a.Country)), Subdivision: Subdivision(a.State, a.Country),
		City: strings.TrimSpace(a.City), Line1: strings.TrimSpace(a.AddressLine1), Line2: strings.TrimSpace(a.AddressLine2),
		PostalCode: strings.TrimSpace(a.Postcode)}
}

// sameAddress compares addresses ignoring case and spacing.
func sameAddress(a, b kycd.Address) bool {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return norm(a.Country) == norm(b.Country) && norm(a.Subdivision) == norm(b.Subdivision) && norm(a.City) == norm(b.City) &&
		norm(a.Line1) == norm(b.Line1) && norm(a.Line2) == norm(b.Line2) && norm(a.PostalCode) == norm(b.PostalCode)
}

// splitName splits a full name into given names and a family name (the last word).
func splitName(full string) (string, string) {
	words := strings.Fields(full)
	if len(words) < 2 {
		return full, ""
	}
	return strings.Join(words[:len(words)-1], " "), words[len(words)-1]
}
