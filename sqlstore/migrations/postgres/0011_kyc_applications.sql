-- KYC level applications (the STASIS-compatible surface). Level, status and
-- times stay queryable; the attribute values, corrections and reviews are
-- personal and sealed in data.
CREATE TABLE kyc_applications (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    level_id     TEXT NOT NULL,
    status       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    submitted_at TEXT,
    decided_at   TEXT
);
CREATE INDEX kyc_applications_user ON kyc_applications (tenant_id, user_id, id);
CREATE INDEX kyc_applications_status ON kyc_applications (tenant_id, status, id);

-- Documents clients make of uploaded files, for a document attribute.
CREATE TABLE kyc_documents (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    attribute_key TEXT NOT NULL,
    file_ids      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- A tenant's own KYC levels catalog, replacing the built-in one (not personal).
CREATE TABLE kyc_level_catalogs (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
