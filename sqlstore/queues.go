package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.QueueStore = (*DB)(nil)

// FindApplicationQueue implements kycd.QueueStore: by id, which is time
// ordered (UUIDv7), through kyc_applications_status or, with an assignee,
// kyc_applications_assignee.
func (db *DB) FindApplicationQueue(ctx context.Context, tenantID string, f kycd.ApplicationFilter) ([]*kycd.Application, error) {
	where, args := applicationWhere(tenantID, f)
	if f.Assignee != nil {
		where, args = where+` AND assignee = ?`, append(args, *f.Assignee)
	}
	if f.After != "" {
		where, args = where+` AND id > ?`, append(args, f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return db.queryApplications(ctx, `SELECT `+applicationColumns+` FROM kyc_applications WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
}

// CountApplicationQueue implements kycd.QueueStore: one scan of the index.
func (db *DB) CountApplicationQueue(ctx context.Context, tenantID string, f kycd.ApplicationFilter, reviewer string) (kycd.CaseCounts, error) {
	where, args := applicationWhere(tenantID, f)
	var c kycd.CaseCounts
	err := db.readRow(ctx, `SELECT count(*), count(*) FILTER (WHERE assignee = ''), count(*) FILTER (WHERE assignee = ?) FROM kyc_applications WHERE `+where,
		append([]any{reviewer}, args...)...).Scan(&c.All, &c.Unassigned, &c.Mine)
	return c, err
}

// applicationWhere is the condition of the applications a filter selects
// (Assignee, After and Limit aside).
func applicationWhere(tenantID string, f kycd.ApplicationFilter) (string, []any) {
	where, args := `tenant_id = ? AND status = ?`, []any{tenantID, f.Status}
	if f.LevelID != "" {
		where, args = where+` AND level_id = ?`, append(args, f.LevelID)
	}
	return where, args
}

// AssignApplication implements kycd.QueueStore. The version stays: a
// decision made on a copy read before the assignment still applies.
func (db *DB) AssignApplication(ctx context.Context, tenantID, id string, a kycd.Assignment, change kycd.Change) error {
	if _, err := uuid.Parse(id); err != nil {
		return kycd.NotFound("kyc-application")
	}
	return db.Update(ctx, func(tx *Tx) error {
		var status string
		err := tx.queryRow(`SELECT status FROM kyc_applications WHERE id = ? AND tenant_id = ?`, id, tenantID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return kycd.NotFound("kyc-application")
		} else if err != nil {
			return err
		}
		if status != kycd.ApplicationInReview {
			return kycd.NotAllowed("The application is not in review", "kyc-application-not-in-review")
		}
		if err := tx.execOne(kycd.ErrAssignmentMoved(), `UPDATE kyc_applications SET assignee = ? WHERE id = ? AND tenant_id = ? AND assignee = ?`,
			a.To, id, tenantID, a.From); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// FindChecksByStatus implements kycd.QueueStore: by id (UUIDv7, time
// ordered), through checks_status or checks_status_type.
func (db *DB) FindChecksByStatus(ctx context.Context, tenantID string, f kycd.CheckFilter) ([]*kycd.Check, error) {
	where, args := `tenant_id = ? AND status = ?`, []any{tenantID, f.Status}
	if f.Type != "" {
		where, args = where+` AND type = ?`, append(args, f.Type)
	}
	if f.After != "" {
		where, args = where+` AND id > ?`, append(args, f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	return db.queryChecks(ctx, `SELECT `+checkColumns+` FROM checks WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
}

// CountChecksByType implements kycd.QueueStore (checks_status_type alone).
func (db *DB) CountChecksByType(ctx context.Context, tenantID, status string) (map[string]int, error) {
	return db.countBy(ctx, `SELECT type, count(*) FROM checks WHERE tenant_id = ? AND status = ? GROUP BY type`, tenantID, status)
}

// FindFailedIngestions implements kycd.QueueStore, through the partial
// indexes of failed ingestions.
func (db *DB) FindFailedIngestions(ctx context.Context, tenantID string, f kycd.FailedIngestionFilter) ([]*kycd.Ingestion, error) {
	where, args := `tenant_id = ? AND failed = 1`, []any{tenantID}
	if f.Provider != "" {
		where, args = where+` AND provider = ?`, append(args, f.Provider)
	}
	if f.After != "" {
		where, args = where+` AND id > ?`, append(args, f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := db.readRows(ctx, `SELECT `+ingestionColumns+` FROM ingestions WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	return db.scanIngestions(ctx, rows)
}

// CountFailedIngestions implements kycd.QueueStore.
func (db *DB) CountFailedIngestions(ctx context.Context, tenantID string) (map[string]int, error) {
	return db.countBy(ctx, `SELECT provider, count(*) FROM ingestions WHERE tenant_id = ? AND failed = 1 GROUP BY provider`, tenantID)
}

// countBy runs a query of (key, count) rows.
func (db *DB) countBy(ctx context.Context, query string, args ...any) (map[string]int, error) {
	type kv struct {
		k string
		n int
	}
	rows, err := db.readRows(ctx, query, args...)
	list, err := scanAll(rows, err, func(v *kv) []any { return []any{&v.k, &v.n} })
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(list))
	for _, v := range list {
		out[v.k] = v.n
	}
	return out, nil
}

// failingEndpoint is the condition of a failing endpoint: failing since a
// time, or disabled by kycd (a reason given).
const failingEndpoint = `e.tenant_id = ? AND (e.failing_since IS NOT NULL OR (e.enabled = 0 AND e.disabled_reason <> ''))`

// failingDelivery is the condition of webhook_deliveries_failing.
const failingDelivery = `(d.status = 'failed' OR (d.status = 'pending' AND d.attempts > 0))`

// FindFailingEndpoints implements kycd.QueueStore: the endpoints through
// webhook_endpoints_tenant, their failing deliveries counted and the newest
// read through webhook_deliveries_failing.
func (db *DB) FindFailingEndpoints(ctx context.Context, tenantID string, f kycd.FailingEndpointFilter) ([]*kycd.FailingEndpoint, kycd.EndpointCounts, error) {
	var c kycd.EndpointCounts
	if err := db.readRow(ctx, `SELECT count(*), count(*) FILTER (WHERE e.enabled = 1), count(*) FILTER (WHERE e.enabled = 0)
		FROM webhook_endpoints e WHERE `+failingEndpoint, tenantID).Scan(&c.All, &c.Enabled, &c.Disabled); err != nil {
		return nil, c, err
	}
	where, args := failingEndpoint, []any{tenantID}
	switch f.State {
	case "enabled":
		where += ` AND e.enabled = 1`
	case "disabled":
		where += ` AND e.enabled = 0`
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := db.readRows(ctx, `SELECT e.id, e.url, e.enabled, e.disabled_reason, COALESCE(e.failing_since, e.updated_at) AS since,
		(SELECT count(*) FROM webhook_deliveries d WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id AND `+failingDelivery+`)
		FROM webhook_endpoints e WHERE `+where+` ORDER BY since, e.id LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	list, err := scanAll(rows, err, func(e *kycd.FailingEndpoint) []any {
		return []any{&e.ID, &e.URL, &e.Enabled, &e.DisabledReason, timeCol{&e.Since}, &e.Failing}
	})
	if err != nil {
		return nil, c, err
	}
	out := make([]*kycd.FailingEndpoint, len(list))
	for i := range list {
		e := &list[i]
		err := db.readRow(ctx, `SELECT COALESCE(ev.type, ''), d.last_status, d.last_error, d.updated_at FROM webhook_deliveries d
			LEFT JOIN outbox_events ev ON ev.id = d.event_id
			WHERE d.tenant_id = ? AND d.endpoint_id = ? AND `+failingDelivery+` ORDER BY d.updated_at DESC LIMIT 1`, tenantID, e.ID).
			Scan(&e.LastEventType, &e.LastStatus, &e.LastError, timePtrCol{&e.LastAttempt})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, c, err
		}
		out[i] = e
	}
	return out, c, nil
}
