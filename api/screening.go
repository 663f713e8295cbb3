package api

import (
	"context"
	"net/http"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening"
)

// Scopes of the screening routes.
const (
	scopeAdminScreeningRead = "admin.screening:read"
)

// Screening is the screening service as the API uses it.
type Screening interface {
	// Lists returns the current version of every source.
	Lists(ctx context.Context) ([]*kycd.ListVersion, error)
	// Search screens a name against the loaded lists.
	Search(ctx context.Context, q screening.Query) ([]screening.Match, error)
	// Status reports the loaded lists, for readiness.
	Status() screening.Status
}

// handleScreeningLists shows each source's current version.
func (s *Server) handleScreeningLists() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		vs, err := s.screening.Lists(r.Context())
		if err != nil {
			return err
		}
		if vs == nil {
			vs = []*kycd.ListVersion{}
		}
		encode(w, http.StatusOK, map[string]any{"lists": vs})
		return nil
	}
}

// handleScreeningSearch screens one name, with the birth date and
// nationality that qualify it, against the loaded lists.
func (s *Server) handleScreeningSearch() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q, err := decode[screening.Query](s, w, r, "screening-search-request")
		if err != nil {
			return err
		}
		matches, err := s.screening.Search(r.Context(), q)
		if err != nil {
			return err
		}
		if matches == nil {
			matches = []screening.Match{}
		}
		encode(w, http.StatusOK, map[string]any{"matches": matches})
		return nil
	}
}
