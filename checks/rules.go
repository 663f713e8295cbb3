package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kycd/kycd"
)

// Methods are the ways a KYC check may have identified the person.
var Methods = []string{"VIDEO_ID", "IN_PERSON", "EID", "PHOTO_ID_WITH_LIVENESS", "QES"}

// MethodPhotoLiveness is photo ident with a liveness check.
const MethodPhotoLiveness = "PHOTO_ID_WITH_LIVENESS"

// livenessRefusedIn are the countries of residence whose rules do not
// accept photo ident with liveness (Germany's AML act asks for video
// ident, in-person ident, eID or a qualified signature).
var livenessRefusedIn = []string{"DE"}

// KYCDocumentTypes are the identity documents a KYC check may rest on, with
// the Core KYC identity document type each becomes.
var KYCDocumentTypes = map[string]string{"PASSPORT": "passport", "ID_CARD": "id-card", "RESIDENCE_PERMIT": "residence-permit"}

// PORDocumentTypes are the documents a proof of residence may rest on.
var PORDocumentTypes = []string{"UTILITY_BILL", "BANK_STATEMENT", "RESIDENCE_REGISTRATION", "TAX_STATEMENT", "GOVERNMENT_LETTER"}

// Limits of the dates of a check.
const (
	// MaxConfirmationAgeMonths is how old check_confirmed_at may be.
	MaxConfirmationAgeMonths = 24
	// MaxIssuanceAgeMonths is how long before the check a proof of
	// residence may have been issued.
	MaxIssuanceAgeMonths = 6
	// clockSkew is how far in the future a time may be and still be taken
	// for now (the partner's clock runs ahead).
	clockSkew = 5 * time.Minute
)

// Geography is what the rules need to know of countries.
type Geography interface {
	IsCountry(code string) bool
	IsSubdivisionOf(code, country string) bool
	IsValidPostalCode(code, country string) bool
	UsesPostalCodes(country string) bool
}

func violation(property, rule string, params map[string]any) kycd.Violation {
	return kycd.Violation{Property: property, Rule: rule, RuleParams: params}
}

// Subdivision returns the ISO 3166-2 code of a state given with or without
// its country prefix ("BE" in DE → "DE-BE").
func Subdivision(state, country string) string {
	state = strings.ToUpper(strings.TrimSpace(state))
	if state == "" || strings.Contains(state, "-") {
		return state
	}
	return country + "-" + state
}

