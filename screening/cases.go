package screening

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// KYC is what screening needs of the KYC service: to record a user's
// screening with the process it moves.
type KYC interface {
	RecordScreening(ctx context.Context, ref kycd.UserRef, fn func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error)) error
}

// ErrNoLists is returned by Screen while no list is loaded: the user cannot
// be screened yet (the job waits and tries again).
var ErrNoLists = errors.New("screening: no list is loaded")

// Screen screens a user against the current lists and records the result
// with the screening process: ok when nothing reaches the review threshold;
// a possible match opens a case (or adds to the user's open case) and keeps
// the process running; a listing confirmed a true match keeps it failed. A
// listing cleared as a false positive for the user is not raised again
// unless the listing or the user's screened data changed.
func (s *Service) Screen(ctx context.Context, ref kycd.UserRef) error {
	if s.off {
		return nil
	}
	// The lists as they are now (a version imported since the last
	// refresh counts at once): one cheap read when nothing changed.
	if _, err := s.Refresh(ctx); err != nil {
		return err
	}
	c := s.current.Load()
	if len(c.versions) == 0 {
		return ErrNoLists
	}
	return s.kyc.RecordScreening(ctx, ref, func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error) {
		if p.Status == kycd.StatusExempt {
			return nil, nil // the policy exempts this user
		}
		subject := subjectOf(u)
		if subject.Name == "" {
			return nil, nil // nothing to screen until the user has a name
		}
		return s.screenSubject(ctx, c, u, subject)
	})
}

// subjectOf is what a user is screened with: the name, birth date and type,
// and every nationality the user declared or a verified document proves.
func subjectOf(u *kycd.User) kycd.ScreeningSubject {
	sub := kycd.ScreeningSubject{Name: strings.TrimSpace(u.FullName), Type: kycd.EntryPerson, BirthDate: u.Birthdate}
	if u.Type == kycd.UserBusiness {
		sub.Type, sub.BirthDate = kycd.EntryOrganization, ""
	}
	declared := append([]string{u.PrimaryCitizenship}, u.OtherCitizenships...)
	for _, c := range append(declared, u.DocumentNationalities...) {
		if c != "" && !slices.Contains(sub.Nationalities, c) {
			sub.Nationalities = append(sub.Nationalities, c)
		}
	}
	return sub
}

// search screens a subject: once per nationality (a listing that agrees
// with any of them keeps its best score), or once without.
func (c *catalog) search(sub kycd.ScreeningSubject) []Match {
	q := Query{Name: sub.Name, Type: sub.Type, BirthDate: sub.BirthDate, Limit: maxLimit}
	nationalities := sub.Nationalities
	if len(nationalities) == 0 {
		nationalities = []string{""}
	}
	best := map[string]Match{}
	for _, n := range nationalities {
		q.Nationality = n
		for _, m := range c.index.Search(q) {
			k := m.Source + "\x00" + m.EntryID
			if old, ok := best[k]; !ok || m.Score > old.Score {
				best[k] = m
			}
		}
	}
	out := slices.Collect(maps.Values(best))
	slices.SortFunc(out, func(a, b Match) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Source+a.EntryID, b.Source+b.EntryID)
	})
	return out
}

