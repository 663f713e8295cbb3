package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/audit"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
)

// probeArgs is a job kind only the suite enqueues.
type probeArgs struct {
	UserID string `json:"user_id"`
}

func (probeArgs) Kind() string { return "storetest_probe" }

// Run runs the conformance suite on every database of Databases, with the
// same expectations on both dialects. Every exported method of the store has
// a case: TestEveryMethodHasACase fails naming any that has none.
func Run(t *testing.T) {
	for _, d := range Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			clock := mock.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			f := Open(t, d, clock)
			for _, c := range []struct {
				name string
				fn   func(*testing.T, *Fixture, *mock.Clock)
			}{
				{"Migrations", testMigrations},
				{"Tenants", testTenants},
				{"Clients", testClients},
				{"Users", testUsers},
				{"Files", testFiles},
				{"Metadata", testMetadata},
				{"UpdateRollsBackEverything", testUpdateRollback},
				{"UpdateRequiresAudit", testUpdateRequiresAudit},
				{"TxNow", testTxNow},
				{"UpdateConcurrent", testUpdateConcurrent},
				{"UpdatePanic", testUpdatePanic},
				{"Backlog", testBacklog},
				{"Vacuum", testVacuum},
				{"Analyze", testAnalyze},
				{"Optimize", testOptimize},
				{"AuditChain", testAuditChain},
				{"Processes", testProcesses},
				{"StepsConcurrent", testStepsConcurrent},
				{"IdentityDocuments", testIdentityDocuments},
				{"VerificationCodes", testVerificationCodes},
				{"Ingestions", testIngestions},
				{"Checks", testChecks},
				{"EraseUsers", testEraseUsers},
				{"Webhooks", testWebhooks},
				{"EventRetention", testEventRetention},
				{"AuditChainingConcurrent", testAuditChainingConcurrent},
				{"Applications", testApplications},
				{"SignCodes", testSignCodes},
				{"Documents", testDocuments},
				{"LevelCatalog", testLevelCatalog},
				{"CheckDecisions", testCheckDecisions},
				{"ProviderEvents", testProviderEvents},
				{"ExpiredProcesses", testExpiredProcesses},
				{"WebhookEndpoints", testWebhookEndpoints},
				{"Deliveries", testDeliveries},
				{"EarlierPending", testEarlierPending},
				{"Bundles", testBundles},
				{"OpenClose", testOpenClose},
				{"JobCounts", testJobCounts},
				{"AuditChainer", testAuditChainer},
				{"Autovacuum", testAutovacuum},
				{"ReadGroups", testReadGroups},
				{"SystemKeys", testSystemKeys},
				{"StoredKeys", testStoredKeys},
				{"ScreeningLists", testScreeningLists},
				{"Cases", testCases},
				{"ScreeningMonitor", testScreeningMonitor},
				{"TenantSettings", testTenantSettings},
				{"Reviewers", testReviewers},
				{"ReviewerSessions", testReviewerSessions},
				{"CaseAssignment", testCaseAssignment},
				{"Queues", testQueues},
				{"ConcurrentCreations", testConcurrentCreations},
				{"UnstorableText", testUnstorableText},
				{"UserFile", testUserFile},
				{"AuditLog", testAuditLog},
				{"ReviewerDisabled", testReviewerDisabled},
			} {
				t.Run(c.name, func(t *testing.T) { c.fn(t, f, clock) })
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := kycd.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func newTenant(t *testing.T, f *Fixture) *kycd.Tenant {
	t.Helper()
	tn := &kycd.Tenant{Name: "tenant-" + uuid.NewString()[:8]}
	must(t, f.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)))
	return tn
}

