package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.ApplicationStore = (*DB)(nil)

func applicationAD(id string) []byte { return []byte("kyc_applications.data:" + id) }

func (db *DB) sealApplication(ctx context.Context, a *kycd.Application) ([]byte, error) {
	return db.sealJSON(ctx, a.TenantID, a.Data, applicationAD(a.ID))
}

// CreateApplication implements kycd.ApplicationStore.
func (db *DB) CreateApplication(ctx context.Context, a *kycd.Application, change kycd.Change) error {
	a.Version = 1
	sealed, err := db.sealApplication(ctx, a)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		a.CreatedAt, a.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.requireUser(a.TenantID, a.UserID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO kyc_applications (id, tenant_id, user_id, level_id, catalog, status, data, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.TenantID, a.UserID, a.LevelID, a.Catalog, a.Status, sealed, a.Version,
			fmtTime(a.CreatedAt), fmtTime(a.UpdatedAt)); err != nil {
			return err
		}
		return tx.record(a.TenantID, change)
	})
}

const applicationColumns = `id, tenant_id, user_id, level_id, catalog, status, data, version, created_at, updated_at, submitted_at, decided_at, assignee`

// FindApplication implements kycd.ApplicationStore.
func (db *DB) FindApplication(ctx context.Context, k kycd.ApplicationKey) (*kycd.Application, error) {
	if _, err := uuid.Parse(k.ID); err != nil {
		return nil, kycd.NotFound("kyc-application")
	}
	query, args := `SELECT `+applicationColumns+` FROM kyc_applications WHERE id = ? AND tenant_id = ?`, []any{k.ID, k.TenantID}
	if k.UserID != "" {
		query += ` AND user_id = ?`
		args = append(args, k.UserID)
	}
	list, err := db.queryApplications(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("kyc-application")
	}
	return list[0], nil
}

// FindApplications implements kycd.ApplicationStore.
func (db *DB) FindApplications(ctx context.Context, u kycd.UserRef) ([]*kycd.Application, error) {
	tenantID, userID := u.TenantID, u.UserID
	return db.queryApplications(ctx, `SELECT `+applicationColumns+` FROM kyc_applications WHERE tenant_id = ? AND user_id = ? ORDER BY id`, tenantID, userID)
}

// FindApplicationsByStatus implements kycd.ApplicationStore.
func (db *DB) FindApplicationsByStatus(ctx context.Context, tenantID, status, after string, limit int) ([]*kycd.Application, error) {
	return db.queryApplications(ctx, `SELECT `+applicationColumns+` FROM kyc_applications WHERE tenant_id = ? AND status = ? AND id > ? ORDER BY id LIMIT ?`,
		tenantID, status, after, limit)
}

func (db *DB) queryApplications(ctx context.Context, query string, args ...any) ([]*kycd.Application, error) {
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kycd.Application
	for rows.Next() {
		var (
			a      kycd.Application
			sealed []byte
		)
		if err := rows.Scan(&a.ID, &a.TenantID, &a.UserID, &a.LevelID, &a.Catalog, &a.Status, &sealed, &a.Version,
			timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}, timePtrCol{&a.SubmittedAt}, timePtrCol{&a.DecidedAt}, &a.Assignee); err != nil {
			return nil, err
		}
		if err := db.openJSON(ctx, a.TenantID, sealed, applicationAD(a.ID), &a.Data); err != nil {
			return nil, err
		}
		if a.Data.Attributes == nil {
			a.Data.Attributes = map[string]*kycd.AttributeValue{}
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// SaveApplication implements kycd.ApplicationStore.
func (db *DB) SaveApplication(ctx context.Context, a *kycd.Application, usedCodes []string, change kycd.Change) error {
	sealed, err := db.sealApplication(ctx, a)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.Errorf(kycd.EStale, "The application changed meanwhile"), `UPDATE kyc_applications SET status = ?, data = ?, version = version + 1, updated_at = ?, submitted_at = ?, decided_at = ?
			WHERE id = ? AND tenant_id = ? AND version = ?`, a.Status, sealed, fmtTime(tx.Now()), fmtTimePtr(a.SubmittedAt), fmtTimePtr(a.DecidedAt),
			a.ID, a.TenantID, a.Version); err != nil {
			return err
		}
		for _, id := range usedCodes {
			if err := tx.useCode(a.TenantID, id); err != nil {
				return err
			}
		}
		a.Version++
		a.UpdatedAt = tx.Now()
		return tx.record(a.TenantID, change)
	})
}

