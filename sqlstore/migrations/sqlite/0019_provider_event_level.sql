-- What a provider's verdict was about and said to the client: Sumsub's
-- levelName (a liveness check's level is not a KYC verification to ingest)
-- and its reviewResult.clientComment (the liveness diagnostics' client_note),
-- sealed: a reviewer's free text may name the person.
ALTER TABLE provider_events ADD COLUMN level TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_events ADD COLUMN note BLOB;
