package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kycd/kycd"
)

var _ kycd.ProcessStore = (*DB)(nil)

// processData is the sealed part of a process row.
type processData struct {
	Input  map[string]any     `json:"input,omitempty"`
	Output map[string]any     `json:"output,omitempty"`
	Form   *kycd.FormInstance `json:"form,omitempty"`
}

func processAD(userID, code string) []byte {
	return []byte("kyc_processes.data:" + userID + ":" + code)
}

// FindUserKYC implements kycd.ProcessStore: the user and its processes in
// one query. On PostgreSQL the users read at the same time share the query
// (db.loads).
func (db *DB) FindUserKYC(ctx context.Context, u kycd.UserRef) (*kycd.User, map[string]*kycd.Process, error) {
	tenantID, userID := u.TenantID, u.UserID
	l := &kycLoad{tenantID: tenantID, userID: userID}
	var err error
	if db.loads != nil {
		err = db.loads.update(ctx, l)
	} else {
		err = db.loadKYC(ctx, []*kycLoad{l})
		if err == nil {
			err = l.err
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return l.user, l.procs, nil
}

// kycLoad is a read of one user's KYC state: the user and its processes,
// or err.
type kycLoad struct {
	tenantID, userID string
	user             *kycd.User
	procs            map[string]*kycd.Process
	err              error
}

// userKYCColumns are the columns loadKYC reads: a user, and one of its
// processes or NULLs.
const userKYCColumns = `u.id, u.tenant_id, u.type, u.pii, u.terms_of_service, u.created_at, u.updated_at,
		p.code, p.status, p.type, p.model, p.attempts, p.retry_at, p.data, p.version, p.updated_at`

// loadKYC reads the users and processes of loads in one query, each load's
// outcome in its user and procs, or its err (ENotFound for a user who is not
// a live user of the tenant). The error is the query's: then no load is
// done. More than one load needs PostgreSQL (arrayParams).
func (db *DB) loadKYC(ctx context.Context, loads []*kycLoad) error {
	var (
		rows *sql.Rows
		err  error
	)
	if len(loads) == 1 {
		rows, err = db.readRows(ctx, `SELECT `+userKYCColumns+`
		FROM users u LEFT JOIN kyc_processes p ON p.user_id = u.id
		WHERE u.id = ? AND u.tenant_id = ? AND u.deleted_at IS NULL`, loads[0].userID, loads[0].tenantID)
	} else {
		ids, tenants := make([]string, len(loads)), make([]string, len(loads))
		for i, l := range loads {
			ids[i], tenants[i] = l.userID, l.tenantID
		}
		rows, err = db.readRows(ctx, `SELECT `+userKYCColumns+`
		FROM unnest(?::text[], ?::text[]) AS k(id, tenant_id) JOIN users u ON u.id = k.id AND u.tenant_id = k.tenant_id
		LEFT JOIN kyc_processes p ON p.user_id = u.id
		WHERE u.deleted_at IS NULL`, ids, tenants)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ur                     userRow
			code, status, typ, mdl sql.NullString
			updated                *time.Time // NULL: the user has no process
			attempts, version      sql.NullInt64
			r                      processRow
		)
		if err := rows.Scan(&ur.id, &ur.tenantID, &ur.typ, &ur.sealed, &ur.terms, timeCol{&ur.created}, timeCol{&ur.updated},
			&code, &status, &typ, &mdl, &attempts, timePtrCol{&r.retry}, &r.sealed, &version, timePtrCol{&updated}); err != nil {
			return err
		}
		r.code, r.status, r.typ, r.model = code.String, status.String, typ.String, mdl.String
		if updated != nil {
			r.updated = *updated
		}
		r.attempts, r.version = int(attempts.Int64), int(version.Int64)
		for _, l := range loads {
			if l.userID != ur.id || l.tenantID != ur.tenantID || l.err != nil {
				continue
			}
			if l.user == nil {
				l.procs = map[string]*kycd.Process{}
				if l.user, l.err = db.openUser(ctx, &ur); l.err != nil {
					continue
				}
			}
			if !code.Valid {
				continue // a user without processes
			}
			p, err := db.openProcess(ctx, l.tenantID, l.userID, &r)
			if err != nil {
				l.err = err
				continue
			}
			l.procs[p.Code] = p
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, l := range loads {
		if l.user == nil && l.err == nil {
			l.err = kycd.NotFound("user")
		}
	}
	return nil
}

// runLoads is the grouped reads' run (PostgreSQL): one query for the loads
// of a batch whose callers still wait.
func (db *DB) runLoads(batch []*queued[*kycLoad]) {
	loads := make([]*kycLoad, 0, len(batch))
	for _, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = err // its caller gave up before its turn
			continue
		}
		loads = append(loads, q.c)
	}
	if len(loads) == 0 {
		return
	}
	// Alone, a read ends with its caller; a shared one is not cut short by
	// one caller leaving.
	ctx := context.Background()
	if len(batch) == 1 {
		ctx = batch[0].ctx
	}
	err := db.loadKYC(ctx, loads)
	for _, q := range batch {
		if q.err == nil {
			q.err = cmp.Or(err, q.c.err)
		}
	}
}

// processRow is a process row as read, before decryption.
type processRow struct {
	code, status, typ, model string
	attempts, version        int
	updated                  time.Time
	retry                    *time.Time
	sealed                   []byte
}

func (db *DB) openProcess(ctx context.Context, tenantID, userID string, r *processRow) (*kycd.Process, error) {
	p := &kycd.Process{TenantID: tenantID, UserID: userID, Code: r.code, Status: r.status, Type: r.typ, Model: r.model,
		Attempts: r.attempts, Version: r.version, RetryAt: r.retry, UpdatedAt: r.updated}
	var d processData
	if err := db.openJSON(ctx, tenantID, r.sealed, processAD(userID, p.Code), &d); err != nil {
		return nil, fmt.Errorf("process %s: %w", p.Code, err)
	}
	p.Input, p.Output, p.Form = d.Input, d.Output, d.Form
	return p, nil
}

// FindDocumentLink implements kycd.ProcessStore.
func (db *DB) FindDocumentLink(ctx context.Context, tenantID, documentIndex string) (*kycd.DocumentLink, error) {
	var (
		l      kycd.DocumentLink
		reason sql.NullString
	)
	err := db.readRow(ctx, `SELECT d.user_id, u.deletion_reason FROM identity_documents d JOIN users u ON u.id = d.user_id
		WHERE d.tenant_id = ? AND d.document_index = ?`, tenantID, documentIndex).Scan(&l.UserID, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	l.ClosureReason = reason.String
	return &l, nil
}

// SaveProcesses implements kycd.ProcessStore.
func (db *DB) SaveProcesses(ctx context.Context, c *kycd.ProcessChange) error {
	sealed, err := db.sealProcesses(ctx, c)
	if err != nil {
		return err
	}
	var codeSealed []byte
	if c.Code != nil {
		if codeSealed, err = db.sealCode(ctx, c.Code); err != nil {
			return err
		}
	}
	var su *sealedUser
	if c.User != nil {
		if su, err = db.sealUser(ctx, c.User); err != nil {
			return err
		}
	}
	var caseSealed []byte
	if c.Case != nil {
		if caseSealed, err = db.sealCase(ctx, c.Case); err != nil {
			return err
		}
	}
	if db.steps != nil && processAlone(c) {
		return db.steps.update(ctx, &processStep{change: c, sealed: sealed[0]})
	}
	return db.Update(ctx, func(tx *Tx) error {
		for i, p := range c.Processes {
			if err := tx.saveProcess(p, sealed[i]); err != nil {
				return err
			}
		}
		if su != nil {
			if err := tx.updateUser(c.User, su); err != nil {
				return err
			}
		}
		if c.Code != nil {
			if err := tx.insertCode(c.Code, codeSealed); err != nil {
				return err
			}
		}
		if c.UseCode != "" {
			if err := tx.useCode(c.TenantID, c.UseCode); err != nil {
				return err
			}
		}
		if c.Key != "" {
			if err := tx.recordSubmission(c.TenantID, c.UserID, c.Key); err != nil {
				return err
			}
		}
		if c.DocumentIndex != "" {
			if err := tx.linkDocument(c.TenantID, c.UserID, c.DocumentIndex, c.DocumentFrom); err != nil {
				return err
			}
		}
		if c.Case != nil {
			if err := tx.saveCase(c.Case, caseSealed); err != nil {
				return err
			}
		}
		if err := tx.saveHits(c.TenantID, c.UserID, c.Hits); err != nil {
			return err
		}
		return tx.record(c.TenantID, c.Change())
	})
}

// sealProcesses seals the data of a change's processes.
func (db *DB) sealProcesses(ctx context.Context, c *kycd.ProcessChange) ([][]byte, error) {
	sealed := make([][]byte, len(c.Processes))
	for i, p := range c.Processes {
		var err error
		if sealed[i], err = db.sealJSON(ctx, c.TenantID, processData{Input: p.Input, Output: p.Output, Form: p.Form}, processAD(c.UserID, p.Code)); err != nil {
			return nil, err
		}
	}
	return sealed, nil
}

// processAlone reports whether a change saves one process already stored,
// with its audit entry, and nothing else: a form step, the most frequent
// change. (TestProcessAlone fails when ProcessChange gains a field this
// does not look at.)
func processAlone(c *kycd.ProcessChange) bool {
	return len(c.Processes) == 1 && c.Processes[0].Version > 0 && c.User == nil && c.DocumentIndex == "" && c.DocumentFrom == "" &&
		c.Code == nil && c.UseCode == "" && c.Case == nil && len(c.Hits) == 0 && len(c.Events) == 0 && len(c.Jobs) == 0 && c.Key == ""
}

// processStep is a change that processAlone accepts, its process sealed.
type processStep struct {
	change *kycd.ProcessChange
	sealed []byte
}

// saveSteps is the step group's run (PostgreSQL): the steps saved at the
// same time share one statement, as group commit shares a transaction on
// SQLite. Each step's process is updated if its version is still the one
// read, and its audit entry inserted if and only if it was: a step whose
// process changed meanwhile is EStale, the others are saved. One statement
// and one commit for the group cost PostgreSQL about half as much per step
// as a statement each (measured with three steps), and a step alone is a
// group of one: the process update and its audit entry together or neither,
// without a transaction's round trips (begin, commit), which cost
// PostgreSQL about as much as the statements do. If a group's statement
// fails, each step is saved alone, so that one step's failure is not the
// others'.
func (db *DB) saveSteps(batch []*queued[*processStep]) {
	var group, rest []*queued[*processStep]
	taken := map[[2]string]bool{}
	for _, q := range batch {
		p := q.c.change.Processes[0]
		key := [2]string{p.UserID, p.Code}
		switch {
		case q.ctx.Err() != nil:
			q.err = q.ctx.Err() // its caller gave up before its turn
		case taken[key]:
			rest = append(rest, q) // one update of a process per statement
		default:
			taken[key] = true
			group = append(group, q)
		}
	}
	if len(group) == 1 {
		rest = append(group, rest...)
	} else if err := db.saveStepGroup(context.Background(), group); err != nil {
		// (A shared statement is not cut short by one caller leaving; a
		// step alone ends with its caller.)
		db.logger.Warn("grouped form steps failed; saving them one by one", "steps", len(group), "err", err)
		rest = append(group, rest...)
	}
	for _, q := range rest {
		if err := db.saveStepGroup(q.ctx, []*queued[*processStep]{q}); err != nil {
			q.err = err
		}
	}
}

// saveStepGroup saves steps, each of a different process, in one
// statement, and sets EStale as the outcome of those whose process changed
// meanwhile: an error means none was saved.
func (db *DB) saveStepGroup(ctx context.Context, group []*queued[*processStep]) error {
	now := db.now()
	updates, entries := make([][]any, len(group)), make([][]any, len(group))
	for i, q := range group {
		c := q.c.change
		entry, err := auditValues(q.ctx, now, c.TenantID, c.Action, "user", c.UserID, c.Details)
		if err != nil {
			return err
		}
		updates[i] = append([]any{i}, updateProcessArgs(c.Processes[0], q.c.sealed, now)...)
		entries[i] = append([]any{i}, entry...)
	}
	updateCols, err := arrayColumns(updates)
	if err != nil {
		return err
	}
	entryCols, err := arrayColumns(entries)
	if err != nil {
		return err
	}
	rows, err := db.write.QueryContext(ctx, db.q(stepGroup), append(updateCols, entryCols...)...)
	changed, err := scanAll(rows, err, func(ord *int) []any { return []any{ord} })
	if err != nil {
		return err
	}
	saved := make([]bool, len(group))
	for _, i := range changed {
		saved[i] = true
	}
	for i, q := range group {
		if !saved[i] {
			q.err = kycd.Errorf(kycd.EStale, "The process changed meanwhile")
			continue
		}
		p := q.c.change.Processes[0]
		p.Version++
		p.UpdatedAt = now
	}
	return nil
}

// stepGroup updates the processes of a group of steps whose version is
// still the one read, inserts the audit entries of those it updated, and
// returns their positions. Its arguments are one array per column of
// updateProcessArgs, then one per column of the audit entries, each led by
// the step's position.
const stepGroup = `WITH s AS (
		SELECT * FROM unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::text[], ?::bytea[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[])
		AS s(ord, status, type, model, form_id, attempts, retry_at, expires_at, data, updated_at, user_id, code, tenant_id, version)),
	changed AS (
		UPDATE kyc_processes p SET status = s.status, type = s.type, model = s.model, form_id = s.form_id, attempts = s.attempts,
			retry_at = s.retry_at, expires_at = s.expires_at, data = s.data, version = p.version + 1, updated_at = s.updated_at
		FROM s WHERE p.user_id = s.user_id AND p.code = s.code AND p.tenant_id = s.tenant_id AND p.version = s.version
		RETURNING s.ord),
	e AS (
		SELECT * FROM unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
		AS e(ord, tenant_id, at, actor, action, entity_type, entity_id, request_id, details)),
	audited AS (
		INSERT INTO audit_pending (` + auditColumns + `)
		SELECT e.tenant_id, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.request_id, e.details
		FROM e JOIN changed ON changed.ord = e.ord ORDER BY e.ord)
	SELECT ord FROM changed`

// updateProcess updates a process if its version is still the one read
// (arguments: updateProcessArgs).
const updateProcess = `UPDATE kyc_processes SET status = ?, type = ?, model = ?, form_id = ?, attempts = ?, retry_at = ?, expires_at = ?, data = ?, version = version + 1, updated_at = ?
	WHERE user_id = ? AND code = ? AND tenant_id = ? AND version = ?`

func updateProcessArgs(p *kycd.Process, sealed []byte, now time.Time) []any {
	return []any{p.Status, p.Type, p.Model, formID(p), p.Attempts, fmtTimePtr(p.RetryAt), expiresAt(p), sealed, fmtTime(now),
		p.UserID, p.Code, p.TenantID, p.Version}
}

// savedProcess reads the outcome of a process's insert or update: EStale
// when no row changed, else the process's new version and time.
func savedProcess(p *kycd.Process, res sql.Result, err error, now time.Time) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return kycd.Errorf(kycd.EStale, "The process changed meanwhile")
	}
	p.Version++
	p.UpdatedAt = now
	return nil
}

