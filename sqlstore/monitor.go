package sqlstore

import (
	"context"

	"github.com/kycd/kycd"
)

var _ kycd.ScreeningMonitorStore = (*DB)(nil)

// FindLiveUsers implements kycd.ScreeningMonitorStore.
func (db *DB) FindLiveUsers(ctx context.Context, after kycd.UserRef, limit int) ([]kycd.UserRef, error) {
	rows, err := db.readRows(ctx, `SELECT tenant_id, id FROM users WHERE deleted_at IS NULL AND (tenant_id > ? OR (tenant_id = ? AND id > ?))
		ORDER BY tenant_id, id LIMIT ?`, after.TenantID, after.TenantID, after.UserID, limit)
	return scanAll(rows, err, func(r *kycd.UserRef) []any { return []any{&r.TenantID, &r.UserID} })
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

// StartJobs implements kycd.ScreeningMonitorStore.
func (db *DB) StartJobs(ctx context.Context, jobs []kycd.JobArgs) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit() // the jobs record their own changes
		for _, j := range jobs {
			if err := tx.Enqueue(j, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