func newUser(t *testing.T, f *Fixture, tenantID, email string) *kycd.User {
	t.Helper()
	u := &kycd.User{TenantID: tenantID, Type: kycd.UserIndividual, Email: email, PrimaryCitizenship: "GB",
		Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN"}, TermsOfService: "general-gb-fca"}
	must(t, f.DB.CreateUser(context.Background(), u, kycd.UserCreated(u)))
	return u
}

func count(t *testing.T, f *Fixture, query string, args ...any) int {
	t.Helper()
	var n int
	must(t, f.SQL.QueryRowContext(context.Background(), f.DB.Rebind(query), args...).Scan(&n))
	return n
}

// auditCount counts a tenant's audit entries, chained or pending.
func auditCount(t *testing.T, f *Fixture, tenantID string) int {
	t.Helper()
	return count(t, f, `SELECT count(*) FROM audit_entries WHERE tenant_id = ?`, tenantID) +
		count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ?`, tenantID)
}

// lastAudit is a tenant's newest audit entry, chained first.
func lastAudit(t *testing.T, f *Fixture, tenantID string) *kycd.AuditEntry {
	t.Helper()
	ctx := context.Background()
	must(t, f.DB.ChainAudit(ctx))
	var last *kycd.AuditEntry
	for after := int64(0); ; {
		page, err := f.DB.FindAuditEntries(ctx, tenantID, after, 500)
		must(t, err)
		if len(page) == 0 {
			break
		}
		last, after = page[len(page)-1], page[len(page)-1].Seq
	}
	if last == nil {
		t.Fatalf("tenant %s has no audit entry", tenantID)
	}
	return last
}

// wantAudit fails unless a tenant's newest audit entry is want: its action,
// entity and details (compared as JSON, as they are stored).
func wantAudit(t *testing.T, f *Fixture, tenantID string, want kycd.AuditRecord) {
	t.Helper()
	got := lastAudit(t, f, tenantID)
	gd, _ := json.Marshal(got.Details)
	if want.Details == nil {
		want.Details = map[string]any{}
	}
	wd, _ := json.Marshal(want.Details)
	if got.Action != want.Action || got.EntityType != want.EntityType || got.EntityID != want.EntityID || string(gd) != string(wd) {
		t.Errorf("audit entry = %s %s %s %s, want %s %s %s %s", got.Action, got.EntityType, got.EntityID, gd,
			want.Action, want.EntityType, want.EntityID, wd)
	}
}

// wantUnaudited fails unless err is the refusal of a change handed to the
// store without its audit entry.
func wantUnaudited(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, sqlstore.ErrUnaudited) {
		t.Fatalf("a change without its audit entry: %v, want ErrUnaudited", err)
	}
}

func testMigrations(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	ok, err := f.DB.MigrationsCurrent(ctx)
	must(t, err)
	if !ok {
		t.Fatal("migrations not current after Migrate")
	}
	res, err := f.DB.Migrate(ctx)
	must(t, err)
	if len(res.Applied) != 0 || len(res.RiverApplied) != 0 {
		t.Fatalf("second Migrate applied %v / %v, want nothing", res.Applied, res.RiverApplied)
	}
}

func testTenants(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	if tn.ID == "" || tn.CreatedAt.IsZero() {
		t.Fatalf("tenant not filled in: %+v", tn)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "tenant.created", EntityType: "tenant", EntityID: tn.ID})
	unaudited := &kycd.Tenant{ID: uuid.NewString(), Name: "unaudited-" + uuid.NewString()[:8]}
	wantUnaudited(t, f.DB.CreateTenant(ctx, unaudited, kycd.Change{}))
	if _, err := f.DB.FindTenantByID(ctx, unaudited.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("a tenant created without its audit entry: %v", err)
	}
	got, err := f.DB.FindTenantByID(ctx, tn.ID)
	must(t, err)
	if got.Name != tn.Name || !got.CreatedAt.Equal(tn.CreatedAt) {
		t.Fatalf("FindTenantByID = %+v, want %+v", got, tn)
	}
	byName, err := f.DB.FindTenantByName(ctx, tn.Name)
	must(t, err)
	if byName.ID != tn.ID {
		t.Fatalf("FindTenantByName id = %s, want %s", byName.ID, tn.ID)
	}
	for _, tc := range []struct {
		name, code string
	}{{tn.Name, kycd.EConflict}, {"  ", kycd.ERequestInvalid}} {
		other := &kycd.Tenant{Name: tc.name}
		wantCode(t, f.DB.CreateTenant(ctx, other, kycd.TenantCreated(other)), tc.code)
	}
	_, err = f.DB.FindTenantByID(ctx, uuid.NewString())
	wantCode(t, err, kycd.ENotFound)
	all, err := f.DB.FindTenants(ctx)
	must(t, err)
	found := false
	for _, a := range all {
		found = found || a.ID == tn.ID
	}
	if !found {
		t.Fatal("FindTenants misses the new tenant")
	}
	keys, err := f.DB.FindTenantKeys(ctx, tn.ID)
	must(t, err)
	if len(keys) == 0 {
		t.Fatal("tenant has no data keys")
	}
}

func testClients(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	c := &kycd.Client{ID: uuid.NewString(), TenantID: tn.ID, Name: "backend", Scopes: []string{"core.users:read", "core.users:create"}, SecretHash: "$argon2id$x"}
	wantUnaudited(t, f.DB.CreateClient(ctx, c, kycd.Change{}))
	if _, err := f.DB.FindClientByID(ctx, c.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("a client created without its audit entry: %v", err)
	}
	must(t, f.DB.CreateClient(ctx, c, kycd.ClientCreated(c)))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "client.created", EntityType: "client", EntityID: c.ID,
		Details: map[string]any{"scopes": []string{"core.users:read", "core.users:create"}}})
	got, err := f.DB.FindClientByID(ctx, c.ID)
	must(t, err)
	if got.Name != "backend" || len(got.Scopes) != 2 || got.SecretHash != c.SecretHash || got.Revoked() {
		t.Fatalf("FindClientByID = %+v", got)
	}
	orphan := &kycd.Client{ID: uuid.NewString(), TenantID: uuid.NewString(), Name: "x", SecretHash: "h"}
	wantCode(t, f.DB.CreateClient(ctx, orphan, kycd.ClientCreated(orphan)), kycd.ENotFound)
	list, err := f.DB.FindClients(ctx, kycd.ClientFilter{TenantID: &tn.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("FindClients = %d clients", len(list))
	}
	// The store reads whether the client was revoked already; the change
	// for each outcome is given.
	revoked := func(id string) func(bool) kycd.Change {
		return func(repeated bool) kycd.Change { return kycd.ClientRevoked(id, repeated) }
	}
	wantUnaudited(t, f.DB.RevokeClient(ctx, c.ID, func(bool) kycd.Change { return kycd.Change{} }))
	if got, _ := f.DB.FindClientByID(ctx, c.ID); got.Revoked() {
		t.Fatal("a client revoked without its audit entry")
	}
	must(t, f.DB.RevokeClient(ctx, c.ID, revoked(c.ID)))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "client.revoked", EntityType: "client", EntityID: c.ID})
	must(t, f.DB.RevokeClient(ctx, c.ID, revoked(c.ID))) // twice is fine
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "client.revoke_repeated", EntityType: "client", EntityID: c.ID})
	got, err = f.DB.FindClientByID(ctx, c.ID)
	must(t, err)
	if !got.Revoked() {
		t.Fatal("client not revoked")
	}
	unknown := uuid.NewString()
	wantCode(t, f.DB.RevokeClient(ctx, unknown, revoked(unknown)), kycd.ENotFound)
}

func testUsers(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := &kycd.User{TenantID: tn.ID, Type: kycd.UserIndividual, Email: "Ana.Silva@example.com", FullName: "Ana Silva",
		Birthdate: "1990-04-02", PrimaryCitizenship: "PT", Address: kycd.Address{Country: "PT", City: "Lisboa", Line1: "Rua A 1"},
		Phone: &kycd.Phone{Number: "+351912345678", Country: "PT"}, TermsOfService: "general-pt-bop",
		Metadata: map[string]any{"externalId": "abc"}, CreatedContext: kycd.EndUserContext{IP: "203.0.113.9"}}
	must(t, f.DB.CreateUser(ctx, u, kycd.UserCreated(u)))
	got, err := f.DB.FindUserByID(ctx, tn.ID, u.ID)
	must(t, err)
	if got.Email != u.Email || got.FullName != u.FullName || got.Address.City != "Lisboa" || got.Phone == nil ||
		got.Phone.Number != "+351912345678" || got.Metadata["externalId"] != "abc" || got.CreatedContext.IP != "203.0.113.9" {
		t.Fatalf("FindUserByID = %+v", got)
	}
	_, err = f.DB.FindUserByID(ctx, other.ID, u.ID)
	wantCode(t, err, kycd.ENotFound)
	// Found by email (any case) or phone, within the tenant only.
	for _, c := range []struct{ channel, value string }{{kycd.ChannelEmail, " ANA.silva@example.com"}, {kycd.ChannelPhone, "+351912345678"}} {
		got, err := f.DB.FindUserByContact(ctx, tn.ID, c.channel, c.value)
		if err != nil || got.ID != u.ID || got.FullName != "Ana Silva" {
			t.Fatalf("FindUserByContact(%s %q) = %+v, %v", c.channel, c.value, got, err)
		}
		_, err = f.DB.FindUserByContact(ctx, other.ID, c.channel, c.value)
		wantCode(t, err, kycd.ENotFound)
	}
	for _, c := range []struct{ channel, value string }{{kycd.ChannelEmail, "nobody@example.com"}, {kycd.ChannelPhone, "+351900000000"}, {kycd.ChannelEmail, ""}} {
		_, err = f.DB.FindUserByContact(ctx, tn.ID, c.channel, c.value)
		wantCode(t, err, kycd.ENotFound)
	}

	// Email is unique per tenant, whatever its case; another tenant may reuse it.
	// (Copies are new users: UserCreated chooses an id when none is given.)
	dup := *u
	dup.ID, dup.Email, dup.Phone = "", "ana.silva@EXAMPLE.com", nil
	wantCode(t, f.DB.CreateUser(ctx, &dup, kycd.UserCreated(&dup)), kycd.EEmailAlreadyExists)
	dupPhone := *u
	dupPhone.ID, dupPhone.Email = "", "other@example.com"
	wantCode(t, f.DB.CreateUser(ctx, &dupPhone, kycd.UserCreated(&dupPhone)), kycd.EPhoneAlreadyExists)
	elsewhere := *u
	elsewhere.ID, elsewhere.TenantID = "", other.ID
	must(t, f.DB.CreateUser(ctx, &elsewhere, kycd.UserCreated(&elsewhere)))

	// The general terms given at creation are recorded as accepted.
	acc, err := f.DB.FindTermsAcceptances(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if !acc["general-pt-bop"].Equal(u.CreatedAt) || len(acc) != 1 {
		t.Fatalf("acceptances: %v", acc)
	}
	at, err := f.DB.AcceptTerms(ctx, tn.ID, u.ID, "unique-account-number-viban", kycd.EndUserContext{IP: "203.0.113.9"}, kycd.TermsAccepted(tn.ID, u.ID, "unique-account-number-viban"))
	must(t, err)
	if acc, _ = f.DB.FindTermsAcceptances(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID}); !acc["unique-account-number-viban"].Equal(at) {
		t.Fatalf("acceptance: %v", acc)
	}
	_, err = f.DB.AcceptTerms(ctx, tn.ID, u.ID, "unique-account-number-viban", kycd.EndUserContext{}, kycd.TermsAccepted(tn.ID, u.ID, "unique-account-number-viban"))
	wantCode(t, err, kycd.EOperationNotAllowed)
	_, err = f.DB.AcceptTerms(ctx, other.ID, u.ID, "unique-account-number-viban", kycd.EndUserContext{}, kycd.TermsAccepted(other.ID, u.ID, "unique-account-number-viban"))
	wantCode(t, err, kycd.ENotFound)
	if acc, _ := f.DB.FindTermsAcceptances(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID}); len(acc) != 0 {
		t.Fatalf("another tenant sees acceptances: %v", acc)
	}
	wantCode(t, f.DB.DeleteUser(ctx, other.ID, u.ID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(other.ID, u.ID, kycd.UserDeletion{Reason: "other"})), kycd.ENotFound)
	must(t, f.DB.DeleteUser(ctx, tn.ID, u.ID, kycd.UserDeletion{Reason: "closure-per-user-request", Note: "asked by phone"}, kycd.UserDeleted(tn.ID, u.ID, kycd.UserDeletion{Reason: "closure-per-user-request", Note: "asked by phone"})))
	_, err = f.DB.FindUserByID(ctx, tn.ID, u.ID)
	wantCode(t, err, kycd.ENotFound)
	wantCode(t, f.DB.DeleteUser(ctx, tn.ID, u.ID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(tn.ID, u.ID, kycd.UserDeletion{Reason: "other"})), kycd.ENotFound)
	// A deleted user's email can be used again.
	again := *u
	again.ID = ""
	must(t, f.DB.CreateUser(ctx, &again, kycd.UserCreated(&again)))
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, u.ID, kycd.EventUserDeleted); n != 1 {
		t.Fatalf("user.deleted events = %d, want 1", n)
	}
	// The users events name, closed ones included; none of another tenant.
	found, err := f.DB.FindUsersByID(ctx, tn.ID, []string{u.ID, again.ID, u.ID, elsewhere.ID, uuid.NewString(), "not-a-uuid"})
	must(t, err)
	byID := map[string]*kycd.User{}
	for _, x := range found {
		byID[x.ID] = x
	}
	if len(found) != 2 || byID[u.ID] == nil || byID[u.ID].Email != u.Email || byID[again.ID] == nil {
		t.Fatalf("FindUsersByID = %+v", found)
	}
	if found, err := f.DB.FindUsersByID(ctx, tn.ID, nil); err != nil || len(found) != 0 {
		t.Fatalf("FindUsersByID(nil) = %v, %v", found, err)
	}
}

func testFiles(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "files@example.com")
	file := &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png",
		Metadata: map[string]any{"side": "front"}, UploadExpiresAt: clock.Now().Add(15 * time.Minute)}
	must(t, createFile(f, file))
	got, err := f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, UserID: u.ID, ID: file.ID})
	must(t, err)
	if got.Status != kycd.FilePending || got.Metadata["side"] != "front" || !got.UploadExpiresAt.Equal(file.UploadExpiresAt) {
		t.Fatalf("FindFileByID = %+v", got)
	}
	_, err = f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: other.ID, ID: file.ID})
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, UserID: uuid.NewString(), ID: file.ID})
	wantCode(t, err, kycd.ENotFound)
	wantCode(t, createFile(f, &kycd.File{TenantID: other.ID, UserID: u.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now()}), kycd.ENotFound)
	must(t, f.DB.RejectFileUpload(ctx, tn.ID, file.ID, kycd.EFileContentTypeMismatch, kycd.FileUploadRejected(file.ID, kycd.EFileContentTypeMismatch)))
	wantCode(t, f.DB.RejectFileUpload(ctx, other.ID, file.ID, "x", kycd.FileUploadRejected(file.ID, "x")), kycd.ENotFound)
	if got, _ := f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, ID: file.ID}); got.Rejection != kycd.EFileContentTypeMismatch {
		t.Fatalf("rejection not recorded: %+v", got)
	}
	must(t, f.DB.MarkFileUploaded(ctx, tn.ID, file.ID, 1234, "abcd", "k1", kycd.FileUploadedChange(file, 1234, "abcd")))
	wantCode(t, f.DB.MarkFileUploaded(ctx, tn.ID, file.ID, 1234, "abcd", "k1", kycd.FileUploadedChange(file, 1234, "abcd")), kycd.EFileAlreadyUploaded)
	wantCode(t, f.DB.MarkFileUploaded(ctx, other.ID, file.ID, 1, "x", "k2", kycd.FileUploadedChange(file, 1, "x")), kycd.ENotFound)
	got, err = f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, ID: file.ID})
	must(t, err)
	if got.Status != kycd.FileUploaded || got.Size != 1234 || got.BlobKey != "k1" || got.Rejection != "" || got.UploadedAt == nil {
		t.Fatalf("after upload: %+v", got)
	}

	stale := &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: "document", ContentType: "application/pdf", UploadExpiresAt: clock.Now().Add(time.Minute)}
	must(t, createFile(f, stale))
	n, err := f.DB.DeleteExpiredPendingFiles(ctx, clock.Now(), kycd.FileExpired)
	must(t, err)
	if n != 0 {
		t.Fatalf("deleted %d files before their window ended", n)
	}
	// Which files expired is the store's to find; the change for each is
	// given.
	_, err = f.DB.DeleteExpiredPendingFiles(ctx, clock.Now().Add(2*time.Minute), func(string) kycd.Change { return kycd.Change{} })
	wantUnaudited(t, err)
	if _, err := f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, ID: stale.ID}); err != nil {
		t.Fatalf("a file removed without its audit entry: %v", err)
	}
	n, err = f.DB.DeleteExpiredPendingFiles(ctx, clock.Now().Add(2*time.Minute), kycd.FileExpired)
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired files, want 1 (the uploaded one stays)", n)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "file.expired", EntityType: "file", EntityID: stale.ID})
	_, err = f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, ID: stale.ID})
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.FindFileByID(ctx, kycd.FileKey{TenantID: tn.ID, ID: file.ID})
	must(t, err)

	// A user may have MaxPendingFiles files awaiting upload, whose window
	// is open; expired ones do not count.
	many := newUser(t, f, tn.ID, "many-files@example.com")
	must(t, createFile(f, &kycd.File{TenantID: tn.ID, UserID: many.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(-time.Minute)}))
	for range kycd.MaxPendingFiles {
		must(t, createFile(f, &kycd.File{TenantID: tn.ID, UserID: many.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(15 * time.Minute)}))
	}
	wantCode(t, createFile(f, &kycd.File{TenantID: tn.ID, UserID: many.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(15 * time.Minute)}), kycd.EMaxFilesLimitExceeded)
	must(t, createFile(f, &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(15 * time.Minute)}))
}

// testUpdateRollback proves the transaction helper: a domain write, its audit
// entry, its outbox event and its job, then a failure: none of the four stay.
func testUpdateRollback(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	userID := uuid.NewString()
	boom := errors.New("boom")
	auditBefore := auditCount(t, f, tn.ID)
	err := f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.ExecContext(ctx, f.DB.Rebind(`INSERT INTO users (id, tenant_id, type, email_index, pii, terms_of_service, created_at, updated_at) VALUES (?, ?, 'individual', 'idx', ?, 'general-gb-fca', 'now', 'now')`), userID, tn.ID, []byte("x")); err != nil {
			return err
		}
		if err := tx.Audit(tn.ID, "user.created", "user", userID, nil); err != nil {
			return err
		}
		if err := tx.Emit(&kycd.Event{TenantID: tn.ID, Type: kycd.EventUserCreated, EntityType: "user", EntityID: userID}); err != nil {
			return err
		}
		if err := tx.Enqueue(probeArgs{UserID: userID}, nil); err != nil {
			return err
		}
		// All four are visible inside the transaction...
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'storetest_probe'`).Scan(&n); err != nil || n == 0 {
			t.Errorf("job not visible inside the transaction: n=%d err=%v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	// ...and none survive the rollback.
	if n := count(t, f, `SELECT count(*) FROM users WHERE id = ?`, userID); n != 0 {
		t.Errorf("user row survived: %d", n)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore {
		t.Errorf("audit entries %d, want %d", n, auditBefore)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ?`, userID); n != 0 {
		t.Errorf("outbox event survived: %d", n)
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = 'storetest_probe'`); n != 0 {
		t.Errorf("job survived: %d", n)
	}
	// The same change without the failure commits all four.
	must(t, f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.Audit(tn.ID, "probe", "user", userID, nil); err != nil {
			return err
		}
		if err := tx.Emit(&kycd.Event{TenantID: tn.ID, Type: "probe", EntityType: "user", EntityID: userID}); err != nil {
			return err
		}
		return tx.Enqueue(probeArgs{UserID: userID}, nil)
	}))
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = 'storetest_probe'`); n != 1 {
		t.Errorf("committed jobs = %d, want 1", n)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ?`, userID); n != 1 {
		t.Errorf("committed events = %d, want 1", n)
	}
}

