package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.WebhookStore = (*DB)(nil)

func endpointAD(id string) []byte { return []byte("webhook_endpoints.secrets:" + id) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (db *DB) sealSecrets(ctx context.Context, e *kycd.WebhookEndpoint) ([]byte, string, error) {
	sealed, err := db.sealJSON(ctx, e.TenantID, e.Secrets, endpointAD(e.ID))
	if err != nil {
		return nil, "", err
	}
	types, err := json.Marshal(e.EventTypes)
	return sealed, string(types), err
}

// CreateWebhookEndpoint implements kycd.WebhookStore.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *kycd.WebhookEndpoint, change kycd.Change) error {
	sealed, types, err := db.sealSecrets(ctx, e)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		e.CreatedAt, e.UpdatedAt = tx.Now(), tx.Now()
		if _, err := tx.exec(`INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, enabled, disabled_reason, secrets, created_at, updated_at, bundle)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.TenantID, e.URL, e.Description, types, boolInt(e.Enabled), e.DisabledReason, sealed,
			fmtTime(e.CreatedAt), fmtTime(e.UpdatedAt), boolInt(e.Bundle)); err != nil {
			return err
		}
		return tx.record(e.TenantID, change)
	})
}

const endpointColumns = `id, tenant_id, url, description, event_types, enabled, disabled_reason, secrets, failing_since, created_at, updated_at, bundle`

func (db *DB) scanEndpoints(ctx context.Context, rows *sql.Rows) ([]*kycd.WebhookEndpoint, error) {
	defer rows.Close()
	var out []*kycd.WebhookEndpoint
	for rows.Next() {
		var (
			e               kycd.WebhookEndpoint
			types           string
			enabled, bundle int
			sealed          []byte
		)
		if err := rows.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &enabled, &e.DisabledReason, &sealed,
			timePtrCol{&e.FailingSince}, timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt}, &bundle); err != nil {
			return nil, err
		}
		e.Enabled, e.Bundle = enabled != 0, bundle != 0
		if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
			return nil, err
		}
		if err := db.openJSON(ctx, e.TenantID, sealed, endpointAD(e.ID), &e.Secrets); err != nil {
			return nil, err
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// FindWebhookEndpoint implements kycd.WebhookStore.
func (db *DB) FindWebhookEndpoint(ctx context.Context, tenantID, id string) (*kycd.WebhookEndpoint, error) {
	rows, err := db.readRows(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return nil, err
	}
	list, err := db.scanEndpoints(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("webhook-endpoint")
	}
	return list[0], nil
}

// FindWebhookEndpoints implements kycd.WebhookStore.
func (db *DB) FindWebhookEndpoints(ctx context.Context, tenantID string) ([]*kycd.WebhookEndpoint, error) {
	rows, err := db.readRows(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, err
	}
	return db.scanEndpoints(ctx, rows)
}

// UpdateWebhookEndpoint implements kycd.WebhookStore.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e *kycd.WebhookEndpoint, change kycd.Change) error {
	sealed, types, err := db.sealSecrets(ctx, e)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		e.UpdatedAt = tx.Now()
		if err := tx.execOne(kycd.NotFound("webhook-endpoint"), `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?, secrets = ?,
			failing_since = ?, updated_at = ?, bundle = ? WHERE id = ? AND tenant_id = ?`, e.URL, e.Description, types, boolInt(e.Enabled), e.DisabledReason, sealed,
			fmtTimePtr(e.FailingSince), fmtTime(e.UpdatedAt), boolInt(e.Bundle), e.ID, e.TenantID); err != nil {
			return err
		}
		return tx.record(e.TenantID, change)
	})
}

// DeleteWebhookEndpoint implements kycd.WebhookStore: its pending
// deliveries end as their jobs find it gone.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, tenantID, id string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.NotFound("webhook-endpoint"), `DELETE FROM webhook_endpoints WHERE id = ? AND tenant_id = ?`, id, tenantID); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// DispatchEvents implements kycd.WebhookStore. The feed counter is taken
// under a row lock (PostgreSQL) or the one writer (SQLite), so positions
// follow the order dispatches commit in.
func (db *DB) DispatchEvents(ctx context.Context, limit int) (int, error) {
	n := 0
	err := db.Update(ctx, func(tx *Tx) error {
		var next int64
		if err := tx.queryRow(`SELECT next_seq FROM webhook_feed WHERE id = 1` + db.dialect.forUpdate()).Scan(&next); err != nil {
			return err
		}
		rows, err := tx.QueryContext(tx.ctx, db.q(`SELECT id, tenant_id, type, created_at FROM outbox_events WHERE dispatched_at IS NULL ORDER BY created_at, `+db.dialect.outboxOrder()+` LIMIT ?`), limit)
		if err != nil {
			return err
		}
		type pending struct{ id, tenant, typ, created string }
		var events []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.id, &p.tenant, &p.typ, &p.created); err != nil {
				rows.Close()
				return err
			}
			events = append(events, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(events) == 0 {
			return errNothingToDo
		}
		endpoints := map[string][]*kycd.WebhookEndpoint{}
		for _, ev := range events {
			eps, ok := endpoints[ev.tenant]
			if !ok {
				if eps, err = tx.enabledEndpoints(ev.tenant); err != nil {
					return err
				}
				endpoints[ev.tenant] = eps
			}
			for _, e := range eps {
				if !e.Subscribes(ev.typ) {
					continue
				}
				if _, err := tx.insertDelivery(ev.tenant, e.ID, ev.id); err != nil {
					return err
				}
			}
			if _, err := tx.exec(`UPDATE outbox_events SET dispatched_at = ?, seq = ? WHERE id = ?`, fmtTime(tx.Now()), next, ev.id); err != nil {
				return err
			}
			next++
		}
		if _, err := tx.exec(`UPDATE webhook_feed SET next_seq = ? WHERE id = 1`, next); err != nil {
			return err
		}
		n = len(events)
		tx.noAudit() // the events were audited with their changes
		return nil
	})
	if errors.Is(err, errNothingToDo) {
		return 0, nil
	}
	return n, err
}

// enabledEndpoints reads a tenant's enabled endpoints (without their secrets).
func (tx *Tx) enabledEndpoints(tenantID string) ([]*kycd.WebhookEndpoint, error) {
	rows, err := tx.QueryContext(tx.ctx, tx.db.q(`SELECT id, event_types FROM webhook_endpoints WHERE tenant_id = ? AND enabled = 1`), tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kycd.WebhookEndpoint
	for rows.Next() {
		e := &kycd.WebhookEndpoint{TenantID: tenantID}
		var types string
		if err := rows.Scan(&e.ID, &types); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FindDelivery implements kycd.WebhookStore.
func (db *DB) FindDelivery(ctx context.Context, tenantID, id string) (*kycd.WebhookDelivery, *kycd.Event, error) {
	var (
		d       kycd.WebhookDelivery
		ev      kycd.Event
		payload string
	)
	err := db.readRow(ctx, `SELECT d.id, d.tenant_id, d.endpoint_id, d.event_id, d.status, d.attempts, d.last_status, d.last_latency_ms, d.last_response, d.last_error,
		d.created_at, d.updated_at, e.type, e.entity_type, e.entity_id, e.payload, e.created_at
		FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.id = ? AND d.tenant_id = ?`, id, tenantID).Scan(
		&d.ID, &d.TenantID, &d.EndpointID, &d.EventID, &d.Status, &d.Attempts, &d.LastStatus, &d.LastLatencyMS, &d.LastResponse, &d.LastError,
		timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}, &ev.Type, &ev.EntityType, &ev.EntityID, &payload, timeCol{&ev.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, kycd.NotFound("delivery")
	} else if err != nil {
		return nil, nil, err
	}
	ev.ID, ev.TenantID, d.EventType = d.EventID, d.TenantID, ev.Type
	if err := json.Unmarshal([]byte(payload), &ev.Data); err != nil {
		return nil, nil, err
	}
	return &d, &ev, nil
}

// RecordAttempt implements kycd.WebhookStore.
func (db *DB) RecordAttempt(ctx context.Context, d *kycd.WebhookDelivery, e *kycd.WebhookEndpoint, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		d.UpdatedAt = tx.Now()
		// A bundle's attempt is the attempt of each delivery it carries.
		// Two statements, each on an index: under "id = ? OR bundled_into
		// = ?" SQLite reads every delivery of the tenant, at each attempt.
		for _, where := range []string{`id = ? AND tenant_id = ?`, `bundled_into = ? AND tenant_id = ?`} {
			if _, err := tx.exec(`UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_latency_ms = ?, last_response = ?, last_error = ?, updated_at = ?
				WHERE `+where, d.Status, d.Attempts, d.LastStatus, d.LastLatencyMS, d.LastResponse, d.LastError, fmtTime(d.UpdatedAt), d.ID, d.TenantID); err != nil {
				return err
			}
		}
		if e == nil {
			tx.noAudit() // an attempt is recorded in its delivery
			return nil
		}
		if _, err := tx.exec(`UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, failing_since = ?, updated_at = ? WHERE id = ? AND tenant_id = ?`,
			boolInt(e.Enabled), e.DisabledReason, fmtTimePtr(e.FailingSince), fmtTime(tx.Now()), e.ID, e.TenantID); err != nil {
			return err
		}
		return tx.record(e.TenantID, change)
	})
}

// FindEvents implements kycd.WebhookStore.
func (db *DB) FindEvents(ctx context.Context, tenantID string, after int64, limit int) ([]*kycd.Event, []int64, error) {
	rows, err := db.readRows(ctx, `SELECT `+eventColumns+` FROM outbox_events e
		WHERE e.tenant_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`, tenantID, after, limit)
	return scanEvents(rows, err, tenantID)
}

// FindEntityEvents implements kycd.WebhookStore: one IN list per entity
// type, so each reads the (tenant, type, id) index.
func (db *DB) FindEntityEvents(ctx context.Context, tenantID string, entities []kycd.EntityRef, limit int) ([]*kycd.Event, error) {
	if len(entities) == 0 {
		return nil, nil
	}
	if len(entities) > kycd.MaxAuditEntities {
		return nil, kycd.Invalid("query", kycd.Violation{Property: "entities", Rule: "length", RuleParams: map[string]any{"max": kycd.MaxAuditEntities}})
	}
	byType := map[string][]string{}
	var types []string
	for _, e := range entities {
		if _, ok := byType[e.Type]; !ok {
			types = append(types, e.Type)
		}
		byType[e.Type] = append(byType[e.Type], e.ID)
	}
	// One lookup of the entity index per type, not one condition with an
	// OR: under an OR, SQLite's planner may scan every event of the tenant
	// (measured: the console's user page of a user with a case, 60 ms at
	// 100,000 events, against under 1 ms).
	var (
		arms []string
		args []any
	)
	for _, typ := range types {
		cond, ids := anyOf(db.dialect, "entity_id", byType[typ])
		arms = append(arms, `SELECT id, type, entity_type, entity_id, payload, created_at, seq FROM outbox_events
			WHERE tenant_id = ? AND entity_type = ? AND `+cond)
		args = append(append(args, tenantID, typ), ids...)
	}
	rows, err := db.readRows(ctx, `SELECT `+eventColumns+` FROM (`+strings.Join(arms, " UNION ALL ")+`) e
		ORDER BY e.created_at DESC, e.id DESC LIMIT ?`, append(args, limit)...)
	list, _, err := scanEvents(rows, err, tenantID)
	return list, err
}

// eventColumns are the columns scanEvents reads, of outbox_events e.
const eventColumns = `e.id, e.type, e.entity_type, e.entity_id, e.payload, e.created_at, COALESCE(e.seq, 0)`

// scanEvents reads a tenant's events (eventColumns) with their feed
// positions (0 for an event not in the feed), and closes the rows.
func scanEvents(rows *sql.Rows, err error, tenantID string) ([]*kycd.Event, []int64, error) {
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		out  []*kycd.Event
		seqs []int64
	)
	for rows.Next() {
		ev := &kycd.Event{TenantID: tenantID}
		var payload string
		var seq int64
		if err := rows.Scan(&ev.ID, &ev.Type, &ev.EntityType, &ev.EntityID, &payload, timeCol{&ev.CreatedAt}, &seq); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal([]byte(payload), &ev.Data); err != nil {
			return nil, nil, err
		}
		out, seqs = append(out, ev), append(seqs, seq)
	}
	return out, seqs, rows.Err()
}

// FindDeliveries implements kycd.WebhookStore.
func (db *DB) FindDeliveries(ctx context.Context, tenantID, endpointID, before string, limit int) ([]*kycd.WebhookDelivery, error) {
	query, args := `SELECT d.id, d.tenant_id, d.endpoint_id, d.event_id, e.type, d.status, d.attempts, d.last_status, d.last_latency_ms, d.last_response,
		d.last_error, d.created_at, d.updated_at FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE d.tenant_id = ? AND d.endpoint_id = ?`, []any{tenantID, endpointID}
	if before != "" {
		query += ` AND (d.created_at, d.id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = ?)`
		args = append(args, before)
	}
	query += ` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kycd.WebhookDelivery
	for rows.Next() {
		var d kycd.WebhookDelivery
		if err := rows.Scan(&d.ID, &d.TenantID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &d.LastStatus, &d.LastLatencyMS,
			&d.LastResponse, &d.LastError, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}); err != nil {
			return nil, err
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}

// insertDelivery adds a pending delivery of an event and its job.
func (tx *Tx) insertDelivery(tenantID, endpointID, eventID string) (string, error) {
	id := uuid.NewString()
	if _, err := tx.exec(`INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, tenantID, endpointID, eventID, kycd.DeliveryPending, fmtTime(tx.Now()), fmtTime(tx.Now())); err != nil {
		return "", err
	}
	return id, tx.Enqueue(kycd.DeliverArgs{TenantID: tenantID, DeliveryID: id}, nil)
}

// Redeliver implements kycd.WebhookStore.
func (db *DB) Redeliver(ctx context.Context, tenantID, endpointID string, eventIDs []string, change kycd.Change) ([]string, error) {
	var ids []string
	err := db.Update(ctx, func(tx *Tx) error {
		ids = ids[:0]
		for _, ev := range eventIDs {
			id, err := tx.insertDelivery(tenantID, endpointID, ev)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return tx.record(tenantID, change)
	})
	return ids, err
}

// EventPosition implements kycd.WebhookStore.
func (db *DB) EventPosition(ctx context.Context, tenantID, eventID string) (int64, error) {
	var seq sql.NullInt64
	err := db.readRow(ctx, `SELECT seq FROM outbox_events WHERE id = ? AND tenant_id = ?`, eventID, tenantID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !seq.Valid) {
		return 0, kycd.NotFound("event")
	}
	return seq.Int64, err
}

// SendTestEvent implements kycd.WebhookStore.
func (db *DB) SendTestEvent(ctx context.Context, tenantID, endpointID string, change kycd.Change) (string, error) {
	if len(change.Events) != 1 {
		return "", fmt.Errorf("sqlstore: a test event's change holds %d events, not one", len(change.Events))
	}
	ev := change.Events[0]
	var id string
	err := db.Update(ctx, func(tx *Tx) error {
		if err := tx.record(tenantID, change); err != nil {
			return err
		}
		// Dispatched at once, for this endpoint only; not in the feed.
		if _, err := tx.exec(`UPDATE outbox_events SET dispatched_at = ? WHERE id = ?`, fmtTime(tx.Now()), ev.ID); err != nil {
			return err
		}
		var err error
		id, err = tx.insertDelivery(tenantID, endpointID, ev.ID)
		return err
	})
	return id, err
}

// EarlierPending implements kycd.WebhookStore.
func (db *DB) EarlierPending(ctx context.Context, d *kycd.WebhookDelivery, ev *kycd.Event) (bool, error) {
	var n int
	err := db.readRow(ctx, `SELECT count(*) FROM outbox_events e JOIN webhook_deliveries d ON d.event_id = e.id
		WHERE e.tenant_id = ? AND e.entity_type = ? AND e.entity_id = ? AND e.seq < (SELECT seq FROM outbox_events WHERE id = ?)
		AND d.endpoint_id = ? AND d.status = 'pending' AND d.attempts = 0 AND d.id <> ?`,
		d.TenantID, ev.EntityType, ev.EntityID, ev.ID, d.EndpointID, d.ID).Scan(&n)
	return n > 0, err
}

// ClaimBundle implements kycd.WebhookStore.
func (db *DB) ClaimBundle(ctx context.Context, d *kycd.WebhookDelivery, typePrefix string, max int) ([]*kycd.Event, error) {
	var events []*kycd.Event
	err := db.Update(ctx, func(tx *Tx) error {
		tx.noAudit() // deliveries are recorded in themselves
		// None changed: another delivery carries it.
		if err := tx.execOne(errNothingToDo, `UPDATE webhook_deliveries SET bundled_into = ? WHERE id = ? AND tenant_id = ? AND status = 'pending' AND (bundled_into = '' OR bundled_into = ?)`,
			d.ID, d.ID, d.TenantID, d.ID); err != nil {
			return err
		}
		if d.Attempts == 0 {
			// The first attempt takes the endpoint's other waiting events
			// of the family, oldest first; retries resend the same bundle.
			if _, err := tx.exec(`UPDATE webhook_deliveries SET bundled_into = ? WHERE tenant_id = ? AND id IN (
				SELECT d.id FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
				WHERE d.tenant_id = ? AND d.endpoint_id = ? AND d.status = 'pending' AND d.attempts = 0 AND d.bundled_into = '' AND e.type LIKE ?
				ORDER BY e.seq LIMIT ?)`, d.ID, d.TenantID, d.TenantID, d.EndpointID, typePrefix+"%", max-1); err != nil {
				return err
			}
		}
		// The bundle's events, in one read, ordered by creation.
		rows, err := tx.QueryContext(tx.ctx, db.q(`SELECT `+eventColumns+` FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
			WHERE d.tenant_id = ? AND d.bundled_into = ? ORDER BY e.created_at, e.seq`), d.TenantID, d.ID)
		events, _, err = scanEvents(rows, err, d.TenantID)
		return err
	})
	if errors.Is(err, errNothingToDo) {
		return nil, nil
	}
	return events, err
}

// PruneEvents implements kycd.WebhookStore. An event still owed to an
// existing endpoint (a pending delivery, or one carried by a pending
// bundle) stays; deliveries to deleted endpoints do not hold it.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := db.Update(ctx, func(tx *Tx) error {
		tx.noAudit() // retention is the operator's setting; the job logs what it removed
		rows, err := tx.QueryContext(tx.ctx, db.q(`SELECT e.id FROM outbox_events e
			WHERE e.created_at < ? AND e.dispatched_at IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
				WHERE d.event_id = e.id AND d.status = 'pending')
			ORDER BY e.created_at LIMIT ?`), fmtTime(before), limit)
		found, err := scanStrings(rows, err)
		if err != nil || len(found) == 0 {
			return err
		}
		in, ids := anyOf(db.dialect, "event_id", found)
		if _, err := tx.ExecContext(tx.ctx, db.q(`DELETE FROM webhook_deliveries WHERE `+in), ids...); err != nil {
			return err
		}
		in, ids = anyOf(db.dialect, "id", found)
		if _, err := tx.ExecContext(tx.ctx, db.q(`DELETE FROM outbox_events WHERE `+in), ids...); err != nil {
			return err
		}
		n = len(found)
		return nil
	})
	return n, err
}
