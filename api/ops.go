package api

import (
	"net/http"
	"strings"
)

func (s *Server) handleHealthz() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		encode(w, http.StatusOK, map[string]any{"status": "ok"})
		return nil
	}
}

func (s *Server) handleReadyz() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		checks := map[string]string{"database": "ok", "migrations": "ok"}
		status := http.StatusOK
		if err := s.health.Ping(r.Context()); err != nil {
			checks["database"], checks["migrations"], status = "unreachable", "unknown", http.StatusServiceUnavailable
		} else if ok, err := s.health.MigrationsCurrent(r.Context()); err != nil || !ok {
			checks["migrations"], status = "pending", http.StatusServiceUnavailable
		}
		// Screening: ready once lists are loaded (or screening is turned off,
		// which readiness states); a stale list is reported, not fatal.
		switch st := s.screening.Status(); {
		case st.Off:
			checks["screening"] = "off"
		case !st.Loaded || len(st.Versions) == 0:
			checks["screening"], status = "no-lists", http.StatusServiceUnavailable
		case len(st.Stale) > 0:
			checks["screening"] = "stale: " + strings.Join(st.Stale, ",")
		default:
			checks["screening"] = "ok"
		}
		state := "ok"
		if status != http.StatusOK {
			state = "unavailable"
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, status, map[string]any{"status": state, "checks": checks})
		return nil
	}
}

func (s *Server) handleOpenAPI() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.spec.json)
		return nil
	}
}
