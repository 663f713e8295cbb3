-- Webhook endpoints; the signing secrets are sealed in secrets.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    secrets         BYTEA NOT NULL,
    failing_since   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

-- One event for one endpoint, with its last attempt.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_latency_ms INTEGER NOT NULL DEFAULT 0,
    last_response   TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- The feed: each dispatched event's place, in the order dispatching
-- committed them (one counter, taken under a lock).
ALTER TABLE outbox_events ADD COLUMN seq BIGINT;
-- Insertion order, for events of one transaction (SQLite has its rowid).
ALTER TABLE outbox_events ADD COLUMN n BIGSERIAL;
CREATE UNIQUE INDEX outbox_events_feed ON outbox_events (tenant_id, seq);
-- Per-object order: the earlier events of an entity.
CREATE INDEX outbox_events_entity ON outbox_events (tenant_id, entity_type, entity_id, seq);
CREATE TABLE webhook_feed (
    id       INTEGER PRIMARY KEY,
    next_seq BIGINT NOT NULL
);
INSERT INTO webhook_feed (id, next_seq) VALUES (1, 1);
