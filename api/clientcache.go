package api

import (
	"context"
	"sync"
	"time"

	"github.com/kycd/kycd"
)

// clientCache remembers clients for a short time so that authenticating a
// request does not read the client's row every time. A revocation (made by
// any node or by the command line) therefore takes effect within ttl; a ttl
// of zero reads the row on every request.
type clientCache struct {
	ttl     time.Duration
	clock   kycd.Clock
	clients kycd.ClientService
	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c  *kycd.Client
	at time.Time
}

func newClientCache(clients kycd.ClientService, ttl time.Duration, clock kycd.Clock) *clientCache {
	return &clientCache{ttl: ttl, clock: clock, clients: clients, entries: map[string]cachedClient{}}
}

// find returns a client, from the cache while it is fresh.
func (cc *clientCache) find(ctx context.Context, id string) (*kycd.Client, error) {
	if cc.ttl <= 0 {
		return cc.clients.FindClientByID(ctx, id)
	}
	now := cc.clock.Now()
	cc.mu.Lock()
	e, ok := cc.entries[id]
	cc.mu.Unlock()
	if ok && now.Sub(e.at) < cc.ttl {
		return e.c, nil
	}
	c, err := cc.clients.FindClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if len(cc.entries) > 10_000 {
		clear(cc.entries)
	}
	cc.entries[id] = cachedClient{c: c, at: now}
	cc.mu.Unlock()
	return c, nil
}
