package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kycd/kycd"
)

var _ kycd.ScreeningListStore = (*DB)(nil)

const listVersionColumns = `source, version, format, digest, origin, entries, names, added, changed, removed, imported_at`

func listVersionFields(v *kycd.ListVersion) []any {
	return []any{&v.Source, &v.Version, &v.Format, &v.Digest, &v.Origin, &v.Entries, &v.Names, &v.Added, &v.Changed,
		&v.Removed, timeCol{&v.ImportedAt}}
}

// FindListVersions implements kycd.ScreeningListStore.
func (db *DB) FindListVersions(ctx context.Context) ([]*kycd.ListVersion, error) {
	rows, err := db.readRows(ctx, `SELECT `+listVersionColumns+` FROM screening_lists l
		WHERE version = (SELECT max(version) FROM screening_lists m WHERE m.source = l.source) ORDER BY source`)
	list, err := scanAll(rows, err, listVersionFields)
	return pointers(list), err
}

// FindListHistory implements kycd.ScreeningListStore.
func (db *DB) FindListHistory(ctx context.Context, source string, limit int) ([]*kycd.ListVersion, error) {
	rows, err := db.readRows(ctx, `SELECT `+listVersionColumns+` FROM screening_lists
		WHERE source = ? ORDER BY version DESC LIMIT ?`, source, limit)
	list, err := scanAll(rows, err, listVersionFields)
	return pointers(list), err
}

