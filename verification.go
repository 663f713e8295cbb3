package kycd

import (
	"encoding/json"
	"fmt"
	"math"
)

// The typed inputs and outputs of process updates. Every surface that
// updates a process speaks them: the Core API decodes a request's input
// and output into the process's types (NewProcessInput, NewProcessOutput)
// after its JSON-schema validation; kycd's own services (the KYC
// Connector's ingestions, the checks, the levels' approvals) build them;
// the KYC service reads them. The compiler checks what every side writes,
// and the JSON names, which are the Core API's, live here once.
//
// Processes whose inputs have the same shape share a type: identity, proof
// of address and enhanced due diligence take a SubmissionInput; the form
// processes a FormInput. The answers of forms stay JSON objects: their
// shape is the form definition's (data, validated by the forms engine),
// not Go's.

// ProcessInput is the input of a process update: one of this package's
// input types (ProfileInput, AddressInput, EmailInput, PhoneInput,
// SubmissionInput, FormInput, TaxDetailsInput).
type ProcessInput interface{ processInput() }

// ProcessOutput is the output of a partner-verified process update: one of
// VerifiedAtOutput, VerificationOutput, FormOutput.
type ProcessOutput interface{ processOutput() }

// NewProcessInput returns an empty input of a process's type, to decode a
// request into; nil for a process that takes no update.
func NewProcessInput(code string) ProcessInput {
	switch code {
	case ProcessProfile:
		return &ProfileInput{}
	case ProcessAddress:
		return &AddressInput{}
	case ProcessEmail:
		return &EmailInput{}
	case ProcessPhone:
		return &PhoneInput{}
	case ProcessIdentity, ProcessProofOfAddress, ProcessEDD:
		return &SubmissionInput{}
	case ProcessCDD, ProcessCRA, ProcessSCS:
		return &FormInput{}
	case ProcessTaxDetails:
		return &TaxDetailsInput{}
	}
	return nil
}

// NewProcessOutput returns an empty output of a process's type, to decode
// a request into; nil for a process that takes no output.
func NewProcessOutput(code string) ProcessOutput {
	switch code {
	case ProcessEmail, ProcessPhone, ProcessEDD:
		return &VerifiedAtOutput{}
	case ProcessIdentity, ProcessProofOfAddress:
		return &VerificationOutput{}
	case ProcessCDD, ProcessCRA, ProcessSCS, ProcessTaxDetails:
		return &FormOutput{}
	}
	return nil
}

// ProfileInput is the profile process's input: each field given (not nil)
// updates the user's declared data.
type ProfileInput struct {
	FullName           *string     `json:"fullName,omitempty"`
	Birthdate          *string     `json:"birthdate,omitempty"`
	Birthplace         *Birthplace `json:"birthplace,omitempty"`
	PrimaryCitizenship *string     `json:"primaryCitizenship,omitempty"`
	// CitizenshipCountry is the deprecated name of PrimaryCitizenship,
	// used when PrimaryCitizenship is not given.
	CitizenshipCountry *string       `json:"citizenshipCountry,omitempty"`
	OtherCitizenships  []string      `json:"otherCitizenships,omitempty"`
	Address            *AddressPatch `json:"address,omitempty"`
	// Details answers the profile details form of the user's country (a
	// step's answers, as the form defines them).
	Details map[string]any `json:"details,omitempty"`
}

func (*ProfileInput) processInput() {}

