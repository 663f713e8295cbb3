package screening_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/policy"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/sqlstore/storetest"
)

type bundle struct {
	svc    *screening.Service
	f      *storetest.Fixture
	clock  *mock.Clock
	tenant *kycd.Tenant
}

func setup(t *testing.T, d storetest.Database) *bundle {
	t.Helper()
	clock := mock.NewClock(time.Now())
	f := storetest.Open(t, d, clock)
	svc := newService(t, f, clock)
	tn := &kycd.Tenant{Name: "screening-" + d.Name}
	if err := f.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)); err != nil {
		t.Fatal(err)
	}
	return &bundle{svc: svc, f: f, clock: clock, tenant: tn}
}

// newService builds the screening service on a store, with the KYC
// service it records screenings through.
func newService(t *testing.T, f *storetest.Fixture, clock kycd.Clock) *screening.Service {
	t.Helper()
	return newServiceWith(t, f, clock, nil, nil)
}

// newServiceWith is newService with lists to download and the client that
// downloads them.
func newServiceWith(t *testing.T, f *storetest.Fixture, clock kycd.Clock, sources map[string]string, client *http.Client) *screening.Service {
	t.Helper()
	g := geo.New()
	pol, err := policy.Load(g.Codes())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := forms.Load("")
	if err != nil {
		t.Fatal(err)
	}
	k, err := kyc.New(kyc.Config{Store: f.DB, Files: f.DB, Forms: reg, Policy: pol, Geo: g, Vault: f.Vault, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := screening.New(screening.Config{Lists: f.DB, Cases: f.DB, Tenants: f.DB, Users: f.DB, Monitor: f.DB, KYC: k, Digests: f.Vault, Clock: clock,
		Sources: sources, HTTP: client})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func onEachDB(t *testing.T, test func(t *testing.T, b *bundle)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			test(t, setup(t, d))
		})
	}
}

// person is a listing of a person with one name.
func person(id, name string) kycd.ListEntry {
	return kycd.ListEntry{ID: id, Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: name, Kind: kycd.NamePrimary}}}
}

func listOf(n int) []kycd.ListEntry {
	out := make([]kycd.ListEntry, n)
	for i := range out {
		out[i] = person(fmt.Sprintf("E%04d", i), fmt.Sprintf("Person Number%d", i))
	}
	return out
}

