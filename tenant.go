package kycd

import (
	"context"
	"time"
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
	// CreateTenant stores a new tenant and creates its data keys, setting
	// ID and CreatedAt. Returns EConflict when the name is taken and
	// ERequestInvalid when it is empty or too long.
	CreateTenant(ctx context.Context, t *Tenant) error
	// FindTenantByID returns ENotFound ("tenant") when there is none.
	FindTenantByID(ctx context.Context, id string) (*Tenant, error)
	// FindTenantByName returns ENotFound ("tenant") when there is none.
	FindTenantByName(ctx context.Context, name string) (*Tenant, error)
	// FindTenants lists every tenant, oldest first.
	FindTenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenantSettings replaces a tenant's settings, audited. Returns
	// ENotFound ("tenant").
	UpdateTenantSettings(ctx context.Context, id string, s TenantSettings) error
}
