// Package storetest runs kycd's store conformance suite and gives every
// test in the project its databases: SQLite always, and PostgreSQL when
// KYCD_TEST_DATABASE_URL is set, each test in a fresh schema dropped
// afterwards. Under CI=true a missing or unreachable PostgreSQL fails the test
// instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/vault"
)

// EnvURL names the variable holding the PostgreSQL server tests use.
const EnvURL = "KYCD_TEST_DATABASE_URL"

// Database is one database a test runs against.
type Database struct {
	// Name is "sqlite" or "postgres", for subtest names.
	Name string
	// URL is the postgres URL (with the test's own search_path), or "".
	URL string
	// DataDir is the test's data folder (the SQLite file lives there).
	DataDir string
}

// Config returns the store configuration for the database.
func (d Database) Config(clock kycd.Clock) sqlstore.Config {
	return sqlstore.Config{URL: d.URL, DataDir: d.DataDir, Clock: clock, MaxConns: 8}
}

// Open opens the database directly, as an intruder or an inspector would:
// a connection of the test's own beside the store's (which keeps its pools
// to itself), closed when t ends. It waits for the write lock as kycd does:
// a running store takes it now and then.
func (d Database) Open(t testing.TB) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+filepath.Join(d.DataDir, "kycd.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if d.URL != "" {
		driver, dsn = "pgx", d.URL
	}
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Databases returns the databases a test must run on, each fresh.
func Databases(t testing.TB) []Database {
	t.Helper()
	dbs := []Database{{Name: "sqlite", DataDir: t.TempDir()}}
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI the PostgreSQL suite must run", EnvURL)
		}
		return dbs
	}
	return append(dbs, Database{Name: "postgres", URL: freshSchema(t, base), DataDir: t.TempDir()})
}

// freshSchema creates a schema for this test on the server and returns a URL
// whose search_path selects it. The schema is dropped when the test ends.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres %s: %v", EnvURL, err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("postgres at %s is unreachable: %v", EnvURL, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "kycd_test_" + hex.EncodeToString(b)
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	// Closed until the drop: a parallel test waiting for its turn would
	// otherwise hold an idle connection, and the end-to-end package's tests
	// waiting at once held up to 90 of the server's default 100.
	admin.Close()
	if err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", base)
		if err == nil {
			_, err = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
		}
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Fixture is an open, migrated store with its vault.
type Fixture struct {
	DB    *sqlstore.DB
	Vault *vault.Vault
	// Database is the database the store is open on.
	Database Database
	// SQL is a connection of the test's own to the database (Database.Open),
	// for what no store method reads or writes.
	SQL *sql.DB
}

// Open opens (and so migrates) a store on d, with a vault under a master
// key of the test's data folder; it is closed when t ends.
func Open(t testing.TB, d Database, clock kycd.Clock) *Fixture {
	t.Helper()
	var v *vault.Vault
	cfg := d.Config(clock)
	cfg.Vault = func(ctx context.Context, keys sqlstore.KeyTables) (kycd.Vault, error) {
		master, _, err := vault.LoadMasterKey(filepath.Join(d.DataDir, "master-key.json"), true)
		if err != nil {
			return nil, err
		}
		v, err = vault.New(ctx, master, keys, keys)
		return v, err
	}
	db, err := sqlstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return &Fixture{DB: db, Vault: v, Database: d, SQL: d.Open(t)}
}
