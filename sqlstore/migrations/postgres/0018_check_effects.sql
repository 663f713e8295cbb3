-- What a passed check came to in each Core KYC process it feeds (JSON by
-- process code: applied, deferred until the process accepts it, or a
-- conflict with its reasons). Statuses and codes only: not personal.
ALTER TABLE checks ADD COLUMN effects TEXT NOT NULL DEFAULT '{}';
