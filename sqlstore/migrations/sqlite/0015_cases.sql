-- Cases: questions about a user that a person decides (screening matches).
-- Type, status, outcome and times stay queryable; what the case holds about
-- the user (the screened data, candidates, history, reasons) is sealed.
CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    type       TEXT NOT NULL,
    status     TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT '',
    data       BLOB NOT NULL,
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at  TEXT
);
CREATE INDEX cases_queue ON cases (tenant_id, status, type, id);
CREATE INDEX cases_user ON cases (tenant_id, user_id, id);
-- What is known of each (user, listing) pair: in an open case, confirmed or
-- cleared, for which content of the listing and which screened data (a
-- keyed digest, no personal data).
CREATE TABLE screening_hits (
    tenant_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    source         TEXT NOT NULL,
    entry_id       TEXT NOT NULL,
    entry_digest   TEXT NOT NULL,
    subject_digest TEXT NOT NULL,
    status         TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, source, entry_id)
);
CREATE INDEX screening_hits_entry ON screening_hits (source, entry_id);
