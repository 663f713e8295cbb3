package kycd

// The typed contents of the process updates kycd's own services submit to
// the Core processes (the KYC Connector's ingestions, the checks, the
// levels' approvals). Each is encoded at the edge into the Core API's JSON
// shape that ProcessUpdate carries, and the KYC service reads partner
// verifications back into the same types: the compiler checks what every
// side writes, and the JSON names live here once.

// ProfileInput is the profile process's input as a service submits it:
// what is empty is left as it is.
type ProfileInput struct {
	FullName           string      `json:"fullName,omitempty"`
	Birthdate          string      `json:"birthdate,omitempty"`
	Birthplace         *Birthplace `json:"birthplace,omitempty"`
	PrimaryCitizenship string      `json:"primaryCitizenship,omitempty"`
}

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

// MediaItem is one file of a document submission's input.
type MediaItem struct {
	Context string `json:"context"`
	FileID  string `json:"fileId"`
}

// The constructors below encode plain data (strings and structs of
// strings), which cannot fail.

// plainMap is v, plain data, as the JSON object ProcessUpdate carries.
func plainMap(v any) map[string]any {
	m, err := DataMap(v)
	if err != nil {
		panic("kycd: plain data did not encode: " + err.Error())
	}
	return m
}

// ProfileUpdate is an update of the profile process.
func ProfileUpdate(in ProfileInput) *ProcessUpdate {
	return &ProcessUpdate{Input: plainMap(in)}
}

// AddressUpdate is an update of the address process: the fields of a that
// are set (an empty country included, unlike Address's JSON, is left out).
func AddressUpdate(a Address) *ProcessUpdate {
	m := plainMap(a)
	if a.Country == "" {
		delete(m, "country")
	}
	return &ProcessUpdate{Input: map[string]any{"address": m}}
}

// MediaInput is the input of a document submission: its files.
func MediaInput(media []MediaItem) map[string]any {
	items := make([]any, len(media))
	for i, m := range media {
		items[i] = map[string]any{"context": m.Context, "fileId": m.FileID}
	}
	return map[string]any{"media": items}
}

// DocumentSubmission is a partner-verified document submission of the
// identity or proof-of-address process: the files (none yet: the caller
// adds them with MediaInput) and what they proved.
func DocumentSubmission(media []MediaItem, out VerificationOutput) *ProcessUpdate {
	up := &ProcessUpdate{Type: TypeDocumentSubmission, Output: plainMap(out)}
	if len(media) > 0 {
		up.Input = MediaInput(media)
	}
	return up
}

// ElectronicVerification is a partner-verified electronic verification of
// the identity process: the person's data it confirmed, and by whom.
func ElectronicVerification(who VerifiedPerson, out VerificationOutput) *ProcessUpdate {
	return &ProcessUpdate{Type: TypeElectronicVerification, Input: map[string]any{"data": plainMap(who)}, Output: plainMap(out)}
}
