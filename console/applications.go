package console

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/levels"
	"github.com/kycd/kycd/reviewers"
)

// Levels is the levels service as the console uses it: the applications'
// catalogs and the review of an application.
type Levels interface {
	Catalog(ctx context.Context, tenantID string) (*levels.Catalog, error)
	ForReview(ctx context.Context, tenantID, id string) (*kycd.Application, *levels.Catalog, error)
	Decide(ctx context.Context, tenantID, id string, d levels.Decision) (*kycd.Application, *levels.Catalog, error)
}

// applicationRow is an application in the review queue: ids, level, how
// long it waits and who took it (no personal data).
type applicationRow struct {
	ID       string
	UserID   string
	Level    string
	Age      string
	Reviews  int
	Assignee string
	Mine     bool
	// Proposed: under four eyes, a decision awaits its second approval.
	Proposed bool
}

// applicationsPage is the review queue's data.
type applicationsPage struct {
	Nav        *queueNav
	Filter     string
	Level      string
	Levels     []option
	Open       int
	Unassigned int
	Mine       int
	Rows       []applicationRow
	Next       string
}

// handleApplications lists the tenant's applications in review, oldest
// first, with the counts of the queue and who took each, filtered by who
// took it and by level.
func (s *Server) handleApplications() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv, q, ctx := reviewerOf(r), r.URL.Query(), r.Context()
		after, err := afterParam(q)
		if err != nil {
			return err
		}
		cat, err := s.levels.Catalog(ctx, rv.TenantID)
		if err != nil {
			return err
		}
		p := applicationsPage{Filter: q.Get("assignee"), Level: q.Get("level")}
		if !slices.Contains(assigneeFilters, p.Filter) {
			p.Filter = "all"
		}
		if _, ok := cat.Level(p.Level); !ok {
			p.Level = ""
		}
		for _, l := range cat.Levels {
			p.Levels = append(p.Levels, option{Value: l.UUID, Label: l.Name, Selected: l.UUID == p.Level})
		}
		if p.Nav, err = s.nav(r, "applications"); err != nil {
			return err
		}
		f := kycd.ApplicationFilter{LevelID: p.Level}
		counts, err := s.queues.CountApplications(ctx, rv.TenantID, f, rv.ID)
		if err != nil {
			return err
		}
		p.Open, p.Unassigned, p.Mine = counts.All, counts.Unassigned, counts.Mine
		none := ""
		switch p.Filter {
		case "none":
			f.Assignee = &none
		case "me":
			f.Assignee = &rv.ID
		}
		f.After, f.Limit = after, queueSize+1
		list, err := s.queues.Applications(ctx, rv.TenantID, f)
		if err != nil {
			return err
		}
		if len(list) > queueSize {
			list = list[:queueSize]
			p.Next = nextPage(q, list[queueSize-1].ID)
		}
		names, err := s.reviewerNames(r)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, a := range list {
			row := applicationRow{ID: a.ID, UserID: a.UserID, Level: levelName(cat, a.LevelID), Age: age(now, waitingSince(a)), Reviews: len(a.Data.Reviews),
				Assignee: names[a.Assignee], Mine: a.Assignee == rv.ID, Proposed: a.Data.Proposal != nil}
			p.Rows = append(p.Rows, row)
		}
		s.page(w, r, http.StatusOK, "applications.html", &pageData{Title: "Applications to review", Page: p})
		return nil
	}
}

// waitingSince is when an application was last sent to review.
func waitingSince(a *kycd.Application) time.Time {
	if a.SubmittedAt != nil {
		return *a.SubmittedAt
	}
	return a.CreatedAt
}

