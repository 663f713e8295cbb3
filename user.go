package kycd

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// User types.
const (
	UserIndividual = "individual"
	UserBusiness   = "business"
)

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code and
// Subdivision an ISO 3166-2 code.
type Address struct {
	Country     string `json:"country"`
	Subdivision string `json:"subdivision,omitempty"`
	City        string `json:"city,omitempty"`
	Line1       string `json:"line1,omitempty"`
	Line2       string `json:"line2,omitempty"`
	PostalCode  string `json:"postalCode,omitempty"`
}

// Phone is a phone number in E.164 with the country that disambiguates it.
type Phone struct {
	Number  string `json:"number"`
	Country string `json:"country"`
}

// Birthplace is where a person was born: an ISO 3166-1 alpha-2 country and a town.
type Birthplace struct {
	Country string `json:"country"`
	Town    string `json:"town"`
}

// EndUserContext is what the partner tells about the end user behind a call
// (the X-Uphold-User-* headers). It is personal data and stored encrypted.
type EndUserContext struct {
	IP          string `json:"ip,omitempty"`
	UserAgent   string `json:"userAgent,omitempty"`
	Origin      string `json:"origin,omitempty"`
	Country     string `json:"country,omitempty"`
	Subdivision string `json:"subdivision,omitempty"`
	City        string `json:"city,omitempty"`
}

