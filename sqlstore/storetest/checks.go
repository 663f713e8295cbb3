package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/checks"
	"github.com/kycd/kycd/mock"
)

// checkIDs are the ids of checks, in order.
func checkIDs(list []*kycd.Check) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.ID
	}
	return out
}

// createFile stores a new pending file as the files service does.
func createFile(f *Fixture, file *kycd.File) error {
	return f.DB.CreateFile(context.Background(), file, kycd.FileCreated(file))
}

// createCheck stores a new pending check as the checks service does.
func createCheck(t *testing.T, f *Fixture, c *kycd.Check) {
	t.Helper()
	c.Status = kycd.CheckPending
	must(t, f.DB.CreateCheck(context.Background(), c, checks.Created(c, probeArgs{UserID: c.UserID})))
}

// decideCheck saves a check's decision as the checks service does: with the
// user's checks it supersedes (kycd.Check.Supersedes) and its change.
func decideCheck(t *testing.T, f *Fixture, c *kycd.Check) error {
	t.Helper()
	mine, err := f.DB.FindChecks(context.Background(), kycd.UserRef{TenantID: c.TenantID, UserID: c.UserID})
	must(t, err)
	supersedes := c.Supersedes(mine)
	return f.DB.DecideCheck(context.Background(), c, supersedes, checks.Decided(c, supersedes))
}

