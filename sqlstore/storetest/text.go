package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// UnstorableText are strings no store method accepts: NUL characters and
// invalid UTF-8, which PostgreSQL's text cannot hold.
var UnstorableText = []string{"\x00", "a\x00b", "0f8fad5b-d9cb-469f-a165-70867728950e\x00", "\xff", "caf\xc3", "\xed\xa0\x80"}

// CheckText calls a few store methods (a read by id, a read by cursor, a
// write) with s as their text, and fails unless each ends as the store
// answers any input: found, entity_not_found, or request_invalid when s is
// not kycd.ValidText, never another error (an internal error on one
// database, not on the other).
func CheckText(t testing.TB, f *Fixture, tenantID, s string) {
	t.Helper()
	ctx := context.Background()
	want := func(name string, err error, codes ...string) {
		t.Helper()
		if !kycd.ValidText(s) {
			codes = []string{kycd.ERequestInvalid}
		}
		if err == nil && kycd.ValidText(s) {
			return
		}
		for _, c := range codes {
			if kycd.ErrorCode(err) == c {
				return
			}
		}
		t.Fatalf("%s(%q): %v, want one of %v", name, s, err, codes)
	}
	_, err := f.DB.FindClientByID(ctx, s)
	want("FindClientByID", err, kycd.ENotFound)
	_, err = f.DB.FindWebhookEndpoint(ctx, tenantID, s)
	want("FindWebhookEndpoint", err, kycd.ENotFound)
	_, err = f.DB.FindDeliveries(ctx, tenantID, s, s, 10)
	want("FindDeliveries", err)
	_, err = f.DB.FindTenantByName(ctx, s)
	want("FindTenantByName", err, kycd.ENotFound)
	if !kycd.ValidText(s) {
		tn := &kycd.Tenant{Name: "text-" + s}
		err = f.DB.CreateTenant(ctx, tn, kycd.TenantCreated(tn))
		want("CreateTenant", err)
	}
}

// testUnstorableText: text no database can store is refused alike on both
// dialects, as request_invalid, by reads and by writes.
func testUnstorableText(t *testing.T, f *Fixture, _ *mock.Clock) {
	tn := newTenant(t, f)
	for _, s := range append(UnstorableText, "", "plain", strings.Repeat("é", 3000)) {
		CheckText(t, f, tn.ID, s)
	}
}
