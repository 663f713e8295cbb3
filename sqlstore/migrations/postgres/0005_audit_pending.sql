-- Audit entries are written with the change they record, here, and chained
-- onto their tenant's audit chain (audit_entries) shortly after, in commit
-- order, by the chainer: changes of one tenant no longer queue for the head
-- of its chain. Readers chain what is pending before they read. The table
-- stays small (entries wait about a second), so it needs no index.
CREATE TABLE audit_pending (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    details     TEXT NOT NULL
);