// testCheckDecisions: a user's checks come oldest first; a decision is
// saved with its version, evidence and PASSED or FAILED event and audit
// entry; a stale or another tenant's copy changes nothing; a passed KYC
// refresh supersedes the user's earlier passed KYC checks, and only those.
func testCheckDecisions(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "decide-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "decide2-"+uuid.NewString()[:8]+"@example.com")
	newCheck := func(userID, typ string, refresh bool) *kycd.Check {
		id, err := uuid.NewV7() // time-ordered, as the checks service makes them
		must(t, err)
		c := &kycd.Check{ID: id.String(), TenantID: tn.ID, UserID: userID, Type: typ, ConfirmedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			Data: kycd.CheckData{KYCUpdate: refresh}}
		createCheck(t, f, c)
		return c
	}
	events := func(c *kycd.Check, typ string) int {
		return count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, c.ID, typ)
	}
	k1, k2, por := newCheck(u.ID, kycd.CheckKYC, false), newCheck(u.ID, kycd.CheckKYC, false), newCheck(u.ID, kycd.CheckPOR, false)
	theirs := newCheck(u2.ID, kycd.CheckKYC, false)
	list, err := f.DB.FindChecks(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if ids := checkIDs(list); !slices.Equal(ids, []string{k1.ID, k2.ID, por.ID}) {
		t.Errorf("user's checks: %v, want %v", ids, []string{k1.ID, k2.ID, por.ID})
	}
	if list, err := f.DB.FindChecks(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID}); err != nil || len(list) != 0 {
		t.Errorf("another tenant's read: %d %v", len(list), err)
	}

	// A decision.
	stale := *k1
	auditBefore := auditCount(t, f, tn.ID)
	k1.Status, k1.EvidenceFileID = kycd.CheckPassed, uuid.NewString()
	must(t, decideCheck(t, f, k1))
	if k1.Version != 2 || k1.DecidedAt == nil {
		t.Errorf("after the decision: version %d, decided %v", k1.Version, k1.DecidedAt)
	}
	got, err := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: k1.ID})
	must(t, err)
	if got.Status != kycd.CheckPassed || got.EvidenceFileID != k1.EvidenceFileID || got.Version != 2 || got.DecidedAt == nil || got.SupersededBy != "" {
		t.Errorf("decided: %+v", got)
	}
	// A key that names no user finds the tenant's check, whoever's it is.
	if anyUser, err := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, ID: k1.ID}); err != nil || anyUser.ID != k1.ID || anyUser.UserID != u.ID {
		t.Errorf("by tenant and id: %+v, %v", anyUser, err)
	}
	if n := events(k1, kycd.EventCheckPassed); n != 1 {
		t.Errorf("%d passed events", n)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	// Refused: a stale copy, another tenant's.
	auditBefore = auditCount(t, f, tn.ID)
	stale.Status = kycd.CheckFailed
	wantCode(t, decideCheck(t, f, &stale), kycd.EStale)
	foreign := *k2
	foreign.TenantID, foreign.Status = other.ID, kycd.CheckPassed
	wantCode(t, decideCheck(t, f, &foreign), kycd.EStale)
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: k1.ID}); got.Status != kycd.CheckPassed || got.Version != 2 {
		t.Errorf("after a stale decision: %+v", got)
	}
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: k2.ID}); got.Status != kycd.CheckPending || got.Version != 1 {
		t.Errorf("after another tenant's decision: %+v", got)
	}
	if n := events(k1, kycd.EventCheckFailed) + events(k2, kycd.EventCheckPassed); n != 0 {
		t.Errorf("refused decisions announced %d events", n)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore {
		t.Errorf("refused decisions recorded audit entries: %d, want %d", n, auditBefore)
	}
	// A failure keeps its reasons.
	por.Status, por.Reasons = kycd.CheckFailed, []kycd.CheckReason{{Code: kycd.ReasonEvidenceInvalid, Message: "not a zip"}}
	must(t, decideCheck(t, f, por))
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: por.ID}); got.Status != kycd.CheckFailed || len(got.Reasons) != 1 || got.Reasons[0].Code != kycd.ReasonEvidenceInvalid {
		t.Errorf("failed: %+v", got)
	}
	if n := events(por, kycd.EventCheckFailed); n != 1 {
		t.Errorf("%d failed events", n)
	}

	// Effects: saved with the decision, then changed on their own (a
	// stale copy refused), each save audited.
	k3 := newCheck(u2.ID, kycd.CheckKYC, false)
	k3.Status = kycd.CheckPassed
	k3.Effects = map[string]*kycd.CheckEffect{kycd.ProcessAddress: {Status: kycd.EffectConflict, Reasons: []string{"address-mismatch"}, Message: "refused"},
		kycd.ProcessIdentity: {Status: kycd.EffectDeferred, Reasons: []string{"missing-name"}}}
	must(t, decideCheck(t, f, k3))
	got, err = f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u2.ID, ID: k3.ID})
	must(t, err)
	if len(got.Effects) != 2 || got.Effects[kycd.ProcessAddress].Reasons[0] != "address-mismatch" || !got.Deferred() {
		t.Errorf("effects decided: %+v", got.Effects)
	}
	staleEffects := *got
	auditBefore = auditCount(t, f, tn.ID)
	got.Effects[kycd.ProcessIdentity] = &kycd.CheckEffect{Status: kycd.EffectApplied}
	must(t, f.DB.SaveCheckEffects(ctx, got, kycd.CheckEffectsSaved(got, []string{kycd.ProcessIdentity})))
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("effects saved with %d audit entries", n-auditBefore)
	}
	wantCode(t, f.DB.SaveCheckEffects(ctx, &staleEffects, kycd.CheckEffectsSaved(&staleEffects, nil)), kycd.EStale)
	if again, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u2.ID, ID: k3.ID}); again.Deferred() || again.Effects[kycd.ProcessIdentity].Status != kycd.EffectApplied ||
		again.Version != got.Version || again.Status != kycd.CheckPassed {
		t.Errorf("effects after their save: %+v %+v", again, again.Effects)
	}
	if plain, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: k1.ID}); plain.Effects != nil && len(plain.Effects) != 0 {
		t.Errorf("a check without effects reads %v", plain.Effects)
	}

	// A KYC refresh: a failed one supersedes nothing, a passed one the
	// user's earlier passed KYC checks (not the failed POR, not another
	// user's).
	k2.Status = kycd.CheckPassed
	must(t, decideCheck(t, f, k2))
	theirs.Status = kycd.CheckPassed
	must(t, decideCheck(t, f, theirs))
	failedRefresh := newCheck(u.ID, kycd.CheckKYC, true)
	failedRefresh.Status, failedRefresh.Reasons = kycd.CheckFailed, []kycd.CheckReason{{Code: kycd.ReasonDocumentExpired}}
	must(t, decideCheck(t, f, failedRefresh))
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: u.ID, ID: k1.ID}); got.SupersededBy != "" {
		t.Errorf("a failed refresh superseded a check: %+v", got)
	}
	refresh := newCheck(u.ID, kycd.CheckKYC, true)
	refresh.Status = kycd.CheckPassed
	must(t, decideCheck(t, f, refresh))
	byID, err := f.DB.FindChecksByID(ctx, tn.ID, []string{k1.ID, k2.ID, por.ID, theirs.ID, failedRefresh.ID, refresh.ID})
	must(t, err)
	if len(byID) != 6 {
		t.Fatalf("%d checks read back, want 6", len(byID))
	}
	for _, c := range byID {
		want := ""
		if c.ID == k1.ID || c.ID == k2.ID {
			want = refresh.ID
		}
		if c.SupersededBy != want {
			t.Errorf("check %s (%s, %s): superseded by %q, want %q", c.ID, c.Type, c.Status, c.SupersededBy, want)
		}
		if want != "" && c.Version != 3 {
			t.Errorf("superseded check %s: version %d, want 3", c.ID, c.Version)
		}
	}
	// The store supersedes what it is told, and refuses, changing nothing,
	// to supersede a check superseded meanwhile (a refresh read before
	// another refresh passed).
	late := newCheck(u.ID, kycd.CheckKYC, true)
	late.Status = kycd.CheckPassed
	auditBefore = auditCount(t, f, tn.ID)
	wantCode(t, f.DB.DecideCheck(ctx, late, []string{k1.ID}, checks.Decided(late, []string{k1.ID})), kycd.EStale)
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, ID: late.ID}); got.Status != kycd.CheckPending || events(late, kycd.EventCheckPassed) != 0 || auditCount(t, f, tn.ID) != auditBefore {
		t.Errorf("a refused refresh was saved: %+v", got)
	}
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, ID: k1.ID}); got.SupersededBy != refresh.ID {
		t.Errorf("a refused refresh superseded %s: %+v", k1.ID, got)
	}
	// And to decide a refresh whose list misses a KYC check that passed
	// after the list was read (here: refresh, live), which would stay live
	// beside it.
	blind := newCheck(u.ID, kycd.CheckKYC, true)
	blind.Status = kycd.CheckPassed
	auditBefore = auditCount(t, f, tn.ID)
	wantCode(t, f.DB.DecideCheck(ctx, blind, nil, checks.Decided(blind, nil)), kycd.EStale)
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, ID: blind.ID}); got.Status != kycd.CheckPending || auditCount(t, f, tn.ID) != auditBefore {
		t.Errorf("a refresh blind to a passed check was saved: %+v", got)
	}
	if got, _ := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, ID: refresh.ID}); got.SupersededBy != "" {
		t.Errorf("a refused refresh superseded %s: %+v", refresh.ID, got)
	}
}
