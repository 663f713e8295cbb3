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
	// CreateClient stores a client whose ID and SecretHash are already set.
	// Returns ENotFound ("tenant") when the tenant does not exist.
	CreateClient(ctx context.Context, c *Client) error
	// FindClientByID returns ENotFound ("client") when there is none.
	FindClientByID(ctx context.Context, id string) (*Client, error)
	// FindClients lists clients, oldest first.
	FindClients(ctx context.Context, f ClientFilter) ([]*Client, error)
	// RevokeClient revokes a client: every token it holds stops working.
	// Returns ENotFound ("client"); revoking twice is not an error.
	RevokeClient(ctx context.Context, id string) error
}
