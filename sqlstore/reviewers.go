package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

var _ kycd.ReviewerStore = (*DB)(nil)

func reviewerAD(id string) []byte { return []byte("reviewers.totp:" + id) }

const reviewerColumns = `id, tenant_id, email, role, password_hash, totp_secret, totp_step, failed_logins, locked_until, created_at, last_sign_in_at, disabled_at`

// CreateReviewer implements kycd.ReviewerStore.
func (db *DB) CreateReviewer(ctx context.Context, r *kycd.Reviewer, change kycd.Change) error {
	var sealed []byte
	if r.TOTPSecret != "" {
		var err error
		if sealed, err = db.vault.Seal(ctx, r.TenantID, []byte(r.TOTPSecret), reviewerAD(r.ID)); err != nil {
			if kycd.ErrorCode(err) == kycd.ENotFound {
				return kycd.NotFound("tenant")
			}
			return err
		}
	}
	return db.Update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM tenants WHERE id = ?`, r.TenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return kycd.NotFound("tenant")
		}
		r.CreatedAt = tx.Now()
		_, err := tx.exec(`INSERT INTO reviewers (`+reviewerColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0, 0, NULL, ?, NULL, NULL)`,
			r.ID, r.TenantID, r.Email, r.Role, r.PasswordHash, sealed, fmtTime(r.CreatedAt))
		if db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EConflict, "A reviewer with this email exists already")
		} else if err != nil {
			return err
		}
		return tx.record(r.TenantID, change)
	})
}

// FindReviewerByID implements kycd.ReviewerStore.
func (db *DB) FindReviewerByID(ctx context.Context, id string) (*kycd.Reviewer, error) {
	return db.findReviewer(ctx, `SELECT `+reviewerColumns+` FROM reviewers WHERE id = ?`, id)
}

// FindReviewerByEmail implements kycd.ReviewerStore.
func (db *DB) FindReviewerByEmail(ctx context.Context, email string) (*kycd.Reviewer, error) {
	return db.findReviewer(ctx, `SELECT `+reviewerColumns+` FROM reviewers WHERE email = ?`, strings.ToLower(strings.TrimSpace(email)))
}

func (db *DB) findReviewer(ctx context.Context, query, arg string) (*kycd.Reviewer, error) {
	list, err := db.queryReviewers(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("reviewer")
	}
	return list[0], nil
}

// FindReviewers implements kycd.ReviewerStore.
func (db *DB) FindReviewers(ctx context.Context, tenantID string) ([]*kycd.Reviewer, error) {
	return db.queryReviewers(ctx, `SELECT `+reviewerColumns+` FROM reviewers WHERE tenant_id = ? ORDER BY email`, tenantID)
}

