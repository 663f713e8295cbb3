package storetest

import (
	"context"
	"fmt"
	"slices"
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

	changes, err := f.DB.FindListChanges(ctx, a, 2, kycd.ListChangeFilter{})
	must(t, err)
	if fmt.Sprint(changes) != "[{2 removed Name 2} {4 added Name 4}]" {
		t.Fatalf("delta of version 2: %v", changes)
	}
	// Pages of it: by kind, after a listing id, at most a limit.
	for _, tc := range []struct {
		f    kycd.ListChangeFilter
		want string
	}{
		{kycd.ListChangeFilter{Kind: kycd.ListAdded}, "[{4 added Name 4}]"},
		{kycd.ListChangeFilter{Limit: 1}, "[{2 removed Name 2}]"},
		{kycd.ListChangeFilter{After: "2"}, "[{4 added Name 4}]"},
		{kycd.ListChangeFilter{Kind: kycd.ListRemoved, After: "2"}, "[]"},
	} {
		if got, err := f.DB.FindListChanges(ctx, a, 2, tc.f); err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("delta of version 2 %+v: %v %v, want %s", tc.f, got, err, tc.want)
		}
	}
	if _, err := f.DB.FindListChanges(ctx, a, 3, kycd.ListChangeFilter{}); kycd.ErrorCode(err) != kycd.ENotFound {
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

// screeningCase is a new open screening case of a user.
func screeningCase(tenantID, userID string) *kycd.Case {
	return &kycd.Case{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, UserID: userID, Type: kycd.CaseScreening, Status: kycd.CaseOpen,
		Subject:    kycd.ScreeningSubject{Name: "Qzcase Person", Type: kycd.EntryPerson, BirthDate: "1970-01-02", Nationalities: []string{"GB"}},
		Candidates: []kycd.CaseCandidate{{EntryDigest: "d1", Match: kycd.ScreeningMatch{EntryID: "E1", Source: "un", Score: 0.93, Review: true}}},
		Lists:      map[string]int{"un": 4}, History: []kycd.CaseEntry{{Action: "opened", Actor: "system:screen_user"}}}
}

// testCases: a case and its hits are saved with the user's processes in one
// transaction (a stale case refused), read back whole with what they hold
// about the user sealed at rest, listed per tenant by filter in id order;
// hits replace the stored hit of their listing.
func testCases(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, tn.ID, "case-"+uuid.NewString()[:8]+"@example.com")
	u2 := newUser(t, f, tn.ID, "case-"+uuid.NewString()[:8]+"@example.com")
	proc := func(status string) *kycd.Process {
		return &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessScreening, Status: status, Model: kycd.ModelPlatform}
	}
	c := screeningCase(tn.ID, u.ID)
	p := proc(kycd.StatusRunning)
	hit := kycd.ScreeningHit{Source: "un", EntryID: "E1", EntryDigest: "d1", SubjectDigest: "s1", Status: kycd.HitOpen, CaseID: c.ID}
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Case: c,
		Hits: []kycd.ScreeningHit{hit}, Action: "screening.test"}))
	if c.Version != 1 || c.CreatedAt.IsZero() {
		t.Fatalf("a saved case: version %d, created %v", c.Version, c.CreatedAt)
	}
	if n := count(t, f, `SELECT count(*) FROM cases WHERE id = ? AND CAST(data AS TEXT) LIKE ?`, c.ID, "%Qzcase%"); n != 0 {
		t.Fatal("a case's subject is stored in clear")
	}
	got, err := f.DB.FindCase(ctx, tn.ID, c.ID)
	must(t, err)
	if got.Subject.Name != "Qzcase Person" || got.Candidates[0].Match.Score != 0.93 || got.Lists["un"] != 4 || got.History[0].Actor != "system:screen_user" ||
		got.Status != kycd.CaseOpen || got.Version != 1 || got.ClosedAt != nil {
		t.Fatalf("case round trip: %+v", got)
	}
	for _, id := range []string{"not-a-uuid", uuid.NewString()} {
		if _, err := f.DB.FindCase(ctx, tn.ID, id); kycd.ErrorCode(err) != kycd.ENotFound {
			t.Fatalf("case %s: %v", id, err)
		}
	}
	if _, err := f.DB.FindCase(ctx, other.ID, c.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("another tenant's case: %v", err)
	}

	// A stale save of the case changes nothing, its process neither.
	stale := *got
	stale.Version = 5
	p.Status = kycd.StatusOK
	if err := f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Case: &stale, Action: "screening.test"}); kycd.ErrorCode(err) != kycd.EStale {
		t.Fatalf("a stale case: %v", err)
	}
	// Closed, with the hit replaced.
	_, stored, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if stored[kycd.ProcessScreening].Status != kycd.StatusRunning {
		t.Fatalf("the refused change saved its process: %+v", stored[kycd.ProcessScreening])
	}
	got.Status, got.Outcome = kycd.CaseClosed, kycd.OutcomeFalsePositive
	hit.Status = kycd.HitCleared
	p2 := stored[kycd.ProcessScreening]
	p2.Status = kycd.StatusOK
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p2}, Case: got,
		Hits: []kycd.ScreeningHit{hit}, Action: "screening.test"}))
	again, err := f.DB.FindCase(ctx, tn.ID, c.ID)
	must(t, err)
	if again.Status != kycd.CaseClosed || again.Outcome != kycd.OutcomeFalsePositive || again.ClosedAt == nil || again.Version != 2 {
		t.Fatalf("a closed case: %+v", again)
	}
	hits, err := f.DB.FindScreeningHits(ctx, kycd.UserRef{TenantID: tn.ID, UserID: u.ID})
	must(t, err)
	if len(hits) != 1 || hits[0] != hit {
		t.Fatalf("hits: %+v", hits)
	}
	if h, err := f.DB.FindScreeningHits(ctx, kycd.UserRef{TenantID: other.ID, UserID: u.ID}); err != nil || len(h) != 0 {
		t.Fatalf("another tenant's hits: %v %v", h, err)
	}

	// Lists: by status, type, user, in id order, paged.
	c2 := screeningCase(tn.ID, u2.ID)
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u2.ID, Case: c2, Action: "screening.test"}))
	ids := func(flt kycd.CaseFilter, tenantID string) string {
		t.Helper()
		list, err := f.DB.FindCases(ctx, tenantID, flt)
		must(t, err)
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return fmt.Sprint(out)
	}
	both := fmt.Sprint([]string{c.ID, c2.ID})
	for _, tc := range []struct {
		f    kycd.CaseFilter
		want string
	}{
		{kycd.CaseFilter{}, both},
		{kycd.CaseFilter{Type: kycd.CaseScreening}, both},
		{kycd.CaseFilter{Status: kycd.CaseOpen}, fmt.Sprint([]string{c2.ID})},
		{kycd.CaseFilter{Status: kycd.CaseClosed}, fmt.Sprint([]string{c.ID})},
		{kycd.CaseFilter{UserID: u.ID}, fmt.Sprint([]string{c.ID})},
		{kycd.CaseFilter{Limit: 1}, fmt.Sprint([]string{c.ID})},
		{kycd.CaseFilter{After: c.ID}, fmt.Sprint([]string{c2.ID})},
	} {
		if got := ids(tc.f, tn.ID); got != tc.want {
			t.Errorf("cases %+v: %s, want %s", tc.f, got, tc.want)
		}
	}
	if got := ids(kycd.CaseFilter{}, other.ID); got != "[]" {
		t.Errorf("another tenant's cases: %s", got)
	}
}

