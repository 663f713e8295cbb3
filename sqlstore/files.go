package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kycd/kycd"
)

var _ kycd.FileStore = (*DB)(nil)

func fileMetaAD(id string) []byte { return []byte("files.metadata:" + id) }

// CreateFile implements kycd.FileStore.
func (db *DB) CreateFile(ctx context.Context, f *kycd.File, change kycd.Change) error {
	var meta any
	if len(f.Metadata) > 0 {
		sealed, err := db.sealJSON(ctx, f.TenantID, f.Metadata, fileMetaAD(f.ID))
		if err != nil {
			return err
		}
		meta = sealed
	}
	return db.Update(ctx, func(tx *Tx) error {
		f.CreatedAt = tx.Now()
		if err := tx.requireUser(f.TenantID, f.UserID); err != nil {
			return err
		}
		var pending int
		if err := tx.queryRow(`SELECT count(*) FROM files WHERE tenant_id = ? AND user_id = ? AND status = ? AND upload_expires_at > ?`,
			f.TenantID, f.UserID, kycd.FilePending, fmtTime(f.CreatedAt)).Scan(&pending); err != nil {
			return err
		}
		if pending >= kycd.MaxPendingFiles {
			return &kycd.Error{Code: kycd.EMaxFilesLimitExceeded, Message: "The maximum number of allowed files has been exceeded"}
		}
		if _, err := tx.exec(`INSERT INTO files (id, tenant_id, user_id, category, content_type, status, metadata, upload_expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.TenantID, f.UserID, f.Category, f.ContentType, f.Status, meta, fmtTime(f.UploadExpiresAt), fmtTime(f.CreatedAt)); err != nil {
			return err
		}
		return tx.record(f.TenantID, change)
	})
}

// FindFileByID implements kycd.FileStore.
func (db *DB) FindFileByID(ctx context.Context, k kycd.FileKey) (*kycd.File, error) {
	tenantID := k.TenantID
	query, args := `SELECT id, tenant_id, user_id, category, content_type, status, size, sha256, blob_key, rejection, metadata, upload_expires_at, created_at, uploaded_at
		FROM files WHERE id = ? AND tenant_id = ?`, []any{k.ID, tenantID}
	if k.UserID != "" {
		query += ` AND user_id = ?`
		args = append(args, k.UserID)
	}
	var (
		f    kycd.File
		meta []byte
	)
	err := db.readRow(ctx, query, args...).Scan(&f.ID, &f.TenantID, &f.UserID, &f.Category, &f.ContentType, &f.Status,
		&f.Size, &f.SHA256, &f.BlobKey, &f.Rejection, &meta, timeCol{&f.UploadExpiresAt}, timeCol{&f.CreatedAt}, timePtrCol{&f.UploadedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("file")
	} else if err != nil {
		return nil, err
	}
	if len(meta) > 0 {
		if err := db.openJSON(ctx, tenantID, meta, fileMetaAD(f.ID), &f.Metadata); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

// FindFiles implements kycd.FileStore.
func (db *DB) FindFiles(ctx context.Context, u kycd.UserRef) ([]*kycd.File, error) {
	tenantID, userID := u.TenantID, u.UserID
	rows, err := db.readRows(ctx, `SELECT id, tenant_id, user_id, category, content_type, status, size, sha256, blob_key, rejection, upload_expires_at, created_at, uploaded_at
		FROM files WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`, tenantID, userID)
	list, err := scanAll(rows, err, func(f *kycd.File) []any {
		return []any{&f.ID, &f.TenantID, &f.UserID, &f.Category, &f.ContentType, &f.Status, &f.Size, &f.SHA256, &f.BlobKey, &f.Rejection,
			timeCol{&f.UploadExpiresAt}, timeCol{&f.CreatedAt}, timePtrCol{&f.UploadedAt}}
	})
	return pointers(list), err
}

// MarkFileUploaded implements kycd.FileStore.
func (db *DB) MarkFileUploaded(ctx context.Context, tenantID, id string, size int64, sha256, blobKey string, c kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		var status string
		err := tx.queryRow(`SELECT status FROM files WHERE id = ? AND tenant_id = ?`+db.dialect.forUpdate(), id, tenantID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return kycd.NotFound("file")
		} else if err != nil {
			return err
		}
		if status != kycd.FilePending {
			return kycd.Errorf(kycd.EFileAlreadyUploaded, "The file was already uploaded")
		}
		if _, err := tx.exec(`UPDATE files SET status = ?, size = ?, sha256 = ?, blob_key = ?, rejection = '', uploaded_at = ? WHERE id = ?`,
			kycd.FileUploaded, size, sha256, blobKey, fmtTime(tx.Now()), id); err != nil {
			return err
		}
		return tx.record(tenantID, c)
	})
}

// RejectFileUpload implements kycd.FileStore.
func (db *DB) RejectFileUpload(ctx context.Context, tenantID, id, code string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.NotFound("file"), `UPDATE files SET rejection = ? WHERE id = ? AND tenant_id = ? AND status = ?`, code, id, tenantID, kycd.FilePending); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// DeleteExpiredPendingFiles implements kycd.FileStore. Each removal is
// recorded on its tenant's chain.
func (db *DB) DeleteExpiredPendingFiles(ctx context.Context, before time.Time, expired func(fileID string) kycd.Change) (int, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT id, tenant_id FROM files WHERE status = ? AND upload_expires_at < ? ORDER BY upload_expires_at LIMIT 500`),
		kycd.FilePending, fmtTime(before))
	if err != nil {
		return 0, err
	}
	type ref struct{ id, tenant string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.id, &r.tenant); err != nil {
			rows.Close()
			return 0, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		err := db.Update(ctx, func(tx *Tx) error {
			// None deleted: uploaded meanwhile.
			if err := tx.execOne(errNothingToDo, `DELETE FROM files WHERE id = ? AND status = ?`, r.id, kycd.FilePending); err != nil {
				return err
			}
			return tx.record(r.tenant, expired(r.id))
		})
		switch {
		case errors.Is(err, errNothingToDo):
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}