func (db *DB) queryReviewers(ctx context.Context, query string, args ...any) ([]*kycd.Reviewer, error) {
	type row struct {
		r      kycd.Reviewer
		sealed []byte
	}
	res, err := db.readRows(ctx, query, args...)
	rows, err := scanAll(res, err, func(x *row) []any {
		return []any{&x.r.ID, &x.r.TenantID, &x.r.Email, &x.r.Role, &x.r.PasswordHash, &x.sealed, &x.r.TOTPStep, &x.r.FailedLogins,
			timePtrCol{&x.r.LockedUntil}, timeCol{&x.r.CreatedAt}, timePtrCol{&x.r.LastSignInAt}, timePtrCol{&x.r.DisabledAt}}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*kycd.Reviewer, len(rows))
	for i := range rows {
		r := &rows[i].r
		if len(rows[i].sealed) > 0 {
			raw, err := db.vault.Open(ctx, r.TenantID, rows[i].sealed, reviewerAD(r.ID))
			if err != nil {
				return nil, err
			}
			r.TOTPSecret = string(raw)
		}
		out[i] = r
	}
	return out, nil
}

// SetReviewerRole implements kycd.ReviewerStore.
func (db *DB) SetReviewerRole(ctx context.Context, id, role string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		tenantID, err := tx.reviewerTenant(id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE reviewers SET role = ? WHERE id = ?`, role, id); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// SetReviewerDisabled implements kycd.ReviewerStore.
func (db *DB) SetReviewerDisabled(ctx context.Context, tenantID, id string, disabled bool, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		owner, err := tx.reviewerTenant(id)
		if err != nil {
			return err
		}
		if owner != tenantID {
			return kycd.NotFound("reviewer")
		}
		at := any(nil)
		if disabled {
			at = fmtTime(tx.Now())
			if _, err := tx.exec(`DELETE FROM reviewer_sessions WHERE reviewer_id = ?`, id); err != nil {
				return err
			}
			// What they held goes back to the queues, for others to take.
			if _, err := tx.exec(`UPDATE cases SET assignee = '' WHERE tenant_id = ? AND assignee = ? AND status = ?`, tenantID, id, kycd.CaseOpen); err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE kyc_applications SET assignee = '' WHERE tenant_id = ? AND assignee = ?`, tenantID, id); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`UPDATE reviewers SET disabled_at = ? WHERE id = ?`, at, id); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// reviewerTenant is a reviewer's tenant, or ENotFound ("reviewer").
func (tx *Tx) reviewerTenant(id string) (string, error) {
	var tenantID string
	err := tx.queryRow(`SELECT tenant_id FROM reviewers WHERE id = ?`, id).Scan(&tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", kycd.NotFound("reviewer")
	}
	return tenantID, err
}

// RecordLogin implements kycd.ReviewerStore.
func (db *DB) RecordLogin(ctx context.Context, reviewerID string, a kycd.LoginAttempt, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		tenantID, err := tx.reviewerTenant(reviewerID)
		if err != nil {
			return err
		}
		if a.OK {
			if _, err := tx.exec(`UPDATE reviewers SET failed_logins = 0, locked_until = NULL, totp_step = ?, last_sign_in_at = ? WHERE id = ?`,
				a.TOTPStep, fmtTime(tx.Now()), reviewerID); err != nil {
				return err
			}
			return tx.record(tenantID, change)
		}
		if _, err := tx.exec(`UPDATE reviewers SET failed_logins = failed_logins + 1, locked_until = ? WHERE id = ?`, fmtTimePtr(a.LockedUntil), reviewerID); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// CreateReviewerSession implements kycd.ReviewerStore. A session is no
// change of the tenant's data: its sign-in is audited (RecordLogin).
func (db *DB) CreateReviewerSession(ctx context.Context, s *kycd.ReviewerSession) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit()
		_, err := tx.exec(`INSERT INTO reviewer_sessions (token_hash, reviewer_id, tenant_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.ReviewerID, s.TenantID, fmtTime(s.CreatedAt), fmtTime(s.LastSeenAt), fmtTime(s.ExpiresAt))
		return err
	})
}

// FindReviewerSession implements kycd.ReviewerStore.
func (db *DB) FindReviewerSession(ctx context.Context, tokenHash string) (*kycd.ReviewerSession, error) {
	var s kycd.ReviewerSession
	err := db.readRow(ctx, `SELECT token_hash, reviewer_id, tenant_id, created_at, last_seen_at, expires_at FROM reviewer_sessions WHERE token_hash = ?`, tokenHash).
		Scan(&s.TokenHash, &s.ReviewerID, &s.TenantID, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt}, timeCol{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("session")
	}
	return &s, err
}

// TouchReviewerSession implements kycd.ReviewerStore.
func (db *DB) TouchReviewerSession(ctx context.Context, tokenHash string, at time.Time) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit()
		return tx.execOne(kycd.NotFound("session"), `UPDATE reviewer_sessions SET last_seen_at = ? WHERE token_hash = ?`, fmtTime(at), tokenHash)
	})
}

// DeleteReviewerSession implements kycd.ReviewerStore.
func (db *DB) DeleteReviewerSession(ctx context.Context, tokenHash string) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit()
		_, err := tx.exec(`DELETE FROM reviewer_sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}

// RecordView implements kycd.ReviewerStore.
func (db *DB) RecordView(ctx context.Context, tenantID string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.record(tenantID, change) })
}
