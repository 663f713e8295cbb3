-- The console's user file, audit trail and reviewer admin: when a reviewer
-- last signed in and whether an admin disabled them; the audit trail read
-- by entity (a user's timeline) and by actor (what a person did or viewed),
-- newest first.
ALTER TABLE reviewers ADD COLUMN last_sign_in_at TEXT;
ALTER TABLE reviewers ADD COLUMN disabled_at TEXT;
CREATE INDEX audit_entries_entity ON audit_entries (tenant_id, entity_id, seq);
CREATE INDEX audit_entries_actor ON audit_entries (tenant_id, actor, seq);