func mustImport(t *testing.T, b *bundle, entries []kycd.ListEntry) *screening.ImportResult {
	t.Helper()
	res, err := b.svc.Import(context.Background(), screening.ImportRequest{Source: "watch", Format: kycd.FormatJSONL, Origin: "watch.jsonl", Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestImportVersions: each import that changes a list is a version with its
// delta (added, changed, removed), kept with its listings and audited in
// every tenant's chain; an identical import changes nothing.
func TestImportVersions(t *testing.T) {
	t.Parallel()
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		first := listOf(30)
		res := mustImport(t, b, first)
		if v := res.Version; !res.Changed || v.Version != 1 || v.Entries != 30 || v.Names != 30 || v.Added != 30 || v.Changed != 0 || v.Removed != 0 {
			t.Fatalf("first import: %+v %+v", res, v)
		}

		// The same listings in another order: the same version.
		shuffled := append([]kycd.ListEntry{}, first[15:]...)
		shuffled = append(shuffled, first[:15]...)
		if res := mustImport(t, b, shuffled); res.Changed || res.Version.Version != 1 {
			t.Fatalf("identical import changed the list: %+v", res.Version)
		}

		// One changed, two removed, three added.
		second := append([]kycd.ListEntry{}, first[2:]...)
		second[0].BirthDates = []kycd.ListDate{{Year: 1970}}
		for i := range 3 {
			second = append(second, person(fmt.Sprintf("N%d", i), fmt.Sprintf("New Person%d", i)))
		}
		res = mustImport(t, b, second)
		if v := res.Version; !res.Changed || v.Version != 2 || v.Entries != 31 || v.Added != 3 || v.Changed != 1 || v.Removed != 2 {
			t.Fatalf("second import: %+v", v)
		}
		changes, err := b.f.DB.FindListChanges(ctx, "watch", 2, kycd.ListChangeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, c := range changes {
			kinds[c.EntryID] = c.Kind + ":" + c.Name
		}
		want := map[string]string{"E0000": "removed:Person Number0", "E0001": "removed:Person Number1", "E0002": "changed:Person Number2",
			"N0": "added:New Person0", "N1": "added:New Person1", "N2": "added:New Person2"}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("delta of version 2:\n got %v\nwant %v", kinds, want)
		}
		if _, err := b.f.DB.FindListChanges(ctx, "watch", 3, kycd.ListChangeFilter{}); kycd.ErrorCode(err) != kycd.ENotFound {
			t.Fatalf("delta of a version that does not exist: %v", err)
		}
		stored, err := b.f.DB.FindListEntries(ctx, kycd.ListEntryFilter{Source: "watch", IDs: []string{"E0002", "E0000"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0].ID != "E0002" || len(stored[0].BirthDates) != 1 || stored[0].BirthDates[0].Year != 1970 {
			t.Fatalf("the changed listing as stored: %+v", stored)
		}
		history, err := b.f.DB.FindListHistory(ctx, "watch", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 2 || history[0].Version != 2 || history[1].Version != 1 {
			t.Fatalf("history: %+v", history)
		}

		// Each changing import is on the tenant's audit trail, with its counts.
		entries, err := b.f.DB.FindAuditEntries(ctx, b.tenant.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var audited []string
		for _, e := range entries {
			if e.Action == "screening.list-imported" {
				audited = append(audited, fmt.Sprintf("%s v%v +%v ~%v -%v", e.EntityID, e.Details["version"], e.Details["added"], e.Details["changed"], e.Details["removed"]))
			}
		}
		if fmt.Sprint(audited) != "[watch v1 +30 ~0 -0 watch v2 +3 ~1 -2]" {
			t.Fatalf("audited imports: %v", audited)
		}
	})
}

// TestImportRefusals: bad imports are refused whole, and the current
// version stays.
func TestImportRefusals(t *testing.T) {
	t.Parallel()
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		mustImport(t, b, listOf(40))
		dup := listOf(3)
		dup[2].ID = dup[0].ID
		noName := listOf(2)
		noName[1].Names = nil
		otherSource := listOf(2)
		otherSource[0].Source = "ofac-sdn"
		for name, req := range map[string]screening.ImportRequest{
			"bad source":     {Source: "Bad Source!", Entries: listOf(1)},
			"no entries":     {Source: "watch"},
			"duplicate id":   {Source: "watch", Entries: dup},
			"no name":        {Source: "watch", Entries: noName},
			"other source":   {Source: "watch", Entries: otherSource},
			"shrinks by 3/4": {Source: "watch", Entries: listOf(10)},
		} {
			if _, err := b.svc.Import(ctx, req); kycd.ErrorCode(err) != kycd.ERequestInvalid {
				t.Errorf("%s: %v, want %s", name, err, kycd.ERequestInvalid)
			}
		}
		vs, err := b.svc.Lists(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Version != 1 || vs[0].Entries != 40 {
			t.Fatalf("after refused imports: %+v", vs)
		}
		// The operator may accept a real shrink explicitly.
		res, err := b.svc.Import(ctx, screening.ImportRequest{Source: "watch", Entries: listOf(10), AllowShrink: true})
		if err != nil || res.Version.Version != 2 || res.Version.Removed != 30 {
			t.Fatalf("allowed shrink: %+v, %v", res, err)
		}
	})
}

// TestRefreshSeesOtherProcesses: a service picks up a version imported by
// another process on the same database (the CLI against a running server)
// when it refreshes, without a restart; and reports stale sources.
func TestRefreshSeesOtherProcesses(t *testing.T) {
	t.Parallel()
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		if st := b.svc.Status(); st.Loaded {
			t.Fatalf("loaded before any refresh: %+v", st)
		}
		if reloaded, err := b.svc.Refresh(ctx); err != nil || !reloaded {
			t.Fatalf("first refresh: %v %v", reloaded, err)
		}
		if st := b.svc.Status(); !st.Loaded || len(st.Versions) != 0 {
			t.Fatalf("status with no list: %+v", st)
		}
		other := newService(t, b.f, b.clock)
		if _, err := other.Import(ctx, screening.ImportRequest{Source: "watch", Entries: listOf(3)}); err != nil {
			t.Fatal(err)
		}
		if reloaded, err := b.svc.Refresh(ctx); err != nil || !reloaded {
			t.Fatalf("refresh after another process's import: %v %v", reloaded, err)
		}
		if reloaded, err := b.svc.Refresh(ctx); err != nil || reloaded {
			t.Fatalf("refresh with nothing new reloaded: %v %v", reloaded, err)
		}
		st := b.svc.Status()
		if len(st.Versions) != 1 || st.Versions[0].Version != 1 || len(st.Stale) != 0 {
			t.Fatalf("status: %+v", st)
		}
		b.clock.Advance(49 * time.Hour)
		if st := b.svc.Status(); len(st.Stale) != 1 || st.Stale[0] != "watch" {
			t.Fatalf("a source imported 49h ago is not stale: %+v", st)
		}
	})
}
