package kycd

import (
	"context"
	"time"
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
	ID                 string         `json:"id"`
	TenantID           string         `json:"-"`
	Type               string         `json:"type"`
	Email              string         `json:"email"`
	FullName           string         `json:"fullName,omitempty"`
	Birthdate          string         `json:"birthdate,omitempty"`
	PrimaryCitizenship string         `json:"primaryCitizenship"`
	Address            Address        `json:"address"`
	Phone              *Phone         `json:"phone,omitempty"`
	TermsOfService     string         `json:"-"`
	Metadata           map[string]any `json:"-"`
	// CreatedContext is the end-user context recorded when the user was created.
	CreatedContext EndUserContext `json:"-"`
	CreatedAt      time.Time      `json:"createdAt"`
	UpdatedAt      time.Time      `json:"updatedAt"`
	DeletedAt      *time.Time     `json:"-"`
}

// UserDeletion is why a user was deleted (Uphold's review object).
type UserDeletion struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// UserDeletionReasons are the accepted deletion reasons.
var UserDeletionReasons = []string{
	"business-decision", "closure-per-user-request", "compliance-violation", "fraud-violation", "other",
}

// UserService manages users. Every method is scoped to one tenant: a user of
// another tenant is reported as not found.
type UserService interface {
	// CreateUser stores a validated user, setting ID, CreatedAt, UpdatedAt.
	// Returns EEmailAlreadyExists or EPhoneAlreadyExists when another live
	// user of the tenant has the same email or phone.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENotFound ("user") for unknown, deleted or
	// other-tenant users.
	FindUserByID(ctx context.Context, tenantID, id string) (*User, error)
	// DeleteUser closes a user. Its records are kept (encrypted) for the
	// retention period but it no longer appears through the API, and its email
	// and phone may be used again. Returns ENotFound ("user").
	DeleteUser(ctx context.Context, tenantID, id string, why UserDeletion) error
}
