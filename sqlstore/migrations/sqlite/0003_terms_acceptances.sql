-- Which terms of service each user accepted, when, and the end-user context
-- of the acceptance (encrypted: it is the consent's evidence).
CREATE TABLE terms_acceptances (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    code        TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    evidence    BLOB NOT NULL,
    PRIMARY KEY (user_id, code)
);
