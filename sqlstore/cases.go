package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.CaseStore = (*DB)(nil)

func caseAD(id string) []byte { return []byte("cases.data:" + id) }

// caseData is what a case holds about its user: sealed.
type caseData struct {
	Subject    kycd.ScreeningSubject `json:"subject"`
	Candidates []kycd.CaseCandidate  `json:"candidates"`
	Lists      map[string]int        `json:"lists"`
	Pending    *kycd.CaseEntry       `json:"pending,omitempty"`
	History    []kycd.CaseEntry      `json:"history"`
}

// sealCase seals a case's data.
func (db *DB) sealCase(ctx context.Context, c *kycd.Case) ([]byte, error) {
	if _, err := uuid.Parse(c.ID); err != nil {
		return nil, fmt.Errorf("sqlstore: a case needs its id: %w", err)
	}
	return db.sealJSON(ctx, c.TenantID, caseData{Subject: c.Subject, Candidates: c.Candidates, Lists: c.Lists, Pending: c.Pending, History: c.History}, caseAD(c.ID))
}

// saveCase inserts a new case (Version 0) or saves a changed one, EStale
// when another save came first.
func (tx *Tx) saveCase(c *kycd.Case, sealed []byte) error {
	now := tx.Now()
	if c.Status == kycd.CaseClosed && c.ClosedAt == nil {
		c.ClosedAt = &now
	}
	if c.Version == 0 {
		c.CreatedAt = now
		if _, err := tx.exec(`INSERT INTO cases (id, tenant_id, user_id, type, status, outcome, data, version, created_at, updated_at, closed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`, c.ID, c.TenantID, c.UserID, c.Type, c.Status, c.Outcome, sealed,
			fmtTime(now), fmtTime(now), fmtTimePtr(c.ClosedAt)); err != nil {
			return err
		}
	} else if err := tx.execOne(kycd.Errorf(kycd.EStale, "The case changed meanwhile"), `UPDATE cases SET status = ?, outcome = ?, data = ?,
		version = version + 1, updated_at = ?, closed_at = ? WHERE id = ? AND tenant_id = ? AND version = ?`,
		c.Status, c.Outcome, sealed, fmtTime(now), fmtTimePtr(c.ClosedAt), c.ID, c.TenantID, c.Version); err != nil {
		return err
	}
	c.Version++
	c.UpdatedAt = now
	return nil
}

// saveHits replaces the stored hits of the listings hits names.
func (tx *Tx) saveHits(tenantID, userID string, hits []kycd.ScreeningHit) error {
	for _, h := range hits {
		if _, err := tx.exec(`DELETE FROM screening_hits WHERE tenant_id = ? AND user_id = ? AND source = ? AND entry_id = ?`,
			tenantID, userID, h.Source, h.EntryID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO screening_hits (tenant_id, user_id, source, entry_id, entry_digest, subject_digest, status, case_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, userID, h.Source, h.EntryID, h.EntryDigest, h.SubjectDigest, h.Status, h.CaseID); err != nil {
			return err
		}
	}
	return nil
}

const caseColumns = `id, tenant_id, user_id, type, status, outcome, data, version, created_at, updated_at, closed_at, assignee`

// FindCase implements kycd.CaseStore.
func (db *DB) FindCase(ctx context.Context, tenantID, id string) (*kycd.Case, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, kycd.NotFound("case")
	}
	list, err := db.queryCases(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("case")
	}
	return list[0], nil
}

