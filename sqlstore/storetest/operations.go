package storetest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
)

// countArgs is a job kind only JobCounts' case enqueues.
type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "storetest_count" }

// testOpenClose: a second store opened on the same database answers and
// sees the first one's data; once closed it answers no more, and the first
// is untouched.
func testOpenClose(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	must(t, f.DB.Ping(ctx))
	tn := newTenant(t, f)
	second, err := sqlstore.Open(ctx, f.Database.Config(clock))
	must(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			second.Close()
		}
	})
	must(t, second.Ping(ctx))
	if got, err := second.FindTenantByID(ctx, tn.ID); err != nil || got.Name != tn.Name {
		t.Errorf("the second store reads %+v, %v", got, err)
	}
	must(t, second.Close())
	closed = true
	if err := second.Ping(ctx); err == nil {
		t.Error("a closed store answers Ping")
	}
	must(t, f.DB.Ping(ctx))
}

// testJobCounts: jobs are counted by kind and state, as River's table
// holds them; a rolled-back change's jobs are not.
func testJobCounts(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	enqueue := func(n int, fail bool) error {
		return f.DB.Update(ctx, func(tx *sqlstore.Tx) error {
			for i := range n {
				if err := tx.Enqueue(countArgs{N: i}, nil); err != nil {
					return err
				}
			}
			if fail {
				return kycd.Errorf(kycd.EStale, "rolled back")
			}
			return tx.Audit(tn.ID, "probe", "tenant", tn.ID, nil)
		})
	}
	must(t, enqueue(3, false))
	wantCode(t, enqueue(2, true), kycd.EStale)
	counts, err := f.DB.JobCounts(ctx)
	must(t, err)
	found := false
	for _, c := range counts {
		if c.Kind == (countArgs{}).Kind() {
			found = true
			if c.State != "available" || c.Count != 3 {
				t.Errorf("count jobs: %+v, want 3 available", c)
			}
		}
		if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ? AND state = ?`, c.Kind, c.State); int64(n) != c.Count {
			t.Errorf("%s %s: counted %d, the table holds %d", c.Kind, c.State, c.Count, n)
		}
	}
	if !found {
		t.Errorf("no count of %s jobs in %+v", countArgs{}.Kind(), counts)
	}
}

// testAuditChainer: the chainer chains pending entries on its own, every
// interval, and returns when its context ends.
func testAuditChainer(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	pending := func() int { return count(t, f, `SELECT count(*) FROM audit_pending WHERE tenant_id = ?`, tn.ID) }
	if pending() == 0 {
		t.Fatal("the new tenant's entry is chained already: the case proves nothing")
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.DB.RunAuditChainer(run, 5*time.Millisecond, logger)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the chainer did not return when its context ended")
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d entries still pending", n)
	}
	if n := count(t, f, `SELECT count(*) FROM audit_entries WHERE tenant_id = ? AND seq = 1 AND action = 'tenant.created'`, tn.ID); n != 1 {
		t.Errorf("the chained entry: %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() != 0 {
		t.Errorf("the chainer logged: %s", logs.String())
	}
}

// lockedWriter serializes writes to a buffer.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// testAutovacuum: PostgreSQL reports the server's autovacuum setting;
// SQLite has none to be off.
func testAutovacuum(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	off, err := f.DB.AutovacuumOff(ctx)
	must(t, err)
	if f.DB.Dialect() != "postgres" {
		if off {
			t.Error("SQLite reports autovacuum off")
		}
		return
	}
	var setting string
	must(t, f.SQL.QueryRowContext(ctx, `SELECT current_setting('autovacuum')`).Scan(&setting))
	if off != (setting == "off") {
		t.Errorf("AutovacuumOff = %v, the server's setting is %q", off, setting)
	}
}

// testReadGroups: on PostgreSQL every FindUserKYC is a read of a grouped
// query, reads at the same time sharing one (a read alone is a group of
// one, and a missing user's read is a read too); SQLite groups none.
func testReadGroups(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	const users = 16
	ids := make([]string, users)
	for i := range ids {
		ids[i] = newUser(t, f, tn.ID, "reads-"+uuid.NewString()[:8]+"@example.com").ID
	}
	queries, reads := f.DB.ReadGroups()
	_, _, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: ids[0]})
	must(t, err)
	_, _, err = f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: uuid.NewString()})
	wantCode(t, err, kycd.ENotFound)
	q, r := f.DB.ReadGroups()
	if f.DB.Dialect() != "postgres" {
		if q != 0 || r != 0 {
			t.Errorf("SQLite grouped reads: %d queries, %d reads", q, r)
		}
		return
	}
	if q-queries != 2 || r-reads != 2 {
		t.Errorf("two reads one after the other: %d queries, %d reads; want 2, 2", q-queries, r-reads)
	}
	queries, reads = q, r
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if u, _, err := f.DB.FindUserKYC(ctx, kycd.UserRef{TenantID: tn.ID, UserID: id}); err != nil || u.ID != id {
				t.Errorf("read of %s: %v", id, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	q, r = f.DB.ReadGroups()
	if r-reads != users || q-queries < 1 || q-queries > users {
		t.Errorf("%d reads at once: %d queries, %d reads", users, q-queries, r-reads)
	}
}
