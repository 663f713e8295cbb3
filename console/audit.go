package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// Audit reads the tenant's audit trail.
type Audit interface {
	FindAuditLog(ctx context.Context, tenantID string, f kycd.AuditFilter) ([]*kycd.AuditEntry, error)
}

// auditRow is an audit entry as a page shows it: the actor by email when
// a reviewer of the tenant, the details as JSON (ids and codes only).
type auditRow struct {
	Seq        int64
	At         time.Time
	Actor      string
	Action     string
	EntityType string
	EntityID   string
	Details    string
	// View: the entry records a look at personal data.
	View bool
}

// auditRowOf renders an entry, naming reviewers by email.
func auditRowOf(e *kycd.AuditEntry, names map[string]string) auditRow {
	row := auditRow{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, EntityType: e.EntityType, EntityID: e.EntityID,
		View: strings.HasSuffix(e.Action, ".viewed")}
	if id, ok := strings.CutPrefix(e.Actor, "reviewer:"); ok && names[id] != "" {
		row.Actor = names[id]
	}
	if len(e.Details) > 0 {
		b, _ := json.Marshal(e.Details)
		row.Details = string(b)
	}
	return row
}

// auditPageSize is how many entries an audit page shows.
const auditPageSize = 50

// viewActions are the audit actions of looks at personal data, offered
// as filters.
var viewActions = []string{"user.viewed", "file.viewed", "case.viewed"}

// auditPage is the audit trail's data: the filter as given, the entries
// and the next page's link.
type auditPage struct {
	Actor, Entity, Action, From, To string
	Actions                         []string
	Rows                            []auditRow
	Next                            string
}

// timeLayouts are the times a filter accepts (a datetime-local input, a
// date), in UTC.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

func parseFilterTime(s, property string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, kycd.Invalid("query", kycd.Violation{Property: property, Rule: "format", RuleParams: map[string]any{"format": "date-time"}})
}

// handleAudit shows the tenant's audit trail, newest first, filtered by
// actor (a reviewer's email or an actor as recorded), entity id, action
// and time, 50 a page. Auditors, supervisors and admins read it; analysts
// do not (they see each user's own timeline in the user's file).
func (s *Server) handleAudit() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if !reviewers.Can(rv.Role, reviewers.CanAudit) {
			return errForbidden
		}
		q := r.URL.Query()
		p := auditPage{Actor: strings.TrimSpace(q.Get("actor")), Entity: strings.TrimSpace(q.Get("entity")), Action: strings.TrimSpace(q.Get("action")),
			From: q.Get("from"), To: q.Get("to"), Actions: viewActions}
		f := kycd.AuditFilter{Action: p.Action, Limit: auditPageSize + 1}
		var err error
		if f.From, err = parseFilterTime(p.From, "from"); err != nil {
			return err
		}
		if f.To, err = parseFilterTime(p.To, "to"); err != nil {
			return err
		}
		if b := q.Get("before"); b != "" {
			if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before <= 0 {
				return kycd.Invalid("query", kycd.Violation{Property: "before", Rule: "format", RuleParams: map[string]any{"format": "integer"}})
			}
		}
		if p.Entity != "" {
			f.EntityIDs = []string{strings.ToLower(p.Entity)}
		}
		names, err := s.reviewerNames(r)
		if err != nil {
			return err
		}
		if p.Actor != "" {
			f.Actor = p.Actor
			for id, email := range names {
				if strings.EqualFold(email, p.Actor) {
					f.Actor = "reviewer:" + id
				}
			}
		}
		list, err := s.audit.FindAuditLog(r.Context(), rv.TenantID, f)
		if err != nil {
			return err
		}
		if len(list) > auditPageSize {
			list = list[:auditPageSize]
			next := url.Values{}
			for k, v := range map[string]string{"actor": p.Actor, "entity": p.Entity, "action": p.Action, "from": p.From, "to": p.To} {
				if v != "" {
					next.Set(k, v)
				}
			}
			next.Set("before", strconv.FormatInt(list[auditPageSize-1].Seq, 10))
			p.Next = "/console/audit?" + next.Encode()
		}
		for _, e := range list {
			p.Rows = append(p.Rows, auditRowOf(e, names))
		}
		s.page(w, r, http.StatusOK, "audit.html", &pageData{Title: "Audit trail", Page: p})
		return nil
	}
}
