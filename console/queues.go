package console

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// Queues is the queues service as the console uses it: applications in
// review, failed checks, failed ingestions, failing webhook endpoints.
type Queues interface {
	Applications(ctx context.Context, tenantID string, f kycd.ApplicationFilter) ([]*kycd.Application, error)
	CountApplications(ctx context.Context, tenantID string, f kycd.ApplicationFilter, reviewer string) (kycd.CaseCounts, error)
	AssignApplication(ctx context.Context, tenantID, id string, a kycd.Assignment, details map[string]any) error
	FailedChecks(ctx context.Context, tenantID string, f kycd.CheckFilter) ([]*kycd.Check, error)
	CountFailedChecks(ctx context.Context, tenantID string) (map[string]int, error)
	FailedIngestions(ctx context.Context, tenantID string, f kycd.FailedIngestionFilter) ([]*kycd.Ingestion, error)
	CountFailedIngestions(ctx context.Context, tenantID string) (map[string]int, error)
	FailingEndpoints(ctx context.Context, tenantID string, f kycd.FailingEndpointFilter) ([]*kycd.FailingEndpoint, kycd.EndpointCounts, error)
}

// queueNav is the navigation between the queues, each with its count.
type queueNav struct {
	Current      string
	Screening    int
	Applications int
	Checks       int
	Ingestions   int
	Webhooks     int
}

// nav counts every queue of the reviewer's tenant for the navigation.
func (s *Server) nav(r *http.Request, current string) (*queueNav, error) {
	ctx, rv := r.Context(), reviewerOf(r)
	n := &queueNav{Current: current}
	cases, err := s.cases.CountCases(ctx, rv.TenantID, kycd.CaseFilter{Type: kycd.CaseScreening, Status: kycd.CaseOpen}, rv.ID)
	if err != nil {
		return nil, err
	}
	apps, err := s.queues.CountApplications(ctx, rv.TenantID, kycd.ApplicationFilter{}, rv.ID)
	if err != nil {
		return nil, err
	}
	checks, err := s.queues.CountFailedChecks(ctx, rv.TenantID)
	if err != nil {
		return nil, err
	}
	ingestions, err := s.queues.CountFailedIngestions(ctx, rv.TenantID)
	if err != nil {
		return nil, err
	}
	_, hooks, err := s.queues.FailingEndpoints(ctx, rv.TenantID, kycd.FailingEndpointFilter{Limit: 1})
	if err != nil {
		return nil, err
	}
	n.Screening, n.Applications, n.Checks, n.Ingestions, n.Webhooks = cases.All, apps.All, sum(checks), sum(ingestions), hooks.All
	return n, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// option is a choice of a filter with its count.
type option struct {
	Value    string
	Label    string
	Count    int
	Selected bool
}

// options lists a filter's choices: every key of counts (and every value
// of known), sorted, with their counts.
func options(counts map[string]int, known []string, selected string) []option {
	keys := slices.Sorted(maps.Keys(counts))
	for _, k := range known {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]option, 0, len(keys))
	for _, k := range keys {
		out = append(out, option{Value: k, Label: k, Count: counts[k], Selected: k == selected})
	}
	return out
}

// afterParam reads a page's cursor: the id of the last row of the previous
// page.
func afterParam(q url.Values) (string, error) {
	after := q.Get("after")
	if after != "" && uuid.Validate(after) != nil {
		return "", kycd.Invalid("query", kycd.Violation{Property: "after", Rule: "format", RuleParams: map[string]any{"format": "uuid"}})
	}
	return after, nil
}

// nextPage is the query of the page after a full one.
func nextPage(q url.Values, lastID string) string {
	v := url.Values{}
	for k, vs := range q {
		if k != "after" && k != "page" && len(vs) > 0 && vs[0] != "" {
			v.Set(k, vs[0])
		}
	}
	v.Set("after", lastID)
	return v.Encode()
}

// queueHead is what a queue filtered by one kind of item shows above its
// rows: the navigation, the kind chosen ("" for all), the count of each
// kind and of all, and the link to the next page.
type queueHead struct {
	Nav   *queueNav
	Kind  string
	Kinds []option
	All   int
	Next  string
}

