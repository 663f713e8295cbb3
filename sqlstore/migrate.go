package sqlstore

import (
	"context"
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

// Migrate applies kycd's pending migrations, each in its own transaction,
// then River's. Concurrent migrators on PostgreSQL wait for each other.
func (db *DB) Migrate(ctx context.Context) (*MigrationResult, error) {
	res := &MigrationResult{Applied: []string{}, RiverApplied: []int{}}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS kycd_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create migrations table: %w", err)
	}
	ms, err := db.migrations()
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
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
	rr, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range rr.Versions {
		res.RiverApplied = append(res.RiverApplied, v.Version)
	}
	return res, nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if lock := db.dialect.lockMigrations(); lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, db.q(`SELECT count(*) FROM kycd_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO kycd_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, fmtTime(db.now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
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
