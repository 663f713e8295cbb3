package api

import (
	"net/http"

	"github.com/kycd/kycd"
)

// handleListAudit lists the token's tenant's audit entries in chain order.
func (s *Server) handleListAudit() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := queryParams{q: r.URL.Query()}
		after, limit := p.int("after", 0, 0, 0), int(p.int("limit", 100, 1, 1000))
		if err := p.err(); err != nil {
			return err
		}
		entries, err := s.audit.FindAuditEntries(r.Context(), principalFrom(r.Context()).TenantID, after, limit)
		if err != nil {
			return err
		}
		var next any
		if len(entries) == limit {
			next = entries[len(entries)-1].Seq
		}
		if entries == nil {
			entries = []*kycd.AuditEntry{}
		}
		encode(w, http.StatusOK, map[string]any{"entries": entries, "next": next})
		return nil
	}
}
