-- Ingestions finished before 0022 have no failed flag: whether one failed is
-- in its sealed result, which SQL cannot read. They are marked unknown (-1)
-- here, and kycd settles each to 0 or 1 when it opens the store with its
-- vault (SettleIngestionFlags), so that the console's failed-ingestions
-- queue holds every failed ingestion, not only those saved since 0022.
UPDATE ingestions SET failed = -1 WHERE status = 'finished' AND failed = 0;
CREATE INDEX ingestions_failed_unknown ON ingestions (id) WHERE failed = -1;
