-- When a verified result expires (customer due diligence, self-categorization),
-- so that a sweep can find the results that expired and announce it.
ALTER TABLE kyc_processes ADD COLUMN expires_at TEXT;
CREATE INDEX kyc_processes_expiry ON kyc_processes (expires_at) WHERE expires_at IS NOT NULL AND status = 'ok';
