package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// testMetadata: the metadata of users and files is read and changed in
// one transaction, removed with nil, kept per tenant and per user, and a
// change that fails leaves it as it was.
func testMetadata(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "meta@example.com")
	file := &kycd.File{TenantID: tn.ID, UserID: u.ID, Category: "image", ContentType: "image/png", UploadExpiresAt: clock.Now().Add(time.Minute)}
	must(t, createFile(f, file))
	for _, tc := range []struct {
		entity, id, missing string
		audit               func(has bool) kycd.AuditRecord
	}{
		{kycd.MetadataUsers, u.ID, "user", func(has bool) kycd.AuditRecord {
			return kycd.AuditRecord{Action: "user.metadata.changed", EntityType: "user", EntityID: u.ID, Details: map[string]any{"hasMetadata": has}}
		}},
		{kycd.MetadataFiles, file.ID, "file", func(has bool) kycd.AuditRecord {
			return kycd.AuditRecord{Action: "file.metadata.changed", EntityType: "file", EntityID: file.ID, Details: map[string]any{"userId": u.ID, "hasMetadata": has}}
		}},
	} {
		m, err := f.DB.FindMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id)
		must(t, err)
		if len(m) != 0 {
			t.Fatalf("%s: metadata before any: %v", tc.entity, m)
		}
		gold := map[string]any{"tier": "gold"}
		set := func(old map[string]any) (map[string]any, error) {
			if len(old) != 0 {
				t.Errorf("%s: old metadata %v", tc.entity, old)
			}
			return gold, nil
		}
		changed := func(m map[string]any) kycd.Change { return kycd.MetadataChanged(tc.entity, u.ID, tc.id, m) }
		wantUnaudited(t, f.DB.ChangeMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id, set, func(map[string]any) kycd.Change { return kycd.Change{} }))
		if m, _ := f.DB.FindMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id); len(m) != 0 {
			t.Fatalf("%s: metadata changed without its audit entry: %v", tc.entity, m)
		}
		must(t, f.DB.ChangeMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id, set, changed))
		wantAudit(t, f, tn.ID, tc.audit(true))
		if m, _ := f.DB.FindMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id); m["tier"] != "gold" {
			t.Fatalf("%s: after set: %v", tc.entity, m)
		}
		refused := errors.New("refused")
		if err := f.DB.ChangeMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id, func(map[string]any) (map[string]any, error) {
			return nil, refused
		}, changed); !errors.Is(err, refused) {
			t.Fatalf("%s: change's error: %v", tc.entity, err)
		}
		if m, _ := f.DB.FindMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id); m["tier"] != "gold" {
			t.Fatalf("%s: after a refused change: %v", tc.entity, m)
		}
		_, err = f.DB.FindMetadata(ctx, other.ID, u.ID, tc.entity, tc.id)
		wantCode(t, err, kycd.ENotFound)
		wantCode(t, f.DB.ChangeMetadata(ctx, other.ID, u.ID, tc.entity, tc.id, set, changed), kycd.ENotFound)
		wantCode(t, f.DB.ChangeMetadata(ctx, tn.ID, u.ID, tc.entity, uuid.NewString(), set, changed), kycd.ENotFound)
		must(t, f.DB.ChangeMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id, func(map[string]any) (map[string]any, error) {
			return nil, nil
		}, changed))
		wantAudit(t, f, tn.ID, tc.audit(false))
		if m, _ := f.DB.FindMetadata(ctx, tn.ID, u.ID, tc.entity, tc.id); len(m) != 0 {
			t.Fatalf("%s: after removal: %v", tc.entity, m)
		}
	}
	// Another user's file is not found.
	v := newUser(t, f, tn.ID, "meta2@example.com")
	_, err := f.DB.FindMetadata(ctx, tn.ID, v.ID, kycd.MetadataFiles, file.ID)
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.FindMetadata(ctx, tn.ID, u.ID, "accounts", u.ID)
	wantCode(t, err, kycd.ENotFound)
}
