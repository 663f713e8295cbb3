package kyc

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
	"github.com/kycd/kycd/tin"
)

// profileRules are the profile's rules for the user as things stand.
func (s *Service) profileRules(st *state) map[string]policy.FieldRule {
	poa := st.procs[kycd.ProcessProofOfAddress]
	return s.policy.ProfileRules(st.user.Address.Country, policy.ProfileFacts{
		IdentityVerified:    st.procs[kycd.ProcessIdentity].Status == kycd.StatusOK,
		SubdivisionLocked:   st.user.Address.Subdivision != "" && !(poa.Status == kycd.StatusOK && poa.Model == kycd.ModelPartner),
		SubdivisionDeclared: st.user.Address.Subdivision != "",
	}, s.geo)
}

// profileComplete reports whether the user declared every required field,
// and the details the country of residence asks for.
func (s *Service) profileComplete(u *kycd.User, p *kycd.Process) bool {
	if u.FullName == "" || u.Birthdate == "" || u.PrimaryCitizenship == "" || !s.addressComplete(u.Address) {
		return false
	}
	if s.policy.BirthplaceRequired(u.Address.Country) && (u.Birthplace == nil || u.Birthplace.Country == "" || u.Birthplace.Town == "") {
		return false
	}
	return s.detailsComplete(u, p)
}

// detailsComplete reports whether the profile details form of the user's
// country (if it has one) is complete.
func (s *Service) detailsComplete(u *kycd.User, p *kycd.Process) bool {
	code := s.policy.ProfileDetailsForm(u.Address.Country)
	return code == "" || (p.Form != nil && p.Form.Code == code && p.Form.Completed)
}

// addressComplete reports whether an address has every part its country needs.
func (s *Service) addressComplete(a kycd.Address) bool {
	return a.Country != "" && a.City != "" && a.Line1 != "" &&
		(a.PostalCode != "" || !s.geo.UsesPostalCodes(a.Country)) &&
		(a.Subdivision != "" || !s.geo.RequiresSubdivision(a.Country))
}

// profileInput is the profile as declared, with the country's details.
func profileInput(u *kycd.User, p *kycd.Process) map[string]any {
	in := map[string]any{"address": u.Address}
	if u.FullName != "" {
		in["fullName"] = u.FullName
	}
	if u.Birthdate != "" {
		in["birthdate"] = u.Birthdate
	}
	if u.PrimaryCitizenship != "" {
		in["primaryCitizenship"] = u.PrimaryCitizenship
	}
	if len(u.OtherCitizenships) > 0 {
		in["otherCitizenships"] = u.OtherCitizenships
	}
	if u.Birthplace != nil {
		in["birthplace"] = u.Birthplace
	}
	if p.Form != nil && len(p.Form.Answers) > 0 {
		in["details"] = p.Form.Answers
	}
	return in
}

// ignored is the warning for a field dropped by a verification rule.
func ignored(property, rule string) Warning {
	why := "its presence is disallowed"
	if rule == "editable" {
		why = "it is not editable"
	}
	return Warning{Code: "verification_rule_violated", Message: fmt.Sprintf("Field '%s' was ignored as %s", property, why),
		Details: map[string]any{"property": property, "rule": rule}}
}

