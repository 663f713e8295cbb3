package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// testUserFile: what the console's user file reads of a user: the user's
// files (every category, oldest first, none of another user or tenant),
// documents, and the events about the user's entities, newest first.
func testUserFile(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "file-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "file2-"+uuid.NewString()[:8]+"@example.com")
	var ids []string
	for _, c := range []string{"document", "image"} {
		file := &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: c, ContentType: "image/png", UploadExpiresAt: clock.Now().Add(time.Hour)}
		must(t, createFile(f, file))
		ids = append(ids, file.ID)
		clock.Advance(time.Second)
	}
	must(t, createFile(f, &kycd.File{TenantID: tn.ID, UserID: u2.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(time.Hour)}))
	must(t, f.DB.MarkFileUploaded(ctx, tn.ID, ids[1], 42, "beef", "key-1", kycd.FileUploadedChange(&kycd.File{TenantID: tn.ID, UserID: u.ID, ID: ids[1]}, 42, "beef")))
	files, err := f.DB.FindFiles(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if len(files) != 2 || files[0].ID != ids[0] || files[1].ID != ids[1] || files[0].Category != "document" || files[1].Status != kycd.FileUploaded ||
		files[1].Size != 42 || files[1].BlobKey != "key-1" || files[1].UploadedAt == nil || files[0].CreatedAt.IsZero() {
		t.Fatalf("a user's files: %+v", files)
	}
	if l, err := f.DB.FindFiles(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID}); err != nil || len(l) != 0 {
		t.Fatalf("a user's files from another tenant: %v %v", l, err)
	}

	d1 := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, AttributeKey: "passport", FileIDs: ids}
	must(t, f.DB.CreateDocument(ctx, d1, kycd.DocumentCreated(d1)))
	clock.Advance(time.Second)
	d2 := &kycd.KYCDocument{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, AttributeKey: "proof-of-address", FileIDs: ids[:1]}
	must(t, f.DB.CreateDocument(ctx, d2, kycd.DocumentCreated(d2)))
	docs, err := f.DB.FindDocuments(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if len(docs) != 2 || docs[0].ID != d1.ID || !slices.Equal(docs[0].FileIDs, ids) || docs[1].AttributeKey != "proof-of-address" || docs[1].CreatedAt.IsZero() {
		t.Fatalf("a user's documents: %+v", docs)
	}
	for _, c := range []struct{ tenant, user string }{{other.ID, u.ID}, {tn.ID, u2.ID}} {
		if l, err := f.DB.FindDocuments(ctx, kycd.UserRef{TenantID: c.tenant, UserID: c.user}); err != nil || len(l) != 0 {
			t.Fatalf("documents of %v: %v %v", c, l, err)
		}
	}

	// Events: the file upload's (about the file) and the user's creation
	// (about the user); another user's are not selected.
	events, err := f.DB.FindEntityEvents(ctx, tn.ID, []kycd.EntityRef{{Type: "user", ID: u.ID}, {Type: "file", ID: ids[0]}, {Type: "file", ID: ids[1]}}, 10)
	must(t, err)
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
		if ev.EntityID != u.ID && !slices.Contains(ids, ev.EntityID) {
			t.Errorf("an event of another entity: %+v", ev)
		}
	}
	if !slices.Contains(types, kycd.EventFileUploaded) || !slices.Contains(types, kycd.EventUserCreated) || types[0] != kycd.EventFileUploaded {
		t.Fatalf("the user's events, newest first: %v", types)
	}
	if l, err := f.DB.FindEntityEvents(ctx, other.ID, []kycd.EntityRef{{Type: "user", ID: u.ID}}, 10); err != nil || len(l) != 0 {
		t.Fatalf("the user's events from another tenant: %v %v", l, err)
	}
	if l, err := f.DB.FindEntityEvents(ctx, tn.ID, []kycd.EntityRef{{Type: "user", ID: u.ID}}, 1); err != nil || len(l) != 1 || l[0].Type != kycd.EventUserCreated {
		t.Fatalf("one event of the user: %v %v", l, err)
	}
	if l, err := f.DB.FindEntityEvents(ctx, tn.ID, nil, 10); err != nil || len(l) != 0 {
		t.Fatalf("events of no entity: %v %v", l, err)
	}
	_, err = f.DB.FindEntityEvents(ctx, tn.ID, make([]kycd.EntityRef, kycd.MaxAuditEntities+1), 10)
	wantCode(t, err, kycd.ERequestInvalid)
}

