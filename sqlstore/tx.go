package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/audit"
)

// Tx is a write transaction. Everything a change does goes through it: the
// domain rows, its audit entries (Audit), its outbox events (Emit) and the
// River jobs it starts (Enqueue). Update commits them together or not at all.
type Tx struct {
	*sql.Tx
	db      *DB
	ctx     context.Context
	now     time.Time
	audited bool
}

// ErrUnaudited is returned by Update when a change recorded no audit entry.
var ErrUnaudited = errors.New("sqlstore: a state change must record an audit entry")

// errNothingToDo rolls back a change that turned out to have nothing to do.
var errNothingToDo = errors.New("sqlstore: nothing to do")

// Update runs fn in one write transaction and commits it if fn succeeds. A
// change that records no audit entry is rolled back with ErrUnaudited. On
// SQLite, changes made at the same time share a transaction (batcher),
// each in a savepoint of its own: each still commits entirely or not at all.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if db.group != nil {
		return db.group.update(ctx, fn)
	}
	return db.updateOne(ctx, fn)
}

// updateOne runs fn in a transaction of its own.
func (db *DB) updateOne(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Every path below ends the transaction before this runs.
	defer db.prepareWrites(ctx)
	committed := false
	defer func() {
		if !committed {
			_ = stx.Rollback() // fn failed or panicked
		}
	}()
	if err := applyChange(&Tx{Tx: stx, db: db, ctx: ctx, now: db.now()}, fn); err != nil {
		return err
	}
	committed = true
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// applyChange runs one change's function in tx and checks that it recorded
// an audit entry.
func applyChange(tx *Tx, fn func(tx *Tx) error) error {
	if err := fn(tx); err != nil {
		return err
	}
	if !tx.audited {
		return ErrUnaudited
	}
	return nil
}

// requireUser refuses, with ENotFound ("user"), a change for a user who is
// not a live user of the tenant.
func (tx *Tx) requireUser(tenantID, userID string) error {
	var n int
	if err := tx.queryRow(`SELECT count(*) FROM users WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`, userID, tenantID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return kycd.NotFound("user")
	}
	return nil
}

// noAudit marks a transaction that changes no tenant's state, so records
// no audit entry: dispatching events (audited with their changes) and
// logging delivery attempts.
func (tx *Tx) noAudit() { tx.audited = true }

// Now is the time of the transaction: every row it writes carries it.
func (tx *Tx) Now() time.Time { return tx.now }

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	if s := tx.db.writeStmt(query); s != nil {
		return tx.StmtContext(tx.ctx, s).ExecContext(tx.ctx, args...)
	}
	return tx.ExecContext(tx.ctx, tx.db.q(query), args...)
}

// scanStrings reads a one-column result of strings, and closes it.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	return scanAll(rows, err, func(v *string) []any { return []any{v} })
}