// saveProcess inserts a process (Version 0) or updates it if its version is
// still the one read, bumping Version and UpdatedAt.
func (tx *Tx) saveProcess(p *kycd.Process, sealed []byte) error {
	var (
		res sql.Result
		err error
	)
	if p.Version == 0 {
		res, err = tx.exec(`INSERT INTO kyc_processes (tenant_id, user_id, code, status, type, model, form_id, attempts, retry_at, expires_at, data, version, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			p.TenantID, p.UserID, p.Code, p.Status, p.Type, p.Model, formID(p), p.Attempts, fmtTimePtr(p.RetryAt), expiresAt(p), sealed, fmtTime(tx.Now()))
		if tx.db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EStale, "The process changed meanwhile")
		}
	} else {
		res, err = tx.exec(updateProcess, updateProcessArgs(p, sealed, tx.Now())...)
	}
	return savedProcess(p, res, err, tx.Now())
}

// expiresAt is when a process's verified result expires, for the sweep
// (nil when it does not).
func expiresAt(p *kycd.Process) any {
	s, _ := p.Output["expiresAt"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return fmtTime(t)
}

// FindExpiredProcesses implements kycd.ProcessStore.
func (db *DB) FindExpiredProcesses(ctx context.Context, before time.Time, limit int) ([]kycd.ProcessRef, error) {
	rows, err := db.readRows(ctx, `SELECT p.tenant_id, p.user_id, p.code FROM kyc_processes p JOIN users u ON u.id = p.user_id AND u.deleted_at IS NULL
		WHERE p.expires_at IS NOT NULL AND p.status = 'ok' AND p.expires_at <= ? ORDER BY p.expires_at LIMIT ?`, fmtTime(before), limit)
	return scanAll(rows, err, func(r *kycd.ProcessRef) []any { return []any{&r.TenantID, &r.UserID, &r.Code} })
}

func formID(p *kycd.Process) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.ID
}

// linkDocument links an identity document to a user, taking it over from
// from (the closed user whose link released it, as the caller read it); a
// document linked to anyone else is EDocumentLinked.
func (tx *Tx) linkDocument(tenantID, userID, index, from string) error {
	var owner string
	err := tx.queryRow(`SELECT user_id FROM identity_documents WHERE tenant_id = ? AND document_index = ?`, tenantID, index).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.exec(`INSERT INTO identity_documents (tenant_id, document_index, user_id, linked_at) VALUES (?, ?, ?, ?)`,
			tenantID, index, userID, fmtTime(tx.Now()))
		if tx.db.dialect.isUniqueViolation(err) {
			return kycd.Errorf(kycd.EStale, "The document was linked meanwhile")
		}
		return err
	case err != nil:
		return err
	case owner == userID:
		return nil
	case from != "" && owner == from:
		// Taken over from the closed user whose link released it (a
		// closure is final: the link the caller read still releases it).
		_, err = tx.exec(`UPDATE identity_documents SET user_id = ?, linked_at = ? WHERE tenant_id = ? AND document_index = ?`,
			userID, fmtTime(tx.Now()), tenantID, index)
		return err
	}
	return kycd.Errorf(kycd.EDocumentLinked, "The identity document belongs to another user")
}

// codeData is the sealed part of a one-time code.
type codeData struct {
	Code        string `json:"code,omitempty"`
	Destination string `json:"destination"`
}

func codeAD(id string) []byte { return []byte("verification_codes.sealed:" + id) }

func (db *DB) sealCode(ctx context.Context, vc *kycd.VerificationCode) ([]byte, error) {
	return db.sealJSON(ctx, vc.TenantID, codeData{Code: vc.Code, Destination: vc.Destination}, codeAD(vc.ID))
}

// insertCode stores a new code in place of the user's last one of its
// channel, in one statement: codes issued at the same time (PostgreSQL
// runs their transactions at once) replace each other in the order they
// commit, where a delete and an insert would both find no code and the
// second insert break the unique index.
func (tx *Tx) insertCode(vc *kycd.VerificationCode, sealed []byte) error {
	vc.CreatedAt = tx.Now()
	_, err := tx.exec(`INSERT INTO verification_codes (id, tenant_id, user_id, channel, digest, sealed, expires_at, attempts, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
		ON CONFLICT (user_id, channel) DO UPDATE SET id = excluded.id, tenant_id = excluded.tenant_id, digest = excluded.digest,
			sealed = excluded.sealed, expires_at = excluded.expires_at, attempts = 0, created_at = excluded.created_at, used_at = NULL`,
		vc.ID, vc.TenantID, vc.UserID, vc.Channel, vc.Digest, sealed, fmtTime(vc.ExpiresAt), fmtTime(vc.CreatedAt))
	return err
}

// useCode marks a code used; a code used already is EStale.
func (tx *Tx) useCode(tenantID, id string) error {
	if err := tx.execOne(kycd.Errorf(kycd.EStale, "The code was used meanwhile"), `UPDATE verification_codes SET used_at = ? WHERE id = ? AND tenant_id = ? AND used_at IS NULL`, fmtTime(tx.Now()), id, tenantID); err != nil {
		return err
	}
	return nil
}

var _ kycd.VerificationCodeStore = (*DB)(nil)

// FindVerificationCode implements kycd.VerificationCodeStore.
func (db *DB) FindVerificationCode(ctx context.Context, tenantID, userID, channel string) (*kycd.VerificationCode, error) {
	vc := &kycd.VerificationCode{TenantID: tenantID, UserID: userID, Channel: channel}
	var sealed []byte
	err := db.readRow(ctx, `SELECT id, digest, sealed, expires_at, attempts, created_at, used_at FROM verification_codes
		WHERE tenant_id = ? AND user_id = ? AND channel = ?`, tenantID, userID, channel).
		Scan(&vc.ID, &vc.Digest, &sealed, timeCol{&vc.ExpiresAt}, &vc.Attempts, timeCol{&vc.CreatedAt}, timePtrCol{&vc.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("code")
	} else if err != nil {
		return nil, err
	}
	d, err := db.openCode(ctx, tenantID, vc.ID, sealed)
	if err != nil {
		return nil, err
	}
	vc.Destination = d.Destination
	return vc, nil
}

func (db *DB) openCode(ctx context.Context, tenantID, id string, sealed []byte) (*codeData, error) {
	var d codeData
	return &d, db.openJSON(ctx, tenantID, sealed, codeAD(id), &d)
}

// RecordCodeAttempt implements kycd.VerificationCodeStore.
func (db *DB) RecordCodeAttempt(ctx context.Context, tenantID, codeID string, change kycd.Change) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.NotFound("code"), `UPDATE verification_codes SET attempts = attempts + 1 WHERE id = ? AND tenant_id = ?`, codeID, tenantID); err != nil {
			return err
		}
		return tx.record(tenantID, change)
	})
}

// SendCode implements kycd.VerificationCodeStore.
func (db *DB) FindCodeToSend(ctx context.Context, tenantID, codeID string) (*kycd.VerificationCode, error) {
	vc := &kycd.VerificationCode{ID: codeID, TenantID: tenantID}
	var sealed []byte
	err := db.readRow(ctx, `SELECT user_id, channel, sealed FROM verification_codes WHERE id = ? AND tenant_id = ? AND used_at IS NULL`,
		codeID, tenantID).Scan(&vc.UserID, &vc.Channel, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("code")
	} else if err != nil {
		return nil, err
	}
	d, err := db.openCode(ctx, tenantID, codeID, sealed)
	if err != nil {
		return nil, err
	}
	if d.Code == "" {
		return nil, kycd.NotFound("code")
	}
	vc.Code, vc.Destination = d.Code, d.Destination
	return vc, nil
}

// MarkCodeSent implements kycd.VerificationCodeStore.
func (db *DB) MarkCodeSent(ctx context.Context, vc *kycd.VerificationCode, change kycd.Change) error {
	resealed, err := db.sealCode(ctx, vc)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE verification_codes SET sealed = ? WHERE id = ? AND tenant_id = ?`, resealed, vc.ID, vc.TenantID); err != nil {
			return err
		}
		return tx.record(vc.TenantID, change)
	})
}