// testAuditLog: a tenant's audit trail filtered by actor, entity, action
// and time, newest first, paged by sequence number; pending entries are
// chained before they are read; another tenant's entries never show.
func testAuditLog(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	alice := kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "reviewer", ID: "alice"})
	bob := kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "reviewer", ID: "bob"})
	userA, userB := uuid.NewString(), uuid.NewString()
	start := clock.Now()
	must(t, f.DB.RecordView(alice, tn.ID, kycd.Viewed("user", userA, nil)))
	clock.Advance(time.Minute)
	mid := clock.Now()
	must(t, f.DB.RecordView(bob, tn.ID, kycd.Viewed("user", userA, nil)))
	must(t, f.DB.RecordView(alice, tn.ID, kycd.Viewed("case", userB, nil)))
	must(t, f.DB.RecordView(alice, other.ID, kycd.Viewed("user", userA, nil)))
	clock.Advance(time.Minute)
	end := clock.Now()

	find := func(fl kycd.AuditFilter) []*kycd.AuditEntry {
		t.Helper()
		list, err := f.DB.FindAuditLog(ctx, tn.ID, fl)
		must(t, err)
		for i, e := range list {
			if e.TenantID != tn.ID {
				t.Fatalf("another tenant's entry: %+v", e)
			}
			if i > 0 && e.Seq >= list[i-1].Seq {
				t.Fatalf("not newest first: %d after %d", e.Seq, list[i-1].Seq)
			}
		}
		return list
	}
	all := find(kycd.AuditFilter{})
	if len(all) < 3 || all[0].Action != "case.viewed" || all[0].Hash == "" {
		t.Fatalf("the newest entries (chained): %+v", all[0])
	}
	if l := find(kycd.AuditFilter{Actor: "reviewer:alice"}); len(l) != 2 || l[0].EntityID != userB || l[1].EntityID != userA {
		t.Fatalf("alice's entries: %+v", l)
	}
	if l := find(kycd.AuditFilter{EntityIDs: []string{userA}}); len(l) != 2 || l[0].Actor != "reviewer:bob" {
		t.Fatalf("user A's entries: %+v", l)
	}
	if l := find(kycd.AuditFilter{EntityIDs: []string{userA, userB}, Action: "case.viewed"}); len(l) != 1 || l[0].EntityID != userB {
		t.Fatalf("case views: %+v", l)
	}
	if l := find(kycd.AuditFilter{EntityIDs: []string{userA}, From: start, To: mid}); len(l) != 1 || l[0].Actor != "reviewer:alice" {
		t.Fatalf("user A's entries of the first minute: %+v", l)
	}
	if l := find(kycd.AuditFilter{EntityIDs: []string{userA}, From: mid, To: end}); len(l) != 1 || l[0].Actor != "reviewer:bob" {
		t.Fatalf("user A's entries of the second minute: %+v", l)
	}
	page1 := find(kycd.AuditFilter{Limit: 2})
	page2 := find(kycd.AuditFilter{Limit: 2, Before: page1[1].Seq})
	if len(page1) != 2 || len(page2) == 0 || page2[0].Seq != all[2].Seq {
		t.Fatalf("pages: %d then %d entries", len(page1), len(page2))
	}
	_, err := f.DB.FindAuditLog(ctx, tn.ID, kycd.AuditFilter{EntityIDs: make([]string, kycd.MaxAuditEntities+1)})
	wantCode(t, err, kycd.ERequestInvalid)
}
