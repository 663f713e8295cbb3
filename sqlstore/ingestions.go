package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.IngestionStore = (*DB)(nil)

// ingestionData is the sealed part of an ingestion.
type ingestionData struct {
	Processes  []string                         `json:"processes"`
	Parameters map[string]any                   `json:"parameters"`
	Result     map[string]*kycd.IngestionResult `json:"result,omitempty"`
	Sources    []*kycd.IngestionSource          `json:"sources"`
}

func ingestionAD(id string) []byte { return []byte("ingestions.data:" + id) }

func (db *DB) sealIngestion(ctx context.Context, in *kycd.Ingestion) ([]byte, error) {
	return db.sealJSON(ctx, in.TenantID, ingestionData{Processes: in.Processes, Parameters: in.Parameters, Result: in.Result, Sources: in.Sources}, ingestionAD(in.ID))
}

// CreateIngestion implements kycd.IngestionStore.
func (db *DB) CreateIngestion(ctx context.Context, in *kycd.Ingestion, change kycd.Change) error {
	in.Version = 1
	sealed, err := db.sealIngestion(ctx, in)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		in.CreatedAt, in.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.requireUser(in.TenantID, in.UserID); err != nil {
			return err
		}
		var sourceKey any
		if in.SourceKey != "" {
			sourceKey = in.SourceKey
		}
		_, err := tx.exec(`INSERT INTO ingestions (id, tenant_id, user_id, provider, status, data, version, created_at, updated_at, source_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.TenantID, in.UserID, in.Provider, in.Status, sealed, in.Version, fmtTime(in.CreatedAt), fmtTime(in.UpdatedAt), sourceKey)
		if tx.db.dialect.isUniqueViolation(err) && in.SourceKey != "" {
			return kycd.Errorf(kycd.EAlreadyApplied, "An ingestion of this source exists already")
		} else if err != nil {
			return err
		}
		if in.EventID != "" {
			if err := tx.markEventHandled(in.TenantID, in.EventID, "ingestion "+in.ID); err != nil {
				return err
			}
		}
		return tx.record(in.TenantID, change)
	})
}

const ingestionColumns = `id, tenant_id, user_id, provider, status, data, version, created_at, updated_at, started_at, finished_at`

// FindIngestion implements kycd.IngestionStore.
func (db *DB) FindIngestion(ctx context.Context, k kycd.IngestionKey) (*kycd.Ingestion, error) {
	if _, err := uuid.Parse(k.ID); err != nil {
		return nil, kycd.NotFound("ingestion")
	}
	query, args := `SELECT `+ingestionColumns+` FROM ingestions WHERE id = ? AND tenant_id = ?`, []any{k.ID, k.TenantID}
	if k.UserID != "" {
		query += ` AND user_id = ?`
		args = append(args, k.UserID)
	}
	if k.Provider != "" {
		query += ` AND provider = ?`
		args = append(args, k.Provider)
	}
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	list, err := db.scanIngestions(ctx, rows)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("ingestion")
	}
	return list[0], nil
}

// FindIngestions implements kycd.IngestionStore.
func (db *DB) FindIngestions(ctx context.Context, f kycd.IngestionFilter) ([]*kycd.Ingestion, error) {
	query, args := `SELECT `+ingestionColumns+` FROM ingestions WHERE tenant_id = ? AND user_id = ? AND provider = ?`, []any{f.TenantID, f.UserID, f.Provider}
	if f.Before != "" {
		query += ` AND id < ?`
		args = append(args, f.Before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return db.scanIngestions(ctx, rows)
}

// FindIngestionsByID implements kycd.IngestionStore.
func (db *DB) FindIngestionsByID(ctx context.Context, tenantID string, ids []string) ([]*kycd.Ingestion, error) {
	ids = uuids(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := anyOf(db.dialect, "id", ids)
	rows, err := db.readRows(ctx, `SELECT `+ingestionColumns+` FROM ingestions WHERE tenant_id = ? AND `+in, append([]any{tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	return db.scanIngestions(ctx, rows)
}

func (db *DB) scanIngestions(ctx context.Context, rows *sql.Rows) ([]*kycd.Ingestion, error) {
	defer rows.Close()
	var out []*kycd.Ingestion
	for rows.Next() {
		var (
			in     kycd.Ingestion
			sealed []byte
		)
		if err := rows.Scan(&in.ID, &in.TenantID, &in.UserID, &in.Provider, &in.Status, &sealed, &in.Version,
			timeCol{&in.CreatedAt}, timeCol{&in.UpdatedAt}, timePtrCol{&in.StartedAt}, timePtrCol{&in.FinishedAt}); err != nil {
			return nil, err
		}
		var d ingestionData
		if err := db.openJSON(ctx, in.TenantID, sealed, ingestionAD(in.ID), &d); err != nil {
			return nil, err
		}
		in.Processes, in.Parameters, in.Result, in.Sources = d.Processes, d.Parameters, d.Result, d.Sources
		out = append(out, &in)
	}
	return out, rows.Err()
}

// SaveIngestion implements kycd.IngestionStore.
func (db *DB) SaveIngestion(ctx context.Context, in *kycd.Ingestion, change kycd.Change) error {
	sealed, err := db.sealIngestion(ctx, in)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.Errorf(kycd.EStale, "The ingestion changed meanwhile"), `UPDATE ingestions SET status = ?, data = ?, version = version + 1, updated_at = ?, started_at = ?, finished_at = ?, failed = ?
			WHERE id = ? AND tenant_id = ? AND version = ?`,
			in.Status, sealed, fmtTime(tx.Now()), fmtTimePtr(in.StartedAt), fmtTimePtr(in.FinishedAt), boolInt(in.Failed()), in.ID, in.TenantID, in.Version); err != nil {
			return err
		}
		in.Version++
		in.UpdatedAt = tx.Now()
		return tx.record(in.TenantID, change)
	})
}

// connectorData is the sealed part of a connector configuration.
type connectorData struct {
	BaseURL       string                   `json:"baseUrl,omitempty"`
	AutoIngest    bool                     `json:"autoIngest,omitempty"`
	Integrations  []kycd.VeriffIntegration `json:"integrations,omitempty"`
	AppToken      string                   `json:"appToken,omitempty"`
	Secret        string                   `json:"secret,omitempty"`
	WebhookSecret string                   `json:"webhookSecret,omitempty"`
}

func connectorAD(tenantID, provider string) []byte {
	return []byte("connector_configs.data:" + tenantID + ":" + provider)
}

// SaveConnectorConfig implements kycd.IngestionStore.
func (db *DB) SaveConnectorConfig(ctx context.Context, c *kycd.ConnectorConfig, change kycd.Change) error {
	sealed, err := db.sealJSON(ctx, c.TenantID, connectorData{BaseURL: c.BaseURL, AutoIngest: c.AutoIngest, Integrations: c.Integrations,
		AppToken: c.AppToken, Secret: c.Secret, WebhookSecret: c.WebhookSecret}, connectorAD(c.TenantID, c.Provider))
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		c.UpdatedAt = tx.Now()
		// One statement: the first configurations of a provider saved at
		// the same time replace each other in the order they commit
		// (a read, then an insert, broke the primary key on PostgreSQL).
		if err := tx.queryRow(`INSERT INTO connector_configs (tenant_id, provider, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, provider) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
			RETURNING created_at`, c.TenantID, c.Provider, sealed, fmtTime(tx.Now()), fmtTime(c.UpdatedAt)).Scan(timeCol{&c.CreatedAt}); err != nil {
			return err
		}
		return tx.record(c.TenantID, change)
	})
}

// FindConnectorConfig implements kycd.IngestionStore.
func (db *DB) FindConnectorConfig(ctx context.Context, tenantID, provider string) (*kycd.ConnectorConfig, error) {
	var (
		sealed []byte
		c      = &kycd.ConnectorConfig{TenantID: tenantID, Provider: provider}
	)
	err := db.readRow(ctx, `SELECT data, created_at, updated_at FROM connector_configs WHERE tenant_id = ? AND provider = ?`,
		tenantID, provider).Scan(&sealed, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("provider-config")
	} else if err != nil {
		return nil, err
	}
	var d connectorData
	if err := db.openJSON(ctx, tenantID, sealed, connectorAD(tenantID, provider), &d); err != nil {
		return nil, err
	}
	c.BaseURL, c.AutoIngest, c.Integrations, c.AppToken, c.Secret, c.WebhookSecret = d.BaseURL, d.AutoIngest, d.Integrations, d.AppToken, d.Secret, d.WebhookSecret
	return c, nil
}

// SaveIngestedFiles implements kycd.IngestionStore: it records, in one
// transaction, files whose content an ingestion stored (IDs and BlobKeys
// chosen by the caller, so a retried ingestion finds them). A file
// recorded before is left as it is.
func (db *DB) SaveIngestedFiles(ctx context.Context, files []*kycd.File, ingested func(fileIDs []string) kycd.Change) error {
	if len(files) == 0 {
		return nil
	}
	err := db.Update(ctx, func(tx *Tx) error {
		now := tx.Now()
		var ids []string
		for _, f := range files {
			f.Status, f.CreatedAt, f.UploadedAt, f.UploadExpiresAt = kycd.FileUploaded, now, &now, now
			res, err := tx.exec(`INSERT INTO files (id, tenant_id, user_id, category, content_type, status, size, sha256, blob_key, upload_expires_at, created_at, uploaded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				f.ID, f.TenantID, f.UserID, f.Category, f.ContentType, f.Status, f.Size, f.SHA256, f.BlobKey,
				fmtTime(f.UploadExpiresAt), fmtTime(f.CreatedAt), fmtTime(now))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				ids = append(ids, f.ID)
			}
		}
		if len(ids) == 0 {
			return errNothingToDo
		}
		return tx.record(files[0].TenantID, ingested(ids))
	})
	if errors.Is(err, errNothingToDo) {
		return nil
	}
	return err
}

