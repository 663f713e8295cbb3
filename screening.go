package kycd

// Screening list sources: the publishers' formats kycd reads. An operator's
// own lists (a PEP list, an internal watchlist) use kycd's JSON Lines format
// under a source name of their choosing.
const (
	SourceOFACSDN = "ofac-sdn" // US Treasury OFAC SDN, legacy CSV set
	SourceUN      = "un"       // UN Security Council consolidated list, XML
	SourceEUFSF   = "eu-fsf"   // EU Financial Sanctions Files, XML
	FormatJSONL   = "kycd-jsonl"
)

// Kinds of listed parties.
const (
	EntryPerson       = "person"
	EntryOrganization = "organization"
	EntryVessel       = "vessel"
	EntryAircraft     = "aircraft"
)

// Kinds of listed names.
const (
	NamePrimary = "primary" // the name of the listing
	NameAlias   = "aka"     // also known as
	NameFormer  = "fka"     // formerly known as
	NameNow     = "nka"     // now known as
)

// ListEntry is one listing of a screening list, as its publisher states it:
// what the screening matcher compares users with and what a case shows a
// reviewer. It is also one line of kycd's JSON Lines list format (the JSON
// names below are that format's contract).
type ListEntry struct {
	// Source names the list ("ofac-sdn", "un", "eu-fsf" or an operator's).
	Source string `json:"source"`
	// ID is the publisher's identifier of the listing, stable across the
	// list's versions (OFAC ent_num, UN REFERENCE_NUMBER, EU logicalId).
	ID string `json:"id"`
	// Type is EntryPerson, EntryOrganization, EntryVessel or EntryAircraft.
	Type string `json:"type"`
	// Names holds every name of the listing: the primary first, then each
	// alias, including names written in their original script.
	Names []ListName `json:"names"`
	// BirthDates are the stated dates of birth (persons), possibly several.
	BirthDates []ListDate `json:"birthDates,omitempty"`
	// BirthPlaces are the stated places of birth, as written.
	BirthPlaces []string `json:"birthPlaces,omitempty"`
	// Nationalities are ISO 3166-1 alpha-2 codes where the publisher's
	// country could be read as one; citizenship counts as nationality.
	Nationalities []string `json:"nationalities,omitempty"`
	// Countries are the ISO 3166-1 alpha-2 codes of the stated addresses.
	Countries []string `json:"countries,omitempty"`
	// Identifiers are passports, national ids, registration numbers, ...
	Identifiers []ListIdentifier `json:"identifiers,omitempty"`
	// Programmes are the sanctions programmes or regimes of the listing.
	Programmes []string `json:"programmes,omitempty"`
	// Remarks is the publisher's free text about the listing.
	Remarks string `json:"remarks,omitempty"`
	// ListedOn is the date of listing (YYYY-MM-DD) when stated.
	ListedOn string `json:"listedOn,omitempty"`
}

// ListName is one name of a listing.
type ListName struct {
	// Full is the whole name as the publisher writes it ("LAST, First" for
	// OFAC individuals).
	Full string `json:"full"`
	// Kind is NamePrimary, NameAlias, NameFormer or NameNow.
	Kind string `json:"kind"`
	// Weak marks a name the publisher calls weak or of low quality (OFAC's
	// weak a.k.a., UN QUALITY "Low", EU strong="false").
	Weak bool `json:"weak,omitempty"`
	// Script is the ISO 15924 code of the name's script when it is not
	// Latin ("Arab", "Cyrl", "Hani", "Hang", ...), empty for Latin.
	Script string `json:"script,omitempty"`
	// Given and Family are the name's parts when the publisher states them
	// separately (UN FIRST_NAME/SECOND_NAME..., EU firstName/lastName).
	Given  string `json:"given,omitempty"`
	Family string `json:"family,omitempty"`
}

// ListDate is a stated date of birth: exact, a year alone, a year with its
// month, a range of years, or approximate (circa).
type ListDate struct {
	Year  int `json:"year"`
	Month int `json:"month,omitempty"` // 0 when not stated
	Day   int `json:"day,omitempty"`   // 0 when not stated
	// ToYear closes a range of years (from Year to ToYear); 0 when none.
	ToYear int `json:"toYear,omitempty"`
	// Circa marks an approximate date.
	Circa bool `json:"circa,omitempty"`
}

// ListIdentifier is a document or registration number of a listing.
type ListIdentifier struct {
	Type    string `json:"type"`              // "passport", "national-id", "registration", "tax-id", ...
	Number  string `json:"number"`            // as written
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2 of the issuer, when stated
}
