package kyc_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// racedStore is the store with its process saves counted: how many were
// stale (lost a race), and, with alwaysStale, every save is.
type racedStore struct {
	*sqlstore.DB
	saves, stale atomic.Int64
	alwaysStale  bool
}

func (s *racedStore) SaveProcesses(ctx context.Context, c *kycd.ProcessChange) error {
	s.saves.Add(1)
	if s.alwaysStale {
		s.stale.Add(1)
		return kycd.Errorf(kycd.EStale, "The process changed meanwhile")
	}
	err := s.DB.SaveProcesses(ctx, c)
	if kycd.ErrorCode(err) == kycd.EStale {
		s.stale.Add(1)
	}
	return err
}

// setupRaced is setup with the service over a racedStore.
func setupRaced(t *testing.T, d storetest.Database, alwaysStale bool) (*bundle, *racedStore) {
	t.Helper()
	var store *racedStore
	b := setupWith(t, d, func(db *sqlstore.DB) kycd.ProcessStore {
		store = &racedStore{DB: db, alwaysStale: alwaysStale}
		return store
	})
	return b, store
}

// TestOneUserQueue: 32 answers to one user's form sent at once are applied
// one after another: every one succeeds, none is computed on a stale copy
// (before the queue, most lost their race and some every race), and each
// is audited; other users are not held up by it.
func TestOneUserQueue(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			b, store := setupRaced(t, d, false)
			ctx := context.Background()
			u := b.user(t, "queue@example.com")
			const formID = "ae80271a-a3f0-453b-8dc6-36b777817217" // the form's published id
			first := &kycd.ProcessUpdate{Input: &kycd.FormInput{FormID: formID, Answers: map[string]any{"intent": map[string]any{"expected-activities": []any{"cryptocurrency_investing"}}}}}
			if _, _, err := b.svc.UpdateProcess(ctx, u, kycd.ProcessCDD, first); err != nil {
				t.Fatal(err)
			}
			incomes := []string{"0-20000", "20000-30000", "40000-60000"}
			const n = 32
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := *u
					_, _, err := b.svc.UpdateProcess(ctx, &mine, kycd.ProcessCDD, &kycd.ProcessUpdate{
						Input: &kycd.FormInput{FormID: formID, Answers: map[string]any{"financial-information": map[string]any{"annual-income-range": incomes[i%len(incomes)]}}}})
					if err != nil {
						t.Errorf("answer %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if s := store.stale.Load(); s != 0 {
				t.Errorf("%d of %d saves were computed on a stale copy", s, store.saves.Load())
			}
			var entries int
			q := b.f.DB.Rebind(`SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = ?`)
			if err := b.f.SQL.QueryRowContext(ctx, q, u.ID, "kyc.customer-due-diligence.answered").Scan(&entries); err != nil {
				t.Fatal(err)
			}
			if entries != n+1 {
				t.Errorf("%d audit entries of answers, want %d", entries, n+1)
			}
		})
	}
}

// TestContendedChange: an update that loses every race (another kycd node
// keeps changing the user) is refused as concurrent_change, with its
// reason, and nothing is applied; it is not an internal error.
func TestContendedChange(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			b, store := setupRaced(t, d, true)
			u := b.user(t, "contended@example.com")
			_, _, err := b.svc.UpdateProcess(context.Background(), u, kycd.ProcessCDD, verifiedCDD(time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0)))
			e, ok := kycd.AsError(err)
			if !ok || e.Code != kycd.EConcurrentChange || e.Details["entity"] != "user" {
				t.Fatalf("got %v, want %s", err, kycd.EConcurrentChange)
			}
			if reasons, _ := e.Details["reasons"].([]string); len(reasons) != 1 || reasons[0] != "concurrent-change" {
				t.Errorf("reasons: %v", e.Details["reasons"])
			}
			if s := store.saves.Load(); s < 2 {
				t.Errorf("%d saves: the update was not computed again", s)
			}
		})
	}
}