// SubmissionApplied implements kycd.ProcessStore.
func (db *DB) SubmissionApplied(ctx context.Context, tenantID, key string) (bool, error) {
	var n int
	err := db.readRow(ctx, `SELECT count(*) FROM kyc_submissions WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&n)
	return n > 0, err
}

// recordSubmission records a submission key; a second time is EAlreadyApplied.
func (tx *Tx) recordSubmission(tenantID, userID, key string) error {
	_, err := tx.exec(`INSERT INTO kyc_submissions (tenant_id, key, user_id, created_at) VALUES (?, ?, ?, ?)`, tenantID, key, userID, fmtTime(tx.Now()))
	if tx.db.dialect.isUniqueViolation(err) {
		return kycd.Errorf(kycd.EAlreadyApplied, "The submission was applied already")
	}
	return err
}

func providerEventAD(id string) []byte { return []byte("provider_events.note:" + id) }

// RecordProviderEvent implements kycd.ProviderEventStore.
func (db *DB) RecordProviderEvent(ctx context.Context, ev *kycd.ProviderEvent, change kycd.Change) error {
	var note []byte // sealed: a reviewer's free text
	if ev.Note != "" {
		var err error
		if note, err = db.vault.Seal(ctx, ev.TenantID, []byte(ev.Note), providerEventAD(ev.ID)); err != nil {
			return err
		}
	}
	return db.Update(ctx, func(tx *Tx) error {
		ev.ReceivedAt = tx.Now()
		_, err := tx.exec(`INSERT INTO provider_events (id, tenant_id, provider, dedupe_key, type, ref, integration, external_user_id, outcome, level, note, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.ID, ev.TenantID, ev.Provider, ev.Key, ev.Type, ev.Ref, ev.Integration, ev.ExternalUserID, ev.Outcome, ev.Level, note, fmtTime(ev.ReceivedAt))
		if tx.db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EAlreadyApplied, "The event was received before")
		} else if err != nil {
			return err
		}
		return tx.record(ev.TenantID, change)
	})
}

