package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/mock"
)

// testQueues: the console's queues list a tenant's rows oldest first, a
// page at a time, with their filters and counts, and never another
// tenant's: applications in review (taken by a reviewer, audited; only in
// review), failed checks by type, ingestions finished with a failed process
// by provider, and endpoints failing or disabled with their failing
// deliveries and the newest one's status and error.
func testQueues(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "queue-"+uuid.NewString()[:8]+"@example.com")
	ou := newUser(t, f, other.ID, "queue-"+uuid.NewString()[:8]+"@example.com")

	// Applications.
	inReview := func(tenantID, userID, level string) *kycd.Application {
		a := newApplication(t, f, tenantID, userID, level)
		a.Status = kycd.ApplicationInReview
		must(t, f.DB.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, true, "kyc-application.sent-to-review", nil)))
		return a
	}
	a1, a2, a3 := inReview(tn.ID, u.ID, "basic"), inReview(tn.ID, u.ID, "standard"), inReview(tn.ID, u.ID, "basic")
	draft := newApplication(t, f, tn.ID, u.ID, "basic")
	theirs := inReview(other.ID, ou.ID, "basic")
	queue := func(fl kycd.ApplicationFilter) []string {
		t.Helper()
		fl.Status = kycd.ApplicationInReview
		list, err := f.DB.FindApplicationQueue(ctx, tn.ID, fl)
		must(t, err)
		return appIDs(list)
	}
	if got := queue(kycd.ApplicationFilter{}); !slices.Equal(got, []string{a1.ID, a2.ID, a3.ID}) {
		t.Fatalf("the review queue: %v", got)
	}
	if got := queue(kycd.ApplicationFilter{After: a1.ID, Limit: 1}); !slices.Equal(got, []string{a2.ID}) {
		t.Fatalf("the queue's second page: %v", got)
	}
	if got := queue(kycd.ApplicationFilter{LevelID: "basic"}); !slices.Equal(got, []string{a1.ID, a3.ID}) {
		t.Fatalf("one level's queue: %v", got)
	}
	reviewer, none := uuid.NewString(), ""
	before := auditCount(t, f, tn.ID)
	wantUnaudited(t, f.DB.AssignApplication(ctx, tn.ID, a2.ID, kycd.Assignment{To: reviewer}, kycd.Change{}))
	must(t, assignApplication(f, tn.ID, a2.ID, kycd.Assignment{To: reviewer}, map[string]any{"reviewer": "r@example.com"}))
	if n := auditCount(t, f, tn.ID); n != before+1 {
		t.Fatalf("an assignment wrote %d audit entries", n-before)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "kyc-application.assigned", EntityType: "kyc-application", EntityID: a2.ID,
		Details: map[string]any{"reviewer": "r@example.com", "assignee": reviewer}})
	if got, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, ID: a2.ID}); err != nil || got.Assignee != reviewer || got.Version != a2.Version {
		t.Fatalf("an assigned application: %+v %v", got, err)
	}
	if got := queue(kycd.ApplicationFilter{Assignee: &reviewer}); !slices.Equal(got, []string{a2.ID}) {
		t.Fatalf("the reviewer's applications: %v", got)
	}
	if got := queue(kycd.ApplicationFilter{Assignee: &none}); !slices.Equal(got, []string{a1.ID, a3.ID}) {
		t.Fatalf("the applications no one took: %v", got)
	}
	c, err := f.DB.CountApplicationQueue(ctx, tn.ID, kycd.ApplicationFilter{Status: kycd.ApplicationInReview}, reviewer)
	must(t, err)
	if c != (kycd.CaseCounts{All: 3, Unassigned: 2, Mine: 1}) {
		t.Fatalf("the queue's counts: %+v", c)
	}
	if c, err := f.DB.CountApplicationQueue(ctx, tn.ID, kycd.ApplicationFilter{Status: kycd.ApplicationInReview, LevelID: "standard"}, reviewer); err != nil ||
		c != (kycd.CaseCounts{All: 1, Mine: 1}) {
		t.Fatalf("one level's counts: %+v %v", c, err)
	}
	wantCode(t, assignApplication(f, tn.ID, draft.ID, kycd.Assignment{To: reviewer}, nil), kycd.EOperationNotAllowed)
	wantCode(t, assignApplication(f, tn.ID, theirs.ID, kycd.Assignment{To: reviewer}, nil), kycd.ENotFound)
	wantCode(t, assignApplication(f, tn.ID, "not-a-uuid", kycd.Assignment{To: reviewer}, nil), kycd.ENotFound)
	// Taken meanwhile: an assignment from no one (what a second reviewer
	// saw) changes nothing.
	wantCode(t, assignApplication(f, tn.ID, a2.ID, kycd.Assignment{To: uuid.NewString()}, nil), kycd.EStale)
	if got, _ := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, ID: a2.ID}); got.Assignee != reviewer {
		t.Fatalf("an application taken twice: held by %q", got.Assignee)
	}
	must(t, assignApplication(f, tn.ID, a2.ID, kycd.Assignment{From: reviewer}, nil))
	if c, _ := f.DB.CountApplicationQueue(ctx, tn.ID, kycd.ApplicationFilter{Status: kycd.ApplicationInReview}, reviewer); c.Unassigned != 3 {
		t.Fatalf("an application given back: %+v", c)
	}

	// Failed checks.
	newCheck := func(tenantID, userID, typ, status string) *kycd.Check {
		id, err := uuid.NewV7()
		must(t, err)
		ch := &kycd.Check{ID: id.String(), TenantID: tenantID, UserID: userID, Type: typ, ConfirmedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
		createCheck(t, f, ch)
		if status != kycd.CheckPending {
			ch.Status, ch.Reasons = status, []kycd.CheckReason{{Code: kycd.ReasonInstrumentNotSuitable, Message: "not suitable"}}
			must(t, decideCheck(t, f, ch))
		}
		return ch
	}
	c1, c2 := newCheck(tn.ID, u.ID, kycd.CheckInstrumentFit, kycd.CheckFailed), newCheck(tn.ID, u.ID, kycd.CheckPOR, kycd.CheckFailed)
	newCheck(tn.ID, u.ID, kycd.CheckInstrumentFit, kycd.CheckPassed)
	newCheck(tn.ID, u.ID, kycd.CheckKYC, kycd.CheckPending)
	newCheck(other.ID, ou.ID, kycd.CheckPOR, kycd.CheckFailed)
	failed, err := f.DB.FindChecksByStatus(ctx, tn.ID, kycd.CheckFilter{Status: kycd.CheckFailed})
	must(t, err)
	if !slices.Equal(checkIDs(failed), []string{c1.ID, c2.ID}) || failed[0].Reasons[0].Code != kycd.ReasonInstrumentNotSuitable {
		t.Fatalf("the failed checks: %v", checkIDs(failed))
	}
	if l, err := f.DB.FindChecksByStatus(ctx, tn.ID, kycd.CheckFilter{Status: kycd.CheckFailed, Type: kycd.CheckPOR}); err != nil || !slices.Equal(checkIDs(l), []string{c2.ID}) {
		t.Fatalf("the failed POR checks: %v %v", checkIDs(l), err)
	}
	if l, err := f.DB.FindChecksByStatus(ctx, tn.ID, kycd.CheckFilter{Status: kycd.CheckFailed, After: c1.ID, Limit: 5}); err != nil || !slices.Equal(checkIDs(l), []string{c2.ID}) {
		t.Fatalf("the failed checks after the first: %v %v", checkIDs(l), err)
	}
	if byType, err := f.DB.CountChecksByType(ctx, tn.ID, kycd.CheckFailed); err != nil || len(byType) != 2 || byType[kycd.CheckPOR] != 1 || byType[kycd.CheckInstrumentFit] != 1 {
		t.Fatalf("the failed checks by type: %v %v", byType, err)
	}

	// Failed ingestions: finished with a failed process.
	ingest := func(tenantID, userID, provider string, results map[string]string) *kycd.Ingestion {
		in := &kycd.Ingestion{TenantID: tenantID, UserID: userID, Provider: provider, Processes: []string{kycd.ProcessProfile}}
		must(t, f.DB.CreateIngestion(ctx, in, connector.IngestionCreated(in, kycd.IngestArgs{TenantID: tenantID})))
		in.Status, in.Result = kycd.IngestionFinished, map[string]*kycd.IngestionResult{}
		for code, status := range results {
			in.Result[code] = &kycd.IngestionResult{Status: status}
			if status == kycd.ResultFailed {
				in.Result[code].Error = &kycd.IngestionError{Code: kycd.ESumsubClient, Message: "Sumsub answered 404", Step: kycd.StepFetch}
			}
		}
		must(t, f.DB.SaveIngestion(ctx, in, connector.IngestionSaved(in, true)))
		return in
	}
	i1 := ingest(tn.ID, u.ID, kycd.ProviderSumsub, map[string]string{kycd.ProcessProfile: kycd.ResultFailed})
	ingest(tn.ID, u.ID, kycd.ProviderSumsub, map[string]string{kycd.ProcessProfile: kycd.ResultCompleted})
	i3 := ingest(tn.ID, u.ID, kycd.ProviderVeriff, map[string]string{kycd.ProcessProfile: kycd.ResultCompleted, kycd.ProcessIdentity: kycd.ResultFailed})
	ingest(other.ID, ou.ID, kycd.ProviderSumsub, map[string]string{kycd.ProcessProfile: kycd.ResultFailed})
	ids := func(list []*kycd.Ingestion) []string {
		out := []string{}
		for _, in := range list {
			out = append(out, in.ID)
		}
		return out
	}
	if l, err := f.DB.FindFailedIngestions(ctx, tn.ID, kycd.FailedIngestionFilter{}); err != nil || !slices.Equal(ids(l), []string{i1.ID, i3.ID}) ||
		l[0].Result[kycd.ProcessProfile].Error.Code != kycd.ESumsubClient {
		t.Fatalf("the failed ingestions: %v %v", ids(l), err)
	}
	if l, err := f.DB.FindFailedIngestions(ctx, tn.ID, kycd.FailedIngestionFilter{Provider: kycd.ProviderVeriff}); err != nil || !slices.Equal(ids(l), []string{i3.ID}) {
		t.Fatalf("the failed Veriff ingestions: %v %v", ids(l), err)
	}
	if l, err := f.DB.FindFailedIngestions(ctx, tn.ID, kycd.FailedIngestionFilter{After: i1.ID, Limit: 1}); err != nil || !slices.Equal(ids(l), []string{i3.ID}) {
		t.Fatalf("the failed ingestions after the first: %v %v", ids(l), err)
	}
	if byProvider, err := f.DB.CountFailedIngestions(ctx, tn.ID); err != nil || len(byProvider) != 2 || byProvider[kycd.ProviderSumsub] != 1 || byProvider[kycd.ProviderVeriff] != 1 {
		t.Fatalf("the failed ingestions by provider: %v %v", byProvider, err)
	}
	// Saved again after a retry that worked, it leaves the queue.
	i1.Result[kycd.ProcessProfile] = &kycd.IngestionResult{Status: kycd.ResultCompleted}
	must(t, f.DB.SaveIngestion(ctx, i1, connector.IngestionSaved(i1, false)))
	if byProvider, _ := f.DB.CountFailedIngestions(ctx, tn.ID); byProvider[kycd.ProviderSumsub] != 0 {
		t.Fatalf("a mended ingestion still counts: %v", byProvider)
	}
	// Ingestions finished before the flag existed (migration 0023 marks
	// them unknown): settled from their sealed results, then counted.
	for _, in := range []*kycd.Ingestion{i1, i3} {
		if _, err := f.SQL.ExecContext(ctx, f.DB.Rebind(`UPDATE ingestions SET failed = -1 WHERE id = ?`), in.ID); err != nil {
			t.Fatal(err)
		}
	}
	if byProvider, _ := f.DB.CountFailedIngestions(ctx, tn.ID); byProvider[kycd.ProviderVeriff] != 0 {
		t.Fatalf("an unsettled ingestion counts: %v", byProvider)
	}
	if n, err := f.DB.SettleIngestionFlags(ctx); err != nil || n < 2 {
		t.Fatalf("SettleIngestionFlags: %d %v", n, err)
	}
	if l, err := f.DB.FindFailedIngestions(ctx, tn.ID, kycd.FailedIngestionFilter{}); err != nil || !slices.Equal(ids(l), []string{i3.ID}) {
		t.Fatalf("the failed ingestions after settling: %v %v", ids(l), err)
	}
	if n, err := f.DB.SettleIngestionFlags(ctx); err != nil || n != 0 {
		t.Fatalf("SettleIngestionFlags again: %d %v", n, err)
	}

	// Failing endpoints.
	healthy, failing, gone := newEndpoint(t, f, tn.ID, false, "test."), newEndpoint(t, f, tn.ID, false, "test."), newEndpoint(t, f, tn.ID, false, "test.")
	newEndpoint(t, f, other.ID, false, "test.")
	ev1 := emit(t, f, tn.ID, "test.first", u.ID)
	dispatchAll(t, f)
	since := clock.Now()
	clock.Advance(time.Minute)
	for _, e := range []*kycd.WebhookEndpoint{failing, gone} {
		d := deliveryOf(t, f, ev1, e)
		d.Attempts, d.LastStatus, d.LastError = 1, 500, ""
		e.FailingSince = &since
		if e == gone {
			d.Status, d.LastStatus, d.LastError = kycd.DeliveryFailed, 0, "connection refused"
			e.Enabled, e.DisabledReason = false, "the endpoint answered 410 Gone"
		}
		must(t, f.DB.RecordAttempt(ctx, d, e, kycd.EndpointStateChanged(e, d.ID)))
	}
	ok := deliveryOf(t, f, ev1, healthy)
	ok.Status, ok.Attempts, ok.LastStatus = kycd.DeliverySucceeded, 1, 200
	must(t, f.DB.RecordAttempt(ctx, ok, nil, kycd.Change{}))
	list, counts, err := f.DB.FindFailingEndpoints(ctx, tn.ID, kycd.FailingEndpointFilter{})
	must(t, err)
	if counts != (kycd.EndpointCounts{All: 2, Enabled: 1, Disabled: 1}) || len(list) != 2 {
		t.Fatalf("the failing endpoints: %d, counts %+v", len(list), counts)
	}
	byID := map[string]*kycd.FailingEndpoint{list[0].ID: list[0], list[1].ID: list[1]}
	if e := byID[failing.ID]; e == nil || !e.Enabled || e.Failing != 1 || e.LastStatus != 500 || e.LastEventType != "test.first" || e.URL != failing.URL ||
		!e.Since.Equal(since) || e.LastAttempt == nil {
		t.Fatalf("a failing endpoint: %+v", e)
	}
	if e := byID[gone.ID]; e == nil || e.Enabled || e.DisabledReason == "" || e.Failing != 1 || e.LastError != "connection refused" {
		t.Fatalf("a disabled endpoint: %+v", e)
	}
	if l, _, err := f.DB.FindFailingEndpoints(ctx, tn.ID, kycd.FailingEndpointFilter{State: "disabled"}); err != nil || len(l) != 1 || l[0].ID != gone.ID {
		t.Fatalf("the disabled endpoints: %v %v", l, err)
	}
	if l, _, err := f.DB.FindFailingEndpoints(ctx, tn.ID, kycd.FailingEndpointFilter{Offset: 1, Limit: 1}); err != nil || len(l) != 1 || l[0].ID != list[1].ID {
		t.Fatalf("the second page of failing endpoints: %v %v", l, err)
	}
}
