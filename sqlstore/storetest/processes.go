package storetest

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
)

// testProcesses: processes round-trip with their sealed data; a change
// saved against an outdated version is EStale and changes nothing; the
// user's declared data, events, jobs and audit commit with it.
func testProcesses(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	u := newUser(t, f, tn.ID, "proc-"+uuid.NewString()[:8]+"@example.com")
	retry := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessCRA, Status: kycd.StatusPending, Model: kycd.ModelPlatform,
		Output: map[string]any{"result": "rejected"}, Attempts: 1, RetryAt: &retry,
		Form: &kycd.FormInstance{ID: uuid.NewString(), Code: "crypto-risk-assessment", Version: 1, Answers: map[string]any{"step": map[string]any{"q": "Qzsecretanswer"}}, Completed: true}}
	u.FullName, u.DocumentNationalities = "Jane Qzsecretname", []string{"LB", "FR"}
	before := auditCount(t, f, tn.ID)
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, User: u,
		Events: []*kycd.Event{{TenantID: tn.ID, Type: kycd.EventProcessStatusChanged(p.Code), EntityType: "user", EntityID: u.ID, Data: map[string]any{"status": "pending", "userId": u.ID}}},
		Jobs:   []kycd.JobArgs{kycd.EvaluateArgs{TenantID: tn.ID, UserID: u.ID, Process: p.Code, FormID: p.Form.ID}},
		Action: "kyc.test", Details: map[string]any{"n": 1}}))
	if p.Version != 1 {
		t.Fatalf("version after insert: %d", p.Version)
	}
	_, got, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	g := got[kycd.ProcessCRA]
	if g == nil || g.Status != kycd.StatusPending || g.Attempts != 1 || g.RetryAt == nil || !g.RetryAt.Equal(retry) || g.Version != 1 ||
		g.Form == nil || g.Form.ID != p.Form.ID || !g.Form.Completed || g.Output["result"] != "rejected" {
		t.Fatalf("round trip: %+v", g)
	}
	if usr, err := f.DB.FindUserByID(ctx, tn.ID, u.ID); err != nil || usr.FullName != "Jane Qzsecretname" || !slices.Equal(usr.DocumentNationalities, []string{"LB", "FR"}) {
		t.Fatalf("user update: %+v %v", usr, err)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, u.ID, kycd.EventProcessStatusChanged(p.Code)); n != 1 {
		t.Errorf("%d events", n)
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, "kyc_evaluate"); n < 1 {
		t.Errorf("%d evaluation jobs", n)
	}
	if n := auditCount(t, f, tn.ID); n != before+1 {
		t.Errorf("audit entries: %d, want %d", n, before+1)
	}
	// Nothing personal in the row in the clear.
	var data []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT data FROM kyc_processes WHERE user_id = ?`), u.ID).Scan(&data))
	if bytes.Contains(data, []byte("Qzsecretanswer")) {
		t.Error("form answers stored in the clear")
	}

	// A stale version: EStale, and nothing of the change is kept.
	stale := *g
	stale.Version = 0
	stale.Status = kycd.StatusOK
	err = f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{&stale},
		Events: []*kycd.Event{{TenantID: tn.ID, Type: "core.kyc.x.status-changed", EntityType: "user", EntityID: u.ID}}, Action: "kyc.test"})
	wantCode(t, err, kycd.EStale)
	// One process alone (a form step; one statement on PostgreSQL): saved
	// with its audit entry, under the change's actor; a stale copy, another
	// tenant's or a missing process changes nothing and records nothing.
	g.Status = kycd.StatusOK
	older := *g
	auditBefore := auditCount(t, f, tn.ID)
	actx := kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "client", ID: "probe-client", OnBehalfOf: u.ID})
	must(t, f.DB.SaveProcesses(actx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{g}, Action: "kyc.alone", Details: map[string]any{"step": 2}}))
	if g.Version != 2 {
		t.Errorf("version after a save alone: %d", g.Version)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries after a save alone: %d, want %d", n, auditBefore+1)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ? AND action = 'kyc.alone' AND entity_id = ? AND actor LIKE '%probe-client%' AND details = '{"step":2}'`, tn.ID, u.ID) +
		count(t, f, `SELECT count(*) FROM audit_entries WHERE tenant_id = ? AND action = 'kyc.alone' AND entity_id = ? AND actor LIKE '%probe-client%' AND details = '{"step":2}'`, tn.ID, u.ID); n != 1 {
		t.Errorf("the save alone's audit entry: %d", n)
	}
	err = f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{&older}, Action: "kyc.test"})
	wantCode(t, err, kycd.EStale)
	foreign := *g
	foreign.TenantID = newTenant(t, f).ID
	foreignBefore := auditCount(t, f, foreign.TenantID)
	err = f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: foreign.TenantID, UserID: u.ID, Processes: []*kycd.Process{&foreign}, Action: "kyc.test"})
	wantCode(t, err, kycd.EStale)
	missing := *g
	missing.Code = kycd.ProcessTaxDetails
	err = f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{&missing}, Action: "kyc.test"})
	wantCode(t, err, kycd.EStale)
	if n, m := auditCount(t, f, tn.ID), auditCount(t, f, foreign.TenantID); n != auditBefore+1 || m != foreignBefore {
		t.Errorf("refused saves recorded audit entries: %d, %d; want %d, %d", n, m, auditBefore+1, foreignBefore)
	}
	if n := count(t, f, `SELECT count(*) FROM outbox_events WHERE type = ?`, "core.kyc.x.status-changed"); n != 0 {
		t.Errorf("a stale change left %d events", n)
	}
	_, got, _ = f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	if got[kycd.ProcessCRA].Version != 2 || got[kycd.ProcessCRA].Status != kycd.StatusOK || !got[kycd.ProcessCRA].UpdatedAt.Equal(g.UpdatedAt) {
		t.Errorf("after a stale save: %+v", got[kycd.ProcessCRA])
	}
	// The user and its processes in one read.
	usr, procs, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if usr.FullName != "Jane Qzsecretname" || len(procs) != 1 || procs[kycd.ProcessCRA].Version != 2 {
		t.Errorf("FindUserKYC: %+v %+v", usr, procs)
	}
	bare := newUser(t, f, tn.ID, "bare-"+uuid.NewString()[:8]+"@example.com")
	if usr, procs, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: bare.ID}); err != nil || usr.ID != bare.ID || len(procs) != 0 {
		t.Errorf("a user without processes: %+v %+v %v", usr, procs, err)
	}
	// Another tenant sees nothing.
	other := newTenant(t, f)
	_, _, err = f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID})
	wantCode(t, err, kycd.ENotFound)
	must(t, f.DB.DeleteUser(ctx, tn.ID, bare.ID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(tn.ID, bare.ID, kycd.UserDeletion{Reason: "other"})))
	_, _, err = f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: bare.ID})
	wantCode(t, err, kycd.ENotFound)
}

