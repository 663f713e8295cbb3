-- kycd foundation schema (PostgreSQL). Times are TEXT in RFC 3339 (UTC, microseconds).
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    data_keys  BYTEA NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE system_keys (
    name       TEXT PRIMARY KEY,
    wrapped    BYTEA NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE oauth_clients (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    type             TEXT NOT NULL,
    email_index      TEXT NOT NULL,
    phone_index      TEXT,
    pii              BYTEA NOT NULL,
    terms_of_service TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT,
    deletion_reason  TEXT,
    deletion_note    BYTEA
);
CREATE INDEX users_tenant ON users (tenant_id);
CREATE UNIQUE INDEX users_email ON users (tenant_id, email_index) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_phone ON users (tenant_id, phone_index) WHERE deleted_at IS NULL AND phone_index IS NOT NULL;

CREATE TABLE files (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    user_id           TEXT NOT NULL REFERENCES users (id),
    category          TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    status            TEXT NOT NULL,
    size              BIGINT NOT NULL DEFAULT 0,
    sha256            TEXT NOT NULL DEFAULT '',
    blob_key          TEXT NOT NULL DEFAULT '',
    metadata          BYTEA,
    upload_expires_at TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    uploaded_at       TEXT
);
CREATE INDEX files_tenant_user ON files (tenant_id, user_id);
CREATE INDEX files_pending ON files (status, upload_expires_at);

CREATE TABLE audit_entries (
    tenant_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE outbox_events (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    type          TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    dispatched_at TEXT
);
CREATE INDEX outbox_events_pending ON outbox_events (created_at) WHERE dispatched_at IS NULL;
