package checks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// evidenceNamespace derives a check's evidence file id from the check, so
// that a decision retried after a crash finds the file it stored.
var evidenceNamespace = uuid.MustParse("0b6f3c1e-5a7d-4e58-9a0c-2d4f8e7b1c63")

// EvidenceFileID returns the id of a check's evidence file.
func EvidenceFileID(checkID string) string {
	return uuid.NewSHA1(evidenceNamespace, []byte(checkID)).String()
}

// Decide fetches a check's evidence, keeps it, submits what the check
// proves into the Core KYC processes and decides the check. It is
// idempotent: a decided check is left alone, stored evidence is not
// fetched again, and submissions are keyed by check. A transient failure
// (the evidence host unreachable or stalling) is returned for the job to
// retry, unless final is set: then the check fails.
func (s *Service) Decide(ctx context.Context, tenantID, id string, final bool) error {
	c, err := s.Store.FindCheck(ctx, tenantID, "", id)
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
	}
	err = s.Store.DecideCheck(ctx, c)
	if kycd.ErrorCode(err) == kycd.EStale {
		return nil // decided meanwhile by another run
	}
	return err
}

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
	if c.Type == kycd.CheckKYC {
		return s.submitIdentity(ctx, c)
	}
	return s.submitProofOfAddress(ctx, c)
}

// storeEvidence fetches, checks and stores a check's evidence, encrypted,
// under an id and key derived from the check, and records the file.
func (s *Service) storeEvidence(ctx context.Context, c *kycd.Check) (string, error) {
	id := EvidenceFileID(c.ID)
	if f, err := s.Files.FindFileByID(ctx, c.TenantID, c.UserID, id); err == nil && f.Status == kycd.FileUploaded {
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
	return id, s.Files.SaveIngestedFiles(ctx, []*kycd.File{f})
}

// submitIdentity submits a KYC check into the Core KYC processes: its
// confirmed address (when it differs from the declared one), then a
// partner-verified identity (electronic verification) of the user's
// declared person.
func (s *Service) submitIdentity(ctx context.Context, c *kycd.Check) ([]kycd.CheckReason, error) {
	u, err := s.Users.FindUserByID(ctx, c.TenantID, c.UserID)
	if err != nil {
		return nil, err
	}
	ref := &kycd.User{ID: u.ID, TenantID: u.TenantID}
	if a := c.Data.ConfirmedAddress; a != nil {
		addr := toAddress(a)
		if !sameAddress(addr, u.Address) {
			patch, err := kycd.DataMap(addr)
			if err != nil {
				return nil, err
			}
			view, _, err := s.KYC.UpdateProcess(ctx, ref, kycd.ProcessAddress, &kycd.ProcessUpdate{Input: map[string]any{"address": patch},
				Key: "check/" + c.ID + "/address"})
			if r, err := s.outcome(ctx, ref, kycd.ProcessAddress, view, err); r != nil || err != nil {
				return r, err
			}
		}
	}
	// A partner-verified electronic verification: the person the user
	// declared, confirmed by the check (its document details stay on the
	// check, which has no document number to record).
	given, family := splitName(u.FullName)
	data := map[string]any{"givenName": given, "familyName": family, "birthdate": u.Birthdate, "citizenshipCountry": c.Data.Nationality}
	if a := c.Data.ConfirmedAddress; a != nil {
		if data["address"], err = kycd.DataMap(toAddress(a)); err != nil {
			return nil, err
		}
	}
	out := map[string]any{"provider": c.Data.Provider, "verifiedAt": c.ConfirmedAt.UTC().Format(time.RFC3339)}
	view, _, err := s.KYC.UpdateProcess(ctx, ref, kycd.ProcessIdentity, &kycd.ProcessUpdate{Type: kycd.TypeElectronicVerification,
		Input: map[string]any{"data": data}, Output: out, Key: "check/" + c.ID + "/identity"})
	return s.outcome(ctx, ref, kycd.ProcessIdentity, view, err)
}

// submitProofOfAddress submits a POR check as a partner-verified proof of
// address, with its evidence as the address proof.
func (s *Service) submitProofOfAddress(ctx context.Context, c *kycd.Check) ([]kycd.CheckReason, error) {
	ref := &kycd.User{ID: c.UserID, TenantID: c.TenantID}
	addr, err := kycd.DataMap(toAddress(c.Data.ConfirmedAddress))
	if err != nil {
		return nil, err
	}
	provider := c.Data.Provider
	if provider == "" {
		provider = "partner"
	}
	out := map[string]any{
		"provider":   provider,
		"document":   map[string]any{"type": strings.ToLower(strings.ReplaceAll(c.Data.DocumentType, "_", "-")), "issuedAt": c.Data.IssuanceDate},
		"person":     map[string]any{"address": addr},
		"verifiedAt": c.ConfirmedAt.UTC().Format(time.RFC3339),
	}
	view, _, err := s.KYC.UpdateProcess(ctx, ref, kycd.ProcessProofOfAddress, &kycd.ProcessUpdate{Type: kycd.TypeDocumentSubmission,
		Input:  map[string]any{"media": []any{map[string]any{"fileId": c.EvidenceFileID, "context": "address-proof"}}},
		Output: out, Key: "check/" + c.ID + "/" + kycd.ProcessProofOfAddress})
	return s.outcome(ctx, ref, kycd.ProcessProofOfAddress, view, err)
}

// outcome reads a submission's result: nil when the process took it and
// is ok, a reason when it refused it or took it and failed, an error when
// it could not be told (the job retries).
func (s *Service) outcome(ctx context.Context, u *kycd.User, code string, view *kycd.ProcessView, err error) ([]kycd.CheckReason, error) {
	refused, err := kycd.SubmissionRefusal(err)
	switch {
	case err != nil:
		return nil, err
	case refused != nil:
		details := map[string]any{"process": code, "code": refused.Code}
		if rs, ok := refused.Details["reasons"]; ok {
			details["reasons"] = rs
		}
		return []kycd.CheckReason{{Code: kycd.ReasonKYCProcessRefused, Message: "The " + code + " process refused the check: " + refused.Message, Details: details}}, nil
	case view == nil:
		// Submitted by an earlier run that did not get to decide.
		o, err := s.KYC.Overview(ctx, u, []string{kycd.ProcessKey(code)}, "")
		if err != nil {
			return nil, err
		}
		view = o.Processes[kycd.ProcessKey(code)]
	}
	if view != nil && view.Status == kycd.StatusFailed {
		details := map[string]any{"process": code}
		if r, ok := view.Output["reason"]; ok {
			details["reason"] = r
		}
		return []kycd.CheckReason{{Code: kycd.ReasonKYCProcessFailed, Message: "The " + code + " process failed with the check's data", Details: details}}, nil
	}
	return nil, nil
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