// testStepsConcurrent: form steps (one stored process and its audit entry)
// saved at the same time, two per process from the same version read: one
// of each pair is saved with its audit entry, the other is EStale and
// leaves nothing, whichever way the store groups them (group commit on
// SQLite, grouped statements on PostgreSQL).
func testStepsConcurrent(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	const users = 16
	stored := make([]*kycd.Process, users)
	for i := range stored {
		u := newUser(t, f, tn.ID, "steps-"+uuid.NewString()[:8]+"@example.com")
		p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessCDD, Status: kycd.StatusPending, Model: kycd.ModelPlatform,
			Form: &kycd.FormInstance{ID: uuid.NewString(), Code: "customer-due-diligence", Version: 1, Answers: map[string]any{}}}
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Action: "kyc.test"}))
		stored[i] = p
	}
	_, stepsBefore := f.DB.StepGroups()
	errs := make([]error, 2*users)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := *stored[k%users]
			form := *p.Form
			form.Answers = map[string]any{"intent": map[string]any{"answer": k}}
			p.Form = &form
			<-start
			errs[k] = f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: p.UserID, Processes: []*kycd.Process{&p},
				Action: "kyc.step", Details: map[string]any{"k": k}})
		}()
	}
	close(start)
	wg.Wait()
	for i, s := range stored {
		a, b := errs[i], errs[i+users]
		if !(a == nil && kycd.ErrorCode(b) == kycd.EStale) && !(b == nil && kycd.ErrorCode(a) == kycd.EStale) {
			t.Errorf("user %d: two steps from one version: %v, %v; want one saved, one stale", i, a, b)
			continue
		}
		winner := i
		if a != nil {
			winner = i + users
		}
		_, procs, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: s.UserID})
		must(t, err)
		p := procs[kycd.ProcessCDD]
		if got, _ := p.Form.Answers["intent"].(map[string]any); p.Version != 2 || got["answer"] != float64(winner) {
			t.Errorf("user %d: version %d, answers %v; want the saved step's (%d)", i, p.Version, p.Form.Answers, winner)
		}
		if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = 'kyc.step'`, s.UserID) +
			count(t, f, `SELECT count(*) FROM audit_entries WHERE entity_id = ? AND action = 'kyc.step'`, s.UserID); n != 1 {
			t.Errorf("user %d: %d audit entries of steps, want 1", i, n)
		}
	}
	if _, steps := f.DB.StepGroups(); f.DB.Dialect() == "postgres" && steps-stepsBefore != 2*users {
		t.Errorf("PostgreSQL: %d steps went through the step group, want %d", steps-stepsBefore, 2*users)
	}
}

// testIdentityDocuments: a document links to one live user of a tenant;
// another user gets EDocumentLinked; a user closed at their request frees
// it, one closed for a violation does not.
func testIdentityDocuments(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	a := newUser(t, f, tn.ID, "doc-a-"+uuid.NewString()[:8]+"@example.com")
	b := newUser(t, f, tn.ID, "doc-b-"+uuid.NewString()[:8]+"@example.com")
	c := newUser(t, f, tn.ID, "doc-c-"+uuid.NewString()[:8]+"@example.com")
	// link links as the kyc service does: taking the document over from
	// a closed user whose link released it.
	link := func(u *kycd.User, idx string) error {
		l, err := f.DB.FindDocumentLink(ctx, tn.ID, idx)
		must(t, err)
		from := ""
		if l != nil && l.UserID != u.ID && !l.Holds() {
			from = l.UserID
		}
		return f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, DocumentIndex: idx, DocumentFrom: from, Action: "kyc.test"})
	}
	owner := func(idx string) kycd.DocumentLink {
		l, err := f.DB.FindDocumentLink(ctx, tn.ID, idx)
		must(t, err)
		if l == nil {
			return kycd.DocumentLink{}
		}
		return *l
	}
	must(t, link(a, "doc-1"))
	must(t, link(a, "doc-1")) // again for the same user: fine
	wantCode(t, link(b, "doc-1"), kycd.EDocumentLinked)
	if l := owner("doc-1"); l.UserID != a.ID || !l.Holds() {
		t.Fatalf("owner: %+v", l)
	}
	if l, err := f.DB.FindDocumentLink(ctx, newTenant(t, f).ID, "doc-1"); l != nil || err != nil {
		t.Errorf("document owner visible to another tenant: %+v %v", l, err)
	}
	must(t, f.DB.DeleteUser(ctx, tn.ID, a.ID, kycd.UserDeletion{Reason: "closure-per-user-request"}, kycd.UserDeleted(tn.ID, a.ID, kycd.UserDeletion{Reason: "closure-per-user-request"})))
	if l := owner("doc-1"); l.UserID != a.ID || l.ClosureReason != "closure-per-user-request" || l.Holds() {
		t.Errorf("closed user still holds the document: %+v", l)
	}
	// The store takes a document over only from the user the caller names.
	wantCode(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: b.ID, DocumentIndex: "doc-1", DocumentFrom: c.ID, Action: "kyc.test"}), kycd.EDocumentLinked)
	must(t, link(b, "doc-1"))
	must(t, f.DB.DeleteUser(ctx, tn.ID, b.ID, kycd.UserDeletion{Reason: "fraud-violation"}, kycd.UserDeleted(tn.ID, b.ID, kycd.UserDeletion{Reason: "fraud-violation"})))
	wantCode(t, link(c, "doc-1"), kycd.EDocumentLinked)
	if l := owner("doc-1"); l.UserID != b.ID || !l.Holds() {
		t.Errorf("a user closed for fraud must keep the document: %+v", l)
	}
}

// testVerificationCodes: issuing replaces the last code; sending hands the
// code out once and forgets it; using it twice is EStale; attempts count.
func testVerificationCodes(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	u := newUser(t, f, tn.ID, "code-"+uuid.NewString()[:8]+"@example.com")
	issue := func(code string) *kycd.VerificationCode {
		vc := &kycd.VerificationCode{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Channel: kycd.ChannelEmail, Digest: "d-" + code,
			Code: code, Destination: u.Email, ExpiresAt: clock.Now().Add(10 * time.Minute)}
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Code: vc, Action: "kyc.test"}))
		return vc
	}
	first := issue("111111")
	second := issue("222222")
	if _, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, kycd.ChannelPhone); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("phone code: %v", err)
	}
	got, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, kycd.ChannelEmail)
	must(t, err)
	if got.ID != second.ID || got.Digest != "d-222222" || got.Destination != u.Email || got.Code != "" {
		t.Fatalf("current code: %+v", got)
	}
	// A replaced code is not sent; the current one is, once: its
	// plaintext is forgotten when it is marked sent.
	_, err = f.DB.FindCodeToSend(ctx, tn.ID, first.ID)
	wantCode(t, err, kycd.ENotFound)
	toSend, err := f.DB.FindCodeToSend(ctx, tn.ID, second.ID)
	must(t, err)
	if toSend.Code != "222222" || toSend.Destination != u.Email || toSend.UserID != u.ID || toSend.Channel != kycd.ChannelEmail {
		t.Errorf("to send: %+v", toSend)
	}
	toSend.Code = ""
	auditBefore := auditCount(t, f, tn.ID)
	must(t, f.DB.MarkCodeSent(ctx, toSend, kycd.CodeSent(toSend)))
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("a code sent recorded %d audit entries", n-auditBefore)
	}
	_, err = f.DB.FindCodeToSend(ctx, tn.ID, second.ID)
	wantCode(t, err, kycd.ENotFound)
	must(t, f.DB.RecordCodeAttempt(ctx, tn.ID, second.ID, kycd.CodeRejected(second)))
	got, _ = f.DB.FindVerificationCode(ctx, tn.ID, u.ID, kycd.ChannelEmail)
	if got.Attempts != 1 {
		t.Errorf("attempts: %d", got.Attempts)
	}
	use := func() error {
		return f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, UseCode: second.ID, Action: "kyc.test"})
	}
	must(t, use())
	wantCode(t, use(), kycd.EStale)
}

// testAuditChainingConcurrent: changes of one tenant written at once, from
// many goroutines, each keep their entry; chaining (also by two chainers at
// once) puts every entry on the chain exactly once, and the chain verifies.
func testAuditChainingConcurrent(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	const writers, each = 8, 10
	errs := make(chan error, writers*each+3)
	done, chained := make(chan struct{}), make(chan struct{})
	go func() {
		// A chainer runs while the writers write.
		defer close(chained)
		for {
			select {
			case <-done:
				return
			default:
				if err := f.DB.ChainAudit(ctx); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- f.DB.Update(ctx, func(tx *sqlstore.Tx) error { return tx.Audit(tn.ID, "probe", "tenant", tn.ID, nil) })
			}
		}()
	}
	wg.Wait()
	close(done)
	<-chained
	var chainErrs sync.WaitGroup
	for range 2 {
		chainErrs.Add(1)
		go func() { defer chainErrs.Done(); errs <- f.DB.ChainAudit(ctx) }()
	}
	chainErrs.Wait()
	for len(errs) > 0 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	entries, err := f.DB.FindAuditEntries(ctx, tn.ID, 0, 1000)
	must(t, err)
	if len(entries) != writers*each+1 { // + tenant.created
		t.Fatalf("%d chained entries, want %d", len(entries), writers*each+1)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ?`, tn.ID); n != 0 {
		t.Errorf("%d entries still pending", n)
	}
	rep, err := f.DB.VerifyAudit(ctx)
	must(t, err)
	for _, b := range rep.Breaks {
		if b.TenantID == tn.ID { // other tests of the suite tamper with their own tenants
			t.Fatalf("verify: %+v", b)
		}
	}
}

