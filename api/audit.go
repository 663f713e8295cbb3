package api

import (
	"net/http"
	"strconv"

	"github.com/kycd/kycd"
)

// handleListAudit lists the token's tenant's audit entries in chain order.
func (s *Server) handleListAudit() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		after, limit := int64(0), 100
		var vs []kycd.Violation
		if v := q.Get("after"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				vs = append(vs, kycd.Violation{Property: "after", Rule: "minimum", RuleParams: map[string]any{"limit": 0}})
			}
			after = n
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				vs = append(vs, kycd.Violation{Property: "limit", Rule: "range", RuleParams: map[string]any{"min": 1, "max": 1000}})
			}
			limit = n
		}
		if len(vs) > 0 {
			return kycd.Invalid("query", vs...)
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