// scanAll reads every row of a result into a T, through the destinations
// fields gives for it, and closes the result.
func scanAll[T any](rows *sql.Rows, err error, fields func(*T) []any) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(fields(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// execOne runs a statement that must change a row: none is the error when
// it changes none (a stale version, a missing row).
func (tx *Tx) execOne(none error, query string, args ...any) error {
	res, err := tx.exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return none
	}
	return nil
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	if s := tx.db.writeStmt(query); s != nil {
		return tx.StmtContext(tx.ctx, s).QueryRowContext(tx.ctx, args...)
	}
	return tx.QueryRowContext(tx.ctx, tx.db.q(query), args...)
}

// Audit records an audit entry of the change. It is chained onto the
// tenant's audit chain right after the change commits (ChainAudit), so that
// concurrent changes of one tenant do not wait for each other. Details must
// hold ids, codes and counts only, never personal data.
func (tx *Tx) Audit(tenantID, action, entityType, entityID string, details map[string]any) error {
	values, err := auditValues(tx.ctx, tx.now, tenantID, action, entityType, entityID, details)
	if err != nil {
		return err
	}
	if _, err := tx.exec(`INSERT INTO audit_pending (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, values...); err != nil {
		return fmt.Errorf("audit entry: %w", err)
	}
	tx.audited = true
	return nil
}

// record writes what a change records besides its entity, as the domain
// built it: its events, its jobs and its audit entry, on tenantID's chain.
func (tx *Tx) record(tenantID string, c kycd.Change) error {
	for _, ev := range c.Events {
		if err := tx.Emit(ev); err != nil {
			return err
		}
	}
	for _, j := range c.Jobs {
		if err := tx.Enqueue(j, nil); err != nil { // kycd.JobArgs is river.JobArgs
			return err
		}
	}
	a := c.Audit
	if a.Action == "" {
		return ErrUnaudited
	}
	return tx.Audit(tenantID, a.Action, a.EntityType, a.EntityID, a.Details)
}

// auditColumns are the columns of a pending audit entry, in the order of
// auditValues.
const auditColumns = `tenant_id, at, actor, action, entity_type, entity_id, request_id, details`

// auditValues are a pending audit entry's values: the change's time, and the
// actor and request id of its context.
func auditValues(ctx context.Context, at time.Time, tenantID, action, entityType, entityID string, details map[string]any) ([]any, error) {
	if details == nil {
		details = map[string]any{}
	}
	dj, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	return []any{tenantID, fmtTime(at), kycd.ActorFromContext(ctx).String(), action, entityType, entityID,
		kycd.RequestIDFromContext(ctx), string(dj)}, nil
}

// chainBatch is how many pending entries one chaining transaction takes.
const chainBatch = 500

// ChainAudit chains every pending audit entry onto its tenant's chain.
func (db *DB) ChainAudit(ctx context.Context) error {
	tenants, err := scanStrings(db.read.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM audit_pending`))
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if err := db.chainTenant(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// chainTenant chains a tenant's pending entries, in the order they were
// written, a batch per transaction, under the lock of the tenant's head.
func (db *DB) chainTenant(ctx context.Context, tenantID string) error {
	if !db.hasVault() {
		return errors.New("sqlstore: no vault configured to chain the audit trail")
	}
	// Most reads find nothing pending: they need no write transaction (on
	// SQLite, a turn of the one writer and a sync to disk).
	var pending bool
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT EXISTS (SELECT 1 FROM audit_pending WHERE tenant_id = ?)`), tenantID).Scan(&pending); err != nil {
		return fmt.Errorf("chain audit of tenant %s: %w", tenantID, err)
	}
	if !pending {
		return nil
	}
	for {
		n, err := db.chainBatch(ctx, tenantID)
		if err != nil {
			return fmt.Errorf("chain audit of tenant %s: %w", tenantID, err)
		}
		if n < chainBatch {
			return nil
		}
	}
}

func (db *DB) chainBatch(ctx context.Context, tenantID string) (int, error) {
	// Statements are prepared once the transaction has released the
	// connection (deferred calls run last-in first-out).
	defer db.prepareWrites(ctx)
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer stx.Rollback()
	tx := &Tx{Tx: stx, db: db, ctx: ctx, now: db.now()}
	if _, err := tx.exec(`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, 0, ?) ON CONFLICT (tenant_id) DO NOTHING`, tenantID, audit.Genesis); err != nil {
		return 0, err
	}
	var (
		seq  int64
		prev string
	)
	if err := tx.queryRow(`SELECT seq, hash FROM audit_heads WHERE tenant_id = ?`+db.dialect.forUpdate(), tenantID).Scan(&seq, &prev); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, at, actor, action, entity_type, entity_id, request_id, details
		FROM audit_pending WHERE tenant_id = ? ORDER BY id LIMIT ?`), tenantID, chainBatch)
	if err != nil {
		return 0, err
	}
	type pending struct {
		id          int64
		e           kycd.AuditEntry
		at, details string
	}
	var batch []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.at, &p.e.Actor, &p.e.Action, &p.e.EntityType, &p.e.EntityID, &p.e.RequestID, &p.details); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(batch) == 0 {
		return 0, nil // another chainer took them
	}
	// One insert and one delete per batch: chaining holds the write
	// connection as briefly as it can.
	entries := make([]kycd.AuditEntry, len(batch))
	ats, details := make([]string, len(batch)), make([]string, len(batch))
	ids := make([]int64, len(batch))
	for i, p := range batch {
		seq++
		e := &entries[i]
		*e = p.e
		e.TenantID, e.Seq, e.PrevHash = tenantID, seq, prev
		e.Hash = audit.Hash(db.vault.ChainMAC, e, p.at, p.details)
		ats[i], details[i], ids[i] = p.at, p.details, p.id
		prev = e.Hash
	}
	query, args, err := db.auditInsert(entries, ats, details)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, db.q(query), args...); err != nil {
		return 0, err
	}
	in, idArgs := anyOf(db.dialect, "id", ids)
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM audit_pending WHERE `+in), idArgs...); err != nil {
		return 0, err
	}
	if _, err := tx.exec(`UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?`, seq, prev, tenantID); err != nil {
		return 0, err
	}
	return len(batch), stx.Commit()
}

// auditInsert is the statement that inserts chained entries (with their
// times and details as stored), and its arguments: on PostgreSQL one array
// per column, so the statement's text is the same for every batch size and
// the driver prepares it once; elsewhere a row of placeholders per entry.
func (db *DB) auditInsert(entries []kycd.AuditEntry, ats, details []string) (string, []any, error) {
	const insert = `INSERT INTO audit_entries (tenant_id, seq, at, actor, action, entity_type, entity_id, request_id, details, prev_hash, hash) `
	rows := make([][]any, len(entries))
	for i := range entries {
		e := &entries[i]
		rows[i] = []any{e.TenantID, e.Seq, ats[i], e.Actor, e.Action, e.EntityType, e.EntityID, e.RequestID, details[i], e.PrevHash, e.Hash}
	}
	if db.dialect.arrayParams() {
		cols, err := arrayColumns(rows)
		return insert + `SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])`, cols, err
	}
	return insert + "VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(entries)), ", "), slices.Concat(rows...), nil
}

// RunAuditChainer chains pending audit entries every interval until ctx
// ends; readers chain on demand as well, so this only bounds how long an
// entry waits when nobody reads.
func (db *DB) RunAuditChainer(ctx context.Context, every time.Duration, logger *slog.Logger) {
	repeat(ctx, every, logger, "chaining the audit trail", db.ChainAudit)
}

// RunOptimizer refreshes the planner's statistics (Optimize) at every tick
// until ctx ends.
func (db *DB) RunOptimizer(ctx context.Context, every time.Duration, logger *slog.Logger) {
	repeat(ctx, every, logger, "refreshing the planner's statistics", db.Optimize)
}

// repeat runs fn at every tick until ctx ends, logging its failures.
func repeat(ctx context.Context, every time.Duration, logger *slog.Logger, what string, fn func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				logger.Error(what, slog.String("error", err.Error()))
			}
		}
	}
}

// Emit writes an event to the outbox. Its data must hold ids, not personal data.
func (tx *Tx) Emit(ev *kycd.Event) error {
	if ev.ID == "" {
		ev.ID = uuid.NewString()
	}
	ev.CreatedAt = tx.now
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	payload, err := json.Marshal(ev.Data)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO outbox_events (id, tenant_id, type, entity_type, entity_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.TenantID, ev.Type, ev.EntityType, ev.EntityID, string(payload), fmtTime(ev.CreatedAt))
	return err
}

// Enqueue inserts a River job in this transaction: it exists if and only if
// the change commits.
func (tx *Tx) Enqueue(args river.JobArgs, opts *river.InsertOpts) error {
	if tx.db.jobs == nil {
		return errors.New("sqlstore: no job client configured")
	}
	_, err := tx.db.jobs.InsertTx(tx.ctx, tx.Tx, args, opts)
	return err
}

// FindAuditEntries implements kycd.AuditService: pending entries of the
// tenant are chained first.
func (db *DB) FindAuditEntries(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]*kycd.AuditEntry, error) {
	if err := db.chainTenant(ctx, tenantID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return db.queryAudit(ctx, "", `tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, afterSeq, limit)
}