// filteredQueue reads a page of a queue filtered by the kind the query
// parameter names (one of kinds, or all), oldest first after the query's
// "after" id, with the counts by kind.
func filteredQueue[T any](s *Server, r *http.Request, nav, param string, kinds []string,
	count func(ctx context.Context, tenantID string) (map[string]int, error),
	find func(ctx context.Context, tenantID, kind, after string, limit int) ([]T, error),
	id func(T) string) (*queueHead, []T, error) {
	rv, q, ctx := reviewerOf(r), r.URL.Query(), r.Context()
	after, err := afterParam(q)
	if err != nil {
		return nil, nil, err
	}
	h := &queueHead{Kind: q.Get(param)}
	if !slices.Contains(kinds, h.Kind) {
		h.Kind = ""
	}
	if h.Nav, err = s.nav(r, nav); err != nil {
		return nil, nil, err
	}
	byKind, err := count(ctx, rv.TenantID)
	if err != nil {
		return nil, nil, err
	}
	h.All, h.Kinds = sum(byKind), options(byKind, kinds, h.Kind)
	list, err := find(ctx, rv.TenantID, h.Kind, after, queueSize+1)
	if err != nil {
		return nil, nil, err
	}
	if len(list) > queueSize {
		list = list[:queueSize]
		h.Next = nextPage(q, id(list[queueSize-1]))
	}
	return h, list, nil
}

// checkRow is a failed check in its queue: ids, type, reasons' codes and
// times (no personal data).
type checkRow struct {
	ID      string
	UserID  string
	Type    string
	Reasons []string
	Age     string
	Decided time.Time
}

// checksPage is the failed checks queue's data.
type checksPage struct {
	Nav   *queueNav
	Type  string
	Types []option
	All   int
	Rows  []checkRow
	Next  string
}

// handleChecks lists the tenant's failed checks, oldest first, with their
// count by type and a filter by type.
func (s *Server) handleChecks() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h, list, err := filteredQueue(s, r, "checks", "type", kycd.CheckTypes, s.queues.CountFailedChecks,
			func(ctx context.Context, tenantID, kind, after string, limit int) ([]*kycd.Check, error) {
				return s.queues.FailedChecks(ctx, tenantID, kycd.CheckFilter{Type: kind, After: after, Limit: limit})
			}, func(c *kycd.Check) string { return c.ID })
		if err != nil {
			return err
		}
		p := checksPage{Nav: h.Nav, Type: h.Kind, Types: h.Kinds, All: h.All, Next: h.Next}
		now := s.clock.Now()
		for _, c := range list {
			row := checkRow{ID: c.ID, UserID: c.UserID, Type: c.Type, Decided: c.UpdatedAt}
			if c.DecidedAt != nil {
				row.Decided = *c.DecidedAt
			}
			row.Age = age(now, row.Decided)
			for _, reason := range c.Reasons {
				row.Reasons = append(row.Reasons, reason.Code)
			}
			p.Rows = append(p.Rows, row)
		}
		s.page(w, r, http.StatusOK, "checks.html", &pageData{Title: "Failed checks", Page: p})
		return nil
	}
}

// ingestionRow is a failed ingestion in its queue: ids, provider, the
// failed processes with their error codes and steps, and times.
type ingestionRow struct {
	ID       string
	UserID   string
	Provider string
	Failures []string
	Age      string
	Finished time.Time
}

// ingestionsPage is the failed ingestions queue's data.
type ingestionsPage struct {
	Nav       *queueNav
	Provider  string
	Providers []option
	All       int
	Rows      []ingestionRow
	Next      string
}

// handleIngestions lists the tenant's ingestions that finished with a
// failed process, oldest first, with their count by provider.
func (s *Server) handleIngestions() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h, list, err := filteredQueue(s, r, "ingestions", "provider", s.providers, s.queues.CountFailedIngestions,
			func(ctx context.Context, tenantID, kind, after string, limit int) ([]*kycd.Ingestion, error) {
				return s.queues.FailedIngestions(ctx, tenantID, kycd.FailedIngestionFilter{Provider: kind, After: after, Limit: limit})
			}, func(in *kycd.Ingestion) string { return in.ID })
		if err != nil {
			return err
		}
		p := ingestionsPage{Nav: h.Nav, Provider: h.Kind, Providers: h.Kinds, All: h.All, Next: h.Next}
		now := s.clock.Now()
		for _, in := range list {
			row := ingestionRow{ID: in.ID, UserID: in.UserID, Provider: in.Provider, Finished: in.UpdatedAt}
			if in.FinishedAt != nil {
				row.Finished = *in.FinishedAt
			}
			row.Age = age(now, row.Finished)
			for _, code := range slices.Sorted(maps.Keys(in.Result)) {
				res := in.Result[code]
				if res.Status != kycd.ResultFailed {
					continue
				}
				failure := code
				if res.Error != nil {
					failure += ": " + res.Error.Code
					if res.Error.Step != "" {
						failure += " at " + res.Error.Step
					}
				}
				row.Failures = append(row.Failures, failure)
			}
			p.Rows = append(p.Rows, row)
		}
		s.page(w, r, http.StatusOK, "ingestions.html", &pageData{Title: "Failed ingestions", Page: p})
		return nil
	}
}

