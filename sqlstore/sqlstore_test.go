package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/sqlstore/textguard"
)

func TestConformance(t *testing.T) { storetest.Run(t) }

// FuzzStoreText: whatever text reaches the store (ids, cursors, names), a
// read or a write ends found, not found, or request_invalid for text no
// database can store: never an internal error, on every database.
func FuzzStoreText(f *testing.F) {
	for _, s := range append(storetest.UnstorableText, "", "0f8fad5b-d9cb-469f-a165-70867728950e", "%00", `\u0000`) {
		f.Add(s)
	}
	clock := mock.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var fixtures []*storetest.Fixture
	var tenants []string
	for _, d := range storetest.Databases(f) {
		fx := storetest.Open(f, d, clock)
		tn := &kycd.Tenant{Name: "fuzz-" + d.Name}
		if err := fx.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)); err != nil {
			f.Fatal(err)
		}
		fixtures, tenants = append(fixtures, fx), append(tenants, tn.ID)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, fx := range fixtures {
			storetest.CheckText(t, fx, tenants[i], s)
		}
	})
}

// BenchmarkTextGuard measures what the text guard (sqlstore/textguard) adds
// to a statement: the same one-argument query on one SQLite file, through a
// plain pool and through a guarded one (compare their ns/op).
func BenchmarkTextGuard(b *testing.B) {
	dsn := "file:" + filepath.Join(b.TempDir(), "bench.db")
	plain, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	guarded, err := textguard.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer guarded.Close()
	arg := "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, c := range []struct {
		name string
		db   *sql.DB
	}{{"plain", plain}, {"guarded", guarded}} {
		b.Run(c.name, func(b *testing.B) {
			stmt, err := c.db.Prepare(`SELECT length(?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer stmt.Close()
			var n int
			for b.Loop() {
				if err := stmt.QueryRow(arg).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConcurrentMigrators: kycd processes starting at once on a new
// database (a serve and its workers) each migrate it; every one opens, and
// each migration is applied once.
func TestConcurrentMigrators(t *testing.T) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					db, err := sqlstore.Open(context.Background(), d.Config(kycd.SystemClock{}))
					if err == nil {
						err = db.Close()
					}
					errs <- err
				}()
			}
			for range n {
				if err := <-errs; err != nil {
					t.Fatalf("open: %v", err)
				}
			}
			conn := d.Open(t)
			var rows, versions int
			if err := conn.QueryRow(`SELECT count(*), count(DISTINCT version) FROM kycd_migrations`).Scan(&rows, &versions); err != nil {
				t.Fatal(err)
			}
			db, err := sqlstore.Open(context.Background(), d.Config(kycd.SystemClock{}))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			res, err := db.Migrate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if versions == 0 || rows != versions || len(res.Applied) != 0 {
				t.Fatalf("%d migration rows, %d versions, then %v applied; want each version once and nothing left", rows, versions, res.Applied)
			}
		})
	}
}
