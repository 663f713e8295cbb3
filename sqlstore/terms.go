package sqlstore

import (
	"context"
	"time"

	"github.com/kycd/kycd"
)

var _ kycd.TermsStore = (*DB)(nil)

func termsAD(userID, code string) []byte {
	return []byte("terms_acceptances.evidence:" + userID + ":" + code)
}

// sealEvidence encrypts the end-user context of an acceptance.
func (db *DB) sealEvidence(ctx context.Context, tenantID, userID, code string, evidence kycd.EndUserContext) ([]byte, error) {
	return db.sealJSON(ctx, tenantID, evidence, termsAD(userID, code))
}

// insertAcceptance records an acceptance inside a change.
func (tx *Tx) insertAcceptance(tenantID, userID, code string, sealed []byte) error {
	_, err := tx.exec(`INSERT INTO terms_acceptances (tenant_id, user_id, code, accepted_at, evidence) VALUES (?, ?, ?, ?, ?)`,
		tenantID, userID, code, fmtTime(tx.Now()), sealed)
	if tx.db.dialect.isUniqueViolation(err) {
		return kycd.NotAllowed("The terms of service have already been accepted", "terms-of-service-already-accepted")
	}
	return err
}

// AcceptTerms implements kycd.TermsStore.
func (db *DB) AcceptTerms(ctx context.Context, tenantID, userID, code string, evidence kycd.EndUserContext, c kycd.Change) (time.Time, error) {
	sealed, err := db.sealEvidence(ctx, tenantID, userID, code, evidence)
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err = db.Update(ctx, func(tx *Tx) error {
		if err := tx.requireUser(tenantID, userID); err != nil {
			return err
		}
		// A second acceptance breaks the primary key: insertAcceptance says so.
		if err := tx.insertAcceptance(tenantID, userID, code, sealed); err != nil {
			return err
		}
		at = tx.Now()
		return tx.record(tenantID, c)
	})
	return at, err
}

// FindTermsAcceptances implements kycd.TermsStore.
func (db *DB) FindTermsAcceptances(ctx context.Context, u kycd.UserRef) (map[string]time.Time, error) {
	tenantID, userID := u.TenantID, u.UserID
	rows, err := db.readRows(ctx, `SELECT code, accepted_at FROM terms_acceptances WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var (
			code string
			at   time.Time
		)
		if err := rows.Scan(&code, timeCol{&at}); err != nil {
			return nil, err
		}
		out[code] = at
	}
	return out, rows.Err()
}