// Given is s as an optional field of an input: nil (not given) when empty.
func Given(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AddressInput is the address process's input.
type AddressInput struct {
	Address AddressPatch `json:"address"`
}

func (*AddressInput) processInput() {}

// AddressPatch is an update of the parts of a residential address but its
// country: a part not given (nil) stays as it is; given empty (JSON null)
// it is cleared.
type AddressPatch struct {
	Subdivision *string `json:"subdivision,omitempty"`
	City        *string `json:"city,omitempty"`
	Line1       *string `json:"line1,omitempty"`
	Line2       *string `json:"line2,omitempty"`
	PostalCode  *string `json:"postalCode,omitempty"`
}

// UnmarshalJSON reads a part that is null as given and empty (the JSON
// decoder would leave it nil, as if not given).
func (p *AddressPatch) UnmarshalJSON(b []byte) error {
	var raw struct {
		Subdivision json.RawMessage `json:"subdivision"`
		City        json.RawMessage `json:"city"`
		Line1       json.RawMessage `json:"line1"`
		Line2       json.RawMessage `json:"line2"`
		PostalCode  json.RawMessage `json:"postalCode"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var next AddressPatch
	for _, f := range []struct {
		raw json.RawMessage
		dst **string
	}{{raw.Subdivision, &next.Subdivision}, {raw.City, &next.City}, {raw.Line1, &next.Line1}, {raw.Line2, &next.Line2}, {raw.PostalCode, &next.PostalCode}} {
		if f.raw == nil {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return err
		}
		if *f.dst == nil {
			*f.dst = new(string)
		}
	}
	*p = next
	return nil
}

// PatchOf is the patch that sets the parts of a that are set (its country
// is not part of a patch).
func PatchOf(a Address) AddressPatch {
	return AddressPatch{Subdivision: Given(a.Subdivision), City: Given(a.City), Line1: Given(a.Line1), Line2: Given(a.Line2),
		PostalCode: Given(a.PostalCode)}
}

// ApplyTo is a with the patch's parts.
func (p AddressPatch) ApplyTo(a Address) Address {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.Subdivision, p.Subdivision)
	set(&a.City, p.City)
	set(&a.Line1, p.Line1)
	set(&a.Line2, p.Line2)
	set(&a.PostalCode, p.PostalCode)
	return a
}

// EmailInput is the email process's input.
type EmailInput struct {
	Email string `json:"email"`
}

func (*EmailInput) processInput() {}

// PhoneInput is the phone process's input: a number in E.164 and the
// country that disambiguates it.
type PhoneInput struct {
	Phone   string `json:"phone"`
	Country string `json:"country"`
}

func (*PhoneInput) processInput() {}

// VerifiedAtOutput is the output of a partner-verified email, phone or
// enhanced due diligence: when the partner verified it.
type VerifiedAtOutput struct {
	VerifiedAt string `json:"verifiedAt"`
}

func (*VerifiedAtOutput) processOutput() {}

// SubmissionInput is the input of the identity, proof-of-address and
// enhanced due diligence processes: a document submission's files, or an
// electronic verification's data.
type SubmissionInput struct {
	Media []MediaItem     `json:"media,omitempty"`
	Data  *VerifiedPerson `json:"data,omitempty"`
}

func (*SubmissionInput) processInput() {}

// VerifiedPerson is who a partner verification names: in a document
// submission's output, or as an electronic verification's input data.
type VerifiedPerson struct {
	GivenName  string   `json:"givenName,omitempty"`
	FamilyName string   `json:"familyName,omitempty"`
	Birthdate  string   `json:"birthdate,omitempty"`
	Gender     string   `json:"gender,omitempty"`
	Address    *Address `json:"address,omitempty"`
	// CitizenshipCountry is given by electronic identity verifications.
	CitizenshipCountry string `json:"citizenshipCountry,omitempty"`
}

// VerifiedDocument is the document a partner verification read: an
// identity document, or a proof of address (with its issue date).
type VerifiedDocument struct {
	Type      string `json:"type"`
	Number    string `json:"number,omitempty"`
	Country   string `json:"country,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"`
	IssuedAt  string `json:"issuedAt,omitempty"`
}

// VerificationOutput is the output of a partner-verified identity or proof of
// address: who verified it and when, what document and person it read.
type VerificationOutput struct {
	Provider   string            `json:"provider"`
	Document   *VerifiedDocument `json:"document,omitempty"`
	Person     *VerifiedPerson   `json:"person,omitempty"`
	VerifiedAt string            `json:"verifiedAt"`
}

func (*VerificationOutput) processOutput() {}

// MediaItem is one file of a document submission's input.
type MediaItem struct {
	Context string `json:"context"`
	FileID  string `json:"fileId"`
}

// FormInput is the input of a form process (customer due diligence, crypto
// risk assessment, self-categorization): the form instance it answers
// (none: a new one) and one step's answers, as the form defines them.
type FormInput struct {
	FormID  string         `json:"formId,omitempty"`
	Answers map[string]any `json:"answers,omitempty"`
}

func (*FormInput) processInput() {}

// TaxDetailsInput is the tax details process's input: one step's answers
// of its form, the input object itself (taxResidency or taxIdentification).
type TaxDetailsInput struct {
	Answers map[string]any
}

func (*TaxDetailsInput) processInput() {}

// MarshalJSON encodes the answers as the input object.
func (in TaxDetailsInput) MarshalJSON() ([]byte, error) { return json.Marshal(in.Answers) }

// UnmarshalJSON decodes the input object as the answers.
func (in *TaxDetailsInput) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &in.Answers) }

// FormOutput is the output of a form process the partner ran and
// evaluated itself: the score (customer due diligence) or the result
// (crypto risk assessment, self-categorization, tax details), the attempts
// used, how long it holds and when it was verified.
type FormOutput struct {
	Score      string        `json:"score,omitempty"`
	Result     string        `json:"result,omitempty"`
	Attempts   *FormAttempts `json:"attempts,omitempty"`
	ExpiresAt  string        `json:"expiresAt,omitempty"`
	VerifiedAt string        `json:"verifiedAt"`
}

func (*FormOutput) processOutput() {}

// FormAttempts are the attempts of an assessment the partner ran: used of
// at most maximum.
type FormAttempts struct {
	Used    int `json:"used"`
	Maximum int `json:"maximum"`
}

// UnmarshalJSON reads the counts as JSON Schema's integers: numbers with
// no fraction, 1.0 as 1 (Go's decoder refuses a decimal point in an int).
func (a *FormAttempts) UnmarshalJSON(b []byte) error {
	var raw struct {
		Used    float64 `json:"used"`
		Maximum float64 `json:"maximum"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range []float64{raw.Used, raw.Maximum} {
		if f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
			return fmt.Errorf("kycd: attempts %v is not an integer kycd counts", f)
		}
	}
	a.Used, a.Maximum = int(raw.Used), int(raw.Maximum)
	return nil
}

// ProfileUpdate is an update of the profile process.
func ProfileUpdate(in ProfileInput) *ProcessUpdate {
	return &ProcessUpdate{Input: &in}
}

// AddressUpdate is an update of the address process: the parts of a that
// are set.
func AddressUpdate(a Address) *ProcessUpdate {
	return &ProcessUpdate{Input: &AddressInput{Address: PatchOf(a)}}
}

// DocumentSubmission is a partner-verified document submission of the
// identity or proof-of-address process: the files (none yet: the caller
// adds a SubmissionInput) and what they proved.
func DocumentSubmission(media []MediaItem, out VerificationOutput) *ProcessUpdate {
	up := &ProcessUpdate{Type: TypeDocumentSubmission, Output: &out}
	if len(media) > 0 {
		up.Input = &SubmissionInput{Media: media}
	}
	return up
}

// ElectronicVerification is a partner-verified electronic verification of
// the identity process: the person's data it confirmed, and by whom.
func ElectronicVerification(who VerifiedPerson, out VerificationOutput) *ProcessUpdate {
	return &ProcessUpdate{Type: TypeElectronicVerification, Input: &SubmissionInput{Data: &who}, Output: &out}
}