// endpointRow is a failing endpoint in its queue: where it points (scheme,
// host and path: a query may hold a token), its state, how many
// deliveries fail, and the newest failure's event type, status and error.
type endpointRow struct {
	ID          string
	Target      string
	Enabled     bool
	Disabled    string
	Age         string
	Since       time.Time
	Failing     int
	EventType   string
	Status      int
	Error       string
	LastAttempt *time.Time
}

// webhooksPage is the failing endpoints queue's data.
type webhooksPage struct {
	Nav      *queueNav
	State    string
	Counts   kycd.EndpointCounts
	Rows     []endpointRow
	Page     int
	Previous string
	Next     string
}

// endpointStates are the failing endpoints' filters.
var endpointStates = []string{"all", "enabled", "disabled"}

// handleWebhooks lists the tenant's failing webhook endpoints, the longest
// failing first, with their failing deliveries and the newest failure.
func (s *Server) handleWebhooks() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv, q, ctx := reviewerOf(r), r.URL.Query(), r.Context()
		p := webhooksPage{State: q.Get("state")}
		if !slices.Contains(endpointStates, p.State) {
			p.State = "all"
		}
		if n := q.Get("page"); n != "" {
			var err error
			if p.Page, err = strconv.Atoi(n); err != nil || p.Page < 0 || p.Page > 1_000_000 {
				return kycd.Invalid("query", kycd.Violation{Property: "page", Rule: "format"})
			}
		}
		var err error
		if p.Nav, err = s.nav(r, "webhooks"); err != nil {
			return err
		}
		list, counts, err := s.queues.FailingEndpoints(ctx, rv.TenantID, kycd.FailingEndpointFilter{State: p.State, Offset: p.Page * queueSize, Limit: queueSize + 1})
		if err != nil {
			return err
		}
		p.Counts = counts
		if len(list) > queueSize {
			list = list[:queueSize]
			p.Next = url.Values{"state": {p.State}, "page": {strconv.Itoa(p.Page + 1)}}.Encode()
		}
		if p.Page > 0 {
			p.Previous = url.Values{"state": {p.State}, "page": {strconv.Itoa(p.Page - 1)}}.Encode()
		}
		now := s.clock.Now()
		for _, e := range list {
			p.Rows = append(p.Rows, endpointRow{ID: e.ID, Target: target(e.URL), Enabled: e.Enabled, Disabled: e.DisabledReason, Age: age(now, e.Since),
				Since: e.Since, Failing: e.Failing, EventType: e.LastEventType, Status: e.LastStatus, Error: e.LastError, LastAttempt: e.LastAttempt})
		}
		s.page(w, r, http.StatusOK, "webhooks.html", &pageData{Title: "Failing webhook endpoints", Page: p})
		return nil
	}
}

// target is an endpoint's URL without its query, fragment or user
// information, which may hold credentials.
func target(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// work is an item of a queue that reviewers take and supervisors reassign:
// a case or an application.
type work struct {
	// page is the item's page, where taking or assigning it returns.
	page     string
	assignee string
	// assign records the assignment, by the reviewer, on the item.
	assign func(ctx context.Context, a kycd.Assignment, by *kycd.Reviewer) error
}

// handleTake gives the item to the reviewer, who may take it
// (reviewers.MayTake: unassigned, or a supervisor's to take over).
func (s *Server) handleTake(load func(*http.Request) (*work, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		it, err := load(r)
		if err != nil {
			return err
		}
		if !reviewers.MayTake(rv, it.assignee) {
			return errForbidden
		}
		if err := it.assign(r.Context(), kycd.Assignment{From: it.assignee, To: rv.ID}, rv); err != nil {
			return err
		}
		http.Redirect(w, r, it.page+"?done=taken", http.StatusSeeOther)
		return nil
	}
}

// handleAssign gives the item to another reviewer of the tenant who decides
// (supervisors only), or to no one.
func (s *Server) handleAssign(load func(*http.Request) (*work, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if err := parseForm(w, r); err != nil {
			return err
		}
		if !reviewers.Can(rv.Role, reviewers.CanReassign) {
			return errForbidden
		}
		it, err := load(r)
		if err != nil {
			return err
		}
		to := r.PostForm.Get("reviewer")
		if to != "" {
			list, err := s.deciders(r.Context(), rv.TenantID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(list, func(x *kycd.Reviewer) bool { return x.ID == to }) {
				return kycd.Invalid("body", kycd.Violation{Property: "reviewer", Rule: "enum"})
			}
		}
		if err := it.assign(r.Context(), kycd.Assignment{From: it.assignee, To: to}, rv); err != nil {
			return err
		}
		http.Redirect(w, r, it.page+"?done=assigned", http.StatusSeeOther)
		return nil
	}
}
