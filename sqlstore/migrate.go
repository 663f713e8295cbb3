package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationsFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (db *DB) migrations() ([]migration, error) {
	dir := path.Join("migrations", db.dialect.name())
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationsFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// MigrationResult says what Migrate applied.
type MigrationResult struct {
	Applied      []string `json:"applied"`
	RiverApplied []int    `json:"riverApplied"`
}

// Migrate applies kycd's pending migrations, then River's, each in its own
// transaction under the migrations' lock, so that kycd processes starting
// at once on a new database (a serve and its workers) wait for each other:
// an advisory lock on PostgreSQL, the write lock on SQLite. On a current
// database, kycd's applied versions are read without the lock, and River's
// in one locked transaction.
func (db *DB) Migrate(ctx context.Context) (*MigrationResult, error) {
	res := &MigrationResult{Applied: []string{}, RiverApplied: []int{}}
	ms, err := db.migrations()
	if err != nil {
		return nil, err
	}
	done, err := db.appliedMigrations(ctx)
	if err != nil {
		// No table yet (or unreadable: then creating it says why). Created
		// under the lock: PostgreSQL refuses one of two concurrent CREATE
		// TABLE IF NOT EXISTS of the same table.
		err := db.underMigrationLock(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS kycd_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("create migrations table: %w", err)
		}
		done = map[int]bool{}
	}
	// A migration not applied when read is checked again under the lock:
	// another migrator may be applying it.
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		applied, err := db.applyMigration(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if applied {
			res.Applied = append(res.Applied, m.name)
		}
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), &rivermigrate.Config{Logger: db.logger})
	if err != nil {
		return nil, err
	}
	// River's, one version a transaction as its Migrate applies them, but
	// under the lock (Migrate alone lets two migrators apply a version
	// twice); MigrateTx reads inside the transaction what is applied. What
	// River has is not read before the lock: on PostgreSQL, a connection
	// that looked for river_migration before another migrator created it
	// keeps "no such table" in its catalog cache through the advisory lock,
	// and would create it again.
	last := migrator.AllVersions()[len(migrator.AllVersions())-1].Version
	for {
		var rr *rivermigrate.MigrateResult
		err := db.underMigrationLock(ctx, func(tx *sql.Tx) (err error) {
			rr, err = migrator.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1}) //nolint:staticcheck // one version a transaction, as Migrate does, under kycd's lock
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		for _, v := range rr.Versions {
			res.RiverApplied = append(res.RiverApplied, v.Version)
		}
		if len(rr.Versions) == 0 || rr.Versions[len(rr.Versions)-1].Version == last {
			break
		}
	}
	return res, nil
}

// underMigrationLock runs f in a transaction holding the migrations' lock
// and commits it when f succeeds. The transaction reads committed data
// whatever the server's default isolation: under a snapshot taken before
// the lock was granted, a migrator would not see what the one it waited
// for applied.
func (db *DB) underMigrationLock(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, db.dialect.migrationTx())
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if lock := db.dialect.lockMigrations(); lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return err
		}
	}
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// appliedMigrations returns the versions of the kycd migrations applied.
func (db *DB) appliedMigrations(ctx context.Context) (map[int]bool, error) {
	rows, err := db.write.QueryContext(ctx, `SELECT version FROM kycd_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}

// applyMigration applies m unless another migrator has meanwhile.
func (db *DB) applyMigration(ctx context.Context, m migration) (applied bool, err error) {
	err = db.underMigrationLock(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT count(*) FROM kycd_migrations WHERE version = ?`), m.version).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO kycd_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, fmtTime(db.now()))
		applied = err == nil
		return err
	})
	return applied && err == nil, err
}

// MigrationsCurrent reports whether every kycd and River migration is applied.
func (db *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	ms, err := db.migrations()
	if err != nil {
		return false, err
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM kycd_migrations`).Scan(&n); err != nil {
		return false, nil // no table yet: not migrated
	}
	if n < len(ms) {
		return false, nil
	}
	migrator, err := rivermigrate.New(db.RiverDriver(), &rivermigrate.Config{Logger: db.logger})
	if err != nil {
		return false, err
	}
	rr, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil {
		return false, nil
	}
	return len(rr.Versions) == 0, nil
}
