package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
)

// termsView is a terms of service as the Core API shows it; AcceptedAt is
// set when the call acts for a user who accepted them.
type termsView struct {
	Code       string     `json:"code"`
	Type       string     `json:"type"`
	Countries  []string   `json:"countries,omitempty"`
	UserTypes  []string   `json:"userTypes,omitempty"`
	ModifiedAt time.Time  `json:"modifiedAt"`
	AcceptedAt *time.Time `json:"acceptedAt,omitempty"`
}

func termsJSON(t policy.TermsOfService, accepted map[string]time.Time) termsView {
	v := termsView{Code: t.Code, Type: t.Type, Countries: t.Countries, UserTypes: t.UserTypes, ModifiedAt: t.ModifiedAt}
	if at, ok := accepted[t.Code]; ok {
		v.AcceptedAt = &at
	}
	return v
}

// optionalUser resolves X-On-Behalf-Of when the header is present.
func (s *Server) optionalUser(r *http.Request) (*kycd.User, *http.Request, error) {
	if r.Header.Get("X-On-Behalf-Of") == "" {
		return nil, r, nil
	}
	return s.actingUser(r)
}

// acceptances returns the terms a user accepted (none without a user).
func (s *Server) acceptances(r *http.Request, u *kycd.User) (map[string]time.Time, error) {
	if u == nil {
		return nil, nil
	}
	return s.terms.FindTermsAcceptances(r.Context(), u.TenantID, u.ID)
}

func (s *Server) handleListTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		typ, country, userType := q.Get("type"), q.Get("country"), q.Get("userType")
		var vs []kycd.Violation
		if typ != "" && typ != policy.TypeGeneral && typ != policy.TypeUniqueAccountNumber {
			vs = append(vs, kycd.Violation{Property: "type", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{policy.TypeGeneral, policy.TypeUniqueAccountNumber}}})
		}
		if country != "" && !countryHeader.MatchString(country) {
			vs = append(vs, kycd.Violation{Property: "country", Rule: "pattern", RuleParams: map[string]any{"pattern": countryHeader.String()}})
		}
		if userType != "" && userType != kycd.UserIndividual && userType != kycd.UserBusiness {
			vs = append(vs, kycd.Violation{Property: "userType", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{kycd.UserIndividual, kycd.UserBusiness}}})
		}
		if len(vs) > 0 {
			return kycd.Invalid("query", vs...)
		}
		u, r, err := s.optionalUser(r)
		if err != nil {
			return err
		}
		accepted, err := s.acceptances(r, u)
		if err != nil {
			return err
		}
		out := []termsView{}
		for _, t := range s.policy.Terms() {
			if (typ == "" || t.Type == typ) && (country == "" || len(t.Countries) == 0 || slices.Contains(t.Countries, country)) &&
				(userType == "" || len(t.UserTypes) == 0 || slices.Contains(t.UserTypes, userType)) {
				out = append(out, termsJSON(t, accepted))
			}
		}
		encode(w, http.StatusOK, map[string]any{"termsOfService": out})
		return nil
	}
}

func (s *Server) handleGetTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, ok := s.policy.FindTerms(r.PathValue("termsOfService"))
		if !ok {
			return kycd.NotFound("terms of service")
		}
		u, r, err := s.optionalUser(r)
		if err != nil {
			return err
		}
		accepted, err := s.acceptances(r, u)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"termsOfService": termsJSON(t, accepted)})
		return nil
	}
}

// handleAcceptTerms records a user's acceptance of non-general terms (the
// general ones are accepted when the user is created). The end user's IP is
// required: it is the consent's evidence.
func (s *Server) handleAcceptTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, ok := s.policy.FindTerms(r.PathValue("termsOfService"))
		if !ok || t.Type == policy.TypeGeneral {
			var allowed []string
			for _, x := range s.policy.Terms() {
				if x.Type != policy.TypeGeneral {
					allowed = append(allowed, x.Code)
				}
			}
			return kycd.Invalid("params", kycd.Violation{Property: "termsOfService", Rule: "enum", RuleParams: map[string]any{"allowedValues": allowed}})
		}
		u, r, err := s.actingUser(r)
		if err != nil {
			return err
		}
		evidence, err := endUserContext(r)
		if err != nil {
			return err
		}
		if evidence.IP == "" {
			return kycd.NotAllowed("Request not allowed due to missing user context", "missing-user-ip-header")
		}
		if !t.AppliesTo(u.Address.Country, u.Type) {
			msg := "The terms of service cannot be accepted because they do not apply to the user country of residence"
			if len(t.UserTypes) > 0 && !slices.Contains(t.UserTypes, u.Type) {
				msg = "The terms of service cannot be accepted by users of type '" + u.Type + "'"
			}
			return kycd.NotAllowed(msg, "terms-of-service-not-applicable")
		}
		at, err := s.terms.AcceptTerms(r.Context(), u.TenantID, u.ID, t.Code, evidence)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"termsOfService": termsJSON(t, map[string]time.Time{t.Code: at})})
		return nil
	}
}

// checkGeneralTerms refuses a new user whose country of residence is
// restricted, or whose general terms are not those of that country.
func (s *Server) checkGeneralTerms(u *kycd.User) error {
	general, ok := s.policy.GeneralTermsFor(u.Address.Country)
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