// testScreeningMonitor: live users in (tenant, id) order after a position;
// the users with a hit of a status on some listings; jobs started without
// an audit entry.
func testScreeningMonitor(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	var users []*kycd.User
	for range 3 {
		users = append(users, newUser(t, f, tn.ID, "mon-"+uuid.NewString()[:8]+"@example.com"))
	}
	must(t, f.DB.DeleteUser(ctx, tn.ID, users[1].ID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(tn.ID, users[1].ID, kycd.UserDeletion{Reason: "other"})))
	var live []kycd.UserRef
	for after := (kycd.UserRef{TenantID: tn.ID}); ; {
		page, err := f.DB.FindLiveUsers(ctx, after, 1)
		must(t, err)
		if len(page) == 0 || page[0].TenantID != tn.ID {
			break
		}
		live = append(live, page[0])
		after = page[0]
	}
	want := []string{users[0].ID, users[2].ID}
	slices.Sort(want)
	if len(live) != 2 || live[0].UserID != want[0] || live[1].UserID != want[1] {
		t.Fatalf("live users of the tenant: %+v, want %v", live, want)
	}

	// Users whose screening was never recorded: users[2] (users[1] is
	// closed); users[0] gets its screening process below.
	unscreened := func() []string {
		var out []string
		for after := (kycd.UserRef{TenantID: tn.ID}); ; {
			page, err := f.DB.FindUnscreenedUsers(ctx, after, 1)
			must(t, err)
			if len(page) == 0 || page[0].TenantID != tn.ID {
				return out
			}
			out = append(out, page[0].UserID)
			after = page[0]
		}
	}
	if got := unscreened(); len(got) != 2 {
		t.Fatalf("unscreened users: %v", got)
	}
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: users[0].ID, Action: "screening.test",
		Processes: []*kycd.Process{{TenantID: tn.ID, UserID: users[0].ID, Code: kycd.ProcessScreening, Status: kycd.StatusOK, Model: kycd.ModelPlatform}}}))
	if got := unscreened(); len(got) != 1 || got[0] != users[2].ID {
		t.Fatalf("unscreened users after one was screened: %v, want [%s]", got, users[2].ID)
	}

	// Screened users in bounds, with their data: users[0] only (users[2]
	// was never screened, users[1] is closed); an exempt user is not one.
	ends := kycd.UserRef{TenantID: tn.ID}
	last := kycd.UserRef{TenantID: tn.ID, UserID: want[1]}
	screened, err := f.DB.FindScreenedUsers(ctx, ends, last, 10)
	must(t, err)
	if len(screened) != 1 || screened[0].ID != users[0].ID || screened[0].Email != users[0].Email {
		t.Fatalf("screened users: %+v, want %s with its data", screened, users[0].ID)
	}
	if got, err := f.DB.FindScreenedUsers(ctx, ends, kycd.UserRef{TenantID: tn.ID, UserID: users[0].ID[:len(users[0].ID)-1]}, 10); err != nil || len(got) != 0 {
		t.Fatalf("screened users before the first's id: %d, %v", len(got), err)
	}
	exempt := newUser(t, f, tn.ID, "mon-"+uuid.NewString()[:8]+"@example.com")
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: exempt.ID, Action: "screening.test",
		Processes: []*kycd.Process{{TenantID: tn.ID, UserID: exempt.ID, Code: kycd.ProcessScreening, Status: kycd.StatusExempt, Model: kycd.ModelPlatform}}}))
	if got, err := f.DB.FindScreenedUsers(ctx, ends, kycd.UserRef{TenantID: tn.ID, UserID: "~"}, 10); err != nil || len(got) != 1 {
		t.Fatalf("screened users with an exempt one: %d, %v", len(got), err)
	}

	c := screeningCase(tn.ID, users[0].ID)
	must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: users[0].ID, Case: c, Action: "screening.test",
		Hits: []kycd.ScreeningHit{{Source: "mon", EntryID: "A", Status: kycd.HitOpen, CaseID: c.ID}, {Source: "mon", EntryID: "B", Status: kycd.HitCleared, CaseID: c.ID}}}))
	for _, tc := range []struct {
		ids    []string
		status string
		n      int
	}{{[]string{"A"}, kycd.HitOpen, 1}, {[]string{"B"}, kycd.HitOpen, 0}, {[]string{"B", "C"}, kycd.HitCleared, 1}, {nil, kycd.HitOpen, 0}} {
		got, err := f.DB.FindUsersWithHits(ctx, "mon", tc.ids, tc.status)
		must(t, err)
		if len(got) != tc.n || (tc.n == 1 && got[0] != (kycd.UserRef{TenantID: tn.ID, UserID: users[0].ID})) {
			t.Errorf("users with %s hits on %v: %+v", tc.status, tc.ids, got)
		}
	}

	before := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.ScreeningBatchArgs{}.Kind())
	audits := auditCount(t, f, tn.ID)
	must(t, f.DB.StartJobs(ctx, []kycd.JobArgs{kycd.ScreeningBatchArgs{Source: "mon", Version: 1, Limit: 10}, kycd.ScreeningBatchArgs{Source: "mon", Version: 1, Limit: 10, AfterUser: "x"}}))
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.ScreeningBatchArgs{}.Kind()); n != before+2 {
		t.Fatalf("started jobs: %d, want %d", n, before+2)
	}
	if auditCount(t, f, tn.ID) != audits {
		t.Fatal("starting jobs wrote an audit entry")
	}
}

