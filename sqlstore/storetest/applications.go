package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// newApplication stores a new application of a user for a level; its id is
// time-ordered, as the levels service makes them.
func newApplication(t *testing.T, f *Fixture, tenantID, userID, levelID string) *kycd.Application {
	t.Helper()
	id, err := uuid.NewV7()
	must(t, err)
	a := &kycd.Application{ID: id.String(), TenantID: tenantID, UserID: userID, LevelID: levelID, Catalog: "builtin:1", Status: kycd.ApplicationNew,
		Data: kycd.ApplicationData{Attributes: map[string]*kycd.AttributeValue{"full-name": {Value: "Qzsecretname"}}}}
	must(t, f.DB.CreateApplication(context.Background(), a, kycd.ApplicationCreated(a)))
	return a
}

// appIDs are the ids of applications, in order.
func appIDs(list []*kycd.Application) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	return out
}

// testApplications: an application is created sealed with its event and
// audit entry for a live user of the tenant; reads keep to the tenant and
// the user; a user's applications come oldest first and the review queue
// pages by status; a save moves the version, announces a status change only
// when told, marks the sign codes used and enqueues its jobs; a stale copy,
// another tenant's or a code used already changes nothing.
func testApplications(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "apps-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "apps2-"+uuid.NewString()[:8]+"@example.com")
	auditBefore := auditCount(t, f, tn.ID)
	a := newApplication(t, f, tn.ID, u.ID, "level-1")
	if a.Version != 1 || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("created: %+v", a)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, a.ID, kycd.EventApplicationStatusChanged); n != 1 {
		t.Errorf("%d status events after creation, want 1", n)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	var data []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT data FROM kyc_applications WHERE id = ?`), a.ID).Scan(&data))
	if bytes.Contains(data, []byte("Qzsecret")) {
		t.Error("application data stored in the clear")
	}
	foreign := &kycd.Application{ID: uuid.NewString(), TenantID: other.ID, UserID: u.ID, LevelID: "level-1", Status: kycd.ApplicationNew}
	wantCode(t, f.DB.CreateApplication(ctx, foreign, kycd.ApplicationCreated(foreign)), kycd.ENotFound)

	// Reads.
	got, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, UserID: u.ID, ID: a.ID})
	must(t, err)
	if got.LevelID != "level-1" || got.Catalog != "builtin:1" || got.Status != kycd.ApplicationNew || got.Version != 1 ||
		got.Data.Attributes["full-name"] == nil || got.Data.Attributes["full-name"].Value != "Qzsecretname" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("round trip: %+v", got)
	}
	if got, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, ID: a.ID}); err != nil || got.ID != a.ID {
		t.Errorf("any user of the tenant: %v", err)
	}
	for _, c := range []struct{ tenant, user, id string }{
		{other.ID, "", a.ID}, {tn.ID, u2.ID, a.ID}, {tn.ID, u.ID, uuid.NewString()}, {tn.ID, u.ID, "not-a-uuid"},
	} {
		_, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: c.tenant, UserID: c.user, ID: c.id})
		wantCode(t, err, kycd.ENotFound)
	}

	// A user's applications, oldest first; another user's and tenant's apart.
	b, c := newApplication(t, f, tn.ID, u.ID, "level-2"), newApplication(t, f, tn.ID, u.ID, "level-1")
	theirs := newApplication(t, f, tn.ID, u2.ID, "level-3")
	list, err := f.DB.FindApplications(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if ids := appIDs(list); !slices.Equal(ids, []string{a.ID, b.ID, c.ID}) {
		t.Errorf("user's applications: %v, want %v", ids, []string{a.ID, b.ID, c.ID})
	}
	if list, err := f.DB.FindApplications(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID}); err != nil || len(list) != 0 {
		t.Errorf("another tenant's read: %d %v", len(list), err)
	}
	if levels, err := f.DB.ApplicationLevels(ctx, tn.ID); err != nil || !slices.Equal(levels, []string{"level-1", "level-2", "level-3"}) {
		t.Errorf("levels: %v %v", levels, err)
	}
	if levels, err := f.DB.ApplicationLevels(ctx, other.ID); err != nil || len(levels) != 0 {
		t.Errorf("another tenant's levels: %v %v", levels, err)
	}

	// A save: sent to review with a sign code, which it marks used, and a job.
	vc := &kycd.VerificationCode{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Channel: kycd.SignChannel("sms", a.ID), Digest: "d",
		Code: "123456", Destination: "+351912345678", ExpiresAt: clock.Now().Add(10 * time.Minute)}
	must(t, f.DB.IssueSignCode(ctx, vc, kycd.SignCodeIssued(vc, kycd.SendCodeArgs{TenantID: tn.ID, CodeID: vc.ID})))
	stale := *got
	got.Status = kycd.ApplicationInReview
	submitted := clock.Now().UTC()
	got.SubmittedAt = &submitted
	got.Data.Attributes["full-name"].SignedWith = vc.ID
	syncJobs := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.SyncApplicationArgs{}.Kind())
	auditBefore = auditCount(t, f, tn.ID)
	must(t, f.DB.SaveApplication(ctx, got, []string{vc.ID}, kycd.ApplicationSaved(got, true, "kyc-application.sent-to-review", map[string]any{"status": got.Status}, kycd.SyncApplicationArgs{TenantID: tn.ID, ApplicationID: a.ID})))
	if got.Version != 2 {
		t.Errorf("version after a save: %d", got.Version)
	}
	saved, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, UserID: u.ID, ID: a.ID})
	must(t, err)
	if saved.Status != kycd.ApplicationInReview || saved.Version != 2 || saved.SubmittedAt == nil || !saved.SubmittedAt.Equal(submitted) ||
		saved.Data.Attributes["full-name"].SignedWith != vc.ID || saved.DecidedAt != nil {
		t.Errorf("saved: %+v", saved)
	}
	if code, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, vc.Channel); err != nil || code.UsedAt == nil {
		t.Errorf("the sign code was not marked used: %+v %v", code, err)
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.SyncApplicationArgs{}.Kind()); n != syncJobs+1 {
		t.Errorf("sync jobs: %d, want %d", n, syncJobs+1)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, a.ID, kycd.EventApplicationStatusChanged); n != 2 {
		t.Errorf("%d status events after the status changed, want 2", n)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = 'kyc-application.sent-to-review'`, a.ID) +
		count(t, f, `SELECT count(*) FROM audit_entries WHERE entity_id = ? AND action = 'kyc-application.sent-to-review'`, a.ID); n != 1 {
		t.Errorf("the save's audit entry: %d", n)
	}
	// A save that changes no status announces nothing.
	must(t, f.DB.SaveApplication(ctx, got, nil, kycd.ApplicationSaved(got, false, "kyc-application.updated", nil)))
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, a.ID, kycd.EventApplicationStatusChanged); n != 2 {
		t.Errorf("%d status events after a save without a status change, want 2", n)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+2 {
		t.Errorf("audit entries after two saves: %d, want %d", n, auditBefore+2)
	}

	// Refused saves change nothing: a stale copy, another tenant's, and a
	// fresh copy whose sign code was used already.
	auditBefore, otherBefore := auditCount(t, f, tn.ID), auditCount(t, f, other.ID)
	stale.Status = kycd.ApplicationRejected
	wantCode(t, f.DB.SaveApplication(ctx, &stale, nil, kycd.ApplicationSaved(&stale, true, "kyc-application.reviewed", nil, kycd.SyncApplicationArgs{TenantID: tn.ID, ApplicationID: a.ID})), kycd.EStale)
	foreignCopy := *got
	foreignCopy.TenantID = other.ID
	wantCode(t, f.DB.SaveApplication(ctx, &foreignCopy, nil, kycd.ApplicationSaved(&foreignCopy, true, "kyc-application.reviewed", nil)), kycd.EStale)
	again := *got
	again.Status = kycd.ApplicationApproved
	wantCode(t, f.DB.SaveApplication(ctx, &again, []string{vc.ID}, kycd.ApplicationSaved(&again, true, "kyc-application.reviewed", nil, kycd.SyncApplicationArgs{TenantID: tn.ID, ApplicationID: a.ID})), kycd.EStale)
	if again.Version != got.Version {
		t.Errorf("a refused save moved the caller's version: %d, want %d", again.Version, got.Version)
	}
	if now, err := f.DB.FindApplication(ctx, kycd.ApplicationKey{TenantID: tn.ID, UserID: u.ID, ID: a.ID}); err != nil || now.Status != kycd.ApplicationInReview || now.Version != 3 {
		t.Errorf("after refused saves: %+v %v", now, err)
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.SyncApplicationArgs{}.Kind()); n != syncJobs+1 {
		t.Errorf("refused saves enqueued jobs: %d, want %d", n, syncJobs+1)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, a.ID, kycd.EventApplicationStatusChanged); n != 2 {
		t.Errorf("refused saves announced: %d events, want 2", n)
	}
	if n, m := auditCount(t, f, tn.ID), auditCount(t, f, other.ID); n != auditBefore || m != otherBefore {
		t.Errorf("refused saves recorded audit entries: %d, %d; want %d, %d", n, m, auditBefore, otherBefore)
	}

	// The review queue: by status, oldest first, in pages.
	for _, x := range []*kycd.Application{c, theirs} {
		x.Status = kycd.ApplicationInReview
		must(t, f.DB.SaveApplication(ctx, x, nil, kycd.ApplicationSaved(x, true, "kyc-application.sent-to-review", nil)))
	}
	page, err := f.DB.FindApplicationsByStatus(ctx, tn.ID, kycd.ApplicationInReview, "", 2)
	must(t, err)
	if ids := appIDs(page); !slices.Equal(ids, []string{a.ID, c.ID}) {
		t.Errorf("first page of the queue: %v, want %v", ids, []string{a.ID, c.ID})
	}
	page, err = f.DB.FindApplicationsByStatus(ctx, tn.ID, kycd.ApplicationInReview, c.ID, 2)
	must(t, err)
	if ids := appIDs(page); !slices.Equal(ids, []string{theirs.ID}) {
		t.Errorf("second page of the queue: %v, want %v", ids, []string{theirs.ID})
	}
	if page, err := f.DB.FindApplicationsByStatus(ctx, tn.ID, kycd.ApplicationNew, "", 10); err != nil || !slices.Equal(appIDs(page), []string{b.ID}) {
		t.Errorf("new applications: %v %v", appIDs(page), err)
	}
	if page, err := f.DB.FindApplicationsByStatus(ctx, other.ID, kycd.ApplicationInReview, "", 10); err != nil || len(page) != 0 {
		t.Errorf("another tenant's queue: %d %v", len(page), err)
	}
}

