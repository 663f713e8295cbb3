-- Endpoints may take Upvest-envelope events bundled, several per request
-- ({"payload": [...]}, ordered by created_at): the delivery that sends a
-- bundle claims the others (bundled_into names it) and records its
-- attempts on all of them.
ALTER TABLE webhook_endpoints ADD COLUMN bundle INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN bundled_into TEXT NOT NULL DEFAULT '';
CREATE INDEX webhook_deliveries_bundle ON webhook_deliveries (tenant_id, bundled_into);
