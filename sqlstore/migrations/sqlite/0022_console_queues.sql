-- The console's queues besides screening cases: who took an application in
-- review, the failed checks, the ingestions that finished with a failed
-- process (a flag set when the ingestion is saved: whether it failed is in
-- its sealed result), and the deliveries still failing per endpoint; each
-- listed oldest first and counted through an index.
ALTER TABLE kyc_applications ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX kyc_applications_assignee ON kyc_applications (tenant_id, status, assignee, id);
CREATE INDEX checks_status ON checks (tenant_id, status, id);
CREATE INDEX checks_status_type ON checks (tenant_id, status, type, id);
ALTER TABLE ingestions ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ingestions_failed ON ingestions (tenant_id, id) WHERE failed = 1;
CREATE INDEX ingestions_failed_provider ON ingestions (tenant_id, provider, id) WHERE failed = 1;
CREATE INDEX webhook_deliveries_failing ON webhook_deliveries (tenant_id, endpoint_id, updated_at)
    WHERE status = 'failed' OR (status = 'pending' AND attempts > 0);
