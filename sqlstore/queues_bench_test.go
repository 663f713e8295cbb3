package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// BenchmarkApplicationQueue reads the console's review queue, its counts
// and its first page of 51 apart, for a tenant with 51 applications in
// review (the baseline) and for one with 20,000 more, on each database.
// The page costs the same whatever the queue's length (the index gives it
// in order); the counts grow with it (an index-only scan of the tenant's
// rows in review). The extra applications are rows written directly,
// after the first page (their data is never opened).
func BenchmarkApplicationQueue(b *testing.B) {
	ctx := context.Background()
	clock := mock.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	for _, d := range storetest.Databases(b) {
		f := storetest.Open(b, d, clock)
		tenants := map[string]string{}
		for _, name := range []string{"small", "large"} {
			tn := &kycd.Tenant{Name: "bench-" + name + "-" + uuid.NewString()[:8]}
			if err := f.DB.CreateTenant(ctx, tn, kycd.TenantCreated(tn)); err != nil {
				b.Fatal(err)
			}
			u := &kycd.User{TenantID: tn.ID, Type: "individual", Email: name + "@bench.example"}
			if err := f.DB.CreateUser(ctx, u, kycd.UserCreated(u)); err != nil {
				b.Fatal(err)
			}
			for range 51 {
				id, _ := uuid.NewV7()
				a := &kycd.Application{ID: id.String(), TenantID: tn.ID, UserID: u.ID, LevelID: "basic", Status: kycd.ApplicationInReview,
					Data: kycd.ApplicationData{Attributes: map[string]*kycd.AttributeValue{}}}
				if err := f.DB.CreateApplication(ctx, a, kycd.ApplicationCreated(a)); err != nil {
					b.Fatal(err)
				}
			}
			if name == "large" {
				tx, err := f.SQL.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				insert := f.DB.Rebind(`INSERT INTO kyc_applications (id, tenant_id, user_id, level_id, catalog, status, data, version, created_at, updated_at, assignee)
					VALUES (?, ?, ?, 'basic', '', 'in_review', ?, 1, '2026-03-01T12:00:00.000000Z', '2026-03-01T12:00:00.000000Z', ?)`)
				for i := range 20000 {
					id, _ := uuid.NewV7()
					assignee := ""
					if i%3 == 0 {
						assignee = "someone"
					}
					if _, err := tx.ExecContext(ctx, insert, id.String(), tn.ID, u.ID, []byte("x"), assignee); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				if d.URL != "" {
					if _, err := f.SQL.ExecContext(ctx, `ANALYZE kyc_applications`); err != nil {
						b.Fatal(err)
					}
				}
			}
			tenants[name] = tn.ID
		}
		for _, name := range []string{"small", "large"} {
			b.Run(d.Name+"/count/"+name, func(b *testing.B) {
				for b.Loop() {
					if _, err := f.DB.CountApplicationQueue(ctx, tenants[name], kycd.ApplicationFilter{Status: kycd.ApplicationInReview}, "me"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(d.Name+"/page/"+name, func(b *testing.B) {
				for b.Loop() {
					list, err := f.DB.FindApplicationQueue(ctx, tenants[name], kycd.ApplicationFilter{Status: kycd.ApplicationInReview, Limit: 51})
					if err != nil || len(list) != 51 {
						b.Fatal(len(list), err)
					}
				}
			})
		}
	}
}
