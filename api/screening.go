package api

import (
	"context"
	"net/http"
	"time"

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

// Scopes of the case routes.
const (
	scopeAdminCasesRead   = "admin.cases:read"
	scopeAdminCasesReview = "admin.cases:review"
)

// Cases is the case service as the API uses it.
type Cases interface {
	Cases(ctx context.Context, tenantID string, f kycd.CaseFilter) ([]*kycd.Case, error)
	Case(ctx context.Context, tenantID, id string) (*kycd.Case, error)
	Decide(ctx context.Context, tenantID, caseID string, d screening.Decision) (*kycd.Case, error)
}

// caseSummary is a case in a queue: no personal data.
type caseSummary struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Status     string         `json:"status"`
	Outcome    string         `json:"outcome,omitempty"`
	UserID     string         `json:"userId"`
	Candidates int            `json:"candidateCount"`
	TopScore   float64        `json:"topScore"`
	Lists      map[string]int `json:"lists"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	ClosedAt   *time.Time     `json:"closedAt,omitempty"`
}

func summaryOf(c *kycd.Case) caseSummary {
	v := caseSummary{ID: c.ID, Type: c.Type, Status: c.Status, Outcome: c.Outcome, UserID: c.UserID, Candidates: len(c.Candidates),
		Lists: c.Lists, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt}
	if v.Lists == nil {
		v.Lists = map[string]int{}
	}
	if len(c.Candidates) > 0 {
		v.TopScore = c.Candidates[0].Match.Score
	}
	return v
}

// caseView is a whole case, for the reviewer: what was screened, every
// candidate with its explanation, and the history.
type caseView struct {
	caseSummary
	Subject    kycd.ScreeningSubject `json:"subject"`
	Candidates []kycd.CaseCandidate  `json:"candidates"`
	Pending    *kycd.CaseEntry       `json:"pending,omitempty"`
	History    []kycd.CaseEntry      `json:"history"`
}

func viewOf(c *kycd.Case) caseView {
	v := caseView{caseSummary: summaryOf(c), Subject: c.Subject, Candidates: c.Candidates, Pending: c.Pending, History: c.History}
	if v.Candidates == nil {
		v.Candidates = []kycd.CaseCandidate{}
	}
	if v.History == nil {
		v.History = []kycd.CaseEntry{}
	}
	return v
}

// handleListCases lists the tenant's cases, oldest first.
func (s *Server) handleListCases() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := queryParams{q: r.URL.Query()}
		limit := int(p.int("limit", 50, 1, 200))
		f := kycd.CaseFilter{Status: p.q.Get("status"), Type: p.q.Get("type"), UserID: p.q.Get("userId"), After: p.q.Get("after"), Limit: limit + 1}
		if f.UserID != "" && !uuidPattern.MatchString(f.UserID) {
			p.vs = append(p.vs, uuidViolation("userId"))
		}
		if f.After != "" && !uuidPattern.MatchString(f.After) {
			p.vs = append(p.vs, uuidViolation("after"))
		}
		if err := p.err(); err != nil {
			return err
		}
		list, err := s.cases.Cases(r.Context(), tenantOf(r), f)
		if err != nil {
			return err
		}
		var next any
		if len(list) > limit {
			list = list[:limit]
			next = list[limit-1].ID
		}
		out := make([]caseSummary, len(list))
		for i, c := range list {
			out[i] = summaryOf(c)
		}
		encode(w, http.StatusOK, map[string]any{"cases": out, "next": next})
		return nil
	}
}

// handleGetCase shows a case whole (personal data: never cached).
func (s *Server) handleGetCase() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathUUID(r, "id")
		if err != nil {
			return err
		}
		c, err := s.cases.Case(r.Context(), tenantOf(r), id)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, map[string]any{"case": viewOf(c)})
		return nil
	}
}

// handleDecideCase records a reviewer's decision of a case.
func (s *Server) handleDecideCase() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathUUID(r, "id")
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Outcome  string `json:"outcome"`
			Reason   string `json:"reason"`
			Reviewer string `json:"reviewer"`
		}](s, w, r, "decide-case-request")
		if err != nil {
			return err
		}
		c, err := s.cases.Decide(r.Context(), tenantOf(r), id, screening.Decision{Outcome: req.Outcome, Reason: req.Reason, Reviewer: req.Reviewer})
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, map[string]any{"case": viewOf(c)})
		return nil
	}
}
