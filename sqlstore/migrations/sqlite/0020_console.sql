-- The back-office console: the people who sign in (reviewers), their
-- sessions (only a hash of the cookie's token), and who took each case.
CREATE TABLE reviewers (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   BLOB,
    totp_step     BIGINT NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX reviewers_tenant ON reviewers (tenant_id, email);
CREATE TABLE reviewer_sessions (
    token_hash   TEXT PRIMARY KEY,
    reviewer_id  TEXT NOT NULL REFERENCES reviewers (id),
    tenant_id    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX reviewer_sessions_reviewer ON reviewer_sessions (reviewer_id);
ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_assignee ON cases (tenant_id, status, type, assignee, id);
