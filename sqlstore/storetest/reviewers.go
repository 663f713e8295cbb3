package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// createReviewer creates a reviewer with its change, as the reviewers
// service does.
func createReviewer(f *Fixture, r *kycd.Reviewer) error {
	return f.DB.CreateReviewer(context.Background(), r, kycd.ReviewerCreated(r))
}

// recordLogin records a sign-in attempt with its change, as the reviewers
// service does.
func recordLogin(f *Fixture, id string, a kycd.LoginAttempt) error {
	return f.DB.RecordLogin(context.Background(), id, a, kycd.ReviewerSignIn(id, a))
}

// testReviewers: a reviewer is stored with the TOTP secret sealed, found
// by id and by email (any case), listed per tenant; an email is taken once
// across kycd; a role changes; sign-ins count failures, lock, and reset on success, each
// audited; views are audited with the context's actor.
func testReviewers(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	email := "Rev-" + uuid.NewString()[:8] + "@Example.com"
	r := &kycd.Reviewer{TenantID: tn.ID, Email: email, Role: kycd.RoleAnalyst, PasswordHash: "$argon2id$x", TOTPSecret: "JBSWY3DPEHPK3PXP"}
	wantUnaudited(t, f.DB.CreateReviewer(ctx, &kycd.Reviewer{ID: uuid.NewString(), TenantID: tn.ID, Email: "u-" + email, Role: kycd.RoleAnalyst}, kycd.Change{}))
	if _, err := f.DB.FindReviewerByEmail(ctx, "u-"+email); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("a reviewer created without its audit entry: %v", err)
	}
	must(t, createReviewer(f, r))
	if r.ID == "" || r.CreatedAt.IsZero() || r.Email != strings.ToLower(email) {
		t.Fatalf("a created reviewer: %+v", r)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.created", EntityType: "reviewer", EntityID: r.ID,
		Details: map[string]any{"role": kycd.RoleAnalyst, "email": strings.ToLower(email)}})
	if n := count(t, f, `SELECT count(*) FROM reviewers WHERE id = ? AND CAST(totp_secret AS TEXT) LIKE ?`, r.ID, "%JBSWY3DP%"); n != 0 {
		t.Fatal("a TOTP secret is stored in clear")
	}
	for _, find := range []func() (*kycd.Reviewer, error){
		func() (*kycd.Reviewer, error) { return f.DB.FindReviewerByID(ctx, r.ID) },
		func() (*kycd.Reviewer, error) { return f.DB.FindReviewerByEmail(ctx, " "+email+" ") },
	} {
		got, err := find()
		must(t, err)
		if got.TenantID != tn.ID || got.Role != kycd.RoleAnalyst || got.TOTPSecret != "JBSWY3DPEHPK3PXP" || got.PasswordHash != "$argon2id$x" || got.Email != r.Email {
			t.Fatalf("reviewer round trip: %+v", got)
		}
	}
	if _, err := f.DB.FindReviewerByEmail(ctx, "nobody@example.com"); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("an unknown email: %v", err)
	}
	wantCode(t, createReviewer(f, &kycd.Reviewer{TenantID: other.ID, Email: email, Role: kycd.RoleAuditor, PasswordHash: "h"}), kycd.EConflict)
	wantCode(t, createReviewer(f, &kycd.Reviewer{TenantID: uuid.NewString(), Email: "x-" + email, Role: kycd.RoleAuditor, PasswordHash: "h"}), kycd.ENotFound)
	r2 := &kycd.Reviewer{TenantID: tn.ID, Email: "a-" + email, Role: kycd.RoleSupervisor, PasswordHash: "h"}
	must(t, createReviewer(f, r2))
	list, err := f.DB.FindReviewers(ctx, tn.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r.ID || list[0].TOTPSecret != "" {
		t.Fatalf("a tenant's reviewers: %+v", list)
	}
	if l, err := f.DB.FindReviewers(ctx, other.ID); err != nil || len(l) != 0 {
		t.Fatalf("another tenant's reviewers: %v %v", l, err)
	}

	// A role changes, audited.
	wantUnaudited(t, f.DB.SetReviewerRole(ctx, r2.ID, kycd.RoleAdmin, kycd.Change{}))
	must(t, f.DB.SetReviewerRole(ctx, r2.ID, kycd.RoleAuditor, kycd.ReviewerRoleChanged(r2.ID, kycd.RoleAuditor)))
	if got, err := f.DB.FindReviewerByID(ctx, r2.ID); err != nil || got.Role != kycd.RoleAuditor {
		t.Fatalf("a changed role: %+v %v", got, err)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.role-changed", EntityType: "reviewer", EntityID: r2.ID, Details: map[string]any{"role": kycd.RoleAuditor}})
	unknown := uuid.NewString()
	wantCode(t, f.DB.SetReviewerRole(ctx, unknown, kycd.RoleAuditor, kycd.ReviewerRoleChanged(unknown, kycd.RoleAuditor)), kycd.ENotFound)

	// Sign-ins: failures count and lock; a success resets them.
	lock := clock.Now().Add(15 * time.Minute)
	must(t, recordLogin(f, r.ID, kycd.LoginAttempt{}))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.sign-in-failed", EntityType: "reviewer", EntityID: r.ID})
	wantUnaudited(t, f.DB.RecordLogin(ctx, r.ID, kycd.LoginAttempt{}, kycd.Change{}))
	must(t, recordLogin(f, r.ID, kycd.LoginAttempt{LockedUntil: &lock}))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.sign-in-failed", EntityType: "reviewer", EntityID: r.ID,
		Details: map[string]any{"lockedUntil": lock.UTC().Format(time.RFC3339)}})
	got, err := f.DB.FindReviewerByID(ctx, r.ID)
	must(t, err)
	if got.FailedLogins != 2 || got.LockedUntil == nil || !got.LockedUntil.Equal(lock.Truncate(time.Microsecond)) {
		t.Fatalf("after two failures: %d %v", got.FailedLogins, got.LockedUntil)
	}
	must(t, recordLogin(f, r.ID, kycd.LoginAttempt{OK: true, TOTPStep: 42}))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.signed-in", EntityType: "reviewer", EntityID: r.ID})
	got, err = f.DB.FindReviewerByID(ctx, r.ID)
	must(t, err)
	if got.FailedLogins != 0 || got.LockedUntil != nil || got.TOTPStep != 42 {
		t.Fatalf("after a success: %+v", got)
	}
	wantCode(t, recordLogin(f, unknown, kycd.LoginAttempt{}), kycd.ENotFound)

	// Views: one audit entry each, naming the actor and what was opened.
	actx := kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "reviewer", ID: r.ID})
	caseID := uuid.NewString()
	wantUnaudited(t, f.DB.RecordView(actx, tn.ID, kycd.Change{}))
	must(t, f.DB.RecordView(actx, tn.ID, kycd.Viewed("case", caseID, map[string]any{"reviewer": r.Email})))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "case.viewed", EntityType: "case", EntityID: caseID, Details: map[string]any{"reviewer": r.Email}})
	must(t, f.DB.ChainAudit(ctx))
	entries, err := f.DB.FindAuditEntries(ctx, tn.ID, 0, 100)
	must(t, err)
	actions := []string{}
	var view *kycd.AuditEntry
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Action == "case.viewed" {
			view = e
		}
	}
	for _, want := range []string{"reviewer.created", "reviewer.role-changed", "reviewer.sign-in-failed", "reviewer.signed-in", "case.viewed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the audit trail lacks %s: %v", want, actions)
		}
	}
	if view == nil || view.Actor != "reviewer:"+r.ID || view.EntityID != caseID || view.Details["reviewer"] != r.Email {
		t.Fatalf("the view's audit entry: %+v", view)
	}
}

