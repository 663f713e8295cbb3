package sqlstore_test

import (
	"cmp"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
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
// database (a serve and its workers) each migrate it; every one opens and
// the database is current. On PostgreSQL also with the server's default
// isolation at serializable, whose snapshot, taken before the migrations'
// lock is granted, must not hide what the migrator waited for applied.
func TestConcurrentMigrators(t *testing.T) {
	for _, isolation := range []string{"", "serializable"} {
		t.Run(cmp.Or(isolation, "default"), func(t *testing.T) {
			t.Parallel()
			for _, d := range storetest.Databases(t) {
				if isolation != "" {
					if d.URL == "" {
						continue
					}
					d.URL += "&default_transaction_isolation=" + isolation
					var got string
					if err := d.Open(t).QueryRow(`SHOW default_transaction_isolation`).Scan(&got); err != nil || got != isolation {
						t.Fatalf("default isolation %q %v, want %s", got, err, isolation)
					}
				}
				t.Run(d.Name, func(t *testing.T) {
					t.Parallel()
					concurrentOpens(t, d)
				})
			}
		})
	}
}

// concurrentOpens opens four stores at once on d, a new database, and
// checks each opened and the database is current.
func concurrentOpens(t *testing.T, d storetest.Database) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			db, err := sqlstore.Open(ctx, d.Config(kycd.SystemClock{}))
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	var failed []error
	for range n {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d opens failed: %v", len(failed), n, failed)
	}
	db, err := sqlstore.Open(ctx, d.Config(kycd.SystemClock{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.MigrationsCurrent(ctx); err != nil || !ok {
		t.Fatalf("migrations current after the concurrent opens: %v %v", ok, err)
	}
}

// TestOpenWaitsForWriter: a new SQLite file whose write lock another
// process holds (one migrating it) opens once the lock is let go: the
// switch to WAL, which SQLite refuses at once meanwhile, is tried again.
func TestOpenWaitsForWriter(t *testing.T) {
	dir := t.TempDir()
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kycd.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`CREATE TABLE other_writer (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	held := time.AfterFunc(300*time.Millisecond, func() { _ = tx.Commit() })
	defer held.Stop()
	db, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir, Clock: kycd.SystemClock{}})
	if err != nil {
		t.Fatalf("open while another writer holds the new file: %v", err)
	}
	defer db.Close()
	fresh, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kycd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var mode string
	if err := fresh.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		t.Fatalf("journal mode %q %v, want wal", mode, err)
	}
}
