package api

import (
	"encoding/json"
	"net/http"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
)

// countriesJSON encodes the country list once: it is large and never changes
// while the process runs.
func countriesJSON(g *geo.Geo) ([]byte, error) {
	return json.Marshal(map[string]any{"countries": g.Countries()})
}

func (s *Server) handleListCountries() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "private, max-age=3600")
		_, _ = w.Write(s.countries)
		return nil
	}
}

func (s *Server) handleGetCountry() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, ok := s.geo.Country(r.PathValue("country"))
		if !ok {
			return kycd.NotFound("country")
		}
		encode(w, http.StatusOK, map[string]any{"country": c})
		return nil
	}
}