// queryAudit reads the chained audit entries a condition (with its order
// and limit) selects, with an index hint after the table ("" for none).
func (db *DB) queryAudit(ctx context.Context, hint, where string, args ...any) ([]*kycd.AuditEntry, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT tenant_id, seq, at, actor, action, entity_type, entity_id, request_id, details, prev_hash, hash
		FROM audit_entries`+hint+` WHERE `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kycd.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, &e.AuditEntry)
	}
	return out, rows.Err()
}

// FindAuditLog implements kycd.AuditService: pending entries of the
// tenant are chained first.
func (db *DB) FindAuditLog(ctx context.Context, tenantID string, f kycd.AuditFilter) ([]*kycd.AuditEntry, error) {
	if len(f.EntityIDs) > kycd.MaxAuditEntities {
		return nil, kycd.Invalid("query", kycd.Violation{Property: "entities", Rule: "length", RuleParams: map[string]any{"max": kycd.MaxAuditEntities}})
	}
	if err := db.chainTenant(ctx, tenantID); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	where, args := []string{"tenant_id = ?"}, []any{tenantID}
	add := func(cond string, vals ...any) { where, args = append(where, cond), append(args, vals...) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	hint := ""
	if len(f.EntityIDs) > 0 {
		cond, ids := anyOf(db.dialect, "entity_id", f.EntityIDs)
		add(cond, ids...)
		hint = db.dialect.byEntity()
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		add("at >= ?", fmtTime(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", fmtTime(f.To))
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	return db.queryAudit(ctx, hint, strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
}

func scanAudit(rows *sql.Rows) (*audit.StoredEntry, error) {
	var e audit.StoredEntry
	if err := rows.Scan(&e.TenantID, &e.Seq, &e.AtText, &e.Actor, &e.Action, &e.EntityType, &e.EntityID, &e.RequestID, &e.DetailsText, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At, _ = parseTime(e.AtText)
	_ = json.Unmarshal([]byte(e.DetailsText), &e.Details)
	return &e, nil
}

// VerifyAudit implements kycd.AuditService.
func (db *DB) VerifyAudit(ctx context.Context) (*kycd.AuditReport, error) {
	if !db.hasVault() {
		return nil, errors.New("sqlstore: no vault configured to verify the audit trail")
	}
	if err := db.ChainAudit(ctx); err != nil {
		return nil, err
	}
	return audit.Verify(ctx, auditSource{db}, db.vault.ChainMAC)
}

type auditSource struct{ db *DB }

func (s auditSource) AuditHeads(ctx context.Context) ([]audit.Head, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT tenant_id, seq, hash FROM audit_heads ORDER BY tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Head
	for rows.Next() {
		var h audit.Head
		if err := rows.Scan(&h.TenantID, &h.Seq, &h.Hash); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s auditSource) AuditTenants(ctx context.Context) ([]string, error) {
	return scanStrings(s.db.read.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM audit_entries ORDER BY tenant_id`))
}

func (s auditSource) ScanAudit(ctx context.Context, tenantID string, fn func(*audit.StoredEntry) error) error {
	const page = 500
	var after int64
	for {
		rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT tenant_id, seq, at, actor, action, entity_type, entity_id, request_id, details, prev_hash, hash
			FROM audit_entries WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`), tenantID, after, page)
		if err != nil {
			return err
		}
		var batch []*audit.StoredEntry
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(batch) < page {
			return nil
		}
	}
}
