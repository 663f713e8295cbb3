package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
	"github.com/kycd/kycd/screening"
)

// queueSize is how many cases a queue page shows.
const queueSize = 50

// queueRow is a case in the queue: ids, counts and scores, no personal
// data.
type queueRow struct {
	ID         string
	UserID     string
	Candidates int
	TopScore   float64
	TopSource  string
	Age        string
	Assignee   string
	Mine       bool
	Pending    bool
}

// queuePage is the screening queue's data.
type queuePage struct {
	Nav        *queueNav
	Filter     string
	Open       int
	Unassigned int
	Mine       int
	Rows       []queueRow
	Next       string
}

// assigneeFilters are the queue's filters by who holds a case.
var assigneeFilters = []string{"all", "none", "me"}

// handleQueue lists the tenant's open screening cases, oldest first, with
// the counts of the queue and who holds each case.
func (s *Server) handleQueue() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		q := r.URL.Query()
		p := queuePage{Filter: q.Get("assignee")}
		if !slices.Contains(assigneeFilters, p.Filter) {
			p.Filter = "all"
		}
		none := ""
		open := kycd.CaseFilter{Type: kycd.CaseScreening, Status: kycd.CaseOpen}
		f := open
		switch p.Filter {
		case "none":
			f.Assignee = &none
		case "me":
			f.Assignee = &rv.ID
		}
		if after := q.Get("after"); after != "" {
			if _, err := uuid.Parse(after); err != nil {
				return kycd.Invalid("query", kycd.Violation{Property: "after", Rule: "format", RuleParams: map[string]any{"format": "uuid"}})
			}
			f.After = after
		}
		f.Limit = queueSize + 1
		ctx := r.Context()
		var err error
		if p.Nav, err = s.nav(r, "cases"); err != nil {
			return err
		}
		counts, err := s.cases.CountCases(ctx, rv.TenantID, open, rv.ID)
		if err != nil {
			return err
		}
		p.Open, p.Unassigned, p.Mine = counts.All, counts.Unassigned, counts.Mine
		list, err := s.cases.Cases(ctx, rv.TenantID, f)
		if err != nil {
			return err
		}
		if len(list) > queueSize {
			list = list[:queueSize]
			p.Next = list[queueSize-1].ID
		}
		names, err := s.reviewerNames(r)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, c := range list {
			row := queueRow{ID: c.ID, UserID: c.UserID, Candidates: len(c.Candidates), Age: age(now, c.CreatedAt), Assignee: names[c.Assignee],
				Mine: c.Assignee == rv.ID, Pending: c.Pending != nil}
			if len(c.Candidates) > 0 {
				row.TopScore, row.TopSource = c.Candidates[0].Match.Score, c.Candidates[0].Match.Source
			}
			p.Rows = append(p.Rows, row)
		}
		s.page(w, r, http.StatusOK, "queue.html", &pageData{Title: "Screening queue", Page: p})
		return nil
	}
}

// reviewerNames are the emails of the tenant's reviewers, by id.
func (s *Server) reviewerNames(r *http.Request) (map[string]string, error) {
	list, err := s.reviewers.Reviewers(r.Context(), reviewerOf(r).TenantID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list))
	for _, x := range list {
		names[x.ID] = x.Email
	}
	return names, nil
}

// casePage is a case's data: the case whole, who holds it, and what the
// reviewer may do with it.
type casePage struct {
	Case     *kycd.Case
	Age      string
	Assignee string
	Mine     bool
	FourEyes bool
	// CanDecide: the decision form is shown; Confirming: as the second
	// approval of a pending proposal.
	CanDecide   bool
	Confirming  bool
	CanTake     bool
	CanReassign bool
	Assignable  []*kycd.Reviewer
	Outcome     string
	Reason      string
}

// notices are the messages a redirect after a change may show.
var notices = map[string]string{
	"decided":  "Your decision is recorded.",
	"proposed": "Your decision is recorded; under four eyes it awaits a second reviewer's approval.",
	"disputed": "You disputed the proposal: the case is to be decided anew.",
	"taken":    "The case is yours.",
	"assigned": "The case is assigned.",
}

// handleCase shows a case whole (personal data: the view is audited).
func (s *Server) handleCase() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.caseOf(r)
		if err != nil {
			return err
		}
		return s.showCase(w, r, c, http.StatusOK, notices[r.URL.Query().Get("done")], "", "", "")
	}
}

