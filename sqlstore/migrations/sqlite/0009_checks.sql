-- Externally performed checks (the Upvest-compatible checks surface). Type,
-- status and times stay queryable; what the partner sent is personal and
-- sealed in data.
CREATE TABLE checks (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id),
    type             TEXT NOT NULL,
    status           TEXT NOT NULL,
    confirmed_at     TEXT NOT NULL,
    data             BLOB NOT NULL,
    reasons          TEXT NOT NULL DEFAULT '[]',
    evidence_file_id TEXT NOT NULL DEFAULT '',
    supersedes       TEXT NOT NULL DEFAULT '',
    superseded_by    TEXT NOT NULL DEFAULT '',
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    decided_at       TEXT
);
CREATE INDEX checks_user ON checks (tenant_id, user_id, id);
