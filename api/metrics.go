package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kycd/kycd"
)

// handleMetrics serves the registry in Prometheus' format; with a metrics
// token, only to requests bearing it (compared in constant time). A wrong
// token counts against the source address's limit of failed credentials.
func (s *Server) handleMetrics() handlerFunc {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	want := sha256.Sum256([]byte(s.metricsToken))
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.metricsToken != "" {
			scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			got := sha256.Sum256([]byte(strings.TrimSpace(raw)))
			if ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1; !ok || !strings.EqualFold(scheme, "Bearer") {
				if err := s.failedCredentials(r); err != nil {
					return err
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="kycd metrics"`)
				return &kycd.Error{Code: kycd.ETokenInvalid, Message: "The metrics token is missing or wrong"}
			}
		}
		h.ServeHTTP(w, r)
		return nil
	}
}

// MetricsHandler serves /metrics alone, for a listener of its own
// (--metrics-addr): the same registry and token as the API's, and every
// other path 404.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.plain(s.handleMetrics()))
	mux.Handle("/", s.plain(func(w http.ResponseWriter, r *http.Request) error {
		return &kycd.Error{Code: "route_not_found", Message: "This listener serves GET /metrics only"}
	}))
	return s.observe(mux)
}
