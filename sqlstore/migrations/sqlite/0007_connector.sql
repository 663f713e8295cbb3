-- KYC Connector ingestions. Status, provider and times stay queryable; the
-- parameters, results and worker progress are personal and sealed in data.
CREATE TABLE ingestions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    provider    TEXT NOT NULL,
    status      TEXT NOT NULL,
    data        BLOB NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    -- source_key makes a creation idempotent (a bulk backfill run again).
    source_key  TEXT
);
CREATE INDEX ingestions_user ON ingestions (tenant_id, user_id, provider, id);
CREATE UNIQUE INDEX ingestions_source ON ingestions (tenant_id, provider, source_key);

-- Each tenant's configuration of a provider; secrets sealed in data.
CREATE TABLE connector_configs (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    provider   TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);

-- Keys of submissions into the KYC processes that must apply at most once
-- (an ingestion's submission of a process, retried after a crash).
CREATE TABLE kyc_submissions (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Webhooks from providers, recorded once per dedupe key before a job acts
-- on them. Only what kycd acts on is kept (no personal data).
CREATE TABLE provider_events (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    provider         TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL,
    type             TEXT NOT NULL,
    ref              TEXT NOT NULL,
    integration      TEXT NOT NULL DEFAULT '',
    external_user_id TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '',
    received_at      TEXT NOT NULL,
    handled_at       TEXT,
    action           TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX provider_events_key ON provider_events (tenant_id, provider, dedupe_key);