// User is an end customer of a tenant, the subject of the KYC processes.
// Every personal field is encrypted at rest with the tenant's data key.
type User struct {
	ID                 string      `json:"id"`
	TenantID           string      `json:"-"`
	Type               string      `json:"type"`
	Email              string      `json:"email"`
	FullName           string      `json:"fullName,omitempty"`
	Birthdate          string      `json:"birthdate,omitempty"`
	PrimaryCitizenship string      `json:"primaryCitizenship,omitempty"`
	Address            Address     `json:"address"`
	Phone              *Phone      `json:"phone,omitempty"`
	Birthplace         *Birthplace `json:"birthplace,omitempty"`
	OtherCitizenships  []string    `json:"otherCitizenships,omitempty"`
	// DocumentNationalities are the nationalities verified identities
	// prove: the issuing country of a passport or identity card, and the
	// citizenship an electronic verification gives. Screening uses them
	// beside the declared citizenships (every document verified adds its
	// own); they are not part of the profile.
	DocumentNationalities []string `json:"-"`
	TermsOfService        string   `json:"-"`
	// LegalEntityType is a business's legal form (Uphold's
	// legalEntityType: private-limited-company, ...); empty for individuals.
	LegalEntityType string         `json:"-"`
	Metadata        map[string]any `json:"-"`
	// CreatedContext is the end-user context recorded when the user was created.
	CreatedContext EndUserContext `json:"-"`
	// PartnerOnboardedAt is when the partner onboarded the user, as
	// Uphold's legacy request shape gives it (encrypted with the rest).
	PartnerOnboardedAt *time.Time `json:"-"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	DeletedAt          *time.Time `json:"-"`
}

// UserDeletion is why a user was deleted (Uphold's review object).
type UserDeletion struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// UserCreated is the change that records a new user: its event, which
// carries the id only (the outbox is not sealed: the webhook dispatcher
// completes it), its audit entry and the jobs its creation starts. It
// chooses the user's ID when the caller has not: the event names it.
func UserCreated(u *User, jobs ...JobArgs) Change {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	return Change{
		Events: []*Event{{TenantID: u.TenantID, Type: EventUserCreated, EntityType: "user", EntityID: u.ID, Data: map[string]any{"userId": u.ID}}},
		Jobs:   jobs,
		Audit:  AuditRecord{Action: "user.created", EntityType: "user", EntityID: u.ID, Details: map[string]any{"type": u.Type, "termsOfService": u.TermsOfService}},
	}
}

// UserDeleted is the change that records a user's closure: its event and
// its audit entry. The free-text note may name people: the store keeps it
// encrypted, and the audit trail says only whether there is one.
func UserDeleted(tenantID, id string, why UserDeletion) Change {
	return Change{
		Events: []*Event{{TenantID: tenantID, Type: EventUserDeleted, EntityType: "user", EntityID: id, Data: map[string]any{"userId": id, "reason": why.Reason}}},
		Audit:  AuditRecord{Action: "user.deleted", EntityType: "user", EntityID: id, Details: map[string]any{"reason": why.Reason, "hasNote": why.Note != ""}},
	}
}

// UserDeletionReasons are the accepted deletion reasons.
var UserDeletionReasons = []string{
	"business-decision", "closure-per-user-request", UserDeletionCompliance, UserDeletionFraud, "other",
}

// The deletion reasons that close a user for a violation: the user keeps
// their identity documents (DocumentLink.Holds).
const (
	UserDeletionCompliance = "compliance-violation"
	UserDeletionFraud      = "fraud-violation"
)

// UserService manages users. Every method is scoped to one tenant: a user of
// another tenant is reported as not found.
type UserService interface {
	// CreateUser checks a new user against the tenant's policy and
	// validates it, stores it, setting ID, CreatedAt, UpdatedAt, and starts
	// what a new user needs (screening). Returns EEmailAlreadyExists or
	// EPhoneAlreadyExists when another live user of the tenant has the same
	// email or phone. Metadata over MetadataLimit is dropped, not refused:
	// the user is created without it and metadataRefused says why.
	CreateUser(ctx context.Context, u *User) (metadataRefused *Error, err error)
	// FindUserByID returns ENotFound ("user") for unknown, deleted or
	// other-tenant users.
	FindUserByID(ctx context.Context, tenantID, id string) (*User, error)
	// FindUserByContact returns the live user of a tenant with an email
	// (any case) or a phone number (E.164), through their blind indexes:
	// channel is ChannelEmail or ChannelPhone. ENotFound ("user") when
	// there is none.
	FindUserByContact(ctx context.Context, tenantID, channel, value string) (*User, error)
	// DeleteUser closes a user. Its records are kept (encrypted) for the
	// retention period but it no longer appears through the API, and its email
	// and phone may be used again. Returns ENotFound ("user").
	DeleteUser(ctx context.Context, tenantID, id string, why UserDeletion) error
}

// UserStore keeps users. Every method is scoped to one tenant: a user of
// another tenant is reported as not found.
type UserStore interface {
	// CreateUser stores a validated user whose ID the caller chose, with the
	// change that records it (UserCreated), in one transaction, setting
	// CreatedAt and UpdatedAt. Returns EEmailAlreadyExists or
	// EPhoneAlreadyExists when another live user of the tenant has the same
	// email or phone.
	CreateUser(ctx context.Context, u *User, c Change) error
	// FindUserByID returns ENotFound ("user") for unknown, deleted or
	// other-tenant users.
	FindUserByID(ctx context.Context, tenantID, id string) (*User, error)
	// FindUserByContact: see UserService.FindUserByContact.
	FindUserByContact(ctx context.Context, tenantID, channel, value string) (*User, error)
	// DeleteUser closes a user (see UserService.DeleteUser), with the change
	// that records it (UserDeleted).
	DeleteUser(ctx context.Context, tenantID, id string, why UserDeletion, c Change) error
	// FindUsersByID returns the tenant's users among ids, in one read, in
	// no particular order, closed ones included until they are erased
	// (what the events of a user's creation and deletion carry). Unknown
	// ids and ids that are not UUIDs are left out.
	FindUsersByID(ctx context.Context, tenantID string, ids []string) ([]*User, error)
}

// UserRef names a user of a tenant.
type UserRef struct {
	TenantID string
	UserID   string
}

// UserEraser ends the retention of closed users: once the operator's
// retention period has passed since a user was closed, everything kycd kept
// about them goes (docs/operations.md).
type UserEraser interface {
	// FindClosedUsers returns users closed before a time, longest closed
	// first.
	FindClosedUsers(ctx context.Context, before time.Time, limit int) ([]UserRef, error)
	// UserBlobKeys returns the keys of the stored contents of a user's files.
	UserBlobKeys(ctx context.Context, u UserRef) ([]string, error)
	// EraseUser removes a closed user and every row about them (processes,
	// files, checks, ingestions, applications, codes, documents, terms
	// acceptances), in one transaction with the tenant's audit entry
	// user.erased (ids and dates only). ENotFound ("user") for a user who is
	// not closed.
	EraseUser(ctx context.Context, u UserRef) error
}

// Geography answers questions about countries, subdivisions and phone numbers
// (implemented over maintained ISO 3166 and libphonenumber data by package geo).
type Geography interface {
	// IsCountry reports whether code is an ISO 3166-1 alpha-2 country code.
	IsCountry(code string) bool
	// IsSubdivisionOf reports whether code is an ISO 3166-2 subdivision of country.
	IsSubdivisionOf(code, country string) bool
	// RequiresSubdivision reports whether addresses in country must name one.
	RequiresSubdivision(country string) bool
	// IsValidPhone reports whether an E.164 number is a valid number of country.
	IsValidPhone(number, country string) bool
	// UsesPostalCodes reports whether addresses in country have postal codes.
	UsesPostalCodes(country string) bool
	// IsValidPostalCode reports whether code has the postal code format of country.
	IsValidPostalCode(code, country string) bool
}

// Age limits of individual users.
const (
	MinimumAge = 18
	MaximumAge = 100
)

// poBox matches post office boxes and other mail-only addresses, in
// English, German and a few other languages: "PO Box", "P.O. Box", "Post
// Office Box", "Postfach", "Postschließfach", "Postlagernd", "Packstation",
// "Postfiliale", "Poste restante", "Boîte postale", "Apartado de correos", ...
var poBox = regexp.MustCompile(`(?i)(^|[^\pL\pN])(p\.?\s*o\.?\s*box|p\.?\s*o\.?\s*b\.|post\s*office\s*box|postbox|post\s*fach|postschlie(ß|ss)fach|postlagernd|packstation|postfiliale|poste\s+restante|bo[iî]te\s+postale|casella\s+postale|apartado\s+de\s+correos|apartado\s+postal|caixa\s+postal)($|[^\pL])`)

// careOf matches addresses in someone else's care: "c/o", "care of", and
// the German "z. Hd.", "zu Händen", "p. A." / "per Adresse".
var careOf = regexp.MustCompile(`(?i)(^|[^\pL\pN])(c\s*/\s*o|c\.\s*o\.|care\s+of|in\s+care\s+of|z\.?\s*hd\.?|zu\s+h(ä|ae)nden|p\.\s*a\.|per\s+adr(esse|\.))($|[^\pL])`)

// refuse returns a business rule error naming the property it concerns.
func refuse(code, message, property string, extra map[string]any) error {
	d := map[string]any{"context": "body", "property": property}
	for k, v := range extra {
		d[k] = v
	}
	return &Error{Code: code, Message: message, Details: d}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// CheckAddress checks the rules of an address a schema cannot express: a
// known country, a subdivision of it (required where the country needs
// one), no P.O. box, and a postal code of the country's format. Properties
// are named under prefix ("address", "input.address").
func CheckAddress(a Address, prefix string, g Geography) error {
	if !g.IsCountry(a.Country) {
		return refuse(ECountryNotSupported, "The country is not supported", join(prefix, "country"), nil)
	}
	if a.Subdivision != "" && !g.IsSubdivisionOf(a.Subdivision, a.Country) {
		return refuse(ESubdivisionNotSupported, "The subdivision is not supported", join(prefix, "subdivision"), nil)
	}
	if a.Subdivision == "" && g.RequiresSubdivision(a.Country) {
		return refuse(ESubdivisionRequired, "The subdivision is required for the selected country", join(prefix, "subdivision"), nil)
	}
	if IsPOBox(a.Line1) || IsPOBox(a.Line2) {
		return &Error{Code: EPOBoxesNotAllowed, Message: "PO boxes are not allowed"}
	}
	if a.PostalCode != "" && !g.IsValidPostalCode(a.PostalCode, a.Country) {
		return refuse(EPostalCodeInvalid, "The postal code is invalid", join(prefix, "postalCode"), nil)
	}
	return nil
}

// IsPOBox reports whether an address line names a post office box (or
// another mail-only address, such as a parcel locker).
func IsPOBox(line string) bool { return poBox.MatchString(line) }

// IsCareOf reports whether an address line is a c/o (care of) address.
func IsCareOf(line string) bool { return careOf.MatchString(line) }

// CheckName refuses a name with characters names do not have.
func CheckName(name, property string) error {
	if name != "" && !validName(name) {
		return refuse(EInvalidCharacters, "The request has invalid characters", property, nil)
	}
	return nil
}

// CheckBirthdate checks a birthdate (YYYY-MM-DD) against the age limits.
func CheckBirthdate(birthdate, property string, now time.Time) error {
	b, err := time.Parse(time.DateOnly, birthdate)
	if err != nil {
		return Invalid("body", Violation{Property: property, Rule: "format", RuleParams: map[string]any{"format": "date"}})
	}
	if b.After(now.AddDate(-MinimumAge, 0, 0)) {
		return refuse(EDateInvalid, "The date must be older than or equal to 18 years ago", property, map[string]any{
			"rule": "difference-greater-than-or-equal-to-threshold", "threshold": map[string]any{"limit": MinimumAge, "unit": "years"}})
	}
	if b.Before(now.AddDate(-MaximumAge, 0, 0)) {
		return refuse(EDateInvalid, "The date must be newer than or equal to 100 years from now", property, map[string]any{
			"rule": "difference-less-than-or-equal-to-threshold", "threshold": map[string]any{"limit": MaximumAge, "unit": "years"}})
	}
	return nil
}

// CheckPhone checks a phone number against its country's numbering plan.
func CheckPhone(p Phone, countryProperty string, g Geography) error {
	if !g.IsCountry(p.Country) {
		return refuse(ECountryNotSupported, "The country is not supported", countryProperty, nil)
	}
	if !g.IsValidPhone(p.Number, p.Country) {
		return &Error{Code: EPhoneInvalid, Message: "The phone number is invalid"}
	}
	return nil
}

// Validate checks the business rules of a new user that a schema
// cannot express, returning the first rule broken as a 409-class error with
// Uphold's codes and details.
func (u *User) Validate(now time.Time, g Geography) error {
	if u.Type == UserBusiness {
		// A business gives its country and subdivision, as Uphold's
		// business shape has them, at the top level.
		return CheckAddress(u.Address, "", g)
	}
	if !g.IsCountry(u.PrimaryCitizenship) {
		return refuse(ECountryNotSupported, "The country is not supported", "primaryCitizenship", nil)
	}
	if err := CheckAddress(u.Address, "address", g); err != nil {
		return err
	}
	if err := CheckName(u.FullName, "fullName"); err != nil {
		return err
	}
	if u.Birthdate != "" {
		if err := CheckBirthdate(u.Birthdate, "birthdate", now); err != nil {
			return err
		}
	}
	if u.Phone != nil {
		return CheckPhone(*u.Phone, "phone.country", g)
	}
	return nil
}

// validName accepts letters (any script), combining marks, spaces and the
// punctuation real names carry: hyphens, apostrophes, periods and commas.
func validName(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.Is(unicode.Mn, r), unicode.IsSpace(r):
		case strings.ContainsRune("-'’.,", r):
		default:
			return false
		}
	}
	return true
}
