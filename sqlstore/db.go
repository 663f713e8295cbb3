// Package sqlstore is kycd's one store implementation, over database/sql, for
// SQLite (the embedded default) and PostgreSQL. SQL is hand-written; the
// differences between the two dialects live in dialect.go. Every state change
// goes through Update, which commits the change, its audit entry, its outbox
// events and its River jobs in one transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore/textguard"
)

// Config says which database to open and how.
type Config struct {
	// URL is a postgres:// URL, or empty for SQLite in DataDir.
	URL string
	// DataDir holds the SQLite file (kycd.db) when URL is empty.
	DataDir string
	// MaxConns caps PostgreSQL connections (default 10).
	MaxConns int
	// Synchronous is SQLite's synchronous pragma (default FULL).
	Synchronous string
	Clock       kycd.Clock
	Logger      *slog.Logger
	// Vault builds the vault that seals personal fields. The vault keeps
	// its wrapped keys in this database's key tables, so Open builds it
	// once the schema is migrated, from those tables. Without it the store
	// serves what is not sealed (tenants, the schema) and refuses the rest.
	Vault func(ctx context.Context, keys KeyTables) (kycd.Vault, error)
}

// KeyTables are the tables of wrapped keys, which need no vault to read:
// the vault's own keys are in them.
type KeyTables interface {
	kycd.TenantKeyStore
	kycd.SystemKeyStore
}

// DB is the store. It implements the kycd services over one database.
type DB struct {
	dialect dialect
	// write is the pool every write transaction and River use; for SQLite it
	// holds one connection, so writers queue in Go instead of fighting over
	// SQLite's lock.
	write *sql.DB
	// read serves queries outside transactions (a read-only pool on SQLite,
	// the same pool on PostgreSQL).
	read      *sql.DB
	clock     kycd.Clock
	logger    *slog.Logger
	vault     kycd.Vault
	jobs      *river.Client[*sql.Tx]
	stmts     sync.Map // query -> *sql.Stmt on the read pool
	wstmts    sync.Map // query -> *sql.Stmt on the write pool
	toPrepare sync.Map // write queries seen but not prepared yet
	// group commits concurrent changes together (SQLite only).
	group *batcher[txChange]
	// steps saves concurrent form steps in one statement (PostgreSQL only).
	steps *batcher[*processStep]
	// loads reads the KYC state of users read at the same time in one query
	// (PostgreSQL only).
	loads *batcher[*kycLoad]
	// Path is the SQLite file, empty on PostgreSQL.
	Path string
}