// testReviewerSessions: a session is found by its token's hash, touched,
// and deleted (twice is no error).
func testReviewerSessions(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	r := &kycd.Reviewer{TenantID: tn.ID, Email: "s-" + uuid.NewString()[:8] + "@example.com", Role: kycd.RoleAuditor, PasswordHash: "h"}
	must(t, createReviewer(f, r))
	now := clock.Now().Truncate(time.Microsecond)
	s := &kycd.ReviewerSession{TokenHash: uuid.NewString(), ReviewerID: r.ID, TenantID: tn.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)}
	must(t, f.DB.CreateReviewerSession(ctx, s))
	got, err := f.DB.FindReviewerSession(ctx, s.TokenHash)
	must(t, err)
	if *got != *s {
		t.Fatalf("session round trip: %+v, want %+v", got, s)
	}
	later := now.Add(5 * time.Minute)
	must(t, f.DB.TouchReviewerSession(ctx, s.TokenHash, later))
	if got, err := f.DB.FindReviewerSession(ctx, s.TokenHash); err != nil || !got.LastSeenAt.Equal(later) {
		t.Fatalf("a touched session: %+v %v", got, err)
	}
	wantCode(t, f.DB.TouchReviewerSession(ctx, "nope", later), kycd.ENotFound)
	must(t, f.DB.DeleteReviewerSession(ctx, s.TokenHash))
	must(t, f.DB.DeleteReviewerSession(ctx, s.TokenHash))
	if _, err := f.DB.FindReviewerSession(ctx, s.TokenHash); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("a deleted session: %v", err)
	}
}

