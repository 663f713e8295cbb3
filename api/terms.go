package api

import (
	"context"
	"net/http"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
	"github.com/kycd/kycd/terms"
)

// Terms is the terms of service service.
type Terms interface {
	List(ctx context.Context, f terms.Filter, who *kycd.UserRef) ([]terms.Terms, error)
	Find(code string) (policy.TermsOfService, error)
	Get(ctx context.Context, code string, who *kycd.UserRef) (terms.Terms, error)
	Acceptable(code string) (policy.TermsOfService, error)
	Accept(ctx context.Context, u *kycd.User, code string, evidence kycd.EndUserContext) (terms.Terms, error)
}

// optionalUser returns the user named by X-On-Behalf-Of, or nil when the
// call acts for no user (the header is optional on the terms' reads).
func (s *Server) optionalUser(r *http.Request) (*kycd.UserRef, *http.Request, error) {
	if r.Header.Get("X-On-Behalf-Of") == "" {
		return nil, r, nil
	}
	u, r, err := s.actingUser(r)
	if err != nil {
		return nil, r, err
	}
	return &kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, r, nil
}

func (s *Server) handleListTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := terms.Filter{Type: q.Get("type"), Country: q.Get("country"), UserType: q.Get("userType")}
		if err := f.Validate(); err != nil { // before the user is read
			return err
		}
		who, r, err := s.optionalUser(r)
		if err != nil {
			return err
		}
		out, err := s.terms.List(r.Context(), f, who)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"termsOfService": out})
		return nil
	}
}

func (s *Server) handleGetTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		code := r.PathValue("termsOfService")
		if _, err := s.terms.Find(code); err != nil { // before the user is read
			return err
		}
		who, r, err := s.optionalUser(r)
		if err != nil {
			return err
		}
		t, err := s.terms.Get(r.Context(), code, who)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"termsOfService": t})
		return nil
	}
}

// handleAcceptTerms records a user's acceptance of terms of service, with
// the end user's context (the X-Uphold-User-* headers) as evidence.
func (s *Server) handleAcceptTerms() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		code := r.PathValue("termsOfService")
		if _, err := s.terms.Acceptable(code); err != nil { // before the user is read
			return err
		}
		u, r, err := s.actingUser(r)
		if err != nil {
			return err
		}
		evidence, err := endUserContext(r)
		if err != nil {
			return err
		}
		t, err := s.terms.Accept(r.Context(), u, code, evidence)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"termsOfService": t})
		return nil
	}
}
