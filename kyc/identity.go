package kyc

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

// A partner verification as the identity and proof-of-address processes
// read it: the types kycd's own services submit with (the root package's).
type (
	person             = kycd.VerifiedPerson
	verificationOutput = kycd.VerificationOutput
)

func fullName(p person) string { return strings.TrimSpace(p.GivenName + " " + p.FamilyName) }

// checkMedia checks that every file of a media list exists, belongs to the
// user and is uploaded.
func (s *Service) checkMedia(st *state, media []kycd.MediaItem) error {
	for _, m := range media {
		f, err := s.files.FindFileByID(st.ctx, kycd.FileKey{TenantID: st.user.TenantID, UserID: st.user.ID, ID: m.FileID})
		if kycd.ErrorCode(err) == kycd.ENotFound {
			return &kycd.Error{Code: kycd.ENotFound, Message: "A file specified in the media array cannot be found", Details: map[string]any{"entity": "file"}}
		} else if err != nil {
			return err
		}
		if f.Status != kycd.FileUploaded {
			return &kycd.Error{Code: kycd.EFileInvalid, Message: "A file specified in the media array has not been uploaded"}
		}
	}
	return nil
}

// checkPerson checks the names, birthdate format and address of a person.
func (s *Service) checkPerson(p *person, prefix string, now time.Time) error {
	if err := kycd.CheckName(p.GivenName, prefix+".givenName"); err != nil {
		return err
	}
	// A birthdate still to come is no one's (Uphold's "Birthdate Invalid").
	if b, err := time.Parse(time.DateOnly, p.Birthdate); err == nil && b.After(now) {
		return dateInvalid("The date must be in the past", "difference-greater-than-threshold", prefix+".birthdate")
	}
	if err := kycd.CheckName(p.FamilyName, prefix+".familyName"); err != nil {
		return err
	}
	if p.CitizenshipCountry != "" && !s.supported(p.CitizenshipCountry) {
		return countryNotSupported(prefix + ".citizenshipCountry")
	}
	if p.Address != nil {
		if p.Address.Country != "" && !s.supported(p.Address.Country) {
			return countryNotSupported(prefix + ".address.country")
		}
		if err := kycd.CheckAddress(*p.Address, prefix+".address", s.geo); err != nil {
			return err
		}
	}
	return nil
}

// platformVerificationUnavailable refuses a submission kycd would have to
// verify itself without a provider to do it.
func platformVerificationUnavailable(process string) error {
	return kycd.NotAllowed(fmt.Sprintf("Platform-verified '%s' needs a verification provider: submit it partner-verified (with output), "+
		"or ingest a provider's verification through the KYC Connector", process), "permission-denied")
}

// submittable refuses an update the process's status or dependencies do
// not allow yet.
func (s *Service) submittable(st *state, code string) error {
	if st.procs[code].Status == kycd.StatusRunning || !s.dependenciesMet(st, code) {
		return notAllowed()
	}
	return nil
}

// resubmitted refuses the partner's own submission of a process that is
// already ok (Uphold's "Process Updates Not Allowed"). kycd's own sources
// (ingestions, checks, level approvals) submit with a key and may verify it
// again.
func resubmitted(st *state, code string, up *kycd.ProcessUpdate) error {
	if up.Key == "" && st.procs[code].Status == kycd.StatusOK {
		return notAllowed()
	}
	return nil
}

