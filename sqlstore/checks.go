package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

var _ kycd.CheckStore = (*DB)(nil)

func checkAD(id string) []byte { return []byte("checks.data:" + id) }

// CreateCheck implements kycd.CheckStore.
func (db *DB) CreateCheck(ctx context.Context, c *kycd.Check, change kycd.Change) error {
	sealed, err := db.sealJSON(ctx, c.TenantID, c.Data, checkAD(c.ID))
	if err != nil {
		return err
	}
	c.Version = 1
	return db.Update(ctx, func(tx *Tx) error {
		c.CreatedAt, c.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.requireUser(c.TenantID, c.UserID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO checks (id, tenant_id, user_id, type, status, confirmed_at, data, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.TenantID, c.UserID, c.Type, c.Status, fmtTime(c.ConfirmedAt), sealed, c.Version, fmtTime(c.CreatedAt), fmtTime(c.UpdatedAt)); err != nil {
			return err
		}
		return tx.record(c.TenantID, change)
	})
}

const checkColumns = `id, tenant_id, user_id, type, status, confirmed_at, data, reasons, evidence_file_id, superseded_by, effects, version, created_at, updated_at, decided_at`

// FindCheck implements kycd.CheckStore.
func (db *DB) FindCheck(ctx context.Context, k kycd.CheckKey) (*kycd.Check, error) {
	if _, err := uuid.Parse(k.ID); err != nil {
		return nil, kycd.NotFound("check")
	}
	query, args := `SELECT `+checkColumns+` FROM checks WHERE id = ? AND tenant_id = ?`, []any{k.ID, k.TenantID}
	if k.UserID != "" {
		query += ` AND user_id = ?`
		args = append(args, k.UserID)
	}
	list, err := db.queryChecks(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, kycd.NotFound("check")
	}
	return list[0], nil
}

// FindChecks implements kycd.CheckStore.
func (db *DB) FindChecks(ctx context.Context, u kycd.UserRef) ([]*kycd.Check, error) {
	tenantID, userID := u.TenantID, u.UserID
	return db.queryChecks(ctx, `SELECT `+checkColumns+` FROM checks WHERE tenant_id = ? AND user_id = ? ORDER BY id`, tenantID, userID)
}

// FindChecksByID implements kycd.CheckStore.
func (db *DB) FindChecksByID(ctx context.Context, tenantID string, ids []string) ([]*kycd.Check, error) {
	ids = uuids(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := anyOf(db.dialect, "id", ids)
	return db.queryChecks(ctx, `SELECT `+checkColumns+` FROM checks WHERE tenant_id = ? AND `+in, append([]any{tenantID}, args...)...)
}

func (db *DB) queryChecks(ctx context.Context, query string, args ...any) ([]*kycd.Check, error) {
	rows, err := db.readRows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*kycd.Check
	for rows.Next() {
		var (
			c                kycd.Check
			sealed           []byte
			reasons, effects string
		)
		if err := rows.Scan(&c.ID, &c.TenantID, &c.UserID, &c.Type, &c.Status, timeCol{&c.ConfirmedAt}, &sealed, &reasons, &c.EvidenceFileID,
			&c.SupersededBy, &effects, &c.Version, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, timePtrCol{&c.DecidedAt}); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(reasons), &c.Reasons); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(effects), &c.Effects); err != nil {
			return nil, err
		}
		if err := db.openJSON(ctx, c.TenantID, sealed, checkAD(c.ID), &c.Data); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// DecideCheck implements kycd.CheckStore.
func (db *DB) DecideCheck(ctx context.Context, c *kycd.Check, supersedes []string, change kycd.Change) error {
	reasons, err := json.Marshal(c.Reasons)
	if err != nil {
		return err
	}
	if c.Reasons == nil {
		reasons = []byte("[]")
	}
	effects, err := effectsJSON(c)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		now := tx.Now()
		if err := tx.execOne(kycd.Errorf(kycd.EStale, "The check changed meanwhile"), `UPDATE checks SET status = ?, reasons = ?, evidence_file_id = ?, effects = ?, version = version + 1, updated_at = ?, decided_at = ?
			WHERE id = ? AND tenant_id = ? AND version = ?`,
			c.Status, string(reasons), c.EvidenceFileID, effects, fmtTime(now), fmtTime(now), c.ID, c.TenantID, c.Version); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt, c.DecidedAt = now, &now
		// A check superseded meanwhile (by a concurrent refresh) is stale:
		// the decision is made again on what is stored now.
		for _, id := range supersedes {
			if err := tx.execOne(kycd.Errorf(kycd.EStale, "A check it supersedes changed meanwhile"), `UPDATE checks SET superseded_by = ?, version = version + 1, updated_at = ?
				WHERE id = ? AND tenant_id = ? AND user_id = ? AND superseded_by = ''`, c.ID, fmtTime(now), id, c.TenantID, c.UserID); err != nil {
				return err
			}
		}
		// So is a refresh read before another KYC check passed: the
		// checks it supersedes were read without that one, which would
		// stay live beside it. After a refresh it is the user's only live
		// passed KYC check.
		if c.Refreshes() {
			var live int
			if err := tx.queryRow(`SELECT count(*) FROM checks WHERE tenant_id = ? AND user_id = ? AND type = ? AND status = ? AND superseded_by = '' AND id <> ?`,
				c.TenantID, c.UserID, kycd.CheckKYC, kycd.CheckPassed, c.ID).Scan(&live); err != nil {
				return err
			}
			if live > 0 {
				return kycd.Errorf(kycd.EStale, "A KYC check passed meanwhile")
			}
		}
		return tx.record(c.TenantID, change)
	})
}

// effectsJSON is the stored form of a check's effects.
func effectsJSON(c *kycd.Check) (string, error) {
	if len(c.Effects) == 0 {
		return "{}", nil
	}
	raw, err := json.Marshal(c.Effects)
	return string(raw), err
}

// SaveCheckEffects implements kycd.CheckStore.
func (db *DB) SaveCheckEffects(ctx context.Context, c *kycd.Check, change kycd.Change) error {
	effects, err := effectsJSON(c)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		now := tx.Now()
		if err := tx.execOne(kycd.Errorf(kycd.EStale, "The check changed meanwhile"), `UPDATE checks SET effects = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND tenant_id = ? AND version = ?`, effects, fmtTime(now), c.ID, c.TenantID, c.Version); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = now
		return tx.record(c.TenantID, change)
	})
}
