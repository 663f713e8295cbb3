-- Why kycd last refused a direct (S3) upload of a pending file, as an error code.
ALTER TABLE files ADD COLUMN rejection TEXT NOT NULL DEFAULT '';
