package api

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
)

// countriesJSON encodes the country list once per Geo: it is large and
// never changes while the process runs (a process that starts several
// servers shares one Geo).
func countriesJSON(g *geo.Geo) ([]byte, error) {
	if b, ok := encodedCountries.Load(g); ok {
		return b.([]byte), nil
	}
	b, err := json.Marshal(map[string]any{"countries": g.Countries()})
	if err != nil {
		return nil, err
	}
	b2, _ := encodedCountries.LoadOrStore(g, b)
	return b2.([]byte), nil
}

// encodedCountries are the country lists encoded, by Geo.
var encodedCountries sync.Map

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