// testTxNow: a change's time is the clock's, to the microsecond the
// database keeps, and the audit entry and the event it writes carry it.
func testTxNow(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	clock.Advance(time.Second + 1234567*time.Nanosecond) // a time with nanoseconds the database drops
	want := clock.Now().UTC().Truncate(time.Microsecond)
	defer clock.Set(want.Truncate(time.Second).Add(time.Second)) // the next cases' times are whole seconds again
	var at time.Time
	var ev kycd.Event
	must(t, f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
		at = tx.Now()
		ev = kycd.Event{TenantID: tn.ID, Type: "probe.now", EntityType: "tenant", EntityID: tn.ID}
		if err := tx.Emit(&ev); err != nil {
			return err
		}
		return tx.Audit(tn.ID, "probe.now", "tenant", tn.ID, nil)
	}))
	if !at.Equal(want) {
		t.Fatalf("the change's time is %s, want the clock's %s", at, want)
	}
	must(t, f.DB.ChainAudit(ctx))
	entries, err := f.DB.FindAuditEntries(ctx, tn.ID, 0, 100)
	must(t, err)
	found := false
	for _, e := range entries {
		if e.Action == "probe.now" {
			found = true
			if !e.At.Equal(at) {
				t.Errorf("the audit entry is at %s, the change at %s", e.At, at)
			}
		}
	}
	if !found {
		t.Fatalf("no audit entry of the change in %d entries", len(entries))
	}
	if !ev.CreatedAt.Equal(at) {
		t.Errorf("the event was created at %s, the change at %s", ev.CreatedAt, at)
	}
}