// levelName is a level's name in a catalog, or its id's start.
func levelName(cat *levels.Catalog, id string) string {
	if l, ok := cat.Level(id); ok {
		return l.Name
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// attributeRow is one attribute of an application as the reviewer reads
// it, with the correction field of the decision form.
type attributeRow struct {
	Key      string
	Title    string
	Type     string
	Required bool
	Value    string
	// Detail says more of the value: a signature, a provider's
	// verification, a liveness check's expiry, a legal document's title.
	Detail  []string
	Updated *time.Time
	// Asked is the correction the last return asked for; Correction what
	// the reviewer typed in the form (shown again when it is refused).
	Asked      string
	Correction string
}

// stepRows is a step of the questionnaire.
type stepRows struct {
	Title      string
	Attributes []attributeRow
}

// reviewRow is a review in the application's history, or the proposal
// awaiting its second approval.
type reviewRow struct {
	Decision    string
	Reviewer    string
	Reason      string
	Corrections []string
	At          time.Time
	// FourEyes is the review's four-eyes step ("" for a decision alone).
	FourEyes string
}

// reviewRowOf is a review as the page shows it.
func reviewRowOf(rev kycd.Review) reviewRow {
	row := reviewRow{Decision: rev.Decision, Reviewer: rev.Reviewer, Reason: rev.Reason, At: rev.At, FourEyes: rev.FourEyes}
	for _, key := range slices.Sorted(maps.Keys(rev.Corrections)) {
		row.Corrections = append(row.Corrections, key+": "+rev.Corrections[key])
	}
	return row
}

// applicationPage is an application's data: the questionnaire with its
// values, the reviews and the proposal awaiting its second approval, who
// holds it, and what the reviewer may do.
type applicationPage struct {
	App      *kycd.Application
	Level    string
	Age      string
	Assignee string
	Mine     bool
	InReview bool
	FourEyes bool
	Steps    []stepRows
	Reviews  []reviewRow
	Proposal *reviewRow
	Core     map[string]string
	// CanDecide: the decision form is shown; Confirming: as the second
	// approval of the proposal.
	CanDecide   bool
	Confirming  bool
	CanTake     bool
	CanReassign bool
	Assignable  []*kycd.Reviewer
	Status      string
	Reason      string
}

// applicationNotices are the messages a redirect after a change may show.
var applicationNotices = map[string]string{
	"approved": "The application is approved: the client holds the level.",
	"pending":  "The application is returned to the client with the corrections asked for.",
	"rejected": "The application is rejected.",
	"proposed": "Your decision is recorded; under four eyes it awaits a second reviewer's approval.",
	"disputed": "You disputed the proposal: the application is to be decided anew.",
	"taken":    "The application is yours.",
	"assigned": "The application is assigned.",
}

// handleApplication shows an application whole (personal data: the view
// is audited).
func (s *Server) handleApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, cat, err := s.applicationOf(r)
		if err != nil {
			return err
		}
		return s.showApplication(w, r, a, cat, http.StatusOK, applicationNotices[r.URL.Query().Get("done")], "", applicationForm{})
	}
}

// applicationForm is a decision as the reviewer filled it in.
type applicationForm struct {
	Status      string
	Reason      string
	Corrections map[string]string
}

// showApplication renders an application's page, after recording that
// the reviewer opened it.
func (s *Server) showApplication(w http.ResponseWriter, r *http.Request, a *kycd.Application, cat *levels.Catalog, status int, notice, errMsg string, form applicationForm) error {
	rv, ctx := reviewerOf(r), r.Context()
	if err := s.reviewers.Viewed(ctx, rv, "kyc-application", a.ID, map[string]any{"applicationId": a.ID, "userId": a.UserID}); err != nil {
		return err
	}
	t, err := s.tenants.FindTenantByID(ctx, rv.TenantID)
	if err != nil {
		return err
	}
	names, err := s.reviewerNames(r)
	if err != nil {
		return err
	}
	p := applicationPage{App: a, Level: levelName(cat, a.LevelID), Age: age(s.clock.Now(), waitingSince(a)), Assignee: names[a.Assignee],
		Mine: a.Assignee == rv.ID, InReview: a.Status == kycd.ApplicationInReview, FourEyes: t.Settings.FourEyes, Core: a.Data.Core,
		Status: form.Status, Reason: form.Reason}
	if a.Data.Proposal != nil {
		row := reviewRowOf(*a.Data.Proposal)
		p.Proposal = &row
	}
	p.Confirming = p.InReview && t.Settings.FourEyes && a.Data.Proposal != nil
	p.CanDecide = p.InReview && mayDecide(rv, "application", a.Assignee, p.Confirming) == nil
	p.CanTake = p.InReview && !p.Mine && reviewers.MayTake(rv, a.Assignee)
	p.CanReassign = p.InReview && reviewers.Can(rv.Role, reviewers.CanReassign)
	if p.CanReassign {
		if p.Assignable, err = s.deciders(ctx, rv.TenantID); err != nil {
			return err
		}
	}
	view := cat.View(a, true)
	for _, st := range view.KYCSteps {
		sr := stepRows{Title: st.Title}
		for _, q := range st.Questions {
			sr.Attributes = append(sr.Attributes, attributeRowOf(a, q, form.Corrections[q.Attribute.Key]))
		}
		p.Steps = append(p.Steps, sr)
	}
	for _, rev := range slices.Backward(a.Data.Reviews) {
		p.Reviews = append(p.Reviews, reviewRowOf(rev))
	}
	s.page(w, r, status, "application.html", &pageData{Title: "Application " + a.ID[:8], Notice: notice, Error: errMsg, Page: p})
	return nil
}

