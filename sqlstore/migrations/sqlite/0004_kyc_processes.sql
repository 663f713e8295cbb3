-- The KYC processes of each user. status, type, model, attempts and
-- retry_at are not personal and stay queryable; input, output and the form
-- instance (answers) are personal and sealed together in data.
CREATE TABLE kyc_processes (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    code       TEXT NOT NULL,
    status     TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    model      TEXT NOT NULL DEFAULT '',
    form_id    TEXT NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0,
    retry_at   TEXT,
    data       BLOB NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, code)
);
CREATE INDEX kyc_processes_tenant_status ON kyc_processes (tenant_id, code, status);

-- Identity documents linked to users, by a blind index of type, country and
-- number: one document belongs to at most one user of a tenant.
CREATE TABLE identity_documents (
    tenant_id      TEXT NOT NULL,
    document_index TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    linked_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, document_index)
);

-- One-time codes that verify emails and phones: a keyed digest to check
-- them, and the code and destination sealed (the code only until sent).
CREATE TABLE verification_codes (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    channel    TEXT NOT NULL,
    digest     TEXT NOT NULL,
    sealed     BLOB,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE UNIQUE INDEX verification_codes_user ON verification_codes (user_id, channel);