// testEraseUsers: a closed user is erased with every row about them (and
// only theirs), in one transaction audited without personal data; a live
// user is never erased; the sweep finds closed users by closing time.
func testEraseUsers(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	// Two users with a row in every table that names a user.
	populate := func(email string) *kycd.User {
		u := newUser(t, f, tn.ID, email)
		p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessIdentity, Status: kycd.StatusOK, Model: kycd.ModelPartner,
			Input: map[string]any{"number": "Qzerasedoc"}}
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p},
			DocumentIndex: "doc-" + u.ID, Key: "submission-" + u.ID, Action: "kyc.test",
			Code: &kycd.VerificationCode{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Channel: "email", Digest: "d", ExpiresAt: clock.Now().Add(time.Hour)}}))
		// (newUser accepted its terms of service.)
		file := &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(time.Hour)}
		must(t, createFile(f, file))
		must(t, f.DB.MarkFileUploaded(ctx, tn.ID, file.ID, 10, "sum", "tenants/"+tn.ID+"/"+file.ID, kycd.FileUploadedChange(file, 10, "sum")))
		createCheck(t, f, &kycd.Check{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Type: kycd.CheckKYC, ConfirmedAt: clock.Now()})
		in := &kycd.Ingestion{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderSumsub, Processes: []string{kycd.ProcessIdentity}}
		must(t, f.DB.CreateIngestion(ctx, in, connector.IngestionCreated(in, kycd.IngestArgs{TenantID: tn.ID})))
		app := &kycd.Application{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, LevelID: "level", Status: "draft"}
		must(t, f.DB.CreateApplication(ctx, app, kycd.ApplicationCreated(app)))
		doc := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, AttributeKey: "doc", FileIDs: []string{file.ID}}
		must(t, f.DB.CreateDocument(ctx, doc, kycd.DocumentCreated(doc)))
		pev := &kycd.ProviderEvent{ID: uuid.NewString(), TenantID: tn.ID, Provider: kycd.ProviderSumsub, Key: "k-" + u.ID,
			Type: "applicantReviewed", Ref: "applicant", ExternalUserID: u.ID}
		must(t, f.DB.RecordProviderEvent(ctx, pev, kycd.ProviderEventReceived(pev, probeArgs{UserID: u.ID})))
		return u
	}
	rows := func(userID string) map[string]int {
		out := map[string]int{}
		for _, q := range []struct{ table, col string }{
			{"users", "id"}, {"kyc_processes", "user_id"}, {"identity_documents", "user_id"}, {"verification_codes", "user_id"},
			{"terms_acceptances", "user_id"}, {"files", "user_id"}, {"checks", "user_id"}, {"ingestions", "user_id"},
			{"kyc_submissions", "user_id"}, {"kyc_applications", "user_id"}, {"kyc_documents", "user_id"}, {"provider_events", "external_user_id"},
		} {
			out[q.table] = count(t, f, `SELECT count(*) FROM `+q.table+` WHERE `+q.col+` = ?`, userID)
		}
		return out
	}
	gone, kept := populate("erased-"+uuid.NewString()[:8]+"@example.com"), populate("kept-"+uuid.NewString()[:8]+"@example.com")
	for table, n := range rows(gone.ID) {
		if n == 0 {
			t.Fatalf("the test wrote no %s row", table)
		}
	}
	// A live user is not erased.
	wantCode(t, f.DB.EraseUser(ctx, kycd.UserRef{TenantID: tn.ID, UserID: gone.ID}), kycd.ENotFound)
	before := clock.Now()
	clock.Advance(time.Minute)
	must(t, f.DB.DeleteUser(ctx, tn.ID, gone.ID, kycd.UserDeletion{Reason: "closure-per-user-request", Note: "Qzerasenote"}, kycd.UserDeleted(tn.ID, gone.ID, kycd.UserDeletion{Reason: "closure-per-user-request", Note: "Qzerasenote"})))
	if refs, err := f.DB.FindClosedUsers(ctx, before, 10); err != nil || slices.ContainsFunc(refs, func(r kycd.UserRef) bool { return r.UserID == gone.ID }) {
		t.Errorf("closed after the cut-off, found: %v %v", refs, err)
	}
	refs, err := f.DB.FindClosedUsers(ctx, clock.Now().Add(time.Second), 1000)
	must(t, err)
	if !slices.Contains(refs, kycd.UserRef{TenantID: tn.ID, UserID: gone.ID}) || slices.ContainsFunc(refs, func(r kycd.UserRef) bool { return r.UserID == kept.ID }) {
		t.Errorf("closed users: %v", refs)
	}
	keys, err := f.DB.UserBlobKeys(ctx, kycd.UserRef{TenantID: tn.ID, UserID: gone.ID})
	must(t, err)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "tenants/"+tn.ID+"/") {
		t.Errorf("blob keys: %v", keys)
	}
	// Another tenant cannot erase it.
	wantCode(t, f.DB.EraseUser(ctx, kycd.UserRef{TenantID: newTenant(t, f).ID, UserID: gone.ID}), kycd.ENotFound)
	keptBefore := rows(kept.ID)
	auditBefore := auditCount(t, f, tn.ID)
	must(t, f.DB.EraseUser(ctx, kycd.UserRef{TenantID: tn.ID, UserID: gone.ID}))
	for table, n := range rows(gone.ID) {
		if n != 0 {
			t.Errorf("%d %s rows of the erased user kept", n, table)
		}
	}
	if got := rows(kept.ID); !maps.Equal(got, keptBefore) {
		t.Errorf("another user's rows changed: %v, were %v", got, keptBefore)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = 'user.erased' AND details LIKE '%closure-per-user-request%' AND details NOT LIKE '%Qzerase%'`, gone.ID) +
		count(t, f, `SELECT count(*) FROM audit_entries WHERE entity_id = ? AND action = 'user.erased' AND details LIKE '%closure-per-user-request%' AND details NOT LIKE '%Qzerase%'`, gone.ID); n != 1 {
		t.Errorf("user.erased audit entry: %d", n)
	}
	// Erased already: nothing to do.
	wantCode(t, f.DB.EraseUser(ctx, kycd.UserRef{TenantID: tn.ID, UserID: gone.ID}), kycd.ENotFound)
}

// testExpiredProcesses: the sweep finds ok processes whose verified result
// expired by the time given, oldest first, up to the limit; not those still
// valid, not pending ones, not those of closed users, and not a result
// renewed since.
func testExpiredProcesses(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	now := clock.Now()
	save := func(status string, expires time.Time) *kycd.Process {
		u := newUser(t, f, tn.ID, "expiry-"+uuid.NewString()[:8]+"@example.com")
		p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessIdentity, Status: status, Model: kycd.ModelPartner,
			Output: map[string]any{"expiresAt": expires.Format(time.RFC3339Nano)}}
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Action: "kyc.test"}))
		return p
	}
	// The oldest lies before anything else the suite writes.
	oldest, older := save(kycd.StatusOK, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)), save(kycd.StatusOK, now.Add(-time.Hour))
	valid := save(kycd.StatusOK, now.Add(time.Hour))
	pending := save(kycd.StatusPending, now.Add(-2*time.Hour))
	closed := save(kycd.StatusOK, now.Add(-2*time.Hour))
	must(t, f.DB.DeleteUser(ctx, tn.ID, closed.UserID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(tn.ID, closed.UserID, kycd.UserDeletion{Reason: "other"})))
	renewed := save(kycd.StatusOK, now.Add(-3*time.Hour))
	renewed.Output = map[string]any{"expiresAt": now.Add(24 * time.Hour).Format(time.RFC3339Nano)}
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: renewed.UserID, Processes: []*kycd.Process{renewed}, Action: "kyc.test"}))

	mine := func(refs []kycd.ProcessRef) []string {
		var out []string
		for _, r := range refs {
			if r.TenantID == tn.ID {
				out = append(out, r.UserID)
			}
		}
		return out
	}
	refs, err := f.DB.FindExpiredProcesses(ctx, now, 1000)
	must(t, err)
	if got := mine(refs); !slices.Equal(got, []string{oldest.UserID, older.UserID}) {
		t.Errorf("expired: %v, want %v (valid %s, pending %s, closed %s, renewed %s)", got, []string{oldest.UserID, older.UserID},
			valid.UserID, pending.UserID, closed.UserID, renewed.UserID)
	}
	for _, r := range refs {
		if r.TenantID == tn.ID && r.Code != kycd.ProcessIdentity {
			t.Errorf("ref's code: %+v", r)
		}
	}
	if refs, err := f.DB.FindExpiredProcesses(ctx, now, 1); err != nil || len(refs) != 1 || refs[0] != (kycd.ProcessRef{TenantID: tn.ID, UserID: oldest.UserID, Code: kycd.ProcessIdentity}) {
		t.Errorf("limit 1: %v %v", refs, err)
	}
	if refs, err := f.DB.FindExpiredProcesses(ctx, now.Add(2*time.Hour), 1000); err != nil || !slices.Contains(mine(refs), valid.UserID) {
		t.Errorf("later, the valid one expired too: %v %v", mine(refs), err)
	}
}
