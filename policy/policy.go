// Package policy decides what applies to a user from versioned data files:
// which terms of service apply in which jurisdiction (and so which general
// terms a user of a country must accept), and how each KYC process is run
// and where it applies.
package policy

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

//go:embed data/*.json
var data embed.FS

// Terms of service types.
const (
	TypeGeneral             = "general"
	TypeUniqueAccountNumber = "unique-account-number"
)

// TermsOfService is one set of terms a user may accept.
type TermsOfService struct {
	Code string `json:"code"`
	Type string `json:"type"`
	// Countries are where the terms apply; every country when empty.
	Countries []string `json:"countries,omitempty"`
	// UserTypes are the user types the terms apply to; all when empty.
	UserTypes  []string  `json:"userTypes,omitempty"`
	ModifiedAt time.Time `json:"modifiedAt"`
	// restOfWorld marks the general terms of every country no other
	// general terms name (expanded into Countries at load).
	RestOfWorld bool `json:"restOfWorld,omitempty"`
}

// AppliesTo reports whether the terms apply to a user of a type residing in
// a country; an empty country or user type means any.
func (t TermsOfService) AppliesTo(country, userType string) bool {
	return (country == "" || len(t.Countries) == 0 || slices.Contains(t.Countries, country)) &&
		(userType == "" || len(t.UserTypes) == 0 || slices.Contains(t.UserTypes, userType))
}

// Policy is the loaded policy data.
type Policy struct {
	Version             int
	terms               []TermsOfService
	restricted          []string
	processes           map[string]*ProcessPolicy
	birthplaceIn        []string
	otherCitizenshipsIn []string
	subdivisionFixedIn  []string
	detailsForms        map[string]string
	capabilities        []CapabilityPolicy
	unavailable         []CapabilityPolicy // documented capabilities kycd has no product for
	disposable          []string           // throwaway email domains
}

type file struct {
	Version        int              `json:"version"`
	TermsOfService []TermsOfService `json:"termsOfService"`
	Restricted     []string         `json:"restricted"`
}

// Load reads the policy data. countries are every country code kycd knows,
// from which the rest-of-world general terms are computed.
func Load(countries []string) (*Policy, error) {
	raw, err := data.ReadFile("data/terms-of-service.v1.json")
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	p := &Policy{Version: f.Version, restricted: f.Restricted}
	named := map[string]string{}
	for _, t := range f.TermsOfService {
		if t.Type != TypeGeneral {
			continue
		}
		for _, c := range t.Countries {
			if other, ok := named[c]; ok {
				return nil, fmt.Errorf("policy data: %s has two general terms (%s, %s)", c, other, t.Code)
			}
			named[c] = t.Code
		}
	}
	for _, t := range f.TermsOfService {
		if t.RestOfWorld {
			for _, c := range countries {
				if _, ok := named[c]; !ok && !slices.Contains(f.Restricted, c) {
					t.Countries = append(t.Countries, c)
				}
			}
			t.RestOfWorld = false
		}
		p.terms = append(p.terms, t)
	}
	if err := p.loadProcesses(); err != nil {
		return nil, err
	}
	if err := p.loadCapabilities(); err != nil {
		return nil, err
	}
	if err := p.loadDisposable(); err != nil {
		return nil, err
	}
	return p, nil
}

// loadDisposable reads the throwaway email domains (a small list, from the
// maintained public one its file names).
func (p *Policy) loadDisposable() error {
	raw, err := data.ReadFile("data/disposable-email-domains.v1.json")
	if err != nil {
		return err
	}
	var f struct {
		Source  string   `json:"source"`
		Domains []string `json:"domains"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("policy data disposable email domains: %w", err)
	}
	if f.Source == "" || len(f.Domains) == 0 {
		return fmt.Errorf("policy data disposable email domains: a source and domains are required")
	}
	for _, d := range f.Domains {
		p.disposable = append(p.disposable, strings.ToLower(d))
	}
	return nil
}

// CheckEmail refuses an email address of a throwaway mail service (its
// domain or one below it), as Uphold refuses "incorrect or disallowed"
// emails: email_incorrect_or_disallowed.
func (p *Policy) CheckEmail(email string) error {
	_, domain, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	domain = strings.TrimSuffix(domain, ".")
	for _, d := range p.disposable {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return &kycd.Error{Code: kycd.EEmailIncorrectOrDisallowed, Message: "The email is incorrect or disallowed"}
		}
	}
	return nil
}

// Terms lists every terms of service.
func (p *Policy) Terms() []TermsOfService { return slices.Clone(p.terms) }

// FindTerms returns the terms of service of a code.
func (p *Policy) FindTerms(code string) (TermsOfService, bool) {
	for _, t := range p.terms {
		if t.Code == code {
			return t, true
		}
	}
	return TermsOfService{}, false
}

// GeneralTermsFor returns the general terms a resident of country accepts,
// or false where kycd onboards nobody (restricted countries).
func (p *Policy) GeneralTermsFor(country string) (TermsOfService, bool) {
	for _, t := range p.terms {
		if t.Type == TypeGeneral && slices.Contains(t.Countries, country) {
			return t, true
		}
	}
	return TermsOfService{}, false
}

// CheckNewUser refuses a new user whose email is a throwaway one
// (CheckEmail), whose country of residence is restricted
// (country_not_supported) or who accepted general terms other than that
// country's (terms_of_service_mismatch, naming the expected ones).
func (p *Policy) CheckNewUser(u *kycd.User) error {
	if err := p.CheckEmail(u.Email); err != nil {
		return err
	}
	general, ok := p.GeneralTermsFor(u.Address.Country)
	if !ok {
		return &kycd.Error{Code: kycd.ECountryNotSupported, Message: "The country is not supported",
			Details: map[string]any{"context": "body", "property": "address.country"}}
	}
	if general.Code != u.TermsOfService {
		return &kycd.Error{Code: kycd.ETermsOfServiceMismatch,
			Message: "The terms of service passed in the request does not match the one that should have been accepted",
			Details: map[string]any{"expected": general.Code}}
	}
	return nil
}

// CheckCountries refuses a new user tied to a country where kycd onboards
// nobody by what is not their residence (CheckNewUser judges that): their
// citizenship or their phone (country_not_supported, naming the property).
func (p *Policy) CheckCountries(u *kycd.User) error {
	refuse := func(property string) error {
		return &kycd.Error{Code: kycd.ECountryNotSupported, Message: "The country is not supported",
			Details: map[string]any{"context": "body", "property": property}}
	}
	if p.Restricted(u.PrimaryCitizenship) {
		return refuse("primaryCitizenship")
	}
	if u.Phone != nil && p.Restricted(u.Phone.Country) {
		return refuse("phone.country")
	}
	return nil
}

// CheckAcceptance refuses a user accepting terms that do not apply to its
// type or country of residence (reason terms-of-service-not-applicable).
func (p *Policy) CheckAcceptance(t TermsOfService, u *kycd.User) error {
	switch {
	case !t.AppliesTo("", u.Type):
		return kycd.NotAllowed("The terms of service cannot be accepted by users of type '"+u.Type+"'", "terms-of-service-not-applicable")
	case !t.AppliesTo(u.Address.Country, ""):
		return kycd.NotAllowed("The terms of service cannot be accepted because they do not apply to the user country of residence", "terms-of-service-not-applicable")
	}
	return nil
}

// Restricted reports whether nobody residing in country may be onboarded.
func (p *Policy) Restricted(country string) bool { return slices.Contains(p.restricted, country) }