// testTenantSettings: a tenant's settings are saved, audited, and read back
// with the tenant (by id, name, and in the list); an unknown tenant is not
// found.
func testTenantSettings(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	if tn.Settings.FourEyes {
		t.Fatal("a new tenant has four eyes")
	}
	audits := auditCount(t, f, tn.ID)
	wantUnaudited(t, f.DB.UpdateTenantSettings(ctx, tn.ID, kycd.TenantSettings{FourEyes: true}, kycd.Change{}))
	if got, _ := f.DB.FindTenantByID(ctx, tn.ID); got.Settings.FourEyes {
		t.Fatal("settings changed without their audit entry")
	}
	on := kycd.TenantSettings{FourEyes: true}
	must(t, f.DB.UpdateTenantSettings(ctx, tn.ID, on, kycd.TenantSettingsChanged(tn.ID, on)))
	if auditCount(t, f, tn.ID) != audits+1 {
		t.Fatal("a settings change is not audited")
	}
	wantAudit(t, f, tn.ID, kycd.AuditRecord{Action: "tenant.settings-changed", EntityType: "tenant", EntityID: tn.ID, Details: map[string]any{"fourEyes": true}})
	byID, err := f.DB.FindTenantByID(ctx, tn.ID)
	must(t, err)
	byName, err := f.DB.FindTenantByName(ctx, tn.Name)
	must(t, err)
	all, err := f.DB.FindTenants(ctx)
	must(t, err)
	listed := slices.ContainsFunc(all, func(x *kycd.Tenant) bool { return x.ID == tn.ID && x.Settings.FourEyes })
	if !byID.Settings.FourEyes || !byName.Settings.FourEyes || !listed {
		t.Fatalf("settings read back: %+v %+v listed %v", byID.Settings, byName.Settings, listed)
	}
	unknown := uuid.NewString()
	if err := f.DB.UpdateTenantSettings(ctx, unknown, kycd.TenantSettings{}, kycd.TenantSettingsChanged(unknown, kycd.TenantSettings{})); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Fatalf("an unknown tenant: %v", err)
	}
}