// updateProfile changes the user's declared data, field by field, under the
// profile's rules: a field whose presence is disallowed, or that is no
// longer editable, is ignored with a warning.
func (s *Service) updateProfile(st *state, up *kycd.ProcessUpdate) (*change, error) {
	in, err := inputOf[kycd.ProfileInput](up)
	if err != nil {
		return nil, err
	}
	req := *in
	if req.PrimaryCitizenship == nil {
		req.PrimaryCitizenship = req.CitizenshipCountry
	}
	rules := s.profileRules(st)
	c := &change{action: "kyc.profile.updated"}
	u := *st.user
	allowed := func(field string, differs bool) bool {
		r := rules[field]
		switch {
		case r.Presence == policy.Disallowed:
			c.warnings = append(c.warnings, ignored("input."+field, "presence"))
			return false
		case !r.Editable && differs:
			c.warnings = append(c.warnings, ignored("input."+field, "editable"))
			return false
		}
		return true
	}
	var changed []string
	if req.FullName != nil && allowed("fullName", *req.FullName != u.FullName) {
		if err := kycd.CheckName(*req.FullName, "input.fullName"); err != nil {
			return nil, err
		}
		u.FullName, changed = *req.FullName, append(changed, "fullName")
	}
	if req.Birthdate != nil && allowed("birthdate", *req.Birthdate != u.Birthdate) {
		if err := kycd.CheckBirthdate(*req.Birthdate, "input.birthdate", st.now); err != nil {
			return nil, err
		}
		u.Birthdate, changed = *req.Birthdate, append(changed, "birthdate")
	}
	// A country kycd accepts from nobody is refused whatever the rules
	// would do with the field.
	if req.Birthplace != nil && !s.supported(req.Birthplace.Country) {
		return nil, countryNotSupported("input.birthplace.country")
	}
	if req.Birthplace != nil && allowed("birthplace", true) {
		bp := *req.Birthplace
		u.Birthplace, changed = &bp, append(changed, "birthplace")
	}
	if req.PrimaryCitizenship != nil && allowed("primaryCitizenship", *req.PrimaryCitizenship != u.PrimaryCitizenship) {
		if !s.supported(*req.PrimaryCitizenship) {
			return nil, countryNotSupported("input.primaryCitizenship")
		}
		u.PrimaryCitizenship, changed = *req.PrimaryCitizenship, append(changed, "primaryCitizenship")
	}
	if req.OtherCitizenships != nil && allowed("otherCitizenships", true) {
		for i, cc := range req.OtherCitizenships {
			if !s.supported(cc) {
				return nil, countryNotSupported(fmt.Sprintf("input.otherCitizenships[%d]", i))
			}
		}
		u.OtherCitizenships, changed = slices.Clone(req.OtherCitizenships), append(changed, "otherCitizenships")
	}
	if req.Address != nil && allowed("address", true) {
		a, err := s.patchAddress(u.Address, *req.Address, rules["address"].Rules, "input.address", false, c)
		if err != nil {
			return nil, err
		}
		u.Address, changed = a, append(changed, "address")
	}
	p := st.editable(kycd.ProcessProfile)
	if req.Details != nil {
		form, err := s.profileDetails(st, p.Form, req.Details)
		if err != nil {
			return nil, err
		}
		if form == nil {
			c.warnings = append(c.warnings, ignored("input.details", "presence"))
		} else {
			p.Form, changed = form, append(changed, "details")
		}
	}
	c.user = &u
	c.put(p)
	c.details = map[string]any{"fields": changed, "ignored": len(c.warnings)}
	return c, nil
}

// profileDetails answers the profile details form of the user's country
// (one step per call, like every form); nil when the country asks for none.
func (s *Service) profileDetails(st *state, f *kycd.FormInstance, details map[string]any) (*kycd.FormInstance, error) {
	code := s.policy.ProfileDetailsForm(st.user.Address.Country)
	if code == "" {
		return nil, nil
	}
	def, ok := s.forms.Latest(code)
	if !ok {
		return nil, fmt.Errorf("kyc: profile details form %s is not loaded", code)
	}
	if f == nil || f.Code != code {
		f = &kycd.FormInstance{ID: uuid.NewString(), Code: def.Code, Version: def.Version, Answers: map[string]any{}}
	} else {
		cp := *f
		f = &cp
		if d, ok := s.forms.Version(f.Code, f.Version); ok {
			def = d
		}
	}
	prog, err := def.ApplyUnder("input.details", f.Answers, details)
	if err != nil {
		return nil, err
	}
	if id, _ := prog.Answers["identification"].(map[string]any); id != nil {
		if ssn, ok := id["ssn"].(string); ok {
			if valid, _ := tin.Valid(st.user.Address.Country, ssn); !valid {
				return nil, &kycd.Error{Code: kycd.EDocumentNumberInvalid, Message: "The provided document number is invalid",
					Details: map[string]any{"context": "body", "property": "input.details.identification.ssn"}}
			}
		}
	}
	f.Answers, f.Completed = prog.Answers, prog.Complete
	return f, nil
}