// AddressViolations checks a confirmed address: complete (line 1, city,
// country and, where the country uses them, a postcode of its format), a
// real country and subdivision, printable text, and neither a P.O. box
// (or another mail-only address) nor a c/o address.
func AddressViolations(a *kycd.ConfirmedAddress, prefix string, g Geography) []kycd.Violation {
	var vs []kycd.Violation
	fields := []struct{ name, value string }{
		{"address_line1", a.AddressLine1}, {"address_line2", a.AddressLine2}, {"postcode", a.Postcode},
		{"city", a.City}, {"state", a.State}, {"country", a.Country},
	}
	for _, f := range fields {
		p := prefix + "." + f.name
		switch {
		case strings.TrimSpace(f.value) == "":
			if f.name == "address_line1" || f.name == "city" || f.name == "country" || (f.name == "postcode" && g.UsesPostalCodes(a.Country)) {
				vs = append(vs, violation(p, "required", nil))
			}
			continue
		case strings.IndexFunc(f.value, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
			vs = append(vs, violation(p, "invalid_characters", nil))
			continue
		}
		switch f.name {
		case "address_line1", "address_line2", "city":
			if kycd.IsPOBox(f.value) {
				vs = append(vs, violation(p, "po_box", nil))
			} else if kycd.IsCareOf(f.value) {
				vs = append(vs, violation(p, "care_of", nil))
			}
		case "country":
			if !g.IsCountry(a.Country) {
				vs = append(vs, violation(p, "country_code", map[string]any{"format": "ISO 3166-1 alpha-2"}))
			}
		}
	}
	if !g.IsCountry(a.Country) {
		return vs
	}
	if a.State != "" && !g.IsSubdivisionOf(Subdivision(a.State, a.Country), a.Country) {
		vs = append(vs, violation(prefix+".state", "subdivision_code", map[string]any{"format": "ISO 3166-2", "country": a.Country}))
	}
	if strings.TrimSpace(a.Postcode) != "" && !g.IsValidPostalCode(strings.TrimSpace(a.Postcode), a.Country) {
		vs = append(vs, violation(prefix+".postcode", "postcode_format", map[string]any{"country": a.Country}))
	}
	return vs
}

// Request is a check as a partner records it.
type Request struct {
	Type        string
	ConfirmedAt time.Time
	Data        kycd.CheckData
}

// Violations checks a request's rules against the time now and the
// user's country of residence (the confirmed address's, else the declared
// one); the shape (required fields, formats, enums) is the schema's.
func Violations(req *Request, now time.Time, residence string, g Geography) []kycd.Violation {
	var vs []kycd.Violation
	d := req.Data
	today := now.UTC().Truncate(24 * time.Hour)
	switch {
	case req.ConfirmedAt.After(now.Add(clockSkew)):
		vs = append(vs, violation("check_confirmed_at", "date_not_in_future", nil))
	case req.ConfirmedAt.Before(now.AddDate(0, -MaxConfirmationAgeMonths, 0)):
		vs = append(vs, violation("check_confirmed_at", "date_max_age", map[string]any{"limit": MaxConfirmationAgeMonths, "unit": "months"}))
	}
	date := func(property, value string) (time.Time, bool) {
		t, err := time.Parse(time.DateOnly, value)
		if err != nil {
			vs = append(vs, violation(property, "format", map[string]any{"format": "date", "pattern": "YYYY-MM-DD"}))
			return t, false
		}
		return t, true
	}
	switch req.Type {
	case kycd.CheckKYC:
		if _, ok := KYCDocumentTypes[d.DocumentType]; !ok {
			vs = append(vs, violation("document_type", "enum", map[string]any{"allowedValues": slices.Sorted(maps.Keys(KYCDocumentTypes))}))
		}
		if t, ok := date("document_expiration_date", d.DocumentExpirationDate); ok && t.Before(today) {
			vs = append(vs, violation("document_expiration_date", "date_not_past", nil))
		}
		if !g.IsCountry(d.Nationality) {
			vs = append(vs, violation("nationality", "country_code", map[string]any{"format": "ISO 3166-1 alpha-2"}))
		}
		if strings.TrimSpace(d.Provider) == "" {
			vs = append(vs, violation("provider", "required", nil))
		}
		switch {
		case !slices.Contains(Methods, d.Method):
			vs = append(vs, violation("method", "enum", map[string]any{"allowedValues": Methods}))
		case d.Method == MethodPhotoLiveness && slices.Contains(livenessRefusedIn, residence):
			vs = append(vs, violation("method", "method_not_allowed_for_residence", map[string]any{"country": residence,
				"allowedValues": slices.DeleteFunc(slices.Clone(Methods), func(m string) bool { return m == MethodPhotoLiveness })}))
		}
	case kycd.CheckPOR:
		if !slices.Contains(PORDocumentTypes, d.DocumentType) {
			vs = append(vs, violation("document_type", "enum", map[string]any{"allowedValues": PORDocumentTypes}))
		}
		if t, ok := date("issuance_date", d.IssuanceDate); ok {
			confirmed := req.ConfirmedAt.UTC().Truncate(24 * time.Hour)
			switch {
			case t.After(confirmed) || t.After(today):
				vs = append(vs, violation("issuance_date", "date_not_after_confirmation", nil))
			case t.Before(confirmed.AddDate(0, -MaxIssuanceAgeMonths, 0)):
				vs = append(vs, violation("issuance_date", "date_max_age", map[string]any{"limit": MaxIssuanceAgeMonths, "unit": "months",
					"relativeTo": "check_confirmed_at"}))
			}
		}
		if d.ConfirmedAddress == nil {
			vs = append(vs, violation("confirmed_address", "required", nil))
		}
	case kycd.CheckInstrumentFit:
		if d.InstrumentSuitability == nil {
			vs = append(vs, violation("instrument_suitability", "required", nil))
		}
	}
	if d.ConfirmedAddress != nil {
		vs = append(vs, AddressViolations(d.ConfirmedAddress, "confirmed_address", g)...)
	}
	return vs
}

// describe names a violation for a log-free message.
func describe(vs []kycd.Violation) string {
	names := make([]string, 0, len(vs))
	for _, v := range vs {
		names = append(names, fmt.Sprintf("%s (%s)", v.Property, v.Rule))
	}
	return strings.Join(names, ", ")
}