// testSignCodes: a sign code is stored sealed with the job that sends it
// and its audit entry, and replaces the last code of its channel only.
func testSignCodes(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	u := newUser(t, f, tn.ID, "sign-"+uuid.NewString()[:8]+"@example.com")
	a := newApplication(t, f, tn.ID, u.ID, "level-1")
	channel := kycd.SignChannel("email", a.ID)
	issue := func(channel, code string) *kycd.VerificationCode {
		vc := &kycd.VerificationCode{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Channel: channel, Digest: "d-" + code,
			Code: code, Destination: "Qzsecret-" + code + "@example.com", ExpiresAt: clock.Now().Add(10 * time.Minute)}
		must(t, f.DB.IssueSignCode(ctx, vc, kycd.SignCodeIssued(vc, kycd.SendCodeArgs{TenantID: tn.ID, CodeID: vc.ID})))
		return vc
	}
	jobs := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.SendCodeArgs{}.Kind())
	auditBefore := auditCount(t, f, tn.ID)
	first := issue(channel, "111111")
	email := issue(kycd.ChannelEmail, "333333")
	second := issue(channel, "222222")
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.SendCodeArgs{}.Kind()); n != jobs+3 {
		t.Errorf("send jobs: %d, want %d", n, jobs+3)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+3 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+3)
	}
	got, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, channel)
	must(t, err)
	if got.ID != second.ID || got.Digest != "d-222222" || got.Destination != second.Destination || got.UsedAt != nil {
		t.Errorf("the channel's code: %+v", got)
	}
	if got, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, kycd.ChannelEmail); err != nil || got.ID != email.ID {
		t.Errorf("another channel's code was replaced: %+v %v", got, err)
	}
	_, err = f.DB.FindCodeToSend(ctx, tn.ID, first.ID)
	wantCode(t, err, kycd.ENotFound)
	var sealed []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT sealed FROM verification_codes WHERE id = ?`), second.ID).Scan(&sealed))
	if bytes.Contains(sealed, []byte("Qzsecret")) || bytes.Contains(sealed, []byte("222222")) {
		t.Error("a sign code or its destination stored in the clear")
	}
}

// testDocuments: a document is created for a live user of the tenant with
// its audit entry, and read back only by its tenant and user.
func testDocuments(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "docs-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "docs2-"+uuid.NewString()[:8]+"@example.com")
	files := []string{uuid.NewString(), uuid.NewString()}
	d := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, AttributeKey: "passport", FileIDs: files}
	auditBefore := auditCount(t, f, tn.ID)
	must(t, f.DB.CreateDocument(ctx, d, kycd.DocumentCreated(d)))
	if d.CreatedAt.IsZero() {
		t.Error("creation time not set")
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	got, err := f.DB.FindDocument(ctx, tn.ID, u.ID, d.ID)
	must(t, err)
	if got.AttributeKey != "passport" || !slices.Equal(got.FileIDs, files) || !got.CreatedAt.Equal(d.CreatedAt) || got.UserID != u.ID {
		t.Errorf("round trip: %+v", got)
	}
	for _, c := range []struct{ tenant, user, id string }{
		{other.ID, u.ID, d.ID}, {tn.ID, u2.ID, d.ID}, {tn.ID, u.ID, uuid.NewString()}, {tn.ID, u.ID, "not-a-uuid"},
	} {
		_, err := f.DB.FindDocument(ctx, c.tenant, c.user, c.id)
		wantCode(t, err, kycd.ENotFound)
	}
	foreignDoc := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: other.ID, UserID: u.ID, AttributeKey: "passport"}
	wantCode(t, f.DB.CreateDocument(ctx, foreignDoc, kycd.DocumentCreated(foreignDoc)), kycd.ENotFound)
}

// testLevelCatalog: a tenant's catalog versions are numbered from 1, each
// audited; the newest or a given version is read back; another tenant's
// or a missing version is ENotFound.
func testLevelCatalog(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	_, _, err := f.DB.FindLevelCatalog(ctx, tn.ID, 0)
	wantCode(t, err, kycd.ENotFound)
	// The store numbers the version; the change for that number is given.
	replaced := func(tenantID string) func(int) kycd.Change {
		return func(v int) kycd.Change { return kycd.LevelCatalogReplaced(tenantID, v) }
	}
	auditBefore := auditCount(t, f, tn.ID)
	_, err = f.DB.SaveLevelCatalog(ctx, tn.ID, []byte(`{"levels":[{"id":"lost"}]}`), func(int) kycd.Change { return kycd.Change{} })
	wantUnaudited(t, err)
	v1, err := f.DB.SaveLevelCatalog(ctx, tn.ID, []byte(`{"levels":[{"id":"one"}]}`), replaced(tn.ID))
	must(t, err)
	v2, err := f.DB.SaveLevelCatalog(ctx, tn.ID, []byte(`{"levels":[{"id":"two"}]}`), replaced(tn.ID))
	must(t, err)
	if v1 != 1 || v2 != 2 {
		t.Fatalf("versions %d, %d; want 1, 2", v1, v2)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+2 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+2)
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "kyc-levels.replaced", EntityType: "tenant", EntityID: tn.ID, Details: map[string]any{"version": 2}})
	for _, c := range []struct {
		ask, want int
		raw       string
	}{{0, 2, `{"levels":[{"id":"two"}]}`}, {1, 1, `{"levels":[{"id":"one"}]}`}, {2, 2, `{"levels":[{"id":"two"}]}`}} {
		raw, v, err := f.DB.FindLevelCatalog(ctx, tn.ID, c.ask)
		if err != nil || v != c.want || string(raw) != c.raw {
			t.Errorf("version %d: %s, %d, %v; want %s, %d", c.ask, raw, v, err, c.raw, c.want)
		}
	}
	_, _, err = f.DB.FindLevelCatalog(ctx, tn.ID, 3)
	wantCode(t, err, kycd.ENotFound)
	_, _, err = f.DB.FindLevelCatalog(ctx, other.ID, 0)
	wantCode(t, err, kycd.ENotFound)
	if v, err := f.DB.SaveLevelCatalog(ctx, other.ID, []byte(`{}`), replaced(other.ID)); err != nil || v != 1 {
		t.Errorf("another tenant's first version: %d %v", v, err)
	}
}
