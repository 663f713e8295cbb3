package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// listImport is an import of a source's version that adds the listings
// named by ids (each a person of that name) and removes removed.
func listImport(source string, previous int, ids []string, removed ...string) *kycd.ListImport {
	imp := &kycd.ListImport{Previous: previous, Removed: removed, Action: "screening.list-imported",
		Version: kycd.ListVersion{Source: source, Format: kycd.FormatJSONL, Version: previous + 1, Digest: fmt.Sprintf("digest-%d", previous+1),
			Origin: "test", Entries: len(ids), Names: len(ids), Added: len(ids), Removed: len(removed)},
		Details: map[string]any{"source": source, "version": previous + 1}}
	for _, id := range ids {
		imp.Upserts = append(imp.Upserts, kycd.StoredEntry{Digest: "d-" + id, ListEntry: kycd.ListEntry{Source: source, ID: id,
			Type: kycd.EntryPerson, Names: []kycd.ListName{{Full: "Name " + id, Kind: kycd.NamePrimary}},
			BirthDates: []kycd.ListDate{{Year: 1970, ToYear: 1972, Circa: true}}, Programmes: []string{"TEST"}}})
		imp.Changes = append(imp.Changes, kycd.ListChange{EntryID: id, Kind: kycd.ListAdded, Name: "Name " + id})
	}
	for _, id := range removed {
		imp.Changes = append(imp.Changes, kycd.ListChange{EntryID: id, Kind: kycd.ListRemoved, Name: "Name " + id})
	}
	return imp
}

// testScreeningLists: an import is one transaction (the version, its
// listings, its delta, its jobs, an audit entry in every tenant's chain),
// refused when computed against a version that is no longer current; the
// listings, versions, history and deltas read back as saved.
func testScreeningLists(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	// Lists are system-wide and the fixture is shared: sources of our own.
	a, b := "a-"+uuid.NewString()[:8], "b-"+uuid.NewString()[:8]
	tn1, tn2 := newTenant(t, f), newTenant(t, f)
	audits1, audits2 := auditCount(t, f, tn1.ID), auditCount(t, f, tn2.ID)
	jobs := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.FilePurgeArgs{}.Kind())

	first := listImport(a, 0, []string{"1", "2", "3"})
	first.Jobs = []kycd.JobArgs{kycd.FilePurgeArgs{}}
	must(t, f.DB.SaveListImport(ctx, first))
	if first.Version.ImportedAt.IsZero() {
		t.Fatal("the import's time was not set")
	}
	if auditCount(t, f, tn1.ID) != audits1+1 || auditCount(t, f, tn2.ID) != audits2+1 {
		t.Fatal("an import is audited once in every tenant's chain")
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.FilePurgeArgs{}.Kind()); n != jobs+1 {
		t.Fatalf("the import's job: %d jobs, want %d", n, jobs+1)
	}
	must(t, f.DB.SaveListImport(ctx, listImport(b, 0, []string{"x"})))

	// Version 2 of a: one removed, one added.
	second := listImport(a, 1, []string{"4"}, "2")
	must(t, f.DB.SaveListImport(ctx, second))

	// Stale: computed against version 1 (or none), or version 2 again.
	for _, prev := range []int{0, 1} {
		stale := listImport(a, prev, []string{"9"})
		stale.Version.Version = 3
		if err := f.DB.SaveListImport(ctx, stale); kycd.ErrorCode(err) != kycd.EStale {
			t.Fatalf("import against version %d: %v, want %s", prev, err, kycd.EStale)
		}
	}
	if err := f.DB.SaveListImport(ctx, listImport(a, 1, []string{"9"})); kycd.ErrorCode(err) != kycd.EStale {
		t.Fatalf("version 2 twice: %v", err)
	}
	if auditCount(t, f, tn1.ID) != audits1+3 {
		t.Fatal("a refused import left an audit entry")
	}

	versions, err := f.DB.FindListVersions(ctx)
	must(t, err)
	current := map[string]int{}
	for _, v := range versions {
		current[v.Source] = v.Version
	}
	if current[a] != 2 || current[b] != 1 {
		t.Fatalf("current versions: %v", current)
	}
	history, err := f.DB.FindListHistory(ctx, a, 10)
	must(t, err)
	if len(history) != 2 || history[0].Version != 2 || history[1].Version != 1 || history[0].Removed != 1 || history[1].Origin != "test" || history[1].Digest != "digest-1" {
		t.Fatalf("history: %+v %+v", history[0], history[1])
	}
	if h, err := f.DB.FindListHistory(ctx, a, 1); err != nil || len(h) != 1 || h[0].Version != 2 {
		t.Fatalf("history limited to 1: %v %v", h, err)
	}

	changes, err := f.DB.FindListChanges(ctx, a, 2)
	must(t, err)
	if fmt.Sprint(changes) != "[{2 removed Name 2} {4 added Name 4}]" {
		t.Fatalf("delta of version 2: %v", changes)
	}
	if _, err := f.DB.FindListChanges(ctx, a, 3); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("delta of a missing version: %v", err)
	}

	digests, err := f.DB.FindListDigests(ctx, a)
	must(t, err)
	if fmt.Sprint(digests) != "map[1:d-1 3:d-3 4:d-4]" {
		t.Fatalf("digests: %v", digests)
	}

	all, err := f.DB.FindListEntries(ctx, kycd.ListEntryFilter{})
	must(t, err)
	ofAB := 0
	for _, e := range all {
		if e.Source == a || e.Source == b {
			ofAB++
		}
	}
	if ofAB != 4 {
		t.Fatalf("every listing: %d of a and b, want 4", ofAB)
	}
	some, err := f.DB.FindListEntries(ctx, kycd.ListEntryFilter{Source: a, IDs: []string{"3", "2", "x"}})
	must(t, err)
	if len(some) != 1 || some[0].ID != "3" || some[0].Digest != "d-3" || some[0].Names[0].Full != "Name 3" ||
		some[0].BirthDates[0] != (kycd.ListDate{Year: 1970, ToYear: 1972, Circa: true}) || some[0].Programmes[0] != "TEST" {
		t.Fatalf("listings by id: %+v", some)
	}
	if bs, err := f.DB.FindListEntries(ctx, kycd.ListEntryFilter{Source: b}); err != nil || len(bs) != 1 || bs[0].ID != "x" {
		t.Fatalf("listings of b: %+v %v", bs, err)
	}
	if _, err := f.DB.FindListEntries(ctx, kycd.ListEntryFilter{IDs: []string{"1"}}); kycd.ErrorCode(err) != kycd.ERequestInvalid {
		t.Fatalf("ids without a source: %v", err)
	}

	// A large version goes in whole (more rows than one statement holds).
	ids := make([]string, 7001)
	for i := range ids {
		ids[i] = fmt.Sprintf("big-%05d", i)
	}
	must(t, f.DB.SaveListImport(ctx, listImport(b, 1, ids, "x")))
	if d, err := f.DB.FindListDigests(ctx, b); err != nil || len(d) != len(ids) {
		t.Fatalf("a large version: %d listings, %v", len(d), err)
	}
}