// screenSubject computes the screening change of a user.
func (s *Service) screenSubject(ctx context.Context, c *catalog, u *kycd.User, sub kycd.ScreeningSubject) (*kycd.ScreeningChange, error) {
	subjectDigest, err := s.vault.BlindIndex(ctx, u.TenantID, "screening-subject", subjectKey(sub))
	if err != nil {
		return nil, err
	}
	known, err := s.cases.FindScreeningHits(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
	if err != nil {
		return nil, err
	}
	hits := map[string]kycd.ScreeningHit{}
	for _, h := range known {
		hits[h.Source+"\x00"+h.EntryID] = h
	}
	open, err := s.openCase(ctx, u)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	actor := kycd.ActorFromContext(ctx).String()
	var fresh []kycd.CaseCandidate
	for _, m := range c.search(sub) {
		if !m.Review {
			continue
		}
		k := m.Source + "\x00" + m.EntryID
		digest := c.digests[k]
		if h, ok := hits[k]; ok {
			switch {
			case h.Status == kycd.HitConfirmed, h.Status == kycd.HitOpen && open != nil:
				continue // decided a true match, or already asked
			case h.Status == kycd.HitCleared && h.EntryDigest == digest && h.SubjectDigest == subjectDigest:
				continue // cleared, and neither side changed since
			}
		}
		fresh = append(fresh, kycd.CaseCandidate{Match: m, EntryDigest: digest})
	}
	sc := &kycd.ScreeningChange{Action: "screening.screened",
		Details: map[string]any{"lists": c.lists(), "candidates": len(fresh)}}
	if len(fresh) > 0 {
		if open == nil {
			open = &kycd.Case{ID: uuid.Must(uuid.NewV7()).String(), TenantID: u.TenantID, UserID: u.ID, Type: kycd.CaseScreening, Status: kycd.CaseOpen, Subject: sub,
				Lists: c.lists(), Candidates: fresh, History: []kycd.CaseEntry{{At: now, Action: "opened", Actor: actor}}}
		} else {
			addCandidates(open, sub, fresh)
			open.Lists = c.lists()
			open.History = append(open.History, kycd.CaseEntry{At: now, Action: "candidates-added", Actor: actor})
		}
		slices.SortStableFunc(open.Candidates, func(a, b kycd.CaseCandidate) int {
			switch {
			case a.Match.Score > b.Match.Score:
				return -1
			case a.Match.Score < b.Match.Score:
				return 1
			}
			return 0
		})
		sc.Case = open
		for _, f := range fresh {
			sc.Hits = append(sc.Hits, kycd.ScreeningHit{Source: f.Match.Source, EntryID: f.Match.EntryID, EntryDigest: f.EntryDigest,
				SubjectDigest: subjectDigest, Status: kycd.HitOpen, CaseID: open.ID})
		}
		if open.Version == 0 {
			sc.Events = append(sc.Events, caseEvent(open, kycd.EventCaseOpened))
		}
	}
	sc.Status, sc.Output = s.screeningStatus(known, sc.Case != nil || open != nil, c.lists(), now)
	if sc.Case != nil {
		sc.Details["caseId"] = sc.Case.ID
	}
	return sc, nil
}

// addCandidates adds newly matched listings to an open case, now screened
// as sub: the earlier candidates keep the subject they were matched with,
// and a listing asked about before (delisted, then listed again) is asked
// about once, as it is matched now.
func addCandidates(open *kycd.Case, sub kycd.ScreeningSubject, fresh []kycd.CaseCandidate) {
	if subjectKey(sub) != subjectKey(open.Subject) {
		for i := range open.Candidates {
			if open.Candidates[i].Subject == nil {
				was := open.Subject
				open.Candidates[i].Subject = &was
			}
		}
		open.Subject = sub
	}
	for _, f := range fresh {
		i := slices.IndexFunc(open.Candidates, func(c kycd.CaseCandidate) bool {
			return c.Match.Source == f.Match.Source && c.Match.EntryID == f.Match.EntryID
		})
		if i < 0 {
			open.Candidates = append(open.Candidates, f)
		} else {
			open.Candidates[i] = f
		}
	}
	for i := range open.Candidates {
		if c := &open.Candidates[i]; c.Subject != nil && subjectKey(*c.Subject) == subjectKey(sub) {
			c.Subject = nil // matched with what the case now shows
		}
	}
}

// screeningStatus is the screening process's status from what is known:
// failed while a listing is confirmed a true match of the user, running
// while a case is open, ok otherwise.
func (s *Service) screeningStatus(hits []kycd.ScreeningHit, caseOpen bool, lists map[string]int, at time.Time) (string, map[string]any) {
	out := map[string]any{"screenedAt": at.Format(time.RFC3339), "lists": lists}
	switch {
	case slices.ContainsFunc(hits, func(h kycd.ScreeningHit) bool { return h.Status == kycd.HitConfirmed }):
		out["result"] = "rejected"
		return kycd.StatusFailed, out
	case caseOpen:
		return kycd.StatusRunning, nil
	}
	out["result"] = "approved"
	return kycd.StatusOK, out
}

// settleHits gives the open hits that match a new status: the hits as they
// are then, and those it changed.
func settleHits(known []kycd.ScreeningHit, status string, match func(kycd.ScreeningHit) bool) (after, changed []kycd.ScreeningHit) {
	after = slices.Clone(known)
	for i, h := range after {
		if h.Status == kycd.HitOpen && match(h) {
			h.Status = status
			after[i] = h
			changed = append(changed, h)
		}
	}
	return after, changed
}

// afterClose sets the screening once a case closed: failed on a confirmed
// match, running while another case is open, else pending with a full
// screening started in the same change (the case looked at some listings
// only, and the user's data may have changed since it opened).
func (s *Service) afterClose(sc *kycd.ScreeningChange, c *kycd.Case, hits []kycd.ScreeningHit, stillOpen bool, now time.Time) {
	lists := c.Lists
	if cat := s.current.Load(); cat != nil {
		lists = cat.lists()
	}
	sc.Status, sc.Output = s.screeningStatus(hits, stillOpen, lists, now)
	if sc.Status == kycd.StatusOK {
		sc.Status, sc.Output = kycd.StatusPending, nil
		sc.Jobs = append(sc.Jobs, kycd.ScreenUserArgs{TenantID: c.TenantID, UserID: c.UserID})
	}
}

// openCase returns the user's open screening case, or nil.
func (s *Service) openCase(ctx context.Context, u *kycd.User) (*kycd.Case, error) {
	open, err := s.cases.FindCases(ctx, u.TenantID, kycd.CaseFilter{Type: kycd.CaseScreening, Status: kycd.CaseOpen, UserID: u.ID, Limit: 1})
	if err != nil || len(open) == 0 {
		return nil, err
	}
	return open[0], nil
}

// subjectKey is the canonical text of a subject, for its digest.
func subjectKey(sub kycd.ScreeningSubject) string {
	nat := slices.Clone(sub.Nationalities)
	slices.Sort(nat)
	return strings.Join([]string{strings.ToLower(sub.Name), sub.Type, sub.BirthDate, strings.Join(nat, ",")}, "\x00")
}

// caseEvent is an event of a case; its data holds ids and codes only.
func caseEvent(c *kycd.Case, typ string) *kycd.Event {
	data := map[string]any{"caseId": c.ID, "userId": c.UserID, "type": c.Type}
	if c.Outcome != "" {
		data["outcome"] = c.Outcome
	}
	return &kycd.Event{TenantID: c.TenantID, Type: typ, EntityType: "case", EntityID: c.ID, Data: data}
}

// Decision is a reviewer's answer to a case.
type Decision struct {
	Outcome string // kycd.OutcomeTrueMatch or kycd.OutcomeFalsePositive
	Reason  string
	// Reviewer names the person who decided (a name or staff id).
	Reviewer string
}

// Limits of a decision.
const (
	maxReason   = 2000
	maxReviewer = 200
)

// Cases lists a tenant's cases.
func (s *Service) Cases(ctx context.Context, tenantID string, f kycd.CaseFilter) ([]*kycd.Case, error) {
	var vs []kycd.Violation
	if f.Status != "" && f.Status != kycd.CaseOpen && f.Status != kycd.CaseClosed {
		vs = append(vs, kycd.Violation{Property: "status", Rule: "enum", RuleParams: map[string]any{"enum": []string{kycd.CaseOpen, kycd.CaseClosed}}})
	}
	if f.Type != "" && f.Type != kycd.CaseScreening {
		vs = append(vs, kycd.Violation{Property: "type", Rule: "enum", RuleParams: map[string]any{"enum": []string{kycd.CaseScreening}}})
	}
	if len(vs) > 0 {
		return nil, kycd.Invalid("query", vs...)
	}
	return s.cases.FindCases(ctx, tenantID, f)
}

// Case returns a case of the tenant (ENotFound "case").
func (s *Service) Case(ctx context.Context, tenantID, id string) (*kycd.Case, error) {
	return s.cases.FindCase(ctx, tenantID, id)
}

// Decide records a reviewer's decision of an open case: a true match makes
// the user's screening failed; a false positive clears its listings for the
// user (not raised again unless the listing or the user's data changes) and
// the screening is ok again unless another case is open. Under four eyes
// (the tenant's setting) the first decision is proposed and a second,
// different reviewer confirms it (the same outcome) or disputes it
// (another: the case is decided anew). Errors: ERequestInvalid (outcome,
// reason or reviewer), ENotFound ("case"), EOperationNotAllowed
// ("case-closed", "four-eyes-same-reviewer").
func (s *Service) Decide(ctx context.Context, tenantID, caseID string, d Decision) (*kycd.Case, error) {
	var vs []kycd.Violation
	if d.Outcome != kycd.OutcomeTrueMatch && d.Outcome != kycd.OutcomeFalsePositive {
		vs = append(vs, kycd.Violation{Property: "outcome", Rule: "enum", RuleParams: map[string]any{"enum": []string{kycd.OutcomeTrueMatch, kycd.OutcomeFalsePositive}}})
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"reason", d.Reason, maxReason}, {"reviewer", d.Reviewer, maxReviewer}} {
		if strings.TrimSpace(f.value) == "" {
			vs = append(vs, kycd.Violation{Property: f.name, Rule: "required"})
		} else if utf8.RuneCountInString(f.value) > f.max {
			vs = append(vs, kycd.Violation{Property: f.name, Rule: "maxLength", RuleParams: map[string]any{"maxLength": f.max}})
		}
	}
	if len(vs) > 0 {
		return nil, kycd.Invalid("decision", vs...)
	}
	kase, err := s.cases.FindCase(ctx, tenantID, caseID)
	if err != nil {
		return nil, err
	}
	tenant, err := s.tenants.FindTenantByID(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var decided *kycd.Case
	err = s.kyc.RecordScreening(ctx, kycd.UserRef{TenantID: tenantID, UserID: kase.UserID}, func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error) {
		c, err := s.cases.FindCase(ctx, tenantID, caseID)
		if err != nil {
			return nil, err
		}
		if c.Status != kycd.CaseOpen {
			return nil, kycd.NotAllowed("The case is closed", "case-closed")
		}
		known, err := s.cases.FindScreeningHits(ctx, kycd.UserRef{TenantID: tenantID, UserID: c.UserID})
		if err != nil {
			return nil, err
		}
		now := s.clock.Now().UTC()
		entry := kycd.CaseEntry{At: now, Action: "decided", Actor: kycd.ActorFromContext(ctx).String(), Reviewer: d.Reviewer,
			Outcome: d.Outcome, Reason: d.Reason}
		// Four eyes: the first decision waits for a second, different
		// reviewer; the same outcome closes the case, another one sends it
		// back to be decided anew.
		if tenant.Settings.FourEyes {
			var proposer, proposed string
			if c.Pending != nil {
				proposer, proposed = c.Pending.Reviewer, c.Pending.Outcome
			}
			step, err := kycd.FourEyesStep(proposer, proposed, d.Reviewer, d.Outcome)
			if err != nil {
				return nil, err
			}
			if step != kycd.FourEyesConfirmed {
				// A proposal, or a dispute of one (the proposal is dropped):
				// the case stays open and the screening as it is.
				entry.Action, c.Pending = step, nil
				if step == kycd.FourEyesProposed {
					c.Pending = &entry
				}
				c.History = append(c.History, entry)
				decided = c
				return &kycd.ScreeningChange{Status: p.Status, Output: p.Output, Case: c, Action: "case." + entry.Action,
					Details: map[string]any{"caseId": c.ID, "outcome": d.Outcome, "reviewer": d.Reviewer}}, nil
			}
			entry.Action = step
		}
		c.Pending = nil
		status := kycd.HitCleared
		if d.Outcome == kycd.OutcomeTrueMatch {
			status = kycd.HitConfirmed
		}
		c.Status, c.Outcome = kycd.CaseClosed, d.Outcome
		c.History = append(c.History, entry)
		sc := &kycd.ScreeningChange{Case: c, Events: []*kycd.Event{caseEvent(c, kycd.EventCaseClosed)}, Action: "case.decided",
			Details: map[string]any{"caseId": c.ID, "outcome": d.Outcome, "reviewer": d.Reviewer, "lists": c.Lists}}
		after, changed := settleHits(known, status, func(h kycd.ScreeningHit) bool {
			return slices.ContainsFunc(c.Candidates, func(cand kycd.CaseCandidate) bool {
				return h.Source == cand.Match.Source && h.EntryID == cand.Match.EntryID
			})
		})
		for i := range changed {
			changed[i].CaseID = c.ID
		}
		sc.Hits = changed
		others, err := s.cases.FindCases(ctx, tenantID, kycd.CaseFilter{Type: kycd.CaseScreening, Status: kycd.CaseOpen, UserID: c.UserID, Limit: 2})
		if err != nil {
			return nil, err
		}
		stillOpen := slices.ContainsFunc(others, func(o *kycd.Case) bool { return o.ID != c.ID })
		s.afterClose(sc, c, after, stillOpen, now)
		decided = c
		return sc, nil
	})
	if err != nil {
		return nil, err
	}
	return decided, nil
}

// CountCases counts a tenant's cases the filter selects: all, those no one
// took, and those reviewer took.
func (s *Service) CountCases(ctx context.Context, tenantID string, f kycd.CaseFilter, reviewer string) (kycd.CaseCounts, error) {
	return s.cases.CountCases(ctx, tenantID, f, reviewer)
}

// Assign gives an open case to a reviewer (by id; "" to no one); details
// name the person for the audit entry. Errors: ENotFound ("case"),
// EOperationNotAllowed ("case-closed").
func (s *Service) Assign(ctx context.Context, tenantID, caseID string, a kycd.Assignment, details map[string]any) error {
	return s.cases.AssignCase(ctx, tenantID, caseID, a, kycd.CaseAssigned(caseID, a, details))
}
