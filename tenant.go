package kycd

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Tenant is one organization using kycd: every user, file, client and audit
// entry belongs to exactly one tenant, and no call crosses tenants.
type Tenant struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Settings  TenantSettings `json:"settings"`
	CreatedAt time.Time      `json:"createdAt"`
}

// TenantSettings are how a tenant wants kycd to work for it.
type TenantSettings struct {
	// FourEyes: a case, and a KYC level application's final decision
	// (approved or rejected), are decided by two different reviewers, the
	// second confirming the first's outcome.
	FourEyes bool `json:"fourEyes"`
}

// TenantService manages tenants (an operator's concern: the kycd command).
type TenantService interface {
	// CreateTenant stores a new tenant, whose ID its change (TenantCreated)
	// chose, and creates its data keys, setting CreatedAt. Returns
	// EConflict when the name is taken and ERequestInvalid when it is empty
	// or too long.
	CreateTenant(ctx context.Context, t *Tenant, change Change) error
	// FindTenantByID returns ENotFound ("tenant") when there is none.
	FindTenantByID(ctx context.Context, id string) (*Tenant, error)
	// FindTenantByName returns ENotFound ("tenant") when there is none.
	FindTenantByName(ctx context.Context, name string) (*Tenant, error)
	// FindTenants lists every tenant, oldest first.
	FindTenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenantSettings replaces a tenant's settings with its change
	// (TenantSettingsChanged). Returns ENotFound ("tenant").
	UpdateTenantSettings(ctx context.Context, id string, s TenantSettings, change Change) error
}

// TenantCreated is the change that records a new tenant: its audit entry,
// the first of its chain. It chooses the tenant's ID when the caller has
// not (its data keys are bound to it).
func TenantCreated(t *Tenant) Change {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	return Change{Audit: AuditRecord{Action: "tenant.created", EntityType: "tenant", EntityID: t.ID}}
}

// TenantSettingsChanged is the change that records a tenant's new
// settings: its audit entry.
func TenantSettingsChanged(id string, s TenantSettings) Change {
	return Change{Audit: AuditRecord{Action: "tenant.settings-changed", EntityType: "tenant", EntityID: id, Details: map[string]any{"fourEyes": s.FourEyes}}}
}

// TenantKeysRewrapped is the change that records a tenant's data keys
// wrapped under another master key (the keys themselves, and what they
// encrypt, do not change): its audit entry.
func TenantKeysRewrapped(id string) Change {
	return Change{Audit: AuditRecord{Action: "tenant.keys-rewrapped", EntityType: "tenant", EntityID: id}}
}