// FindProviderEvent implements kycd.ProviderEventStore.
func (db *DB) FindProviderEvent(ctx context.Context, tenantID, id string) (*kycd.ProviderEvent, error) {
	var (
		ev   kycd.ProviderEvent
		note []byte
	)
	err := db.readRow(ctx, `SELECT id, tenant_id, provider, dedupe_key, type, ref, integration, external_user_id, outcome, level, note, received_at, handled_at
		FROM provider_events WHERE id = ? AND tenant_id = ?`, id, tenantID).Scan(&ev.ID, &ev.TenantID, &ev.Provider, &ev.Key, &ev.Type, &ev.Ref,
		&ev.Integration, &ev.ExternalUserID, &ev.Outcome, &ev.Level, &note, timeCol{&ev.ReceivedAt}, timePtrCol{&ev.HandledAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("provider-event")
	} else if err != nil {
		return nil, err
	}
	if len(note) > 0 {
		raw, err := db.vault.Open(ctx, ev.TenantID, note, providerEventAD(ev.ID))
		if err != nil {
			return nil, err
		}
		ev.Note = string(raw)
	}
	return &ev, nil
}

// MarkProviderEventHandled implements kycd.ProviderEventStore.
func (db *DB) MarkProviderEventHandled(ctx context.Context, tenantID, id, action string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.markEventHandled(tenantID, id, action); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// markEventHandled marks an event handled once: EAlreadyApplied after.
func (tx *Tx) markEventHandled(tenantID, id, action string) error {
	if err := tx.execOne(kycd.Errorf(kycd.EAlreadyApplied, "The event was handled before"), `UPDATE provider_events SET handled_at = ?, action = ? WHERE id = ? AND tenant_id = ? AND handled_at IS NULL`,
		fmtTime(tx.Now()), action, id, tenantID); err != nil {
		return err
	}
	return nil
}

// SettleIngestionFlags settles the failed flag of the ingestions migration
// 0023 marked unknown (finished before the flag existed: whether one failed
// is in its sealed result), in batches, and returns how many it settled.
// It needs the vault (run it after SetVault); nodes that run it at once
// settle each ingestion to the same value.
func (db *DB) SettleIngestionFlags(ctx context.Context) (int, error) {
	settled := 0
	for {
		rows, err := db.readRows(ctx, `SELECT `+ingestionColumns+` FROM ingestions WHERE failed = -1 ORDER BY id LIMIT 500`)
		if err != nil {
			return settled, err
		}
		batch, err := db.scanIngestions(ctx, rows)
		if err != nil {
			return settled, err
		}
		if len(batch) == 0 {
			return settled, nil
		}
		// A derived column filled in, not a change of state: no audit
		// entry, no event (as Vacuum).
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return settled, err
		}
		for _, in := range batch {
			if _, err := tx.ExecContext(ctx, db.q(`UPDATE ingestions SET failed = ? WHERE id = ? AND failed = -1`), boolInt(in.Failed()), in.ID); err != nil {
				return settled, errors.Join(err, tx.Rollback())
			}
		}
		if err := tx.Commit(); err != nil {
			return settled, err
		}
		settled += len(batch)
	}
}
