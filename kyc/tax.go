package kyc

import (
	"fmt"
	"slices"

	"golang.org/x/text/language"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
	"github.com/kycd/kycd/tin"
)

// The tax details form's steps, and the reason for a missing TIN that a
// country issuing TINs to everyone contradicts.
const (
	taxResidencyStep      = "taxResidency"
	taxIdentificationStep = "taxIdentification"
	reasonNotIssued       = "country-does-not-issue-document"
)

// taxHint is the tax details form for the user: once the tax residency is
// known, the identification step asks for exactly one TIN per country.
func (s *Service) taxHint(st *state, def *forms.Definition, lang language.Tag) map[string]any {
	h := def.Hint("", lang)
	countries := residencyCountries(st.procs[kycd.ProcessTaxDetails].Form)
	if len(countries) == 0 {
		return h
	}
	// This user's copy of the schema, with one document per country.
	schema := def.HintSchema(lang)
	h["schema"] = schema
	props := asMap(schema["properties"])
	ident := asMap(props[taxIdentificationStep])
	docs := asMap(asMap(ident["properties"])["documents"])
	if docs == nil {
		return h
	}
	var contains []any
	for _, c := range countries {
		contains = append(contains, map[string]any{
			"contains": map[string]any{"type": "object", "required": []any{"type", "country"},
				"properties": map[string]any{"type": map[string]any{"const": "tin"}, "country": map[string]any{"const": c}}},
			"minContains": 1, "maxContains": 1,
		})
	}
	docs["allOf"] = contains
	docs["minItems"], docs["maxItems"] = len(countries), len(countries)
	return h
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// residencyCountries returns the tax residency countries answered so far.
func residencyCountries(f *kycd.FormInstance) []string {
	if f == nil {
		return nil
	}
	res, _ := f.Answers[taxResidencyStep].(map[string]any)
	list, _ := res["countries"].([]any)
	var out []string
	for _, c := range list {
		if s, ok := c.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// updateTaxDetails answers one step of the tax details form: the countries
// of tax residency, then one tax identification number per country (or the
// reason there is none) with the certification. Numbers are checked with
// each country's check-digit rules; a reason a country's rules contradict is
// refused. With output, the partner verified the details.
func (s *Service) updateTaxDetails(st *state, up *kycd.ProcessUpdate) (*change, error) {
	var reasons []string
	if st.user.FullName == "" || st.user.Birthdate == "" {
		reasons = append(reasons, "incomplete-profile")
	}
	if !s.addressComplete(st.user.Address) {
		reasons = append(reasons, "incomplete-address")
	}
	in, err := inputOf[kycd.TaxDetailsInput](up)
	if err != nil {
		return nil, err
	}
	out, err := outputOf[kycd.FormOutput](up)
	if err != nil {
		return nil, err
	}
	if len(reasons) > 0 {
		return nil, kycd.NotAllowed("User cannot submit tax details due to incomplete declared information", reasons...)
	}
	if err := s.submittable(st, kycd.ProcessTaxDetails); err != nil {
		return nil, err
	}
	p := st.editable(kycd.ProcessTaxDetails)
	f := p.Form
	def, _ := s.forms.Latest(s.policy.Process(kycd.ProcessTaxDetails).Form)
	if f == nil || f.Completed {
		// Tax details may be updated at any time: a new answer starts a new
		// declaration from the last one.
		prev := map[string]any{}
		if f != nil {
			prev = f.Answers
		}
		f = &kycd.FormInstance{ID: uuid.NewString(), Code: def.Code, Version: def.Version, Answers: prev}
	} else {
		cp := *f
		f = &cp
		if d, ok := s.forms.Version(f.Code, f.Version); ok {
			def = d
		}
	}
	prog, err := def.ApplyUnder("input", f.Answers, in.Answers)
	if err != nil {
		return nil, err
	}
	if err := s.checkTaxAnswers(st, prog); err != nil {
		return nil, err
	}
	f.Answers = prog.Answers
	p.Form, p.Model, p.Output = f, kycd.ModelPlatform, nil
	c := &change{action: "kyc.tax-details.answered", details: map[string]any{"step": prog.Step, "reset": prog.Reset, "complete": prog.Complete}}
	switch {
	case out != nil:
		at, err := verifiedAt(out.VerifiedAt, "output.verifiedAt", st.now)
		if err != nil {
			return nil, err
		}
		f.Completed = true
		p.Model, p.Output = kycd.ModelPartner, map[string]any{"result": out.Result, "verifiedAt": at}
		p.Status = kycd.StatusOK
		if out.Result == "rejected" {
			p.Status = kycd.StatusFailed
		}
	case prog.Complete:
		f.Completed = true
		p.Status = kycd.StatusRunning
		c.jobs = append(c.jobs, kycd.EvaluateArgs{TenantID: st.user.TenantID, UserID: st.user.ID, Process: kycd.ProcessTaxDetails, FormID: f.ID})
	default:
		p.Status = kycd.StatusPending
	}
	c.put(p)
	return c, nil
}

// checkTaxAnswers checks what the schema cannot: real countries, one
// document per residency country, numbers with valid check digits, reasons
// that fit the country, and a signature that is the user's name.
func (s *Service) checkTaxAnswers(st *state, prog *forms.Progress) error {
	countries := residencyCountries(&kycd.FormInstance{Answers: prog.Answers})
	for i, c := range countries {
		if !s.supported(c) {
			return countryNotSupported(fmt.Sprintf("input.taxResidency.countries[%d]", i))
		}
	}
	ident, _ := prog.Answers[taxIdentificationStep].(map[string]any)
	if ident == nil {
		return nil
	}
	docs, _ := ident["documents"].([]any)
	seen := map[string]bool{}
	for i, d := range docs {
		doc, _ := d.(map[string]any)
		country, _ := doc["country"].(string)
		prop := fmt.Sprintf("input.taxIdentification.documents[%d]", i)
		if !slices.Contains(countries, country) || seen[country] {
			return kycd.Invalid("body", kycd.Violation{Property: prop + ".country", Rule: "enum",
				RuleParams: map[string]any{"allowedValues": countries, "unique": true}})
		}
		seen[country] = true
		if number, ok := doc["number"].(string); ok {
			if valid, _ := tin.Valid(country, number); !valid {
				return &kycd.Error{Code: kycd.EDocumentNumberInvalid, Message: "The provided document number is invalid",
					Details: map[string]any{"context": "body", "property": prop + ".number"}}
			}
		}
		if reason, ok := doc["reason"].(string); ok && reason == reasonNotIssued && slices.Contains(tin.Checked, country) {
			return &kycd.Error{Code: kycd.EDocumentReasonNotSupported, Message: "The provided document reason is not supported",
				Details: map[string]any{"context": "body", "property": prop + ".reason"}}
		}
	}
	if prog.Complete || len(docs) > 0 {
		for _, c := range countries {
			if !seen[c] && len(docs) > 0 {
				return kycd.Invalid("body", kycd.Violation{Property: "input.taxIdentification.documents", Rule: "contains",
					RuleParams: map[string]any{"country": c}})
			}
		}
	}
	if sig, ok := ident["signature"].(string); ok && !sameName(sig, st.user.FullName) {
		return &kycd.Error{Code: kycd.ECertificationSignatureMismatch, Message: "The signature does not match the user's full name",
			Details: map[string]any{"context": "body", "property": "input.taxIdentification.signature"}}
	}
	return nil
}
