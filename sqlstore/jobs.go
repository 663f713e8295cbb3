package sqlstore

import (
	"context"
	"time"
)

// JobCount is how many River jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State string
	Count int64
}

// JobCounts counts River jobs by kind and state (for the metrics).
func (db *DB) JobCounts(ctx context.Context) ([]JobCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Backlog is what waits for kycd's background work, for monitoring.
type Backlog struct {
	// AuditPending counts audit entries written but not yet chained, and
	// AuditOldest is when the oldest of them was written (zero when none).
	AuditPending int64
	AuditOldest  time.Time
	// OutboxPending counts events not yet handed to their endpoints.
	OutboxPending int64
}

// FindBacklog reads the backlog.
func (db *DB) FindBacklog(ctx context.Context) (*Backlog, error) {
	var (
		b      Backlog
		oldest *time.Time // NULL when none is pending
	)
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(at) FROM audit_pending`).Scan(&b.AuditPending, timePtrCol{&oldest}); err != nil {
		return nil, err
	}
	if oldest != nil {
		b.AuditOldest = *oldest
	}
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL`).Scan(&b.OutboxPending); err != nil {
		return nil, err
	}
	return &b, nil
}
