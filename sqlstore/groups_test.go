package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestStepGroup: on PostgreSQL, form steps saved at the same time share one
// statement. Each step of the group is saved with its own audit entry (its
// own actor and details) if its process's version is still the one read; a
// stale step is EStale and records nothing, and does not stop the others; a
// second step of the same process in the group is taken alone, after it,
// and is EStale once the first has saved; a step the database refuses sends
// the group one step at a time, so that only that step fails. (On SQLite
// steps are changes of the group commit, testUpdateConcurrent.)
func TestStepGroup(t *testing.T) {
	onPostgres(t, func(f *storetest.Fixture) {
		ctx := context.Background()
		tn := newTenant(t, f)
		// Five users, each with a stored process at version 1.
		stored := make([]*kycd.Process, 5)
		for i := range stored {
			u := newUser(t, f, tn.ID, i)
			p := &kycd.Process{TenantID: tn.ID, UserID: u.ID, Code: kycd.ProcessCDD, Status: kycd.StatusPending, Model: kycd.ModelPlatform,
				Form: &kycd.FormInstance{ID: uuid.NewString(), Code: "customer-due-diligence", Version: 1, Answers: map[string]any{}}}
			if err := f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Processes: []*kycd.Process{p}, Action: "kyc.test"}); err != nil {
				t.Fatal(err)
			}
			stored[i] = p
		}
		step := func(i int, answer string, version int) *kycd.ProcessChange {
			p := *stored[i]
			form := *p.Form
			form.Answers = map[string]any{"intent": map[string]any{"answer": answer}}
			p.Form, p.Version = &form, version
			return &kycd.ProcessChange{TenantID: tn.ID, UserID: p.UserID, Processes: []*kycd.Process{&p},
				Action: "kyc.step", Details: map[string]any{"answer": answer}}
		}
		actx := kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "client", ID: "step-client"})
		groupsBefore, stepsBefore := f.DB.StepGroups()

		// A group of four fresh steps, one stale and a second step of user 0.
		changes := []*kycd.ProcessChange{step(0, "a0", 1), step(1, "a1", 1), step(2, "stale", 7), step(3, "a3", 1), step(0, "again", 1), step(4, "a4", 1)}
		errs, err := sqlstore.SaveStepsAsOneGroup(actx, f.DB, changes)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"", "", kycd.EStale, "", kycd.EStale, ""} {
			if got := kycd.ErrorCode(errs[i]); (want == "" && errs[i] != nil) || (want != "" && got != want) {
				t.Errorf("step %d: %v, want %q", i, errs[i], want)
			}
		}
		answers := map[string]string{stored[0].UserID: "a0", stored[1].UserID: "a1", stored[3].UserID: "a3", stored[4].UserID: "a4"}
		checkSaved(t, f, tn.ID, stored, answers)
		for _, i := range []int{0, 1, 3, 5} {
			if p := changes[i].Processes[0]; p.Version != 2 || p.UpdatedAt.IsZero() {
				t.Errorf("step %d saved, but its process reads version %d, time %v", i, p.Version, p.UpdatedAt)
			}
		}
		var actors int
		must(t, f.SQL.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM audit_pending WHERE tenant_id = $1 AND action = 'kyc.step' AND actor LIKE '%step-client%')
			+ (SELECT count(*) FROM audit_entries WHERE tenant_id = $1 AND action = 'kyc.step' AND actor LIKE '%step-client%')`, tn.ID).Scan(&actors))
		if actors != 4 {
			t.Errorf("%d of the 4 saved steps' audit entries carry their actor", actors)
		}

		// A step the database refuses (a NUL byte is no PostgreSQL text):
		// the others are saved one by one, the refused one fails alone.
		bad := step(2, "bad", 1)
		bad.Action = "kyc.step\x00"
		changes = []*kycd.ProcessChange{step(0, "b0", 2), bad, step(1, "b1", 2)}
		errs, err = sqlstore.SaveStepsAsOneGroup(ctx, f.DB, changes)
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != nil || errs[1] == nil || errs[2] != nil {
			t.Errorf("a refused step in a group: %v", errs)
		}
		answers[stored[0].UserID], answers[stored[1].UserID] = "b0", "b1"
		checkSaved(t, f, tn.ID, stored, answers)

		// Through SaveProcesses, steps are counted as groups.
		must(t, f.DB.SaveProcesses(ctx, step(2, "c2", 1)))
		groups, steps := f.DB.StepGroups()
		if groups-groupsBefore != 1 || steps-stepsBefore != 1 {
			t.Errorf("one step alone: %d groups, %d steps", groups-groupsBefore, steps-stepsBefore)
		}
	})
}

// checkSaved checks each stored process's answer (none: never saved, still
// version 1) and that its user has an audit entry of a step for each save.
func checkSaved(t *testing.T, f *storetest.Fixture, tenantID string, stored []*kycd.Process, answers map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range stored {
		_, procs, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tenantID, UserID: s.UserID})
		must(t, err)
		p := procs[kycd.ProcessCDD]
		want, saved := answers[s.UserID]
		got, _ := p.Form.Answers["intent"].(map[string]any)
		switch {
		case !saved && (p.Version != 1 || got != nil):
			t.Errorf("user %s: an unsaved step changed the process: version %d, %v", s.UserID, p.Version, got)
		case saved && got["answer"] != want:
			t.Errorf("user %s: answer %v, want %s", s.UserID, got["answer"], want)
		}
		var entries int
		must(t, f.SQL.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM audit_pending WHERE tenant_id = $1 AND entity_id = $2 AND action = 'kyc.step')
			+ (SELECT count(*) FROM audit_entries WHERE tenant_id = $1 AND entity_id = $2 AND action = 'kyc.step')`, tenantID, s.UserID).Scan(&entries))
		if entries != p.Version-1 {
			t.Errorf("user %s: %d step audit entries for %d saves", s.UserID, entries, p.Version-1)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadGroup: on PostgreSQL, users' KYC state read at the same time is
// read in one query; each read gets its own user and processes (two reads
// of one user get copies of their own), and a user who is not a live user of
// the tenant (another tenant's, deleted, unknown) is not found, without
// failing the other reads.
func TestReadGroup(t *testing.T) {
	onPostgres(t, func(f *storetest.Fixture) {
		ctx := context.Background()
		tenants := [2]*kycd.Tenant{newTenant(t, f), newTenant(t, f)}
		users := make([]*kycd.User, 4)
		for i := range users {
			users[i] = newUser(t, f, tenants[0].ID, i)
		}
		// Users 0 and 1 have processes, 2 none; 3 is deleted.
		for i, code := range []string{kycd.ProcessCDD, kycd.ProcessCRA} {
			for _, u := range users[:2] {
				p := &kycd.Process{TenantID: u.TenantID, UserID: u.ID, Code: code, Status: kycd.StatusPending, Model: kycd.ModelPlatform,
					Output: map[string]any{"owner": u.ID, "n": float64(i)}}
				must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: u.TenantID, UserID: u.ID, Processes: []*kycd.Process{p}, Action: "kyc.test"}))
			}
		}
		must(t, f.DB.DeleteUser(ctx, tenants[0].ID, users[3].ID, kycd.UserDeletion{Reason: "other"}, kycd.UserDeleted(tenants[0].ID, users[3].ID, kycd.UserDeletion{Reason: "other"})))
		queriesBefore, readsBefore := f.DB.ReadGroups()

		reads := []*sqlstore.KYCRead{
			{TenantID: tenants[0].ID, UserID: users[0].ID},
			{TenantID: tenants[0].ID, UserID: users[1].ID},
			{TenantID: tenants[1].ID, UserID: users[1].ID}, // another tenant's user
			{TenantID: tenants[0].ID, UserID: users[2].ID},
			{TenantID: tenants[0].ID, UserID: users[3].ID},      // deleted
			{TenantID: tenants[0].ID, UserID: uuid.NewString()}, // unknown
			{TenantID: tenants[0].ID, UserID: "not-a-uuid"},
			{TenantID: tenants[0].ID, UserID: users[0].ID}, // user 0 again
		}
		sqlstore.LoadKYCAsOneGroup(ctx, f.DB, reads)
		for _, i := range []int{0, 1, 7} {
			r := reads[i]
			if r.Err != nil || r.User == nil || r.User.ID != r.UserID || r.User.FullName == "" || len(r.Processes) != 2 {
				t.Fatalf("read %d: %+v", i, r)
			}
			for code, p := range r.Processes {
				if p.Code != code || p.UserID != r.UserID || p.Output["owner"] != r.UserID || p.Version != 1 {
					t.Errorf("read %d: process %s: %+v", i, code, p)
				}
			}
		}
		if reads[0].User.FullName != "Reader Number0" || reads[1].User.FullName != "Reader Number1" {
			t.Errorf("users mixed up: %q, %q", reads[0].User.FullName, reads[1].User.FullName)
		}
		if reads[0].User == reads[7].User || reads[0].Processes[kycd.ProcessCDD] == reads[7].Processes[kycd.ProcessCDD] {
			t.Error("two reads of one user share their copies")
		}
		if r := reads[3]; r.Err != nil || r.User == nil || r.User.ID != users[2].ID || len(r.Processes) != 0 {
			t.Errorf("a user without processes: %+v", r)
		}
		for _, i := range []int{2, 4, 5, 6} {
			if reads[i].Err == nil || kycd.ErrorCode(reads[i].Err) != kycd.ENotFound || reads[i].User != nil {
				t.Errorf("read %d: %+v, want not found", i, reads[i])
			}
		}

		// Through FindUserKYC, concurrent reads each get their own user.
		var wg sync.WaitGroup
		errs := make([]error, 32)
		for k := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := users[k%3]
				got, _, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
				if err == nil && (got.ID != u.ID || got.FullName != u.FullName) {
					err = fmt.Errorf("read %s, got %s (%s)", u.ID, got.ID, got.FullName)
				}
				errs[k] = err
			}()
		}
		wg.Wait()
		for k, err := range errs {
			if err != nil {
				t.Errorf("concurrent read %d: %v", k, err)
			}
		}
		if queries, n := f.DB.ReadGroups(); n-readsBefore != 32 || queries-queriesBefore > 32 {
			t.Errorf("32 reads counted as %d in %d queries", n-readsBefore, queries-queriesBefore)
		}
	})
}

// onPostgres runs fn on a fresh PostgreSQL store, when the tests have one:
// the grouped statements and reads exist on PostgreSQL only.
func onPostgres(t *testing.T, fn func(f *storetest.Fixture)) {
	for _, d := range storetest.Databases(t) {
		if d.Name == "postgres" {
			fn(storetest.Open(t, d, mock.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))))
		}
	}
}

func newTenant(t *testing.T, f *storetest.Fixture) *kycd.Tenant {
	t.Helper()
	tn := &kycd.Tenant{Name: "groups-" + uuid.NewString()[:8]}
	must(t, f.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)))
	return tn
}

// newUser creates the i-th user of a test, named "Reader Number<i>".
func newUser(t *testing.T, f *storetest.Fixture, tenantID string, i int) *kycd.User {
	t.Helper()
	u := &kycd.User{TenantID: tenantID, Type: kycd.UserIndividual, Email: fmt.Sprintf("user-%d-%s@example.com", i, uuid.NewString()[:8]),
		FullName: fmt.Sprintf("Reader Number%d", i), Address: kycd.Address{Country: "GB"}, TermsOfService: "general-gb-fca"}
	must(t, f.DB.CreateUser(context.Background(), u, kycd.UserCreated(u)))
	return u
}
