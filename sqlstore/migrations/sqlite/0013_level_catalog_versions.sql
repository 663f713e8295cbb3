-- A tenant's levels catalog is kept in versions: replacing it adds one, and
-- an application is judged against the catalog it was created under
-- (catalog: "builtin:<N>" or "tenant:<N>"; "" for applications created
-- before this migration, which follow the tenant's current catalog).
CREATE TABLE kyc_level_catalog_versions (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    version    INTEGER NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
INSERT INTO kyc_level_catalog_versions (tenant_id, version, data, created_at)
    SELECT tenant_id, 1, data, updated_at FROM kyc_level_catalogs;
DROP TABLE kyc_level_catalogs;
ALTER TABLE kyc_applications ADD COLUMN catalog TEXT NOT NULL DEFAULT '';
