package kycd

import (
	"context"
	"time"
)

// Client is an OAuth2 client of a tenant: a partner backend that obtains
// access tokens with the client credentials grant. Its secret is stored only
// as a slow hash.
type Client struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenantId"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	SecretHash string     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

// Revoked reports whether the client was revoked.
func (c *Client) Revoked() bool { return c.RevokedAt != nil }

// ClientFilter narrows FindClients.
type ClientFilter struct {
	TenantID *string
}

// ClientService manages OAuth2 clients.
type ClientService interface {
	// CreateClient stores a client whose ID and SecretHash are already set,
	// with its change (ClientCreated). Returns ENotFound ("tenant") when the
	// tenant does not exist.
	CreateClient(ctx context.Context, c *Client, change Change) error
	// FindClientByID returns ENotFound ("client") when there is none.
	FindClientByID(ctx context.Context, id string) (*Client, error)
	// FindClients lists clients, oldest first.
	FindClients(ctx context.Context, f ClientFilter) ([]*Client, error)
	// RevokeClient revokes a client: every token it holds stops working.
	// Returns ENotFound ("client"); revoking twice is not an error. Which
	// it was is the store's to read (under the row's lock): it records the
	// change revoked returns for it (ClientRevoked).
	RevokeClient(ctx context.Context, id string, revoked func(repeated bool) Change) error
}

// ClientCreated is the change that records a new client: its audit entry
// (its scopes; never its secret).
func ClientCreated(c *Client) Change {
	return Change{Audit: AuditRecord{Action: "client.created", EntityType: "client", EntityID: c.ID, Details: map[string]any{"scopes": c.Scopes}}}
}

// ClientRevoked is the change that records a client's revocation, or a
// revocation repeated (the client was revoked already, and stays so).
func ClientRevoked(id string, repeated bool) Change {
	action := "client.revoked"
	if repeated {
		action = "client.revoke_repeated"
	}
	return Change{Audit: AuditRecord{Action: action, EntityType: "client", EntityID: id}}
}