func testUpdateRequiresAudit(t *testing.T, f *Fixture, _ *mock.Clock) {
	err := f.DB.Update(context.Background(), func(tx *sqlstore.Tx) error { return nil })
	if !errors.Is(err, sqlstore.ErrUnaudited) {
		t.Fatalf("Update without audit = %v, want ErrUnaudited", err)
	}
	// A change handed to the store without its audit entry is refused
	// whole: neither the entity nor the change's event is written.
	ctx := context.Background()
	tn := newTenant(t, f)
	u := &kycd.User{TenantID: tn.ID, Type: kycd.UserIndividual, Email: "unaudited-" + uuid.NewString()[:8] + "@example.com", PrimaryCitizenship: "GB",
		Address: kycd.Address{Country: "GB"}, TermsOfService: "general-gb-fca"}
	c := kycd.UserCreated(u)
	c.Audit = kycd.AuditRecord{}
	if err := f.DB.CreateUser(ctx, u, c); !errors.Is(err, sqlstore.ErrUnaudited) {
		t.Fatalf("CreateUser with a change without audit entry = %v, want ErrUnaudited", err)
	}
	if _, err := f.DB.FindUserByID(ctx, tn.ID, u.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("the unaudited user was stored: %v", err)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ?`, u.ID); n != 0 {
		t.Errorf("the unaudited change wrote %d events", n)
	}
}

func testAuditChain(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	for i := 0; i < 4; i++ {
		newUser(t, f, tn.ID, "audit"+strconv.Itoa(i)+"@example.com")
	}
	entries, err := f.DB.FindAuditEntries(ctx, tn.ID, 0, 100)
	must(t, err)
	if len(entries) != 5 || entries[0].Action != "tenant.created" || entries[1].Action != "user.created" {
		t.Fatalf("entries = %d (first %q)", len(entries), entries[0].Action)
	}
	for i, e := range entries {
		if e.Seq != int64(i+1) || (i > 0 && e.PrevHash != entries[i-1].Hash) {
			t.Fatalf("entry %d not chained: %+v", i, e)
		}
	}
	rep, err := f.DB.VerifyAudit(ctx)
	must(t, err)
	if !rep.OK() {
		t.Fatalf("fresh chain has breaks: %+v", rep.Breaks)
	}
	w := f.SQL
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.ExecContext(ctx, f.DB.Rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	firstBreak := func() kycd.AuditBreak {
		t.Helper()
		rep, err := f.DB.VerifyAudit(ctx)
		must(t, err)
		for _, b := range rep.Breaks {
			if b.TenantID == tn.ID {
				return b
			}
		}
		t.Fatal("tampering was not detected")
		return kycd.AuditBreak{}
	}
	// Tamper with an entry.
	exec(`UPDATE audit_entries SET action = 'user.viewed' WHERE tenant_id = ? AND seq = 3`, tn.ID)
	if b := firstBreak(); b.Seq != 3 {
		t.Fatalf("tamper found at %d, want 3: %s", b.Seq, b.Reason)
	}
	exec(`UPDATE audit_entries SET action = 'user.created' WHERE tenant_id = ? AND seq = 3`, tn.ID)
	// Delete one.
	exec(`DELETE FROM audit_entries WHERE tenant_id = ? AND seq = 2`, tn.ID)
	if b := firstBreak(); b.Seq != 2 {
		t.Fatalf("deletion found at %d, want 2: %s", b.Seq, b.Reason)
	}
	// Truncate the tail (on a fresh tenant so the earlier damage does not mask it).
	tn2 := newTenant(t, f)
	for i := 0; i < 3; i++ {
		newUser(t, f, tn2.ID, "tail"+strconv.Itoa(i)+"@example.com")
	}
	must(t, f.DB.ChainAudit(ctx)) // the entries reach the chain first
	exec(`DELETE FROM audit_entries WHERE tenant_id = ? AND seq >= 3`, tn2.ID)
	rep, err = f.DB.VerifyAudit(ctx)
	must(t, err)
	found := false
	for _, b := range rep.Breaks {
		if b.TenantID == tn2.ID {
			found = true
			if b.Seq != 3 {
				t.Fatalf("truncation found at %d, want 3: %s", b.Seq, b.Reason)
			}
		}
	}
	if !found {
		t.Fatal("truncated tail was not detected")
	}

	// Forge: rewrite an entry and recompute every later link and the head,
	// as someone with write access to the database (but not the master key)
	// could. The keyed chain still exposes it.
	tn3 := newTenant(t, f)
	for i := 0; i < 3; i++ {
		newUser(t, f, tn3.ID, "forge"+strconv.Itoa(i)+"@example.com")
	}
	forged, err := f.DB.FindAuditEntries(ctx, tn3.ID, 0, 100)
	must(t, err)
	attackerMAC := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	prev := audit.Genesis
	for i, e := range forged {
		if i == 1 {
			e.Actor = "cli:someone-else"
		}
		e.PrevHash = prev
		var at, details string
		must(t, w.QueryRowContext(ctx, f.DB.Rebind(`SELECT at, details FROM audit_entries WHERE tenant_id = ? AND seq = ?`), tn3.ID, e.Seq).Scan(&at, &details))
		e.Hash = audit.Hash(attackerMAC, e, at, details)
		exec(`UPDATE audit_entries SET actor = ?, prev_hash = ?, hash = ? WHERE tenant_id = ? AND seq = ?`, e.Actor, e.PrevHash, e.Hash, tn3.ID, e.Seq)
		prev = e.Hash
	}
	exec(`UPDATE audit_heads SET hash = ? WHERE tenant_id = ?`, prev, tn3.ID)
	rep, err = f.DB.VerifyAudit(ctx)
	must(t, err)
	found = false
	for _, b := range rep.Breaks {
		found = found || b.TenantID == tn3.ID
	}
	if !found {
		t.Fatal("a chain recomputed without the key passed verification")
	}
}

// testUpdateConcurrent: changes made at the same time each commit entirely
// or not at all, whatever the others do: on SQLite they share transactions
// (group commit, asserted to happen), each in its own savepoint. A change
// that fails, records no audit entry or panics leaves nothing (its event,
// its job, its audit entry), gets its own outcome (the panic resumes in its
// caller) and does not disturb the others.
func testUpdateConcurrent(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	commitsBefore, changesBefore := f.DB.WriteGroups()
	refused := errors.New("refused")
	const n = 48
	ids := make([]string, n)
	errs := make([]error, n)
	panics := make([]any, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = uuid.NewString()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			<-start
			errs[i] = f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
				if err := tx.Emit(&kycd.Event{TenantID: tn.ID, Type: "probe", EntityType: "probe", EntityID: ids[i]}); err != nil {
					return err
				}
				if err := tx.Enqueue(probeArgs{UserID: ids[i]}, nil); err != nil {
					return err
				}
				time.Sleep(2 * time.Millisecond) // long enough for others to queue
				switch i % 4 {
				case 1:
					return refused
				case 2:
					return nil // no audit entry
				case 3:
					_ = tx.Audit(tn.ID, "probe", "probe", ids[i], nil)
					panic("probe panic " + ids[i])
				}
				return tx.Audit(tn.ID, "probe", "probe", ids[i], nil)
			})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		kept := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ?`, ids[i]) +
			count(t, f, `SELECT count(*) FROM river_job WHERE kind = 'storetest_probe' AND CAST(args AS TEXT) LIKE ?`, "%"+ids[i]+"%") +
			count(t, f, `SELECT count(*) FROM audit_pending WHERE entity_id = ?`, ids[i]) +
			count(t, f, `SELECT count(*) FROM audit_entries WHERE entity_id = ?`, ids[i])
		switch i % 4 {
		case 0:
			if errs[i] != nil || panics[i] != nil || kept != 3 {
				t.Errorf("change %d: err %v, panic %v, %d of its 3 rows kept", i, errs[i], panics[i], kept)
			}
		case 1:
			if !errors.Is(errs[i], refused) || kept != 0 {
				t.Errorf("refused change %d: err %v, %d rows kept", i, errs[i], kept)
			}
		case 2:
			if !errors.Is(errs[i], sqlstore.ErrUnaudited) || kept != 0 {
				t.Errorf("unaudited change %d: err %v, %d rows kept", i, errs[i], kept)
			}
		case 3:
			if p, _ := panics[i].(string); !strings.Contains(p, "probe panic "+ids[i]) || kept != 0 {
				t.Errorf("panicking change %d: panic %v, %d rows kept", i, panics[i], kept)
			}
		}
	}
	commits, changes := f.DB.WriteGroups()
	if f.DB.Dialect() == "sqlite" {
		if changes-changesBefore != n || commits-commitsBefore >= n {
			t.Errorf("SQLite: %d changes in %d commits: not grouped", changes-changesBefore, commits-commitsBefore)
		}
	} else if commits != 0 || changes != 0 {
		t.Errorf("PostgreSQL groups changes: %d %d", commits, changes)
	}
	// The store still works afterwards (no transaction was left open).
	must(t, f.DB.Update(ctx, func(tx *sqlstore.Tx) error { return tx.Audit(tn.ID, "probe", "probe", "after", nil) }))
}

