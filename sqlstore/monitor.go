package sqlstore

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
)

var _ kycd.ScreeningMonitorStore = (*DB)(nil)

// FindLiveUsers implements kycd.ScreeningMonitorStore.
func (db *DB) FindLiveUsers(ctx context.Context, after kycd.UserRef, limit int) ([]kycd.UserRef, error) {
	rows, err := db.readRows(ctx, `SELECT tenant_id, id FROM users WHERE deleted_at IS NULL AND (tenant_id, id) > (?, ?)
		ORDER BY tenant_id, id LIMIT ?`, after.TenantID, after.UserID, limit)
	return scanAll(rows, err, func(r *kycd.UserRef) []any { return []any{&r.TenantID, &r.UserID} })
}

// FindUnscreenedUsers implements kycd.ScreeningMonitorStore.
func (db *DB) FindUnscreenedUsers(ctx context.Context, after kycd.UserRef, limit int) ([]kycd.UserRef, error) {
	rows, err := db.readRows(ctx, `SELECT u.tenant_id, u.id FROM users u
		WHERE u.deleted_at IS NULL AND (u.tenant_id, u.id) > (?, ?)
		AND NOT EXISTS (SELECT 1 FROM kyc_processes p WHERE p.user_id = u.id AND p.code = ?)
		ORDER BY u.tenant_id, u.id LIMIT ?`, after.TenantID, after.UserID, kycd.ProcessScreening, limit)
	return scanAll(rows, err, func(r *kycd.UserRef) []any { return []any{&r.TenantID, &r.UserID} })
}

// FindScreenedUsers implements kycd.ScreeningMonitorStore.
func (db *DB) FindScreenedUsers(ctx context.Context, after, until kycd.UserRef, limit int) ([]*kycd.User, error) {
	rows, err := db.readRows(ctx, `SELECT u.id, u.tenant_id, u.type, u.pii, u.terms_of_service, u.created_at, u.updated_at FROM users u
		JOIN kyc_processes p ON p.user_id = u.id AND p.code = ? AND p.status <> ?
		WHERE u.deleted_at IS NULL AND (u.tenant_id, u.id) > (?, ?) AND (u.tenant_id, u.id) <= (?, ?)
		ORDER BY u.tenant_id, u.id LIMIT ?`, kycd.ProcessScreening, kycd.StatusExempt,
		after.TenantID, after.UserID, until.TenantID, until.UserID, limit)
	return db.openUsers(ctx, rows, err)
}

// FindUsersWithHits implements kycd.ScreeningMonitorStore.
func (db *DB) FindUsersWithHits(ctx context.Context, source string, ids []string, status string) ([]kycd.UserRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := anyOf(db.dialect, "entry_id", ids)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT DISTINCT tenant_id, user_id FROM screening_hits WHERE source = ? AND status = ? AND `+in+`
		ORDER BY tenant_id, user_id`), append([]any{source, status}, args...)...)
	return scanAll(rows, err, func(r *kycd.UserRef) []any { return []any{&r.TenantID, &r.UserID} })
}

// StartJobs implements kycd.ScreeningMonitorStore. A job equal to one
// already queued (by its arguments) is not queued again.
func (db *DB) StartJobs(ctx context.Context, jobs []kycd.JobArgs) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit() // the jobs record their own changes
		// The same job started again (a retried delta job) is one job.
		unique := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
		for _, j := range jobs {
			if err := tx.Enqueue(j, unique); err != nil {
				return err
			}
		}
		return nil
	})
}