// CreateDocument implements kycd.ApplicationStore.
func (db *DB) CreateDocument(ctx context.Context, d *kycd.KYCDocument, change kycd.Change) error {
	files, err := json.Marshal(d.FileIDs)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		d.CreatedAt = tx.Now()
		if err := tx.requireUser(d.TenantID, d.UserID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO kyc_documents (id, tenant_id, user_id, attribute_key, file_ids, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			d.ID, d.TenantID, d.UserID, d.AttributeKey, string(files), fmtTime(d.CreatedAt)); err != nil {
			return err
		}
		return tx.record(d.TenantID, change)
	})
}

// FindDocument implements kycd.ApplicationStore.
func (db *DB) FindDocument(ctx context.Context, tenantID, userID, id string) (*kycd.KYCDocument, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, kycd.NotFound("document")
	}
	d := &kycd.KYCDocument{ID: id, TenantID: tenantID, UserID: userID}
	var files string
	err := db.readRow(ctx, `SELECT attribute_key, file_ids, created_at FROM kyc_documents WHERE id = ? AND tenant_id = ? AND user_id = ?`,
		id, tenantID, userID).Scan(&d.AttributeKey, &files, timeCol{&d.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("document")
	} else if err != nil {
		return nil, err
	}
	return d, json.Unmarshal([]byte(files), &d.FileIDs)
}

// FindDocuments implements kycd.ApplicationStore.
func (db *DB) FindDocuments(ctx context.Context, u kycd.UserRef) ([]*kycd.KYCDocument, error) {
	tenantID, userID := u.TenantID, u.UserID
	type row struct {
		d     kycd.KYCDocument
		files string
	}
	rows, err := db.readRows(ctx, `SELECT id, tenant_id, user_id, attribute_key, file_ids, created_at FROM kyc_documents
		WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`, tenantID, userID)
	list, err := scanAll(rows, err, func(r *row) []any {
		return []any{&r.d.ID, &r.d.TenantID, &r.d.UserID, &r.d.AttributeKey, &r.files, timeCol{&r.d.CreatedAt}}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*kycd.KYCDocument, len(list))
	for i := range list {
		if err := json.Unmarshal([]byte(list[i].files), &list[i].d.FileIDs); err != nil {
			return nil, err
		}
		out[i] = &list[i].d
	}
	return out, nil
}

// ApplicationLevels implements kycd.ApplicationStore.
func (db *DB) ApplicationLevels(ctx context.Context, tenantID string) ([]string, error) {
	return scanStrings(db.readRows(ctx, `SELECT DISTINCT level_id FROM kyc_applications WHERE tenant_id = ? ORDER BY level_id`, tenantID))
}

// SaveLevelCatalog implements kycd.ApplicationStore. Versions are numbered
// under the one writer (SQLite) or the primary key (PostgreSQL: a racing
// save fails rather than overwrite).
func (db *DB) SaveLevelCatalog(ctx context.Context, tenantID string, raw []byte, replaced func(version int) kycd.Change) (int, error) {
	var version int
	err := db.Update(ctx, func(tx *Tx) error {
		if err := tx.queryRow(`SELECT COALESCE(MAX(version), 0) + 1 FROM kyc_level_catalog_versions WHERE tenant_id = ?`, tenantID).Scan(&version); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO kyc_level_catalog_versions (tenant_id, version, data, created_at) VALUES (?, ?, ?, ?)`,
			tenantID, version, string(raw), fmtTime(tx.Now()))
		if tx.db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EStale, "The catalog was replaced meanwhile")
		} else if err != nil {
			return err
		}
		return tx.record(tenantID, replaced(version))
	})
	return version, err
}

// FindLevelCatalog implements kycd.ApplicationStore.
func (db *DB) FindLevelCatalog(ctx context.Context, tenantID string, version int) ([]byte, int, error) {
	var raw string
	query, args := `SELECT data, version FROM kyc_level_catalog_versions WHERE tenant_id = ? ORDER BY version DESC LIMIT 1`, []any{tenantID}
	if version > 0 {
		query, args = `SELECT data, version FROM kyc_level_catalog_versions WHERE tenant_id = ? AND version = ?`, []any{tenantID, version}
	}
	err := db.readRow(ctx, query, args...).Scan(&raw, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, kycd.NotFound("catalog")
	}
	return []byte(raw), version, err
}

// IssueSignCode implements kycd.ApplicationStore.
func (db *DB) IssueSignCode(ctx context.Context, vc *kycd.VerificationCode, change kycd.Change) error {
	sealed, err := db.sealCode(ctx, vc)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.insertCode(vc, sealed); err != nil {
			return err
		}
		return tx.record(vc.TenantID, change)
	})
}
