-- Screening lists (system-wide: every tenant screens against them). Each
-- import that changes a source adds a version with its delta; the current
-- listings are kept whole. Lists are public data: nothing here is sealed.
CREATE TABLE screening_lists (
    source      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    format      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    entries     INTEGER NOT NULL,
    names       INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    changed     INTEGER NOT NULL,
    removed     INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (source, version)
);
-- The current listings; version is the one that last added or changed each.
CREATE TABLE screening_entries (
    source   TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    digest   TEXT NOT NULL,
    data     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (source, entry_id)
);
-- The delta of every version: each listing added, changed or removed.
CREATE TABLE screening_list_changes (
    source   TEXT NOT NULL,
    version  INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (source, version, entry_id)
);
