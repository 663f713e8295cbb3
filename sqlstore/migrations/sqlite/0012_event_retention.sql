-- Events older than the retention period (--event-retention) are removed
-- with their deliveries once delivered or given up on: found by age.
CREATE INDEX outbox_events_created ON outbox_events (created_at);
