package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/mock"
)

// testIngestions: an ingestion is created with its event, job and audit
// entry in one transaction; reads filter by tenant, user and provider and
// page newest first; a save of a stale copy is EStale; personal data is
// sealed; configurations round-trip; ingested files and submission keys are
// recorded once.
func testIngestions(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	u := newUser(t, f, tn.ID, "ingest-"+uuid.NewString()[:8]+"@example.com")
	newIngestion := func(provider string) *kycd.Ingestion {
		in := &kycd.Ingestion{TenantID: tn.ID, UserID: u.ID, Provider: provider, Processes: []string{kycd.ProcessIdentity},
			Parameters: map[string]any{"shareToken": "_act-Qzsecrettoken"},
			Sources:    []*kycd.IngestionSource{{Kind: "shareToken", Ref: "_act-Qzsecrettoken", Processes: []string{kycd.ProcessIdentity}}}}
		must(t, f.DB.CreateIngestion(ctx, in, connector.IngestionCreated(in, kycd.IngestArgs{TenantID: tn.ID, IngestionID: "set-below"})))
		return in
	}
	before := auditCount(t, f, tn.ID)
	in := newIngestion(kycd.ProviderSumsub)
	if in.ID == "" || in.Status != kycd.IngestionQueued || in.Version != 1 || in.CreatedAt.IsZero() {
		t.Fatalf("created: %+v", in)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, in.ID, kycd.EventIngestionCreated(kycd.ProviderSumsub)); n != 1 {
		t.Errorf("%d created events", n)
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, "connector_ingest"); n < 1 {
		t.Errorf("%d ingest jobs", n)
	}
	if n := auditCount(t, f, tn.ID); n != before+1 {
		t.Errorf("audit entries: %d, want %d", n, before+1)
	}
	var data []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT data FROM ingestions WHERE id = ?`), in.ID).Scan(&data))
	if bytes.Contains(data, []byte("Qzsecret")) {
		t.Error("ingestion parameters stored in the clear")
	}
	// Another user's or provider's reads do not find it.
	if _, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, UserID: uuid.NewString(), ID: in.ID}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another user: %v", err)
	}
	if _, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderVeriff, ID: in.ID}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another provider: %v", err)
	}
	if _, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, ID: "not-a-uuid"}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("malformed id: %v", err)
	}
	got, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderSumsub, ID: in.ID})
	must(t, err)
	if got.Parameters["shareToken"] != "_act-Qzsecrettoken" || len(got.Sources) != 1 || got.Sources[0].Ref != "_act-Qzsecrettoken" {
		t.Fatalf("round trip: %+v", got)
	}
	// Saving: the version moves, a stale copy is refused, and the status
	// change is announced.
	stale := *got
	got.Status = kycd.IngestionRunning
	got.Result = map[string]*kycd.IngestionResult{kycd.ProcessIdentity: {Status: kycd.ResultFailed, Error: &kycd.IngestionError{Code: kycd.EWorkflow, Message: "x"}}}
	must(t, f.DB.SaveIngestion(ctx, got, connector.IngestionSaved(got, true)))
	if got.Version != 2 {
		t.Errorf("version: %d", got.Version)
	}
	if err := f.DB.SaveIngestion(ctx, &stale, connector.IngestionSaved(&stale, true)); kycd.ErrorCode(err) != kycd.EStale {
		t.Errorf("stale save: %v", err)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, in.ID, kycd.EventIngestionStatusChanged(kycd.ProviderSumsub)); n != 1 {
		t.Errorf("%d status events", n)
	}
	// The event shows the ingestion as the store saved it: its status and
	// the time the store stamped.
	var payload string
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT payload FROM outbox_events WHERE entity_id = ? AND type = ?`), in.ID, kycd.EventIngestionStatusChanged(kycd.ProviderSumsub)).Scan(&payload))
	var ev struct {
		Ingestion struct {
			ID        string    `json:"id"`
			Status    string    `json:"status"`
			UpdatedAt time.Time `json:"updatedAt"`
		} `json:"ingestion"`
	}
	must(t, json.Unmarshal([]byte(payload), &ev))
	if ev.Ingestion.ID != in.ID || ev.Ingestion.Status != kycd.IngestionRunning || !ev.Ingestion.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("status event: %s, want updatedAt %s", payload, got.UpdatedAt)
	}
	again, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, UserID: u.ID, ID: in.ID})
	must(t, err)
	if again.Status != kycd.IngestionRunning || again.Result[kycd.ProcessIdentity].Error.Code != kycd.EWorkflow {
		t.Errorf("saved: %+v", again)
	}
	// A key that names neither user nor provider finds the tenant's
	// ingestion (the connector's jobs know only the id).
	if anyOne, err := f.DB.FindIngestion(ctx, kycd.IngestionKey{TenantID: tn.ID, ID: in.ID}); err != nil || anyOne.ID != in.ID || anyOne.Version != again.Version {
		t.Errorf("by tenant and id: %+v, %v", anyOne, err)
	}
	// Pages, newest first.
	second, third := newIngestion(kycd.ProviderSumsub), newIngestion(kycd.ProviderSumsub)
	newIngestion(kycd.ProviderVeriff)
	page, err := f.DB.FindIngestions(ctx, kycd.IngestionFilter{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderSumsub, Limit: 2})
	must(t, err)
	if len(page) != 2 || page[0].ID != third.ID || page[1].ID != second.ID {
		t.Fatalf("first page: %d", len(page))
	}
	page, err = f.DB.FindIngestions(ctx, kycd.IngestionFilter{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderSumsub, Before: second.ID, Limit: 2})
	must(t, err)
	if len(page) != 1 || page[0].ID != in.ID {
		t.Errorf("second page: %d", len(page))
	}
	// By ids, in one read: another tenant's, unknown, malformed and
	// repeated ids give nothing more.
	other := newTenant(t, f)
	byID, err := f.DB.FindIngestionsByID(ctx, tn.ID, []string{in.ID, third.ID, in.ID, uuid.NewString(), "not-a-uuid"})
	must(t, err)
	if len(byID) != 2 || !hasIDs(byID, func(x *kycd.Ingestion) string { return x.ID }, in.ID, third.ID) || byID[0].Parameters["shareToken"] != "_act-Qzsecrettoken" {
		t.Errorf("by id: %d ingestions", len(byID))
	}
	if byID, err := f.DB.FindIngestionsByID(ctx, other.ID, []string{in.ID}); err != nil || len(byID) != 0 {
		t.Errorf("another tenant's by id: %d %v", len(byID), err)
	}
	if byID, err := f.DB.FindIngestionsByID(ctx, tn.ID, []string{"not-a-uuid"}); err != nil || len(byID) != 0 {
		t.Errorf("no well-formed id: %d %v", len(byID), err)
	}

	// Configurations.
	if _, err := f.DB.FindConnectorConfig(ctx, tn.ID, kycd.ProviderVeriff); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("no config: %v", err)
	}
	cfg := &kycd.ConnectorConfig{TenantID: tn.ID, Provider: kycd.ProviderVeriff, BaseURL: "https://veriff.example",
		Integrations: []kycd.VeriffIntegration{{Name: "main", APIKey: "key", SharedSecretKey: "Qzsecretshared", Processes: []string{"identity"}}}}
	must(t, f.DB.SaveConnectorConfig(ctx, cfg, kycd.ConnectorConfigSaved(cfg)))
	created := cfg.CreatedAt
	cfg.Integrations[0].Processes = []string{"identity", "profile"}
	must(t, f.DB.SaveConnectorConfig(ctx, cfg, kycd.ConnectorConfigSaved(cfg)))
	rc, err := f.DB.FindConnectorConfig(ctx, tn.ID, kycd.ProviderVeriff)
	must(t, err)
	if rc.BaseURL != cfg.BaseURL || rc.FindIntegration("main") == nil || rc.FindIntegration("main").SharedSecretKey != "Qzsecretshared" ||
		len(rc.Integrations[0].Processes) != 2 || !rc.CreatedAt.Equal(created) {
		t.Errorf("config round trip: %+v", rc)
	}
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT data FROM connector_configs WHERE tenant_id = ?`), tn.ID).Scan(&data))
	if bytes.Contains(data, []byte("Qzsecret")) {
		t.Error("connector secrets stored in the clear")
	}

	// Ingested files: recorded once under the id the ingestion chose.
	file := &kycd.File{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png", Size: 10, SHA256: "ab", BlobKey: "k"}
	// Which files are new is the store's to find; the change for them is
	// given.
	ingested := func(ids []string) kycd.Change { return kycd.FilesIngested(u.ID, ids) }
	wantUnaudited(t, f.DB.SaveIngestedFiles(ctx, []*kycd.File{file}, func([]string) kycd.Change { return kycd.Change{} }))
	if _, err := f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, UserID: u.ID, ID: file.ID}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("a file ingested without its audit entry: %v", err)
	}
	must(t, f.DB.SaveIngestedFiles(ctx, []*kycd.File{file}, ingested))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "files.ingested", EntityType: "user", EntityID: u.ID, Details: map[string]any{"fileIds": []string{file.ID}}})
	another := &kycd.File{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png", Size: 11, SHA256: "cd", BlobKey: "k2"}
	must(t, f.DB.SaveIngestedFiles(ctx, []*kycd.File{file, another}, ingested))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "files.ingested", EntityType: "user", EntityID: u.ID, Details: map[string]any{"fileIds": []string{another.ID}}})
	// None new: nothing recorded.
	before = auditCount(t, f, tn.ID)
	must(t, f.DB.SaveIngestedFiles(ctx, []*kycd.File{file, another}, ingested))
	if n := auditCount(t, f, tn.ID); n != before {
		t.Errorf("files ingested again recorded %d audit entries", n-before)
	}
	if n := count(t, f, `SELECT count(*) FROM files WHERE user_id = ?`, u.ID); n != 2 {
		t.Errorf("%d ingested files, want 2", n)
	}
	if fl, err := f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, UserID: u.ID, ID: file.ID}); err != nil || fl.Status != kycd.FileUploaded || fl.Size != 10 {
		t.Errorf("ingested file: %+v %v", fl, err)
	}

	// Submission keys: a change with a key applies once.
	key := in.ID + "/profile"
	if done, err := f.DB.SubmissionApplied(ctx, tn.ID, key); err != nil || done {
		t.Fatalf("fresh key: %v %v", done, err)
	}
	p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessProfile, Status: kycd.StatusOK}
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Key: key, Action: "kyc.test"}))
	if done, err := f.DB.SubmissionApplied(ctx, tn.ID, key); err != nil || !done {
		t.Errorf("applied key: %v %v", done, err)
	}
	if err := f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Key: key, Action: "kyc.test"}); kycd.ErrorCode(err) != kycd.EAlreadyApplied {
		t.Errorf("second apply: %v", err)
	}
}

// hasIDs reports whether list holds exactly the ids, in any order.
func hasIDs[T any](list []T, id func(T) string, ids ...string) bool {
	if len(list) != len(ids) {
		return false
	}
	for _, x := range list {
		if !slices.Contains(ids, id(x)) {
			return false
		}
	}
	return true
}

// testChecks: checks are created sealed with their event, job and audit
// entry; reads by id keep to the tenant and the user, and several are read
// by ids at once.
func testChecks(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "checks-"+uuid.NewString()[:8]+"@example.com")
	newCheck := func() *kycd.Check {
		c := &kycd.Check{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Type: kycd.CheckKYC, ConfirmedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			Data: kycd.CheckData{DataDownloadLink: "https://evidence.example/Qzsecretlink.zip"}}
		createCheck(t, f, c)
		return c
	}
	first, second := newCheck(), newCheck()
	if first.Status != kycd.CheckPending || first.Version != 1 {
		t.Fatalf("created: %+v", first)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, first.ID, kycd.EventCheckCreated); n != 1 {
		t.Errorf("%d created events", n)
	}
	// The event shows the check as the store stamped it, without what the
	// partner sent about the person (the outbox is not sealed).
	var payload string
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT payload FROM outbox_events WHERE entity_id = ? AND type = ?`), first.ID, kycd.EventCheckCreated).Scan(&payload))
	var ev struct {
		Check struct {
			ID        string `json:"id"`
			CreatedAt string `json:"created_at"`
		} `json:"check"`
	}
	must(t, json.Unmarshal([]byte(payload), &ev))
	if ev.Check.ID != first.ID || ev.Check.CreatedAt != first.CreatedAt.UTC().Format(time.RFC3339Nano) || strings.Contains(payload, "Qzsecretlink") {
		t.Errorf("created event: %s", payload)
	}
	var data []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT data FROM checks WHERE id = ?`), first.ID).Scan(&data))
	if bytes.Contains(data, []byte("Qzsecretlink")) {
		t.Error("check data stored in the clear")
	}
	if _, err := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: tn.ID, UserID: uuid.NewString(), ID: first.ID}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another user: %v", err)
	}
	if _, err := f.DB.FindCheck(ctx, kycd.CheckKey{TenantID: other.ID, ID: first.ID}); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another tenant: %v", err)
	}
	byID, err := f.DB.FindChecksByID(ctx, tn.ID, []string{second.ID, first.ID, second.ID, uuid.NewString(), "not-a-uuid"})
	must(t, err)
	if !hasIDs(byID, func(c *kycd.Check) string { return c.ID }, first.ID, second.ID) || byID[0].Data.DataDownloadLink != "https://evidence.example/Qzsecretlink.zip" {
		t.Errorf("by id: %d checks", len(byID))
	}
	if byID, err := f.DB.FindChecksByID(ctx, other.ID, []string{first.ID}); err != nil || len(byID) != 0 {
		t.Errorf("another tenant's by id: %d %v", len(byID), err)
	}
	if byID, err := f.DB.FindChecksByID(ctx, tn.ID, nil); err != nil || len(byID) != 0 {
		t.Errorf("no ids: %d %v", len(byID), err)
	}
}

// testProviderEvents: an event is recorded once per key (per tenant and
// provider) with its job and audit entry; reads keep to the tenant; it is
// marked handled once.
func testProviderEvents(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	jobs := func() int {
		return count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.ProviderEventArgs{}.Kind())
	}
	record := func(tenantID, provider, key string) (*kycd.ProviderEvent, error) {
		ev := &kycd.ProviderEvent{TenantID: tenantID, Provider: provider, Key: key, Type: "applicantReviewed", Ref: "applicant-1",
			Integration: "main", ExternalUserID: uuid.NewString(), Outcome: kycd.OutcomeApproved, Level: "liveness", Note: "Blurry photo of Max Muster"}
		return ev, f.DB.RecordProviderEvent(ctx, ev, kycd.ProviderEventReceived(ev, kycd.ProviderEventArgs{TenantID: tenantID, EventID: ev.ID}))
	}
	jobsBefore, auditBefore := jobs(), auditCount(t, f, tn.ID)
	ev, err := record(tn.ID, kycd.ProviderSumsub, "key-1")
	must(t, err)
	if ev.ID == "" || ev.ReceivedAt.IsZero() {
		t.Fatalf("recorded: %+v", ev)
	}
	if n := jobs(); n != jobsBefore+1 {
		t.Errorf("jobs: %d, want %d", n, jobsBefore+1)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	// The same key again: refused, with no job; elsewhere it is another event.
	_, err = record(tn.ID, kycd.ProviderSumsub, "key-1")
	wantCode(t, err, kycd.EAlreadyApplied)
	if n := jobs(); n != jobsBefore+1 {
		t.Errorf("a repeated event enqueued a job: %d, want %d", n, jobsBefore+1)
	}
	_, err = record(tn.ID, kycd.ProviderVeriff, "key-1")
	must(t, err)
	_, err = record(other.ID, kycd.ProviderSumsub, "key-1")
	must(t, err)

	got, err := f.DB.FindProviderEvent(ctx, tn.ID, ev.ID)
	must(t, err)
	if got.Provider != kycd.ProviderSumsub || got.Key != "key-1" || got.Type != "applicantReviewed" || got.Ref != "applicant-1" || got.Integration != "main" ||
		got.ExternalUserID != ev.ExternalUserID || got.Outcome != kycd.OutcomeApproved || !got.ReceivedAt.Equal(ev.ReceivedAt) || got.HandledAt != nil ||
		got.Level != "liveness" || got.Note != ev.Note {
		t.Errorf("round trip: %+v", got)
	}
	// The reviewer's note is free text: sealed at rest.
	if n := count(t, f, `SELECT count(*) FROM provider_events WHERE note IS NOT NULL AND note LIKE '%Muster%'`); n != 0 {
		t.Errorf("%d notes stored in the clear", n)
	}
	_, err = f.DB.FindProviderEvent(ctx, other.ID, ev.ID)
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.FindProviderEvent(ctx, tn.ID, uuid.NewString())
	wantCode(t, err, kycd.ENotFound)

	// Handled once; another tenant cannot mark it.
	if err := f.DB.MarkProviderEventHandled(ctx, other.ID, ev.ID, "approved", kycd.ProviderEventHandled(ev.ID, "approved")); err == nil {
		t.Error("another tenant marked the event handled")
	}
	if got, _ := f.DB.FindProviderEvent(ctx, tn.ID, ev.ID); got.HandledAt != nil {
		t.Error("another tenant's mark was recorded")
	}
	auditBefore = auditCount(t, f, tn.ID)
	must(t, f.DB.MarkProviderEventHandled(ctx, tn.ID, ev.ID, "approved", kycd.ProviderEventHandled(ev.ID, "approved")))
	if got, _ := f.DB.FindProviderEvent(ctx, tn.ID, ev.ID); got.HandledAt == nil {
		t.Error("not marked handled")
	}
	wantCode(t, f.DB.MarkProviderEventHandled(ctx, tn.ID, ev.ID, "approved", kycd.ProviderEventHandled(ev.ID, "approved")), kycd.EAlreadyApplied)
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
}
