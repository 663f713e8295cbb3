package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/kycd/kycd"
)

var _ kycd.TenantService = (*DB)(nil)

// CreateTenant implements kycd.TenantService.
func (db *DB) CreateTenant(ctx context.Context, t *kycd.Tenant, change kycd.Change) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || utf8.RuneCountInString(t.Name) > 100 {
		return kycd.Invalid("body", kycd.Violation{Property: "name", Rule: "length", RuleParams: map[string]any{"min": 1, "max": 100}})
	}
	if !db.hasVault() {
		return errors.New("sqlstore: no vault configured")
	}
	keys, err := db.vault.NewTenantKeys(t.ID)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.Now()
		_, err := tx.exec(`INSERT INTO tenants (id, name, data_keys, created_at) VALUES (?, ?, ?, ?)`, t.ID, t.Name, keys, fmtTime(t.CreatedAt))
		if db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EConflict, "A tenant named %q exists already", t.Name)
		} else if err != nil {
			return err
		}
		return tx.record(t.ID, change)
	})
}

// FindTenantByID implements kycd.TenantService.
func (db *DB) FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error) {
	return db.findTenant(ctx, `SELECT id, name, settings, created_at FROM tenants WHERE id = ?`, id)
}

// FindTenantByName implements kycd.TenantService.
func (db *DB) FindTenantByName(ctx context.Context, name string) (*kycd.Tenant, error) {
	return db.findTenant(ctx, `SELECT id, name, settings, created_at FROM tenants WHERE name = ?`, name)
}

func (db *DB) findTenant(ctx context.Context, query, arg string) (*kycd.Tenant, error) {
	var (
		t        kycd.Tenant
		settings string
	)
	err := db.readRow(ctx, query, arg).Scan(&t.ID, &t.Name, &settings, timeCol{&t.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("tenant")
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, err
	}
	return &t, nil
}

// UpdateTenantSettings implements kycd.TenantService.
func (db *DB) UpdateTenantSettings(ctx context.Context, id string, settings kycd.TenantSettings, change kycd.Change) error {
	raw, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.NotFound("tenant"), `UPDATE tenants SET settings = ? WHERE id = ?`, string(raw), id); err != nil {
			return err
		}
		return tx.record(id, change)
	})
}

// FindTenants implements kycd.TenantService.
func (db *DB) FindTenants(ctx context.Context) ([]*kycd.Tenant, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, settings, created_at FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*kycd.Tenant{}
	for rows.Next() {
		var (
			t        kycd.Tenant
			settings string
		)
		if err := rows.Scan(&t.ID, &t.Name, &settings, timeCol{&t.CreatedAt}); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// FindTenantKeys implements kycd.TenantKeyStore.
func (db *DB) FindTenantKeys(ctx context.Context, tenantID string) ([]byte, error) {
	var keys []byte
	err := db.read.QueryRowContext(ctx, db.q(`SELECT data_keys FROM tenants WHERE id = ?`), tenantID).Scan(&keys)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("tenant")
	}
	return keys, err
}

// FindSystemKey implements kycd.SystemKeyStore.
func (db *DB) FindSystemKey(ctx context.Context, name string) ([]byte, error) {
	var w []byte
	err := db.write.QueryRowContext(ctx, db.q(`SELECT wrapped FROM system_keys WHERE name = ?`), name).Scan(&w)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("system key")
	}
	return w, err
}

// CreateSystemKey implements kycd.SystemKeyStore. System keys are not tenant
// data, so their creation is not on any tenant's audit chain.
func (db *DB) CreateSystemKey(ctx context.Context, name string, wrapped []byte) ([]byte, error) {
	_, err := db.write.ExecContext(ctx, db.q(`INSERT INTO system_keys (name, wrapped, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`), name, wrapped, fmtTime(db.now()))
	if err != nil {
		return nil, err
	}
	return db.FindSystemKey(ctx, name)
}

// StoredKeys are the wrapped keys the database holds: each tenant's data
// keys by tenant id and kycd's system keys by name.
type StoredKeys struct {
	Tenants map[string][]byte
	System  map[string][]byte
}

// FindStoredKeys reads every wrapped key (to rewrap them under a new master
// key, or to make sure none needs an earlier one).
func (db *DB) FindStoredKeys(ctx context.Context) (*StoredKeys, error) {
	out := &StoredKeys{Tenants: map[string][]byte{}, System: map[string][]byte{}}
	for _, q := range []struct {
		query string
		into  map[string][]byte
	}{{`SELECT id, data_keys FROM tenants`, out.Tenants}, {`SELECT name, wrapped FROM system_keys`, out.System}} {
		rows, err := db.write.QueryContext(ctx, q.query)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				name    string
				wrapped []byte
			)
			if err := rows.Scan(&name, &wrapped); err != nil {
				rows.Close()
				return nil, err
			}
			q.into[name] = wrapped
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReplaceStoredKeys stores rewrapped keys (the same keys, wrapped under
// another master key) in one transaction. Each tenant's trail records the
// change rewrapped returns for it (kycd.TenantKeysRewrapped).
func (db *DB) ReplaceStoredKeys(ctx context.Context, k *StoredKeys, rewrapped func(tenantID string) kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		tx.noAudit() // system keys are no tenant's; each tenant's rewrap is audited below
		for name, wrapped := range k.System {
			if err := tx.execOne(kycd.NotFound("system key"), `UPDATE system_keys SET wrapped = ? WHERE name = ?`, wrapped, name); err != nil {
				return err
			}
		}
		for id, wrapped := range k.Tenants {
			if err := tx.execOne(kycd.NotFound("tenant"), `UPDATE tenants SET data_keys = ? WHERE id = ?`, wrapped, id); err != nil {
				return err
			}
			if err := tx.record(id, rewrapped(id)); err != nil {
				return err
			}
		}
		return nil
	})
}
