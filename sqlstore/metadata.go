package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kycd/kycd"
)

var _ kycd.MetadataStore = (*DB)(nil)

// FindMetadata implements kycd.MetadataStore.
func (db *DB) FindMetadata(ctx context.Context, tenantID, userID, entity, id string) (map[string]any, error) {
	switch entity {
	case kycd.MetadataUsers:
		u, err := db.FindUserByID(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		return u.Metadata, nil
	case kycd.MetadataFiles:
		if _, err := db.FindUserByID(ctx, tenantID, userID); err != nil {
			return nil, err
		}
		f, err := db.FindFileByID(ctx, kycd.FileKey{TenantID: tenantID, UserID: userID, ID: id})
		if err != nil {
			return nil, err
		}
		return f.Metadata, nil
	}
	return nil, kycd.NotFound(entity)
}

// ChangeMetadata implements kycd.MetadataStore. The entity's row is read
// and written in one transaction (locked on PostgreSQL; SQLite has one
// writer), so concurrent changes apply one after the other.
func (db *DB) ChangeMetadata(ctx context.Context, tenantID, userID, entity, id string, edit func(old map[string]any) (map[string]any, error), changed func(m map[string]any) kycd.Change) error {
	switch entity {
	case kycd.MetadataUsers:
		return db.Update(ctx, func(tx *Tx) error {
			var r userRow
			err := tx.queryRow(`SELECT id, tenant_id, type, pii, terms_of_service, created_at, updated_at
				FROM users WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`+db.dialect.forUpdate(), id, tenantID).
				Scan(&r.id, &r.tenantID, &r.typ, &r.sealed, &r.terms, timeCol{&r.created}, timeCol{&r.updated})
			if errors.Is(err, sql.ErrNoRows) {
				return kycd.NotFound("user")
			} else if err != nil {
				return err
			}
			u, err := db.openUser(tx.ctx, &r)
			if err != nil {
				return err
			}
			if u.Metadata, err = edit(u.Metadata); err != nil {
				return err
			}
			su, err := db.sealUser(tx.ctx, u)
			if err != nil {
				return err
			}
			if err := tx.updateUser(u, su); err != nil {
				return err
			}
			return tx.record(tenantID, changed(u.Metadata))
		})
	case kycd.MetadataFiles:
		return db.Update(ctx, func(tx *Tx) error {
			if err := tx.requireUser(tenantID, userID); err != nil {
				return err
			}
			var sealed []byte
			err := tx.queryRow(`SELECT metadata FROM files WHERE id = ? AND tenant_id = ? AND user_id = ?`+db.dialect.forUpdate(), id, tenantID, userID).Scan(&sealed)
			if errors.Is(err, sql.ErrNoRows) {
				return kycd.NotFound("file")
			} else if err != nil {
				return err
			}
			var old map[string]any
			if len(sealed) > 0 {
				if err := db.openJSON(tx.ctx, tenantID, sealed, fileMetaAD(id), &old); err != nil {
					return err
				}
			}
			m, err := edit(old)
			if err != nil {
				return err
			}
			var meta any
			if len(m) > 0 {
				sealed, err := db.sealJSON(tx.ctx, tenantID, m, fileMetaAD(id))
				if err != nil {
					return err
				}
				meta = sealed
			}
			if _, err := tx.exec(`UPDATE files SET metadata = ? WHERE id = ? AND tenant_id = ?`, meta, id, tenantID); err != nil {
				return err
			}
			return tx.record(tenantID, changed(m))
		})
	}
	return kycd.NotFound(entity)
}