// FindCases implements kycd.CaseStore.
func (db *DB) FindCases(ctx context.Context, tenantID string, f kycd.CaseFilter) ([]*kycd.Case, error) {
	where, args := caseWhere(tenantID, f)
	if f.After != "" {
		where, args = where+` AND id > ?`, append(args, f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return db.queryCases(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
}

// CountCases implements kycd.CaseStore: one scan of the index, whatever
// the counts.
func (db *DB) CountCases(ctx context.Context, tenantID string, f kycd.CaseFilter, reviewer string) (kycd.CaseCounts, error) {
	f.Assignee = nil
	where, args := caseWhere(tenantID, f)
	var c kycd.CaseCounts
	err := db.readRow(ctx, `SELECT count(*), count(*) FILTER (WHERE assignee = ''), count(*) FILTER (WHERE assignee = ?) FROM cases WHERE `+where,
		append([]any{reviewer}, args...)...).Scan(&c.All, &c.Unassigned, &c.Mine)
	return c, err
}

// caseWhere is the condition of the cases a filter selects (After and
// Limit aside).
func caseWhere(tenantID string, f kycd.CaseFilter) (string, []any) {
	where, args := `tenant_id = ?`, []any{tenantID}
	for _, c := range []struct{ column, value string }{{"type", f.Type}, {"status", f.Status}, {"user_id", f.UserID}} {
		if c.value != "" {
			where, args = where+` AND `+c.column+` = ?`, append(args, c.value)
		}
	}
	if f.Assignee != nil {
		where, args = where+` AND assignee = ?`, append(args, *f.Assignee)
	}
	return where, args
}

// AssignCase implements kycd.CaseStore. The case's version stays: a
// decision made on a copy read before the assignment still applies.
func (db *DB) AssignCase(ctx context.Context, tenantID, caseID string, a kycd.Assignment, change kycd.Change) error {
	if _, err := uuid.Parse(caseID); err != nil {
		return kycd.NotFound("case")
	}
	return db.Update(ctx, func(tx *Tx) error {
		var status string
		err := tx.queryRow(`SELECT status FROM cases WHERE id = ? AND tenant_id = ?`, caseID, tenantID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return kycd.NotFound("case")
		} else if err != nil {
			return err
		}
		if status != kycd.CaseOpen {
			return kycd.NotAllowed("The case is closed", "case-closed")
		}
		if err := tx.execOne(kycd.ErrAssignmentMoved(), `UPDATE cases SET assignee = ? WHERE id = ? AND tenant_id = ? AND assignee = ?`,
			a.To, caseID, tenantID, a.From); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

func (db *DB) queryCases(ctx context.Context, query string, args ...any) ([]*kycd.Case, error) {
	type row struct {
		c      kycd.Case
		sealed []byte
	}
	res, err := db.readRows(ctx, query, args...)
	rows, err := scanAll(res, err, func(r *row) []any {
		return []any{&r.c.ID, &r.c.TenantID, &r.c.UserID, &r.c.Type, &r.c.Status, &r.c.Outcome, &r.sealed, &r.c.Version,
			timeCol{&r.c.CreatedAt}, timeCol{&r.c.UpdatedAt}, timePtrCol{&r.c.ClosedAt}, &r.c.Assignee}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*kycd.Case, len(rows))
	for i := range rows {
		c := &rows[i].c
		var d caseData
		if err := db.openJSON(ctx, c.TenantID, rows[i].sealed, caseAD(c.ID), &d); err != nil {
			return nil, err
		}
		c.Subject, c.Candidates, c.Lists, c.Pending, c.History = d.Subject, d.Candidates, d.Lists, d.Pending, d.History
		out[i] = c
	}
	return out, nil
}

// FindScreeningHits implements kycd.CaseStore.
func (db *DB) FindScreeningHits(ctx context.Context, u kycd.UserRef) ([]kycd.ScreeningHit, error) {
	tenantID, userID := u.TenantID, u.UserID
	res, err := db.readRows(ctx, `SELECT source, entry_id, entry_digest, subject_digest, status, case_id FROM screening_hits
		WHERE tenant_id = ? AND user_id = ? ORDER BY source, entry_id`, tenantID, userID)
	return scanAll(res, err, func(h *kycd.ScreeningHit) []any {
		return []any{&h.Source, &h.EntryID, &h.EntryDigest, &h.SubjectDigest, &h.Status, &h.CaseID}
	})
}
