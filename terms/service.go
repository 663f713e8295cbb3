// Package terms runs the rules of users' consent to terms of service: which
// terms a listing shows, which terms a user may accept (not the general
// ones, which a user accepts when created; only terms that apply to the
// user), and the evidence an acceptance needs (the end user's IP). Which
// terms exist is policy (package policy); the record of consent is the
// store's (kycd.TermsStore).
package terms

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
)

// Config holds the service's dependencies.
type Config struct {
	Store  kycd.TermsStore
	Policy *policy.Policy
}

// Service answers which terms exist for whom and records acceptances.
type Service struct {
	store  kycd.TermsStore
	policy *policy.Policy
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Policy == nil {
		return nil, errors.New("terms: missing store or policy")
	}
	return &Service{store: c.Store, policy: c.Policy}, nil
}

// Terms is a terms of service as the Core API shows it; AcceptedAt is set
// when the call acts for a user who accepted them.
type Terms struct {
	policy.TermsOfService
	AcceptedAt *time.Time `json:"acceptedAt,omitempty"`
}

func view(t policy.TermsOfService, accepted map[string]time.Time) Terms {
	v := Terms{TermsOfService: t}
	if at, ok := accepted[t.Code]; ok {
		v.AcceptedAt = &at
	}
	return v
}

// Filter narrows a listing of terms; an empty field means any.
type Filter struct {
	// Type is policy.TypeGeneral or policy.TypeUniqueAccountNumber.
	Type string
	// Country is an ISO 3166-1 alpha-2 code (upper case).
	Country string
	// UserType is kycd.UserIndividual or kycd.UserBusiness.
	UserType string
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate returns the "query" violations of a filter, all of them, or nil.
func (f Filter) Validate() error {
	var vs []kycd.Violation
	if f.Type != "" && f.Type != policy.TypeGeneral && f.Type != policy.TypeUniqueAccountNumber {
		vs = append(vs, kycd.Violation{Property: "type", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{policy.TypeGeneral, policy.TypeUniqueAccountNumber}}})
	}
	if f.Country != "" && !countryCode.MatchString(f.Country) {
		vs = append(vs, kycd.Violation{Property: "country", Rule: "pattern", RuleParams: map[string]any{"pattern": countryCode.String()}})
	}
	if f.UserType != "" && f.UserType != kycd.UserIndividual && f.UserType != kycd.UserBusiness {
		vs = append(vs, kycd.Violation{Property: "userType", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{kycd.UserIndividual, kycd.UserBusiness}}})
	}
	if len(vs) > 0 {
		return kycd.Invalid("query", vs...)
	}
	return nil
}

// List returns the terms of service a filter selects (Validate's errors
// for an invalid one), each with when the user who, if any, accepted them.
func (s *Service) List(ctx context.Context, f Filter, who *kycd.UserRef) ([]Terms, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	accepted, err := s.acceptances(ctx, who)
	if err != nil {
		return nil, err
	}
	out := []Terms{}
	for _, t := range s.policy.Terms() {
		if (f.Type == "" || t.Type == f.Type) && t.AppliesTo(f.Country, f.UserType) {
			out = append(out, view(t, accepted))
		}
	}
	return out, nil
}

// Find returns the terms of service of a code. Uphold's documents give
// reading an unknown code no answer (its parameter is an enum); the nearest
// they give is the accept route's for the same parameter: a "params"
// violation naming the codes there are.
func (s *Service) Find(code string) (policy.TermsOfService, error) {
	t, ok := s.policy.FindTerms(code)
	if !ok {
		var codes []string
		for _, x := range s.policy.Terms() {
			codes = append(codes, x.Code)
		}
		return t, kycd.Invalid("params", kycd.Violation{Property: "termsOfService", Rule: "enum", RuleParams: map[string]any{"allowedValues": codes}})
	}
	return t, nil
}

// Get returns the terms of service of a code (Find's errors), with when the
// user who, if any, accepted them.
func (s *Service) Get(ctx context.Context, code string, who *kycd.UserRef) (Terms, error) {
	t, err := s.Find(code)
	if err != nil {
		return Terms{}, err
	}
	accepted, err := s.acceptances(ctx, who)
	if err != nil {
		return Terms{}, err
	}
	return view(t, accepted), nil
}

// acceptances returns when the user who accepted each terms code (none
// when who is nil).
func (s *Service) acceptances(ctx context.Context, who *kycd.UserRef) (map[string]time.Time, error) {
	if who == nil {
		return nil, nil
	}
	return s.store.FindTermsAcceptances(ctx, *who)
}

// Acceptable returns the terms of service of a code that users accept
// through the API: any but the general ones, which a user accepts when
// created. Otherwise a "params" violation naming the codes there are.
func (s *Service) Acceptable(code string) (policy.TermsOfService, error) {
	t, ok := s.policy.FindTerms(code)
	if !ok || t.Type == policy.TypeGeneral {
		var allowed []string
		for _, x := range s.policy.Terms() {
			if x.Type != policy.TypeGeneral {
				allowed = append(allowed, x.Code)
			}
		}
		return t, kycd.Invalid("params", kycd.Violation{Property: "termsOfService", Rule: "enum", RuleParams: map[string]any{"allowedValues": allowed}})
	}
	return t, nil
}

// Accept records that a user accepted the terms of a code (Acceptable's
// errors), with the end user's context as the consent's evidence: its IP
// is required (EOperationNotAllowed, reason missing-user-ip-header). The
// terms must apply to the user's type and country of residence
// (policy.CheckAcceptance); the store refuses terms accepted already
// (reason terms-of-service-already-accepted).
func (s *Service) Accept(ctx context.Context, u *kycd.User, code string, evidence kycd.EndUserContext) (Terms, error) {
	t, err := s.Acceptable(code)
	if err != nil {
		return Terms{}, err
	}
	if evidence.IP == "" {
		return Terms{}, kycd.NotAllowed("Request not allowed due to missing user context", "missing-user-ip-header")
	}
	if err := s.policy.CheckAcceptance(t, u); err != nil {
		return Terms{}, err
	}
	at, err := s.store.AcceptTerms(ctx, u.TenantID, u.ID, t.Code, evidence, kycd.TermsAccepted(u.TenantID, u.ID, t.Code))
	if err != nil {
		return Terms{}, err
	}
	return view(t, map[string]time.Time{t.Code: at}), nil
}