// patchAddress applies an address update part by part under the address's
// rules and checks the result.
// With strict (the address process, as Uphold's), changing a subdivision
// that is not editable is refused instead of ignored.
func (s *Service) patchAddress(a kycd.Address, patch kycd.AddressPatch, rules map[string]policy.FieldRule, prefix string, strict bool, c *change) (kycd.Address, error) {
	// A subdivision the country does not have is refused, as Uphold
	// documents it, before whether it may change at all is considered.
	if patch.Subdivision != nil && *patch.Subdivision != "" && !s.geo.IsSubdivisionOf(*patch.Subdivision, a.Country) {
		return a, &kycd.Error{Code: kycd.ESubdivisionNotSupported, Message: "The subdivision is not supported",
			Details: map[string]any{"context": "body", "property": prefix + ".subdivision"}}
	}
	if strict && patch.Subdivision != nil && *patch.Subdivision != a.Subdivision && a.Subdivision != "" && s.policy.SubdivisionFixed(a.Country) {
		return a, kycd.NotAllowed("Subdivision update is restricted by residence country", "subdivision-update-restricted-by-residence-country")
	}
	if strict && patch.Subdivision != nil && *patch.Subdivision != a.Subdivision && !rules["subdivision"].Editable {
		return a, kycd.NotAllowed("Partner-verified 'proof-of-address' is required to update subdivision", "subdivision-update-non-authoritative-proof-of-address")
	}
	drop := func(part string, v **string) {
		if *v == nil {
			return
		}
		if r, ok := rules[part]; ok && (r.Presence == policy.Disallowed || !r.Editable) {
			rule := "presence"
			if r.Presence != policy.Disallowed {
				rule = "editable"
			}
			c.warnings = append(c.warnings, ignored(prefix+"."+part, rule))
			*v = nil
		}
	}
	drop("subdivision", &patch.Subdivision)
	drop("city", &patch.City)
	drop("line1", &patch.Line1)
	drop("line2", &patch.Line2)
	drop("postalCode", &patch.PostalCode)
	next := patch.ApplyTo(a)
	if err := kycd.CheckAddress(next, prefix, s.geo); err != nil {
		if e, ok := kycd.AsError(err); ok && e.Details["property"] == prefix+".country" {
			// The country of residence is not part of the update.
			e.Details["property"] = "address.country"
		}
		return a, err
	}
	return next, nil
}

// supported reports whether a country may be named in a user's data: a
// country, and not one the policy onboards nobody from (citizenship, phone,
// documents and addresses of restricted countries are refused, as
// residence there is).
func (s *Service) supported(country string) bool {
	return s.geo.IsCountry(country) && !s.policy.Restricted(country)
}

func countryNotSupported(property string) error {
	return &kycd.Error{Code: kycd.ECountryNotSupported, Message: "The country is not supported",
		Details: map[string]any{"context": "body", "property": property}}
}

// updateAddress changes the user's residential address (the deprecated
// address process; the profile's address does the same).
func (s *Service) updateAddress(st *state, up *kycd.ProcessUpdate) (*change, error) {
	in, err := inputOf[kycd.AddressInput](up)
	if err != nil {
		return nil, err
	}
	c := &change{action: "kyc.address.updated"}
	u := *st.user
	a, err := s.patchAddress(u.Address, in.Address, s.profileRules(st)["address"].Rules, "input.address", true, c)
	if err != nil {
		return nil, err
	}
	u.Address = a
	c.user = &u
	c.put(st.editable(kycd.ProcessAddress))
	return c, nil
}

// verifiedAt checks a partner's verifiedAt: a time in the past.
func verifiedAt(s, property string, now time.Time) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", kycd.Invalid("body", kycd.Violation{Property: property, Rule: "format", RuleParams: map[string]any{"format": "date-time"}})
	}
	if t.After(now) {
		return "", dateInvalid("The date must be in the past", "difference-greater-than-threshold", property)
	}
	return s, nil
}

// mustBeFuture checks a date or date-time that must be after now.
func mustBeFuture(value, property string, now time.Time) error {
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, value); err != nil {
			return kycd.Invalid("body", kycd.Violation{Property: property, Rule: "format"})
		}
		t = t.Add(24*time.Hour - time.Nanosecond) // a date holds until its end
	}
	if !t.After(now) {
		return dateInvalid("The date must be in the future", "difference-less-than-threshold", property)
	}
	return nil
}

func dateInvalid(message, rule, property string) error {
	return &kycd.Error{Code: kycd.EDateInvalid, Message: message, Details: map[string]any{
		"rule": rule, "threshold": map[string]any{"limit": 0, "unit": "milliseconds"}, "context": "body", "property": property}}
}

// sameName reports whether two renderings of a person's name agree, ignoring
// case, accents, punctuation and spacing.
func sameName(a, b string) bool { return normName(a) == normName(b) }

func normName(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if strings.ContainsRune("-'’.,", r) {
			return ' '
		}
		return r
	}, foldAccents(strings.ToLower(s)))), " ")
}