// FindListChanges implements kycd.ScreeningListStore.
func (db *DB) FindListChanges(ctx context.Context, source string, version int, f kycd.ListChangeFilter) ([]kycd.ListChange, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT count(*) FROM screening_lists WHERE source = ? AND version = ?`), source, version).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, kycd.NotFound("list-version")
	}
	query, args := `SELECT entry_id, kind, name FROM screening_list_changes WHERE source = ? AND version = ?`, []any{source, version}
	if f.Kind != "" {
		query, args = query+` AND kind = ?`, append(args, f.Kind)
	}
	if f.After != "" {
		query, args = query+` AND entry_id > ?`, append(args, f.After)
	}
	query += ` ORDER BY entry_id`
	if f.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, f.Limit)
	}
	rows, err := db.readRows(ctx, query, args...)
	return scanAll(rows, err,
		func(c *kycd.ListChange) []any { return []any{&c.EntryID, &c.Kind, &c.Name} })
}

// FindListDigests implements kycd.ScreeningListStore.
func (db *DB) FindListDigests(ctx context.Context, source string) (map[string]string, error) {
	type pair struct{ id, digest string }
	rows, err := db.readRows(ctx, `SELECT entry_id, digest FROM screening_entries WHERE source = ?`, source)
	list, err := scanAll(rows, err,
		func(p *pair) []any { return []any{&p.id, &p.digest} })
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(list))
	for _, p := range list {
		out[p.id] = p.digest
	}
	return out, nil
}

// FindListEntries implements kycd.ScreeningListStore.
func (db *DB) FindListEntries(ctx context.Context, f kycd.ListEntryFilter) ([]*kycd.StoredEntry, error) {
	query, args := `SELECT digest, data FROM screening_entries`, []any(nil)
	switch {
	case len(f.IDs) > 0 && f.Source == "":
		return nil, kycd.Invalid("filter", kycd.Violation{Property: "source", Rule: "required"})
	case len(f.IDs) > 0:
		in, inArgs := anyOf(db.dialect, "entry_id", f.IDs)
		query, args = query+` WHERE source = ? AND `+in, append([]any{f.Source}, inArgs...)
	case f.Source != "":
		query, args = query+` WHERE source = ?`, []any{f.Source}
	}
	type row struct {
		digest string
		data   []byte
	}
	res, err := db.read.QueryContext(ctx, db.q(query+` ORDER BY source, entry_id`), args...)
	rows, err := scanAll(res, err, func(r *row) []any { return []any{&r.digest, &r.data} })
	if err != nil {
		return nil, err
	}
	out := make([]*kycd.StoredEntry, len(rows))
	for i, r := range rows {
		e := &kycd.StoredEntry{Digest: r.digest}
		if err := json.Unmarshal(r.data, &e.ListEntry); err != nil {
			return nil, fmt.Errorf("screening entry: %w", err)
		}
		out[i] = e
	}
	return out, nil
}

// SaveListImport implements kycd.ScreeningListStore.
func (db *DB) SaveListImport(ctx context.Context, imp *kycd.ListImport) error {
	v := &imp.Version
	upserts := make([][]any, len(imp.Upserts))
	gone := slices.Clone(imp.Removed)
	for i := range imp.Upserts {
		e := &imp.Upserts[i]
		data, err := json.Marshal(&e.ListEntry)
		if err != nil {
			return err
		}
		upserts[i] = []any{v.Source, e.ID, e.Digest, string(data), int64(v.Version)}
		gone = append(gone, e.ID)
	}
	changes := make([][]any, len(imp.Changes))
	for i, c := range imp.Changes {
		changes[i] = []any{v.Source, int64(v.Version), c.EntryID, c.Kind, c.Name}
	}
	return db.Update(ctx, func(tx *Tx) error {
		v.ImportedAt = tx.Now()
		var current int
		if err := tx.queryRow(`SELECT coalesce(max(version), 0) FROM screening_lists WHERE source = ?`, v.Source).Scan(&current); err != nil {
			return err
		}
		if current != imp.Previous {
			return kycd.Errorf(kycd.EStale, "The list changed meanwhile")
		}
		// A concurrent import of the same source inserts the same version:
		// the primary key lets one of them through.
		if _, err := tx.exec(`INSERT INTO screening_lists (`+listVersionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.Source, v.Version, v.Format, v.Digest, v.Origin, v.Entries, v.Names, v.Added, v.Changed, v.Removed, fmtTime(v.ImportedAt)); err != nil {
			if db.dialect.isUniqueViolation(err) {
				return kycd.Errorf(kycd.EStale, "The list changed meanwhile")
			}
			return err
		}
		// Listings removed or replaced go, then the new copies are inserted.
		for ids := range slices.Chunk(gone, 1000) {
			in, args := anyOf(db.dialect, "entry_id", ids)
			if _, err := tx.ExecContext(tx.ctx, db.q(`DELETE FROM screening_entries WHERE source = ? AND `+in), append([]any{v.Source}, args...)...); err != nil {
				return err
			}
		}
		if len(upserts) > 0 {
			if err := tx.insertMany(`INSERT INTO screening_entries (source, entry_id, digest, data, version)`,
				[]string{"text", "text", "text", "text", "bigint"}, upserts); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			if err := tx.insertMany(`INSERT INTO screening_list_changes (source, version, entry_id, kind, name)`,
				[]string{"text", "bigint", "text", "text", "text"}, changes); err != nil {
				return err
			}
		}
		for _, j := range imp.Jobs {
			if err := tx.Enqueue(j, nil); err != nil {
				return err
			}
		}
		// Lists are no tenant's: the import is recorded in every tenant's
		// chain, since every tenant screens against it.
		tx.noAudit()
		tenants, err := scanStrings(tx.QueryContext(tx.ctx, `SELECT id FROM tenants ORDER BY id`))
		if err != nil {
			return err
		}
		for _, t := range tenants {
			if err := tx.Audit(t, imp.Action, "screening-list", v.Source, imp.Details); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertMany inserts rows (each of len(types) values) with as few
// statements as the dialect allows: on PostgreSQL one per 5,000 rows, an
// array per column through unnest (types are the columns' SQL types); on
// SQLite a row of placeholders per row, within its limit on parameters.
func (tx *Tx) insertMany(insert string, types []string, rows [][]any) error {
	if tx.db.dialect.arrayParams() {
		casts := make([]string, len(types))
		for i, t := range types {
			casts[i] = "?::" + t + "[]"
		}
		query := insert + ` SELECT * FROM unnest(` + strings.Join(casts, ", ") + `)`
		for chunk := range slices.Chunk(rows, 5000) {
			cols, err := arrayColumns(chunk)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(tx.ctx, tx.db.q(query), cols...); err != nil {
				return err
			}
		}
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ") + "), "
	per := 30000 / len(types) // SQLite's default limit is 32,766 parameters
	for chunk := range slices.Chunk(rows, per) {
		query := insert + " VALUES " + strings.TrimSuffix(strings.Repeat(row, len(chunk)), ", ")
		if _, err := tx.ExecContext(tx.ctx, query, slices.Concat(chunk...)...); err != nil {
			return err
		}
	}
	return nil
}

// pointers returns pointers to the elements of a slice.
func pointers[T any](list []T) []*T {
	out := make([]*T, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out
}
