package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/kycd/kycd"
)

var _ kycd.ClientService = (*DB)(nil)

const clientColumns = `id, tenant_id, name, secret_hash, scopes, created_at, revoked_at`

// CreateClient implements kycd.ClientService.
func (db *DB) CreateClient(ctx context.Context, c *kycd.Client, change kycd.Change) error {
	if strings.TrimSpace(c.Name) == "" {
		return kycd.Invalid("body", kycd.Violation{Property: "name", Rule: "required"})
	}
	return db.Update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM tenants WHERE id = ?`, c.TenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return kycd.NotFound("tenant")
		}
		c.CreatedAt = tx.Now()
		if _, err := tx.exec(`INSERT INTO oauth_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
			c.ID, c.TenantID, c.Name, c.SecretHash, strings.Join(c.Scopes, " "), fmtTime(c.CreatedAt)); err != nil {
			return err
		}
		return tx.record(c.TenantID, change)
	})
}

// FindClientByID implements kycd.ClientService.
func (db *DB) FindClientByID(ctx context.Context, id string) (*kycd.Client, error) {
	rows, err := db.readRows(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	cs, err := scanClients(rows)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, kycd.NotFound("client")
	}
	return cs[0], nil
}

// FindClients implements kycd.ClientService.
func (db *DB) FindClients(ctx context.Context, f kycd.ClientFilter) ([]*kycd.Client, error) {
	query, args := `SELECT `+clientColumns+` FROM oauth_clients`, []any{}
	if f.TenantID != nil {
		query += ` WHERE tenant_id = ?`
		args = append(args, *f.TenantID)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query+` ORDER BY created_at, id`), args...)
	if err != nil {
		return nil, err
	}
	return scanClients(rows)
}

func scanClients(rows *sql.Rows) ([]*kycd.Client, error) {
	defer rows.Close()
	out := []*kycd.Client{}
	for rows.Next() {
		var (
			c      kycd.Client
			scopes string
		)
		if err := rows.Scan(&c.ID, &c.TenantID, &c.Name, &c.SecretHash, &scopes, timeCol{&c.CreatedAt}, timePtrCol{&c.RevokedAt}); err != nil {
			return nil, err
		}
		c.Scopes = strings.Fields(scopes)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// RevokeClient implements kycd.ClientService.
func (db *DB) RevokeClient(ctx context.Context, id string, revoked func(repeated bool) kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		var (
			tenant string
			at     sql.NullString
		)
		err := tx.queryRow(`SELECT tenant_id, revoked_at FROM oauth_clients WHERE id = ?`+db.dialect.forUpdate(), id).Scan(&tenant, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return kycd.NotFound("client")
		} else if err != nil {
			return err
		}
		if at.Valid {
			return tx.record(tenant, revoked(true))
		}
		if _, err := tx.exec(`UPDATE oauth_clients SET revoked_at = ? WHERE id = ?`, fmtTime(tx.Now()), id); err != nil {
			return err
		}
		return tx.record(tenant, revoked(false))
	})
}
