package sqlstore

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds every difference between SQLite and PostgreSQL that the
// store's SQL has to know about. There are no others.
type dialect interface {
	name() string
	// rebind turns ? placeholders into the dialect's own.
	rebind(query string) string
	// forUpdate is the row lock clause for a read inside a write transaction
	// (SQLite has one writer at a time, so it needs none).
	forUpdate() string
	// lockMigrations returns a statement that serializes concurrent migrators
	// inside their transaction, or "" where beginning one does (SQLite's
	// writer opens with BEGIN IMMEDIATE, _txlock=immediate).
	lockMigrations() string
	// migrationTx is the options of a migrator's transaction.
	migrationTx() *sql.TxOptions
	// journalMode is the journal mode the database file is put in, or "".
	journalMode() string
	// isUniqueViolation reports whether err broke a unique constraint.
	isUniqueViolation(err error) bool
	// driverCachesStatements reports whether the driver already prepares and
	// caches statements per connection (pgx does; modernc's SQLite does not,
	// so the store keeps prepared statements for its hot reads itself).
	driverCachesStatements() bool
	// outboxOrder is the column that orders outbox events in the order they
	// were written (SQLite's rowid; a serial column on PostgreSQL).
	outboxOrder() string
	// arrayParams reports whether a parameter may be an array (PostgreSQL):
	// a statement over a list of values then has one text whatever the
	// list's length, so the driver prepares and caches it once.
	arrayParams() bool
	// vacuum is the statement, before a list of tables, that reclaims their
	// dead rows and gathers the planner's statistics ("" where the database
	// reuses free space itself: SQLite, whose statistics optimize keeps).
	vacuum() string
	// autovacuumSetting reads whether the server vacuums by itself ("" where
	// there is no such setting).
	autovacuumSetting() string
	// optimize is the statement that refreshes the planner's statistics
	// where they are stale ("" where the server does it itself: PostgreSQL's
	// autovacuum analyzes).
	optimize() string
	// byEntity is the clause, after a table name, that makes a query of the
	// audit trail filtered by entities read the entity index ("" where the
	// planner picks it unaided). SQLite's planner, asked for a few
	// entities' entries newest first, walks the tenant's whole trail in
	// order (its primary key) instead, when its statistics are missing.
	byEntity() string
}

type sqliteDialect struct{}

func (sqliteDialect) name() string                 { return "sqlite" }
func (sqliteDialect) outboxOrder() string          { return "rowid" }
func (sqliteDialect) rebind(q string) string       { return q }
func (sqliteDialect) forUpdate() string            { return "" }
func (sqliteDialect) lockMigrations() string       { return "" } // the writer's BEGIN IMMEDIATE
func (sqliteDialect) migrationTx() *sql.TxOptions  { return nil }
func (sqliteDialect) journalMode() string          { return "WAL" }
func (sqliteDialect) driverCachesStatements() bool { return false }
func (sqliteDialect) arrayParams() bool            { return false }
func (sqliteDialect) vacuum() string               { return "" }
func (sqliteDialect) autovacuumSetting() string    { return "" }
func (sqliteDialect) optimize() string             { return "PRAGMA optimize=0x10002" } // every table, not only those this connection read
func (sqliteDialect) byEntity() string             { return " INDEXED BY audit_entries_entity" }
func (sqliteDialect) isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY (or one of its
// extended codes).
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

type postgresDialect struct{}

func (postgresDialect) name() string                 { return "postgres" }
func (postgresDialect) outboxOrder() string          { return "n" }
func (postgresDialect) forUpdate() string            { return " FOR UPDATE" }
func (postgresDialect) driverCachesStatements() bool { return true }
func (postgresDialect) arrayParams() bool            { return true }
func (postgresDialect) vacuum() string               { return "VACUUM (ANALYZE) " }
func (postgresDialect) autovacuumSetting() string    { return "SHOW autovacuum" }
func (postgresDialect) optimize() string             { return "" }
func (postgresDialect) byEntity() string             { return "" }
func (postgresDialect) migrationTx() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
}
func (postgresDialect) journalMode() string { return "" }
func (postgresDialect) lockMigrations() string {
	return "SELECT pg_advisory_xact_lock(7310021)" // any constant shared by every kycd node
}
func (postgresDialect) isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (postgresDialect) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
