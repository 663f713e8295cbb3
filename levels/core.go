package levels

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

// reviewProvider names, in the Core processes, who verified what an
// approved application collected: the tenant's compliance review.
const reviewProvider = "kycd-level-review"

// identityDocuments are the document keys that prove an identity.
var identityDocuments = []string{"passport", "id_card_front_side", "id_card_back_side", "driver_license_front_side", "driver_license_back_side",
	"residence_permit_license_front_side", "residence_permit_license_back_side"}

// Sync submits what an approved application collected into the Core KYC
// processes, through the same KYC service as the Core API, so that the
// overview and capabilities agree with the level: the profile (names,
// birth date, citizenship), the address, a partner-verified identity when
// the level asked for an identity document, and a partner-verified proof
// of address when it asked for one. Values the client gave in earlier
// approved applications complete this one's (the names of the entry
// level). Each submission is keyed by application and process (at most
// once); what each came to is kept in the application (data.core). A
// refusal is recorded, not retried; other failures are (the job retries).
func (s *Service) Sync(ctx context.Context, tenantID, id string) error {
	a, err := s.Store.FindApplication(ctx, kycd.ApplicationKey{TenantID: tenantID, ID: id})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if a.Status != kycd.ApplicationApproved || a.Data.Core != nil || s.KYC == nil {
		return nil
	}
	cat, err := s.catalogOf(ctx, a)
	if err != nil {
		return err
	}
	level, ok := cat.Level(a.LevelID)
	if !ok {
		return nil
	}
	apps, err := s.Store.FindApplications(ctx, kycd.UserRef{TenantID: tenantID, UserID: a.UserID})
	if err != nil {
		return err
	}
	values := map[string]string{}
	for _, x := range apps { // oldest first: newer values win
		if x.Status != kycd.ApplicationApproved {
			continue
		}
		for k, v := range x.Data.Attributes {
			if str, ok := v.Value.(string); ok {
				values[k] = str
			}
		}
	}
	asked := level.Attributes()
	has := func(keys ...string) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(asked, k) && values[k] != "" })
	}
	ref := &kycd.User{ID: a.UserID, TenantID: tenantID}
	results := map[string]string{}
	submit := func(code string, up *kycd.ProcessUpdate) error {
		up.Key = "level/" + a.ID + "/" + code
		_, _, err := s.KYC.UpdateProcess(ctx, ref, code, up)
		refused, err := kycd.SubmissionRefusal(err)
		switch {
		case err != nil:
			return err
		case refused == nil:
			results[code] = "submitted"
		default:
			why := refused.Code
			if rs, ok := refused.Details["reasons"].([]string); ok && len(rs) > 0 {
				why += ": " + strings.Join(rs, ", ")
			}
			results[code] = why
		}
		return nil
	}
	verifiedAt := s.Clock.Now().UTC()
	if a.DecidedAt != nil {
		verifiedAt = a.DecidedAt.UTC()
	}
	fullName := strings.TrimSpace(values["first_name"] + " " + values["last_name"])
	if has("first_name", "last_name", "birth_date", "citizenship") {
		in := kycd.ProfileInput{Birthdate: kycd.Given(values["birth_date"]), PrimaryCitizenship: kycd.Given(values["citizenship"])}
		if values["first_name"] != "" && values["last_name"] != "" {
			in.FullName = &fullName
		}
		if err := submit(kycd.ProcessProfile, kycd.ProfileUpdate(in)); err != nil {
			return err
		}
	}
	addr := kycd.Address{Line1: values["street"], City: values["city"], PostalCode: values["postal_code"]}
	if has("street", "city", "postal_code") {
		if err := submit(kycd.ProcessAddress, kycd.AddressUpdate(addr)); err != nil {
			return err
		}
	}
	verified := kycd.VerificationOutput{Provider: reviewProvider, VerifiedAt: verifiedAt.Format(time.RFC3339)}
	if has(identityDocuments...) {
		who := kycd.VerifiedPerson{GivenName: values["first_name"], FamilyName: values["last_name"], Birthdate: values["birth_date"],
			CitizenshipCountry: values["citizenship"]}
		if err := submit(kycd.ProcessIdentity, kycd.ElectronicVerification(who, verified)); err != nil {
			return err
		}
	}
	if has("proof_of_address") {
		d, err := s.Store.FindDocument(ctx, tenantID, a.UserID, values["proof_of_address"])
		if err != nil && kycd.ErrorCode(err) != kycd.ENotFound {
			return err
		}
		var media []kycd.MediaItem
		if d != nil {
			for _, f := range d.FileIDs {
				media = append(media, kycd.MediaItem{FileID: f, Context: "address-proof"})
			}
		}
		proven := addr
		proven.Country = values["country_of_residence"]
		por := verified
		por.Person = &kycd.VerifiedPerson{GivenName: values["first_name"], FamilyName: values["last_name"], Address: &proven}
		if err := submit(kycd.ProcessProofOfAddress, kycd.DocumentSubmission(media, por)); err != nil {
			return err
		}
	}
	a.Data.Core = results
	return s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, false, "kyc-application.core-synced", map[string]any{"core": results}))
}
