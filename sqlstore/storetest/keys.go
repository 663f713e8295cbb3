package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
)

// testSystemKeys: a system key is created once; a second creation under
// its name returns the first key; an unknown name is ENotFound.
func testSystemKeys(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	name := "storetest-" + uuid.NewString()
	_, err := f.DB.FindSystemKey(ctx, name)
	wantCode(t, err, kycd.ENotFound)
	got, err := f.DB.CreateSystemKey(ctx, name, []byte("wrapped-1"))
	must(t, err)
	if string(got) != "wrapped-1" {
		t.Errorf("created: %q", got)
	}
	got, err = f.DB.CreateSystemKey(ctx, name, []byte("wrapped-2"))
	must(t, err)
	if string(got) != "wrapped-1" {
		t.Errorf("a second creation returned %q, want the first key", got)
	}
	if got, err := f.DB.FindSystemKey(ctx, name); err != nil || string(got) != "wrapped-1" {
		t.Errorf("found %q %v", got, err)
	}
}

// testStoredKeys: every wrapped key is read at once; rewrapped keys are
// stored all together, each tenant's audited, or (one of them unknown)
// none at all.
func testStoredKeys(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	name := "storetest-" + uuid.NewString()
	_, err := f.DB.CreateSystemKey(ctx, name, []byte("system-wrapped"))
	must(t, err)
	original, err := f.DB.FindTenantKeys(ctx, tn.ID)
	must(t, err)
	stored, err := f.DB.FindStoredKeys(ctx)
	must(t, err)
	if !bytes.Equal(stored.Tenants[tn.ID], original) || string(stored.System[name]) != "system-wrapped" {
		t.Fatalf("stored keys miss the tenant's or the system key: %d tenants, %d system keys", len(stored.Tenants), len(stored.System))
	}
	if n := count(t, f, `SELECT count(*) FROM tenants`); len(stored.Tenants) != n {
		t.Errorf("%d tenants' keys, %d tenants", len(stored.Tenants), n)
	}

	auditBefore := auditCount(t, f, tn.ID)
	// A rewrap handed no audit entry for a tenant is refused whole.
	wantUnaudited(t, f.DB.ReplaceStoredKeys(ctx, &sqlstore.StoredKeys{Tenants: map[string][]byte{tn.ID: []byte("unaudited")},
		System: map[string][]byte{name: []byte("unaudited")}}, func(string) kycd.Change { return kycd.Change{} }))
	if got, _ := f.DB.FindTenantKeys(ctx, tn.ID); !bytes.Equal(got, original) {
		t.Errorf("tenant keys after an unaudited rewrap: %q", got)
	}
	must(t, f.DB.ReplaceStoredKeys(ctx, &sqlstore.StoredKeys{Tenants: map[string][]byte{tn.ID: []byte("tenant-rewrapped")},
		System: map[string][]byte{name: []byte("system-rewrapped")}}, kycd.TenantKeysRewrapped))
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "tenant.keys-rewrapped", EntityType: "tenant", EntityID: tn.ID})
	if got, _ := f.DB.FindTenantKeys(ctx, tn.ID); string(got) != "tenant-rewrapped" {
		t.Errorf("tenant keys after the rewrap: %q", got)
	}
	if got, _ := f.DB.FindSystemKey(ctx, name); string(got) != "system-rewrapped" {
		t.Errorf("system key after the rewrap: %q", got)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ? AND action = 'tenant.keys-rewrapped'`, tn.ID) +
		count(t, f, `SELECT count(*) FROM audit_entries WHERE tenant_id = ? AND action = 'tenant.keys-rewrapped'`, tn.ID); n != 1 || auditCount(t, f, tn.ID) != auditBefore+1 {
		t.Errorf("rewrap audit entries: %d", n)
	}
	// An unknown tenant or system key fails the whole replacement.
	for _, k := range []*sqlstore.StoredKeys{
		{Tenants: map[string][]byte{tn.ID: []byte("lost"), uuid.NewString(): []byte("x")}, System: map[string][]byte{name: []byte("lost")}},
		{Tenants: map[string][]byte{tn.ID: []byte("lost")}, System: map[string][]byte{name: []byte("lost"), "storetest-unknown-" + uuid.NewString(): []byte("x")}},
	} {
		wantCode(t, f.DB.ReplaceStoredKeys(ctx, k, kycd.TenantKeysRewrapped), kycd.ENotFound)
		if got, _ := f.DB.FindTenantKeys(ctx, tn.ID); string(got) != "tenant-rewrapped" {
			t.Errorf("tenant keys after a failed rewrap: %q", got)
		}
		if got, _ := f.DB.FindSystemKey(ctx, name); string(got) != "system-rewrapped" {
			t.Errorf("system key after a failed rewrap: %q", got)
		}
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("failed rewraps recorded audit entries: %d, want %d", n, auditBefore+1)
	}
	must(t, f.DB.ReplaceStoredKeys(ctx, &sqlstore.StoredKeys{Tenants: map[string][]byte{tn.ID: original}}, kycd.TenantKeysRewrapped))
}