// assignCase assigns a case with its change, as the screening service does.
func assignCase(f *Fixture, tenantID, caseID string, a kycd.Assignment, details map[string]any) error {
	return f.DB.AssignCase(context.Background(), tenantID, caseID, a, kycd.CaseAssigned(caseID, a, details))
}

// assignApplication assigns an application with its change, as the queues
// service does.
func assignApplication(f *Fixture, tenantID, id string, a kycd.Assignment, details map[string]any) error {
	return f.DB.AssignApplication(context.Background(), tenantID, id, a, kycd.ApplicationAssigned(id, a, details))
}

// testCaseAssignment: an open case is given to a reviewer and back to no
// one, audited, without changing its version; counts and lists select by
// assignee; a closed case or another tenant's is not assigned.
func testCaseAssignment(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "assign-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "assign-"+uuid.NewString()[:8]+"@example.com")
	c, c2 := screeningCase(tn.ID, u.ID), screeningCase(tn.ID, u2.ID)
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Case: c, Action: "screening.test"}))
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u2.ID, Case: c2, Action: "screening.test"}))
	rid := uuid.NewString()
	wantUnaudited(t, f.DB.AssignCase(ctx, tn.ID, c.ID, kycd.Assignment{To: rid}, kycd.Change{}))
	must(t, assignCase(f, tn.ID, c.ID, kycd.Assignment{To: rid}, map[string]any{"reviewer": "r@example.com"}))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "case.assigned", EntityType: "case", EntityID: c.ID,
		Details: map[string]any{"caseId": c.ID, "assignee": rid, "reviewer": "r@example.com"}})
	// A second reviewer who saw it free, taking it meanwhile: refused.
	wantCode(t, assignCase(f, tn.ID, c.ID, kycd.Assignment{To: uuid.NewString()}, nil), kycd.EStale)
	got, err := f.DB.FindCase(ctx, tn.ID, c.ID)
	must(t, err)
	if got.Assignee != rid || got.Version != c.Version {
		t.Fatalf("an assigned case: assignee %q version %d (was %d)", got.Assignee, got.Version, c.Version)
	}
	none := ""
	open := kycd.CaseFilter{Status: kycd.CaseOpen}
	for _, tc := range []struct {
		f    kycd.CaseFilter
		want int
	}{{open, 2}, {kycd.CaseFilter{Status: kycd.CaseOpen, Assignee: &rid}, 1}, {kycd.CaseFilter{Status: kycd.CaseOpen, Assignee: &none}, 1},
		{kycd.CaseFilter{Status: kycd.CaseClosed}, 0}, {kycd.CaseFilter{UserID: u2.ID}, 1}} {
		list, err := f.DB.FindCases(ctx, tn.ID, tc.f)
		must(t, err)
		if len(list) != tc.want {
			t.Errorf("cases %+v: listed %d, want %d", tc.f, len(list), tc.want)
		}
	}
	// Counts: all, not taken, the reviewer's, in one reading.
	for _, tc := range []struct {
		f        kycd.CaseFilter
		reviewer string
		want     kycd.CaseCounts
	}{{open, rid, kycd.CaseCounts{All: 2, Unassigned: 1, Mine: 1}}, {open, uuid.NewString(), kycd.CaseCounts{All: 2, Unassigned: 1}},
		{kycd.CaseFilter{Status: kycd.CaseClosed}, rid, kycd.CaseCounts{}}, {kycd.CaseFilter{UserID: u2.ID, Assignee: &rid}, rid, kycd.CaseCounts{All: 1, Unassigned: 1}}} {
		got, err := f.DB.CountCases(ctx, tn.ID, tc.f, tc.reviewer)
		must(t, err)
		if got != tc.want {
			t.Errorf("counts of %+v for %s: %+v, want %+v", tc.f, tc.reviewer, got, tc.want)
		}
	}
	if c, err := f.DB.CountCases(ctx, other.ID, open, rid); err != nil || c != (kycd.CaseCounts{}) {
		t.Errorf("another tenant's counts: %+v %v", c, err)
	}
	wantCode(t, assignCase(f, other.ID, c.ID, kycd.Assignment{From: rid}, nil), kycd.ENotFound)
	wantCode(t, assignCase(f, tn.ID, "not-a-uuid", kycd.Assignment{To: rid}, nil), kycd.ENotFound)
	must(t, assignCase(f, tn.ID, c.ID, kycd.Assignment{From: rid}, nil))
	if got, _ := f.DB.FindCase(ctx, tn.ID, c.ID); got.Assignee != "" {
		t.Fatalf("an unassigned case: %q", got.Assignee)
	}
	got.Status, got.Outcome = kycd.CaseClosed, kycd.OutcomeFalsePositive
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Case: got, Action: "screening.test"}))
	wantCode(t, assignCase(f, tn.ID, c.ID, kycd.Assignment{To: rid}, nil), kycd.EOperationNotAllowed)
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ? AND action = 'case.assigned'`, tn.ID) +
		count(t, f, `SELECT count(*) FROM audit_entries WHERE tenant_id = ? AND action = 'case.assigned'`, tn.ID); n != 2 {
		t.Errorf("case.assigned entries: %d, want 2", n)
	}
}

// testReviewerDisabled: a good sign-in records its time; disabling a
// reviewer ends every session of theirs at once, audited; enabling clears
// it; another tenant cannot disable them.
func testReviewerDisabled(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	r := &kycd.Reviewer{TenantID: tn.ID, Email: "d-" + uuid.NewString()[:8] + "@example.com", Role: kycd.RoleAnalyst, PasswordHash: "h"}
	must(t, createReviewer(f, r))
	if r.LastSignInAt != nil || r.DisabledAt != nil {
		t.Fatalf("a new reviewer: %+v", r)
	}
	must(t, recordLogin(f, r.ID, kycd.LoginAttempt{OK: true}))
	got, err := f.DB.FindReviewerByID(ctx, r.ID)
	must(t, err)
	if got.LastSignInAt == nil || !got.LastSignInAt.Equal(clock.Now().Truncate(time.Microsecond)) || got.DisabledAt != nil {
		t.Fatalf("after a sign-in: %+v", got)
	}
	now := clock.Now().Truncate(time.Microsecond)
	for _, h := range []string{"h1-" + r.ID, "h2-" + r.ID} {
		must(t, f.DB.CreateReviewerSession(ctx, &kycd.ReviewerSession{TokenHash: h, ReviewerID: r.ID, TenantID: tn.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	// What they hold: an open case and an application in review.
	u := newUser(t, f, tn.ID, "held-"+uuid.NewString()[:8]+"@example.com")
	held := screeningCase(tn.ID, u.ID)
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Case: held, Action: "screening.test"}))
	must(t, assignCase(f, tn.ID, held.ID, kycd.Assignment{To: r.ID}, nil))
	app := &kycd.Application{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tn.ID, UserID: u.ID, LevelID: "basic", Status: kycd.ApplicationInReview,
		Data: kycd.ApplicationData{Attributes: map[string]*kycd.AttributeValue{}}}
	must(t, f.DB.CreateApplication(ctx, app, kycd.ApplicationCreated(app)))
	must(t, assignApplication(f, tn.ID, app.ID, kycd.Assignment{To: r.ID}, nil))
	wantCode(t, f.DB.SetReviewerDisabled(ctx, other.ID, r.ID, true, kycd.ReviewerDisabled(r.ID, true)), kycd.ENotFound)
	unknown := uuid.NewString()
	wantCode(t, f.DB.SetReviewerDisabled(ctx, tn.ID, unknown, true, kycd.ReviewerDisabled(unknown, true)), kycd.ENotFound)
	wantUnaudited(t, f.DB.SetReviewerDisabled(ctx, tn.ID, r.ID, true, kycd.Change{}))
	if _, err := f.DB.FindReviewerSession(ctx, "h1-"+r.ID); err != nil {
		t.Fatalf("another tenant's refused disable ended a session: %v", err)
	}
	must(t, f.DB.SetReviewerDisabled(ctx, tn.ID, r.ID, true, kycd.ReviewerDisabled(r.ID, true)))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.disabled", EntityType: "reviewer", EntityID: r.ID})
	if got, err := f.DB.FindReviewerByID(ctx, r.ID); err != nil || got.DisabledAt == nil {
		t.Fatalf("a disabled reviewer: %+v %v", got, err)
	}
	for _, h := range []string{"h1-" + r.ID, "h2-" + r.ID} {
		if _, err := f.DB.FindReviewerSession(ctx, h); kycd.ErrorCode(err) != kycd.ENotFound {
			t.Fatalf("a disabled reviewer's session: %v", err)
		}
	}
	// What they held went back to the queues.
	if c, err := f.DB.FindCase(ctx, tn.ID, held.ID); err != nil || c.Assignee != "" {
		t.Fatalf("a disabled reviewer's case: %+v %v", c, err)
	}
	if a, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, ID: app.ID}); err != nil || a.Assignee != "" {
		t.Fatalf("a disabled reviewer's application: %+v %v", a, err)
	}
	must(t, f.DB.SetReviewerDisabled(ctx, tn.ID, r.ID, false, kycd.ReviewerDisabled(r.ID, false)))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "reviewer.enabled", EntityType: "reviewer", EntityID: r.ID})
	if got, err := f.DB.FindReviewerByID(ctx, r.ID); err != nil || got.DisabledAt != nil {
		t.Fatalf("an enabled reviewer: %+v %v", got, err)
	}
	list, err := f.DB.FindAuditLog(ctx, tn.ID, kycd.AuditFilter{EntityIDs: []string{r.ID}})
	must(t, err)
	var actions []string
	for _, e := range list {
		actions = append(actions, e.Action)
	}
	if len(actions) < 2 || actions[0] != "reviewer.enabled" || actions[1] != "reviewer.disabled" {
		t.Fatalf("the reviewer's audit entries: %v", actions)
	}
}