// testUpdatePanic: a change that panics, alone, rolls back, its panic
// resumes in its caller, and the store still takes changes afterwards.
func testUpdatePanic(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	var got any
	func() {
		defer func() { got = recover() }()
		_ = f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
			_ = tx.Audit(tn.ID, "probe", "probe", "panicking", nil)
			panic("probe panic alone")
		})
	}()
	if p, _ := got.(string); !strings.Contains(p, "probe panic alone") {
		t.Fatalf("panic = %v", got)
	}
	done := make(chan error, 1)
	go func() {
		done <- f.DB.Update(ctx, func(tx *sqlstore.Tx) error { return tx.Audit(tn.ID, "probe", "probe", "after-panic", nil) })
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("a change after a panicking one never ran")
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE entity_id = 'panicking'`) + count(t, f, `SELECT count(*) FROM audit_entries WHERE entity_id = 'panicking'`); n != 0 {
		t.Errorf("the panicking change kept %d audit entries", n)
	}
}

// testBacklog: the monitoring backlog counts audit entries not yet chained
// (with the oldest one's time) and events not yet dispatched.
func testBacklog(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	must(t, f.DB.ChainAudit(ctx))
	before, err := f.DB.FindBacklog(ctx)
	must(t, err)
	if before.AuditPending != 0 || !before.AuditOldest.IsZero() {
		t.Fatalf("after chaining: %+v", before)
	}
	must(t, f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.Emit(&kycd.Event{TenantID: tn.ID, Type: "probe", EntityType: "probe", EntityID: "backlog"}); err != nil {
			return err
		}
		return tx.Audit(tn.ID, "probe", "probe", "backlog", nil)
	}))
	b, err := f.DB.FindBacklog(ctx)
	must(t, err)
	if b.AuditPending != 1 || !b.AuditOldest.Equal(clock.Now().UTC().Truncate(time.Microsecond)) || b.OutboxPending != before.OutboxPending+1 {
		t.Errorf("backlog: %+v (before %+v, now %v)", b, before, clock.Now())
	}
	must(t, f.DB.ChainAudit(ctx))
	if b, err := f.DB.FindBacklog(ctx); err != nil || b.AuditPending != 0 {
		t.Errorf("after chaining again: %+v %v", b, err)
	}
}

// testVacuum: on PostgreSQL the planner's statistics of kycd's tables hold
// their rows afterwards (a table never analyzed counts -1 rows, one
// analyzed before the last insert too few); on SQLite it does nothing and
// fails nothing.
func testVacuum(t *testing.T, f *Fixture, _ *mock.Clock) {
	testStatistics(t, f, "vacuum", f.DB.Vacuum)
}

// testAnalyze: as testVacuum, for the statistics alone.
func testAnalyze(t *testing.T, f *Fixture, _ *mock.Clock) {
	testStatistics(t, f, "analyze", f.DB.Analyze)
}

func testStatistics(t *testing.T, f *Fixture, what string, refresh func(context.Context) error) {
	ctx := context.Background()
	newTenant(t, f)
	if f.DB.Dialect() != "postgres" {
		must(t, refresh(ctx))
		return
	}
	rows := func() (counted, real float64) {
		must(t, f.SQL.QueryRowContext(ctx, `SELECT reltuples, (SELECT count(*) FROM tenants) FROM pg_class WHERE oid = 'tenants'::regclass`).Scan(&counted, &real))
		return counted, real
	}
	if counted, real := rows(); counted == real {
		t.Fatalf("tenants: the statistics already count their %v rows before the %s: the test proves nothing", real, what)
	}
	must(t, refresh(ctx))
	if counted, real := rows(); counted != real {
		t.Errorf("tenants after the %s: %v rows in the planner's statistics, want %v", what, counted, real)
	}
}

// testOptimize: the planner's statistics refresh fails nothing on either
// database (on SQLite it gathers them: sqlite_stat1 has rows), the periodic
// refresh stops with its context, and a few entities' audit entries are
// found through the entity index, newest first, whatever the statistics
// (SQLite's planner otherwise walks the tenant's whole trail).
func testOptimize(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	var users []*kycd.User
	for i := range 3 {
		users = append(users, newUser(t, f, tn.ID, fmt.Sprintf("optimize%d@example.com", i)))
	}
	must(t, f.DB.Optimize(ctx))
	if f.DB.Dialect() == "sqlite" {
		var n int
		must(t, f.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1`).Scan(&n))
		if n == 0 {
			t.Error("no statistics after Optimize")
		}
		rows, err := f.SQL.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT seq FROM audit_entries INDEXED BY audit_entries_entity
			WHERE tenant_id = ? AND entity_id IN (?, ?) ORDER BY seq DESC LIMIT 10`, tn.ID, users[0].ID, users[1].ID)
		must(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			must(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		must(t, rows.Err())
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "audit_entries_entity") {
			t.Errorf("the entity query's plan: %q", plan)
		}
	}
	list, err := f.DB.FindAuditLog(ctx, tn.ID, kycd.AuditFilter{EntityIDs: []string{users[2].ID, users[0].ID}})
	must(t, err)
	var got []string
	for _, e := range list {
		got = append(got, e.EntityID)
	}
	if len(got) < 2 || !slices.Contains(got, users[0].ID) || !slices.Contains(got, users[2].ID) || slices.Contains(got, users[1].ID) ||
		!slices.IsSortedFunc(list, func(a, b *kycd.AuditEntry) int { return cmp.Compare(b.Seq, a.Seq) }) {
		t.Errorf("two users' audit entries, newest first: %v", got)
	}
	stop, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.DB.RunOptimizer(stop, time.Millisecond, slog.New(slog.DiscardHandler))
	}()
	time.Sleep(5 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunOptimizer did not stop with its context")
	}
}
