package kycd

import (
	"context"
	"time"
)

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

// ListVersion is one imported version of a screening list: what a screening
// was made against (cases and the screening process name it) and what the
// operator sees of each source.
type ListVersion struct {
	Source string `json:"source"`
	// Format is the parser that read it (a source name, or FormatJSONL).
	Format string `json:"format"`
	// Version counts the source's imports that changed it, from 1.
	Version int `json:"version"`
	// Digest identifies the version's content (the same entries give the
	// same digest, whatever their order): an import whose digest is the
	// current one's changes nothing.
	Digest     string    `json:"digest"`
	ImportedAt time.Time `json:"importedAt"`
	// Origin says where the data came from (a file name, a URL), without
	// secrets.
	Origin string `json:"origin,omitempty"`
	// Entries and Names count the version's listings and their names.
	Entries int `json:"entries"`
	Names   int `json:"names"`
	// Added, Changed and Removed count the listings of the delta from the
	// version before.
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
}

// Kinds of a listing's change from one version of its list to the next.
const (
	ListAdded   = "added"
	ListChanged = "changed"
	ListRemoved = "removed"
)

// ListChange is one listing's change in a version of its list.
type ListChange struct {
	EntryID string `json:"entryId"`
	Kind    string `json:"kind"` // ListAdded, ListChanged or ListRemoved
	// Name is the listing's primary name (its last one when removed).
	Name string `json:"name"`
}

// ListChangeFilter selects a page of a version's delta: the changes of one
// kind ("" for every kind) whose listing id comes after After, at most Limit
// of them (0: no limit).
type ListChangeFilter struct {
	Kind  string
	After string
	Limit int
}

// StoredEntry is a listing with the digest of its content, as kept.
type StoredEntry struct {
	ListEntry
	Digest string
}

// ListImport is one import that changes a list, as the screening service
// computed it: the new version, the listings added or changed, the ids of
// those removed, and what the import starts (re-screening jobs) and records.
type ListImport struct {
	Version ListVersion
	// Previous is the version the import was computed against (0: none);
	// the store refuses with EStale when it is no longer the current one.
	Previous int
	Upserts  []StoredEntry
	Removed  []string
	// Changes is the delta, one per listing added, changed or removed.
	Changes []ListChange
	Jobs    []JobArgs
	// Action and Details are the audit entry recorded in every tenant's
	// chain (each tenant screens against every list).
	Action  string
	Details map[string]any
}

// ListEntryFilter selects listings. Its zero value selects every current
// listing of every source.
type ListEntryFilter struct {
	// Source, when set, selects one source's listings.
	Source string
	// IDs, when set, selects these listings of Source (Source is required).
	IDs []string
}

// ScreeningListStore keeps the screening lists: every source's current
// listings and the history of its versions. Lists are system-wide.
type ScreeningListStore interface {
	// FindListVersions returns the current version of every source, by
	// source name.
	FindListVersions(ctx context.Context) ([]*ListVersion, error)
	// FindListHistory returns a source's versions, newest first, at most
	// limit of them.
	FindListHistory(ctx context.Context, source string, limit int) ([]*ListVersion, error)
	// FindListChanges returns the delta of one version of a source, by
	// listing id, as the filter selects (its zero value: all of it);
	// ENotFound "list-version" when the version does not exist.
	FindListChanges(ctx context.Context, source string, version int, f ListChangeFilter) ([]ListChange, error)
	// FindListDigests returns the digest of every current listing of a
	// source, by listing id.
	FindListDigests(ctx context.Context, source string) (map[string]string, error)
	// FindListEntries returns the current listings the filter selects.
	FindListEntries(ctx context.Context, f ListEntryFilter) ([]*StoredEntry, error)
	// SaveListImport applies an import in one transaction: the version, the
	// listings, the delta, the jobs and an audit entry in every tenant's
	// chain. EStale when the source's current version is not Previous.
	SaveListImport(ctx context.Context, imp *ListImport) error
}
