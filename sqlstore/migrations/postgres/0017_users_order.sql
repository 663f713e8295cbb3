-- Live users in (tenant, id) order: the pages a re-screening plans its
-- batches from and reads each batch's users with, searched by position
-- ((tenant_id, id) > (?, ?)) instead of sorting every user for each page.
CREATE INDEX users_live_order ON users (tenant_id, id) WHERE deleted_at IS NULL;