// updateIdentity records a partner-verified identity: by document
// submission (the document, the person it names and the media) or by
// electronic verification (the person's data). The identity fails, rather
// than being refused, when the person is underage, when the document is
// linked to another user of the tenant (duplicate), or when it names
// someone other than the profile (data-mismatch).
func (s *Service) updateIdentity(st *state, up *kycd.ProcessUpdate) (*change, error) {
	var reasons []string
	if st.user.FullName == "" {
		reasons = append(reasons, "missing-name")
	}
	if st.user.Birthdate == "" {
		reasons = append(reasons, "missing-birthdate")
	}
	out, who, err := s.partnerSubmission(st, kycd.ProcessIdentity, "identity", reasons, up, func(out *verificationOutput) error {
		if out.Document == nil {
			return kycd.Invalid("body", kycd.Violation{Property: "output", Rule: "required", RuleParams: map[string]any{"missingProperty": "document"}})
		}
		if !s.supported(out.Document.Country) {
			return countryNotSupported("output.document.country")
		}
		if out.Document.ExpiresAt != "" {
			return mustBeFuture(out.Document.ExpiresAt, "output.document.expiresAt", st.now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := &change{}
	reason := ""
	switch {
	case isUnderage(who.Birthdate, st):
		reason = "underage"
	case !sameName(fullName(who), st.user.FullName) || who.Birthdate != st.user.Birthdate:
		reason = "data-mismatch"
	}
	// A document without a number (an external check names only its type
	// and country) cannot be told apart from others of its kind.
	if reason == "" && out.Document != nil && normDocNumber(out.Document.Number) != "" {
		idx, err := s.vault.BlindIndex(st.ctx, st.user.TenantID, "identity.document",
			strings.Join([]string{out.Document.Type, out.Document.Country, normDocNumber(out.Document.Number)}, "|"))
		if err != nil {
			return nil, err
		}
		link, err := s.store.FindDocumentLink(st.ctx, st.user.TenantID, idx)
		if err != nil {
			return nil, err
		}
		switch {
		case link == nil || link.UserID == st.user.ID:
			c.docIndex = idx
		case link.Holds():
			reason = "duplicate"
		default:
			c.docIndex, c.docFrom = idx, link.UserID // released by its closed user
		}
	}
	// A verified document proves nationalities that screening must see,
	// even when the profile declares other citizenships; a later document
	// of another country adds to them (a person may hold two passports).
	if reason == "" {
		nats := slices.Clone(st.user.DocumentNationalities)
		for _, n := range provenNationalities(out, who) {
			if !slices.Contains(nats, n) {
				nats = append(nats, n)
			}
		}
		if len(nats) > len(st.user.DocumentNationalities) {
			u := *st.user
			u.DocumentNationalities = nats
			c.user = &u
		}
	}
	if err := s.settleSubmission(st, c, kycd.ProcessIdentity, up, out, reason); err != nil {
		return nil, err
	}
	return c, nil
}

// provenNationalities are the nationalities a verified identity proves: the
// issuing country of a passport or identity card (a driving licence or
// residence permit proves residence, not nationality), and the citizenship
// an electronic verification reads.
func provenNationalities(out *verificationOutput, who person) []string {
	var nats []string
	add := func(c string) {
		if c = strings.ToUpper(strings.TrimSpace(c)); len(c) == 2 && !slices.Contains(nats, c) {
			nats = append(nats, c)
		}
	}
	if d := out.Document; d != nil && (d.Type == "passport" || d.Type == "id-card") {
		add(d.Country)
	}
	add(who.CitizenshipCountry)
	return nats
}

// partnerSubmission checks what a partner-verified identity or proof of
// address share: declared information (reasons lists what is missing),
// the process's status and dependencies, the output (whose document
// submission-specific rules checkDocument adds), the media, and the person:
// from output.person for a document submission, from input.data for an
// electronic verification.
func (s *Service) partnerSubmission(st *state, code, what string, reasons []string, up *kycd.ProcessUpdate,
	checkDocument func(*verificationOutput) error) (*verificationOutput, person, error) {
	var who person
	in, err := inputOf[kycd.SubmissionInput](up)
	if err != nil {
		return nil, who, err
	}
	out, err := outputOf[kycd.VerificationOutput](up)
	if err != nil {
		return nil, who, err
	}
	if len(reasons) > 0 {
		return nil, who, kycd.NotAllowed("User cannot submit "+what+" due to incomplete declared information", reasons...)
	}
	if err := s.submittable(st, code); err != nil {
		return nil, who, err
	}
	if err := resubmitted(st, code, up); err != nil {
		return nil, who, err
	}
	if out == nil {
		return nil, who, platformVerificationUnavailable(code)
	}
	if _, err := verifiedAt(out.VerifiedAt, "output.verifiedAt", st.now); err != nil {
		return nil, who, err
	}
	switch up.Type {
	case kycd.TypeDocumentSubmission:
		if err := s.checkMedia(st, in.Media); err != nil {
			return nil, who, err
		}
		if out.Person == nil {
			return nil, who, kycd.Invalid("body", kycd.Violation{Property: "output", Rule: "required", RuleParams: map[string]any{"missingProperty": "person"}})
		}
		if err := checkDocument(out); err != nil {
			return nil, who, err
		}
		if err := s.checkPerson(out.Person, "output.person", st.now); err != nil {
			return nil, who, err
		}
		who = *out.Person
	case kycd.TypeElectronicVerification:
		if in.Data != nil {
			who = *in.Data
		}
		if err := s.checkPerson(&who, "input.data", st.now); err != nil {
			return nil, who, err
		}
	default:
		return nil, who, kycd.Invalid("body", kycd.Violation{Property: "type", Rule: "enum",
			RuleParams: map[string]any{"allowedValues": []string{kycd.TypeDocumentSubmission, kycd.TypeElectronicVerification}}})
	}
	return out, who, nil
}

// settleSubmission records a partner-verified submission in the change:
// failed with the reason, or ok. The process keeps the input and output
// as JSON objects, as the Core API shows them.
func (s *Service) settleSubmission(st *state, c *change, code string, up *kycd.ProcessUpdate, out *verificationOutput, reason string) error {
	p := st.editable(code)
	p.Type, p.Model = up.Type, kycd.ModelPartner
	var err error
	if p.Input, err = kycd.DataMap(up.Input); err != nil {
		return err
	}
	if p.Output, err = kycd.DataMap(out); err != nil {
		return err
	}
	p.Status = kycd.StatusOK
	if reason != "" {
		p.Status = kycd.StatusFailed
		p.Output["reason"] = reason
	}
	c.put(p)
	c.action = "kyc." + code + ".updated"
	c.details = map[string]any{"type": up.Type, "model": p.Model, "status": p.Status, "reason": reason, "provider": out.Provider}
	return nil
}

// isUnderage reports whether a birthdate is younger than the minimum age.
func isUnderage(birthdate string, st *state) bool {
	e, ok := kycd.AsError(kycd.CheckBirthdate(birthdate, "birthdate", st.now))
	return ok && e.Code == kycd.EDateInvalid && e.Details["rule"] == "difference-greater-than-or-equal-to-threshold"
}

// normDocNumber makes document numbers written with spaces, hyphens or in
// lower case compare equal.
func normDocNumber(n string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '/' {
			return -1
		}
		return r
	}, n))
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// updateProofOfAddress records a partner-verified proof of address: by
// document submission or electronic verification. It fails (address-mismatch,
// name-mismatch) when it proves another address or names someone else.
func (s *Service) updateProofOfAddress(st *state, up *kycd.ProcessUpdate) (*change, error) {
	var reasons []string
	if st.user.FullName == "" {
		reasons = append(reasons, "missing-name")
	}
	if !s.addressComplete(st.user.Address) {
		reasons = append(reasons, "incomplete-address")
	}
	out, who, err := s.partnerSubmission(st, kycd.ProcessProofOfAddress, "proof-of-address", reasons, up,
		func(*verificationOutput) error { return nil })
	if err != nil {
		return nil, err
	}
	reason := ""
	switch {
	case who.GivenName != "" && !sameName(fullName(who), st.user.FullName):
		reason = "name-mismatch"
	case who.Address == nil || !sameAddress(*who.Address, st.user.Address):
		reason = "address-mismatch"
	}
	c := &change{}
	if err := s.settleSubmission(st, c, kycd.ProcessProofOfAddress, up, out, reason); err != nil {
		return nil, err
	}
	return c, nil
}

// sameAddress reports whether a proven address is the declared one: same
// country, postal code and city (ignoring case, spacing and accents).
func sameAddress(proven, declared kycd.Address) bool {
	return proven.Country == declared.Country &&
		normDocNumber(proven.PostalCode) == normDocNumber(declared.PostalCode) &&
		(proven.City == "" || normName(proven.City) == normName(declared.City))
}

// updateEDD records partner-verified enhanced due diligence: the proof of
// the source of funds and when the partner verified it.
func (s *Service) updateEDD(st *state, up *kycd.ProcessUpdate) (*change, error) {
	in, err := inputOf[kycd.SubmissionInput](up)
	if err != nil {
		return nil, err
	}
	out, err := outputOf[kycd.VerifiedAtOutput](up)
	if err != nil {
		return nil, err
	}
	if err := s.submittable(st, kycd.ProcessEDD); err != nil {
		return nil, err
	}
	if err := resubmitted(st, kycd.ProcessEDD, up); err != nil {
		return nil, err
	}
	if err := s.checkMedia(st, in.Media); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, platformVerificationUnavailable(kycd.ProcessEDD)
	}
	at, err := verifiedAt(out.VerifiedAt, "output.verifiedAt", st.now)
	if err != nil {
		return nil, err
	}
	p := st.editable(kycd.ProcessEDD)
	p.Status, p.Model, p.Output = kycd.StatusOK, kycd.ModelPartner, map[string]any{"verifiedAt": at}
	if p.Input, err = kycd.DataMap(up.Input); err != nil {
		return nil, err
	}
	c := &change{action: "kyc.enhanced-due-diligence.updated", details: map[string]any{"model": p.Model}}
	c.put(p)
	return c, nil
}
