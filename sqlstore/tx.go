package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
// change that records no audit entry is rolled back with ErrUnaudited.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, db: db, ctx: ctx, now: db.now()}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if !tx.audited {
		_ = stx.Rollback()
		return ErrUnaudited
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Now is the time of the transaction: every row it writes carries it.
func (tx *Tx) Now() time.Time { return tx.now }

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(tx.ctx, tx.db.q(query), args...)
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	return tx.QueryRowContext(tx.ctx, tx.db.q(query), args...)
}

// Audit appends an entry to the tenant's audit chain. Details must hold ids,
// codes and counts only, never personal data.
func (tx *Tx) Audit(tenantID, action, entityType, entityID string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	dj, err := json.Marshal(details)
	if err != nil {
		return err
	}
	var (
		seq  int64
		prev = audit.Genesis
	)
	err = tx.queryRow(`SELECT seq, hash FROM audit_heads WHERE tenant_id = ?`+tx.db.dialect.forUpdate(), tenantID).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	e := &kycd.AuditEntry{
		TenantID:   tenantID,
		Seq:        seq + 1,
		At:         tx.now,
		Actor:      kycd.ActorFromContext(tx.ctx).String(),
		Action:     action,
		EntityType: entityType,
		EntityID:   entityID,
		RequestID:  kycd.RequestIDFromContext(tx.ctx),
		PrevHash:   prev,
	}
	at := fmtTime(e.At)
	if tx.db.vault == nil {
		return errors.New("sqlstore: no vault configured to chain the audit trail")
	}
	e.Hash = audit.Hash(tx.db.vault.ChainMAC, e, at, string(dj))
	if _, err := tx.exec(`INSERT INTO audit_entries (tenant_id, seq, at, actor, action, entity_type, entity_id, request_id, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.Seq, at, e.Actor, e.Action, e.EntityType, e.EntityID, e.RequestID, string(dj), e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit entry: %w", err)
	}
	if seq == 0 {
		_, err = tx.exec(`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, ?, ?)`, tenantID, e.Seq, e.Hash)
	} else {
		_, err = tx.exec(`UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?`, e.Seq, e.Hash, tenantID)
	}
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	tx.audited = true
	return nil
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

// FindAuditEntries implements kycd.AuditService.
func (db *DB) FindAuditEntries(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]*kycd.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT tenant_id, seq, at, actor, action, entity_type, entity_id, request_id, details, prev_hash, hash
		FROM audit_entries WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`), tenantID, afterSeq, limit)
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
	if db.vault == nil {
		return nil, errors.New("sqlstore: no vault configured to verify the audit trail")
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
	rows, err := s.db.read.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM audit_entries ORDER BY tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
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