// showCase renders a case page, after recording that the reviewer opened
// it.
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, c *kycd.Case, status int, notice, errMsg, outcome, reason string) error {
	rv := reviewerOf(r)
	if err := s.reviewers.Viewed(r.Context(), rv, "case", c.ID, map[string]any{"caseId": c.ID, "userId": c.UserID}); err != nil {
		return err
	}
	t, err := s.tenants.FindTenantByID(r.Context(), rv.TenantID)
	if err != nil {
		return err
	}
	names, err := s.reviewerNames(r)
	if err != nil {
		return err
	}
	open := c.Status == kycd.CaseOpen
	p := casePage{Case: c, Age: age(s.clock.Now(), c.CreatedAt), Assignee: names[c.Assignee], Mine: c.Assignee == rv.ID, FourEyes: t.Settings.FourEyes,
		Outcome: outcome, Reason: reason}
	p.Confirming = open && t.Settings.FourEyes && c.Pending != nil
	p.CanDecide = open && mayDecide(rv, "case", c.Assignee, p.Confirming) == nil
	p.CanTake = open && !p.Mine && reviewers.MayTake(rv, c.Assignee)
	p.CanReassign = open && reviewers.Can(rv.Role, reviewers.CanReassign)
	if p.CanReassign {
		var err error
		if p.Assignable, err = s.deciders(r.Context(), rv.TenantID); err != nil {
			return err
		}
	}
	s.page(w, r, status, "case.html", &pageData{Title: "Case " + c.ID[:8], Notice: notice, Error: errMsg, Page: p})
	return nil
}

// mayDecide says whether a reviewer may decide a case or an application
// (what) that holder holds ("" for no one) now: a role that decides; when
// confirming (under four eyes, a proposal awaits its second approval), one
// that confirms; one held by another reviewer only for those who reassign.
func mayDecide(rv *kycd.Reviewer, what, holder string, confirming bool) error {
	switch {
	case !reviewers.Can(rv.Role, reviewers.CanDecide):
		return errForbidden
	case confirming && !reviewers.Can(rv.Role, reviewers.CanConfirm):
		return &kycd.Error{Code: errForbidden.Code, Message: "Under four eyes a supervisor gives the second approval"}
	case holder != "" && holder != rv.ID && !reviewers.Can(rv.Role, reviewers.CanReassign):
		return &kycd.Error{Code: errForbidden.Code, Message: "Another reviewer holds this " + what}
	}
	return nil
}

// handleDecide records the reviewer's decision of a case (the person, by
// email, is the decision's reviewer). A refused decision shows the case
// again with the reason; a recorded one redirects to it.
func (s *Server) handleDecide() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if err := parseForm(w, r); err != nil {
			return err
		}
		ctx := r.Context()
		c, err := s.caseOf(r)
		if err != nil {
			return err
		}
		t, err := s.tenants.FindTenantByID(ctx, rv.TenantID)
		if err != nil {
			return err
		}
		if err := mayDecide(rv, "case", c.Assignee, t.Settings.FourEyes && c.Pending != nil); err != nil {
			return err
		}
		outcome, reason := r.PostForm.Get("outcome"), strings.TrimSpace(r.PostForm.Get("reason"))
		decided, err := s.cases.Decide(ctx, rv.TenantID, c.ID, screening.Decision{Outcome: outcome, Reason: reason, Reviewer: rv.Email})
		if err != nil {
			switch kycd.ErrorCode(err) {
			case kycd.ERequestInvalid, kycd.EOperationNotAllowed, kycd.EStale:
				return s.showCase(w, r, c, statusOf(err), "", refusal(err), outcome, reason)
			}
			return err
		}
		done := "decided"
		if decided.Status == kycd.CaseOpen && len(decided.History) > 0 {
			done = decided.History[len(decided.History)-1].Action // proposed or disputed
		}
		http.Redirect(w, r, "/console/cases/"+c.ID+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

// refusal is what a refused decision tells the reviewer.
func refusal(err error) string {
	e, _ := kycd.AsError(err)
	if e.Code != kycd.ERequestInvalid {
		return e.Message + "."
	}
	var missing []string
	for _, v := range e.Violations {
		missing = append(missing, v.Property)
	}
	return "Give " + strings.Join(missing, " and ") + ": an outcome, and a reason of at most 2,000 characters."
}

// caseWork is the case the path names, as work to take or reassign.
func (s *Server) caseWork(r *http.Request) (*work, error) {
	c, err := s.caseOf(r)
	if err != nil {
		return nil, err
	}
	return &work{page: "/console/cases/" + c.ID, assignee: c.Assignee,
		assign: func(ctx context.Context, a kycd.Assignment, by *kycd.Reviewer) error {
			return s.cases.Assign(ctx, by.TenantID, c.ID, a, map[string]any{"reviewer": by.Email})
		}}, nil
}

// caseOf is the case the path names, of the reviewer's tenant.
func (s *Server) caseOf(r *http.Request) (*kycd.Case, error) {
	return s.cases.Case(r.Context(), reviewerOf(r).TenantID, r.PathValue("id"))
}

// parseForm reads a small form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return kycd.Invalid("body", kycd.Violation{Property: "form", Rule: "format"})
	}
	return nil
}