// Open opens the database named by cfg, brings its schema up to date
// (Migrate) and builds the vault (cfg.Vault). The store enqueues jobs with
// an insert-only River client of its own: jobs are inserted in the
// transaction of their change, and the workers that run them (any River
// client over the same database) find them by polling.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Clock == nil {
		cfg.Clock = kycd.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{clock: cfg.Clock, logger: cfg.Logger}
	switch {
	case cfg.URL == "":
		if err := db.openSQLite(cfg); err != nil {
			return nil, err
		}
	case strings.HasPrefix(cfg.URL, "postgres://") || strings.HasPrefix(cfg.URL, "postgresql://"):
		if err := db.openPostgres(cfg); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("database URL must start with postgres:// (leave it empty for SQLite)")
	}
	if err := db.complete(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// complete makes an opened database a store: the schema migrated, the
// job client, the vault.
func (db *DB) complete(ctx context.Context, cfg Config) error {
	if err := db.Ping(ctx); err != nil {
		return err
	}
	if err := db.setJournalMode(ctx); err != nil {
		return err
	}
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	var err error
	if db.jobs, err = river.NewClient(db.RiverDriver(), &river.Config{Logger: cfg.Logger}); err != nil {
		return err
	}
	db.vault = noVault{}
	if cfg.Vault != nil {
		if db.vault, err = cfg.Vault(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

// busyTimeout is how long a SQLite connection waits for a lock another
// holds (busy_timeout).
const busyTimeout = 5 * time.Second

// setJournalMode puts the database file in the dialect's journal mode,
// which the file keeps (SQLite: WAL). Switching a new file fails at once,
// without waiting as busy_timeout asks, while another connection holds its
// write lock: kycd processes opening a new file at once (a serve and its
// workers) each switch it, one of them in a migration's transaction. So
// the switch is tried again for up to the busy timeout. A file that cannot
// be switched is not opened.
func (db *DB) setJournalMode(ctx context.Context) error {
	want := db.dialect.journalMode()
	if want == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, busyTimeout)
	defer cancel()
	for {
		var mode string
		err := db.write.QueryRowContext(ctx, `PRAGMA journal_mode=`+want).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, want):
			return nil
		case err == nil:
			return fmt.Errorf("sqlite journal mode is %q, not %s", mode, want)
		case !sqliteBusy(err):
			return fmt.Errorf("sqlite journal mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlite journal mode: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// errNoVault refuses what needs the vault in a store opened without one.
var errNoVault = errors.New("sqlstore: no vault configured (Config.Vault)")

// noVault is the vault of a store opened without one: it seals, opens and
// indexes nothing, so that such a store serves what is not sealed
// (tenants' names, the schema) and refuses the rest with errNoVault.
type noVault struct{}

func (noVault) NewTenantKeys(string) ([]byte, error) { return nil, errNoVault }
func (noVault) Seal(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, errNoVault
}
func (noVault) Open(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, errNoVault
}
func (noVault) BlindIndex(context.Context, string, string, string) (string, error) {
	return "", errNoVault
}
func (noVault) EncryptingWriter(context.Context, string, io.Writer, []byte) (io.WriteCloser, error) {
	return nil, errNoVault
}
func (noVault) DecryptingReader(context.Context, string, io.Reader, []byte) (io.Reader, error) {
	return nil, errNoVault
}

// ChainMAC and SignURL are never called without a vault: chaining and
// verifying the trail refuse first (hasVault).
func (noVault) ChainMAC([]byte) string        { panic(errNoVault) }
func (noVault) SignURL([]byte) string         { panic(errNoVault) }
func (noVault) VerifyURL([]byte, string) bool { return false }

// hasVault reports whether the store was opened with a vault.
func (db *DB) hasVault() bool {
	_, none := db.vault.(noVault)
	return !none
}

func (db *DB) openSQLite(cfg Config) error {
	db.dialect = sqliteDialect{}
	db.group = &batcher[txChange]{}
	db.group.run = db.runGroup
	if cfg.DataDir == "" {
		return errors.New("a data folder is needed for SQLite")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	db.Path = filepath.Join(cfg.DataDir, "kycd.db")
	sync := cfg.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	pragmas := url.Values{}
	// analysis_limit bounds the rows PRAGMA optimize reads per index
	// (SQLite's advice: statistics from a sample plan as well).
	for _, p := range []string{"busy_timeout(" + strconv.Itoa(int(busyTimeout.Milliseconds())) + ")", "foreign_keys(1)", "synchronous(" + sync + ")", "analysis_limit(1000)"} {
		pragmas.Add("_pragma", p)
	}
	w, err := textguard.Open("sqlite", "file:"+db.Path+"?_txlock=immediate&"+pragmas.Encode())
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	pragmas.Add("_pragma", "query_only(1)")
	r, err := textguard.Open("sqlite", "file:"+db.Path+"?"+pragmas.Encode())
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.write, db.read = w, r
	return nil
}

func (db *DB) openPostgres(cfg Config) error {
	db.dialect = postgresDialect{}
	p, err := textguard.Open("pgx", cfg.URL)
	if err != nil {
		return err
	}
	n := cfg.MaxConns
	if n <= 0 {
		n = 10
	}
	p.SetMaxOpenConns(n)
	p.SetMaxIdleConns(n)
	p.SetConnMaxIdleTime(5 * time.Minute)
	db.write, db.read = p, p
	db.steps = &batcher[*processStep]{}
	db.steps.run = db.saveSteps
	db.loads = &batcher[*kycLoad]{}
	db.loads.run = db.runLoads
	return nil
}

// Dialect names the database: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
	}
	return nil
}

// Vacuum reclaims dead rows and refreshes the planner's statistics of
// kycd's tables (those of its schema) on PostgreSQL, what autovacuum does on
// a server that runs it; the benchmark runs it before each round, as
// pgbench does. SQLite reuses free space itself: its statistics are
// refreshed where stale (Optimize).
func (db *DB) Vacuum(ctx context.Context) error {
	if db.dialect.vacuum() == "" {
		return db.Optimize(ctx)
	}
	return db.onTables(ctx, db.dialect.vacuum())
}

// Analyze refreshes the planner's statistics of kycd's tables now, without
// Vacuum's reclaiming of dead rows: what a bulk load wants every few
// thousand rows (the bench's seeding, the tests' seed-users) on a
// PostgreSQL whose autovacuum is off, where plans made while the tables were
// empty make each new user's e-mail check read the whole tenant. On SQLite
// it is Optimize.
func (db *DB) Analyze(ctx context.Context) error {
	if db.dialect.vacuum() == "" {
		return db.Optimize(ctx)
	}
	return db.onTables(ctx, "ANALYZE ")
}

// onTables runs a PostgreSQL statement that takes a list of tables on every
// table of kycd's schema.
func (db *DB) onTables(ctx context.Context, statement string) error {
	tables, err := scanStrings(db.write.QueryContext(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`))
	if err != nil || len(tables) == 0 {
		return err
	}
	_, err = db.write.ExecContext(ctx, statement+strings.Join(tables, ", "))
	return err
}

// Optimize refreshes the planner's statistics of the tables whose size
// changed much since they were gathered (SQLite's PRAGMA optimize, which
// its authors advise running at open and then every few hours; nothing on
// PostgreSQL, whose autovacuum analyzes). kycd runs it when it migrates
// and then hourly.
func (db *DB) Optimize(ctx context.Context) error {
	if db.dialect.optimize() == "" {
		return nil
	}
	_, err := db.write.ExecContext(ctx, db.dialect.optimize())
	return err
}

// AutovacuumOff reports whether PostgreSQL's autovacuum is switched off.
// kycd's queue tables (pending audit entries, jobs, the outbox) take rows in
// and out all day: without it they bloat and the planner, never given
// statistics, can pick a tenant-wide index over a primary key.
func (db *DB) AutovacuumOff(ctx context.Context) (bool, error) {
	if db.dialect.autovacuumSetting() == "" {
		return false, nil
	}
	var on string
	if err := db.read.QueryRowContext(ctx, db.dialect.autovacuumSetting()).Scan(&on); err != nil {
		return false, err
	}
	return on == "off", nil
}

// Close closes the pools.
func (db *DB) Close() error {
	db.stmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	db.wstmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// RiverDriver returns the River driver over the write pool.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.dialect.name() == "sqlite" {
		return riversqlite.New(db.write)
	}
	return riverdatabasesql.New(db.write)
}

// now returns the clock's time truncated to what the database keeps.
func (db *DB) now() time.Time { return db.clock.Now().UTC().Truncate(time.Microsecond) }

// q rewrites a query written with ? placeholders for the dialect.
func (db *DB) q(query string) string { return db.dialect.rebind(query) }

// Rebind turns a query's ? placeholders into the dialect's (tools that run
// their own SQL, such as the benchmark).
func (db *DB) Rebind(query string) string { return db.dialect.rebind(query) }

// timeFormat is how times are stored: fixed width, so text order is time order.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) (time.Time, error) { return time.Parse(timeFormat, s) }

// timeCol scans a time column (text in timeFormat) into t.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case string:
		*c.t, err = parseTime(v)
	case []byte:
		*c.t, err = parseTime(string(v))
	default:
		err = fmt.Errorf("sqlstore: a time column holds %T", src)
	}
	return err
}

// timePtrCol scans a nullable time column into p (nil for NULL).
type timePtrCol struct{ p **time.Time }

func (c timePtrCol) Scan(src any) error {
	if src == nil {
		*c.p = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.p = &t
	return nil
}

// readRow runs a single-row query on the read pool through a prepared
// statement, prepared once per query and reused: the hot reads (a client per
// request, a user per request) skip SQL parsing and planning. Where the driver
// caches statements itself (pgx), it is a plain query.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := db.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, db.q(query), args...)
}

// readRows is readRow for queries that return rows.
func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := db.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, db.q(query), args...)
}

// prepared returns the cached statement of a query, preparing it on first
// use, or nil when it cannot be prepared now (the plain query then reports why).
func (db *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	return db.cachedStmt(ctx, db.read, &db.stmts, query)
}

// writeStmt returns the write pool's cached statement of a query, or nil
// (then noting the query, to be prepared once the pool is free again). On
// SQLite the write pool is one connection: a transaction that reuses a
// statement does not parse its SQL again while every other writer waits.
// It never prepares itself: inside a transaction the one connection is taken.
func (db *DB) writeStmt(query string) *sql.Stmt {
	if db.dialect.driverCachesStatements() {
		return nil
	}
	if s, ok := db.wstmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	db.toPrepare.Store(query, true)
	return nil
}

// prepareWrites prepares the write statements noted since last time; it is
// called with no transaction open.
func (db *DB) prepareWrites(ctx context.Context) {
	db.toPrepare.Range(func(q, _ any) bool {
		db.toPrepare.Delete(q)
		db.cachedStmt(ctx, db.write, &db.wstmts, q.(string))
		return true
	})
}

func (db *DB) cachedStmt(ctx context.Context, pool *sql.DB, cache *sync.Map, query string) *sql.Stmt {
	if db.dialect.driverCachesStatements() {
		return nil
	}
	if s, ok := cache.Load(query); ok {
		return s.(*sql.Stmt)
	}
	s, err := pool.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil
	}
	if prev, loaded := cache.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	return s
}

// anyOf is the condition that column holds one of values, with its
// arguments: one array parameter where the dialect takes arrays (one
// statement text for any number of values), else a placeholder per value.
func anyOf[T any](d dialect, column string, values []T) (string, []any) {
	if d.arrayParams() {
		return column + " = ANY(?)", []any{values}
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return column + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}

// arrayColumns turns rows of statement arguments into one array argument
// per column, for PostgreSQL's unnest: strings (nil for NULL) become a
// []*string, integers (int, int64) an []int64, byte strings a [][]byte.
func arrayColumns(rows [][]any) ([]any, error) {
	if len(rows) == 0 {
		return nil, errors.New("sqlstore: no rows to turn into columns")
	}
	cols := make([]any, len(rows[0]))
	for c := range cols {
		var (
			texts []*string
			ints  []int64
			bytes [][]byte
		)
		for r, row := range rows {
			switch v := row[c].(type) {
			case nil:
				texts = append(texts, nil)
			case string:
				texts = append(texts, &v)
			case int:
				ints = append(ints, int64(v))
			case int64:
				ints = append(ints, v)
			case []byte:
				bytes = append(bytes, v)
			default:
				return nil, fmt.Errorf("sqlstore: column %d of row %d: %T has no array type", c, r, v)
			}
		}
		switch len(rows) {
		case len(texts):
			cols[c] = texts
		case len(ints):
			cols[c] = ints
		case len(bytes):
			cols[c] = bytes
		default:
			return nil, fmt.Errorf("sqlstore: column %d mixes types", c)
		}
	}
	return cols, nil
}

// uuids returns the well-formed UUIDs among ids, each once (a malformed id
// is no row's, and PostgreSQL refuses it as a uuid value).
func uuids(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, err := uuid.Parse(id); err == nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// sealJSON encodes v as JSON and seals it under the tenant's key, bound to
// ad (the column and the row it is stored in): how the store keeps personal
// data.
func (db *DB) sealJSON(ctx context.Context, tenantID string, v any, ad []byte) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return db.vault.Seal(ctx, tenantID, raw, ad)
}

// openJSON opens what sealJSON sealed with the same tenant and ad, and
// decodes it into v.
func (db *DB) openJSON(ctx context.Context, tenantID string, sealed, ad []byte, v any) error {
	raw, err := db.vault.Open(ctx, tenantID, sealed, ad)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