// attributeRowOf is an attribute of an application as the reviewer reads
// it. A liveness check's token or link is a credential of the client's: it
// is not shown, only that it was issued, until when, and what the
// provider said.
func attributeRowOf(a *kycd.Application, q levels.QuestionView, correction string) attributeRow {
	av := q.Attribute
	row := attributeRow{Key: av.Key, Title: av.Title, Type: av.Type, Required: q.Required, Updated: av.UpdatedAt, Asked: av.Correction, Correction: correction}
	stored := a.Data.Attributes[av.Key]
	switch {
	case stored == nil:
		row.Value = "—"
	case av.Type == levels.TypeLiveness:
		row.Value = "issued"
	case av.Type == levels.TypeDocument:
		row.Value = fmt.Sprint(stored.Value)
	default:
		row.Value = display(av.Value)
	}
	if stored != nil && stored.SignedWith != "" {
		row.Detail = append(row.Detail, "signed by "+stored.SignedWith)
	}
	if av.LegalDocument != nil {
		row.Detail = append(row.Detail, fmt.Sprintf("%s, version %d", av.LegalDocument.Title, av.LegalDocument.Version))
	}
	if av.ExpiresAt != nil {
		row.Detail = append(row.Detail, "valid until "+av.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if len(av.Verification) > 0 {
		row.Detail = append(row.Detail, "verification: "+display(av.Verification))
	}
	return row
}

// display is a value as text: a string as it is, anything else as compact
// JSON.
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// deciders are the tenant's reviewers a case or an application may be
// given to: those who decide, and are not disabled.
func (s *Server) deciders(ctx context.Context, tenantID string) ([]*kycd.Reviewer, error) {
	list, err := s.reviewers.Reviewers(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []*kycd.Reviewer
	for _, x := range list {
		if reviewers.Can(x.Role, reviewers.CanDecide) && x.DisabledAt == nil {
			out = append(out, x)
		}
	}
	return out, nil
}

// applicationDecisions are the decision form's outcomes.
var applicationDecisions = []string{kycd.ApplicationApproved, kycd.ApplicationPending, kycd.ApplicationRejected}

// handleDecideApplication records the reviewer's decision on an
// application through the levels service's review (the person, by email,
// is the review's reviewer; the audit entry's actor is the reviewer).
// Corrections, one per attribute, go with a return to pending. A refused
// decision shows the application again with the reason; a recorded one
// redirects to it.
func (s *Server) handleDecideApplication() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if err := parseForm(w, r); err != nil {
			return err
		}
		if !reviewers.Can(rv.Role, reviewers.CanDecide) {
			return errForbidden
		}
		a, cat, err := s.applicationOf(r)
		if err != nil {
			return err
		}
		t, err := s.tenants.FindTenantByID(r.Context(), rv.TenantID)
		if err != nil {
			return err
		}
		if err := mayDecide(rv, "application", a.Assignee, t.Settings.FourEyes && a.Data.Proposal != nil); err != nil {
			return err
		}
		form := applicationForm{Status: r.PostForm.Get("status"), Reason: strings.TrimSpace(r.PostForm.Get("reason")), Corrections: map[string]string{}}
		for key, vs := range r.PostForm {
			if k, ok := strings.CutPrefix(key, "correction."); ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
				form.Corrections[k] = strings.TrimSpace(vs[0])
			}
		}
		again := func(err error) error {
			status := statusOf(err)
			if code := kycd.ErrorCode(err); code == levels.EApplicationNotEditable || code == kycd.EConcurrentChange {
				status = http.StatusConflict
			}
			return s.showApplication(w, r, a, cat, status, "", applicationRefusal(err), form)
		}
		switch {
		case !slices.Contains(applicationDecisions, form.Status):
			return again(kycd.Invalid("body", kycd.Violation{Property: "status", Rule: "enum"}))
		case len(form.Reason) > 2000:
			return again(kycd.Invalid("body", kycd.Violation{Property: "reason", Rule: "maxLength"}))
		case form.Status != kycd.ApplicationPending && len(form.Corrections) > 0:
			return again(kycd.Invalid("body", kycd.Violation{Property: "corrections", Rule: "pending_only"}))
		}
		d := levels.Decision{Status: form.Status, Reviewer: rv.Email, Reason: form.Reason}
		if form.Status == kycd.ApplicationPending {
			d.Corrections = form.Corrections
		}
		decided, _, err := s.levels.Decide(r.Context(), rv.TenantID, a.ID, d)
		switch code := kycd.ErrorCode(err); {
		case err == nil:
		case code == kycd.ERequestInvalid || code == kycd.EOperationNotAllowed || code == levels.EApplicationNotEditable || code == kycd.EStale ||
			code == kycd.EConcurrentChange:
			if fresh, freshCat, ferr := s.levels.ForReview(r.Context(), rv.TenantID, a.ID); ferr == nil {
				a, cat = fresh, freshCat
			}
			return again(err)
		default:
			return err
		}
		done := decided.Status // approved, pending or rejected
		switch {
		case decided.Data.Proposal != nil:
			done = kycd.FourEyesProposed
		case decided.Status == kycd.ApplicationInReview: // the proposal dropped
			done = kycd.FourEyesDisputed
		}
		http.Redirect(w, r, "/console/applications/"+a.ID+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

// applicationRefusal is what a refused decision tells the reviewer.
func applicationRefusal(err error) string {
	e, _ := kycd.AsError(err)
	if e.Code != kycd.ERequestInvalid {
		return e.Message + "."
	}
	var say []string
	for _, v := range e.Violations {
		switch {
		case v.Property == "status":
			say = append(say, "choose approve, return for corrections or reject")
		case v.Property == "reason":
			say = append(say, "give a reason of at most 2,000 characters")
		case v.Property == "corrections" && v.Rule == "pending_only":
			say = append(say, "ask for corrections only when returning the application for corrections")
		case v.Property == "corrections":
			say = append(say, "ask for at least one correction to return the application")
		case strings.HasPrefix(v.Property, "corrections."):
			say = append(say, "ask for corrections of the level's attributes only")
		}
	}
	if len(say) == 0 {
		return "The decision is incomplete."
	}
	s := strings.Join(slices.Compact(say), "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// applicationWork is the application the path names, as work to take or
// reassign.
func (s *Server) applicationWork(r *http.Request) (*work, error) {
	app, _, err := s.applicationOf(r)
	if err != nil {
		return nil, err
	}
	return &work{page: "/console/applications/" + app.ID, assignee: app.Assignee,
		assign: func(ctx context.Context, a kycd.Assignment, by *kycd.Reviewer) error {
			return s.queues.AssignApplication(ctx, by.TenantID, app.ID, a, map[string]any{"reviewer": by.Email})
		}}, nil
}

// applicationOf is the application the path names, of the reviewer's
// tenant, with its catalog.
func (s *Server) applicationOf(r *http.Request) (*kycd.Application, *levels.Catalog, error) {
	return s.levels.ForReview(r.Context(), reviewerOf(r).TenantID, r.PathValue("id"))
}
