package api

import (
	"net/http"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
)

// termsView is a terms of service as the Core API shows it; AcceptedAt is
// set when the call acts for a user who accepted them.
type termsView struct {
	policy.TermsOfService
	AcceptedAt *time.Time `json:"acceptedAt,omitempty"`
}

func termsJSON(t policy.TermsOfService, accepted map[string]time.Time) termsView {
	v := termsView{TermsOfService: t}
	if at, ok := accepted[t.Code]; ok {
		v.AcceptedAt = &at
	}
	return v
}

// acceptances returns the terms the user named by X-On-Behalf-Of accepted,
// or none when the call acts for no user (the header is optional here).
func (s *Server) acceptances(r *http.Request) (map[string]time.Time, error) {
	if r.Header.Get("X-On-Behalf-Of") == "" {
		return nil, nil
	}
	u, r, err := s.actingUser(r)
	if err != nil {
		return nil, err
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
		accepted, err := s.acceptances(r)
		if err != nil {
			return err
		}
		out := []termsView{}
		for _, t := range s.policy.Terms() {
			if (typ == "" || t.Type == typ) && t.AppliesTo(country, userType) {
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
			// Uphold's documents give this operation no answer for an
			// unknown code (its parameter is an enum); the nearest they
			// give is the accept route's for the same parameter: 400
			// request_invalid, naming the codes there are.
			var codes []string
			for _, x := range s.policy.Terms() {
				codes = append(codes, x.Code)
			}
			return kycd.Invalid("params", kycd.Violation{Property: "termsOfService", Rule: "enum", RuleParams: map[string]any{"allowedValues": codes}})
		}
		accepted, err := s.acceptances(r)
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
		if err := s.policy.CheckAcceptance(t, u); err != nil {
			return err
		}
		at, err := s.terms.AcceptTerms(r.Context(), u.TenantID, u.ID, t.Code, evidence)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"termsOfService": termsJSON(t, map[string]time.Time{t.Code: at})})
		return nil
	}
}
