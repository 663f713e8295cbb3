package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

var _ kycd.UserStore = (*DB)(nil)

// userPII is the encrypted part of a user row: everything personal.
type userPII struct {
	Email                 string              `json:"email"`
	FullName              string              `json:"fullName,omitempty"`
	Birthdate             string              `json:"birthdate,omitempty"`
	PrimaryCitizenship    string              `json:"primaryCitizenship"`
	Address               kycd.Address        `json:"address"`
	Phone                 *kycd.Phone         `json:"phone,omitempty"`
	Birthplace            *kycd.Birthplace    `json:"birthplace,omitempty"`
	OtherCitizenships     []string            `json:"otherCitizenships,omitempty"`
	DocumentNationalities []string            `json:"documentNationalities,omitempty"`
	Metadata              map[string]any      `json:"metadata,omitempty"`
	CreatedContext        kycd.EndUserContext `json:"createdContext"`
	PartnerOnboardedAt    *time.Time          `json:"partnerOnboardedAt,omitempty"`
	LegalEntityType       string              `json:"legalEntityType,omitempty"`
}

func userAD(id string) []byte { return []byte("users.pii:" + id) }

// sealedUser is a user's row values that come from the vault.
type sealedUser struct {
	pii      []byte
	emailIdx string
	phoneIdx any
}

// sealUser encrypts a user's personal data and computes its blind indexes.
func (db *DB) sealUser(ctx context.Context, u *kycd.User) (*sealedUser, error) {
	su := &sealedUser{}
	var err error
	if su.pii, err = db.sealJSON(ctx, u.TenantID, userPII{
		Email: u.Email, FullName: u.FullName, Birthdate: u.Birthdate, PrimaryCitizenship: u.PrimaryCitizenship,
		Address: u.Address, Phone: u.Phone, Birthplace: u.Birthplace, OtherCitizenships: u.OtherCitizenships,
		DocumentNationalities: u.DocumentNationalities, Metadata: u.Metadata, CreatedContext: u.CreatedContext, PartnerOnboardedAt: u.PartnerOnboardedAt,
		LegalEntityType: u.LegalEntityType,
	}, userAD(u.ID)); err != nil {
		return nil, err
	}
	if su.emailIdx, err = db.vault.BlindIndex(ctx, u.TenantID, "user.email", strings.ToLower(u.Email)); err != nil {
		return nil, err
	}
	if u.Phone != nil {
		if su.phoneIdx, err = db.vault.BlindIndex(ctx, u.TenantID, "user.phone", u.Phone.Number); err != nil {
			return nil, err
		}
	}
	return su, nil
}

// updateUser replaces a live user's personal data inside a change. Another
// live user with the same email or phone is EEmailAlreadyExists or
// EPhoneAlreadyExists.
func (tx *Tx) updateUser(u *kycd.User, su *sealedUser) error {
	if err := tx.checkUnique(u.TenantID, u.ID, su); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE users SET email_index = ?, phone_index = ?, pii = ?, updated_at = ? WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
		su.emailIdx, su.phoneIdx, su.pii, fmtTime(tx.Now()), u.ID, u.TenantID)
	if tx.db.dialect.isUniqueViolation(err) {
		return kycd.Errorf(kycd.EEmailAlreadyExists, "The provided email or phone is already in use by another user")
	} else if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return kycd.NotFound("user")
	}
	u.UpdatedAt = tx.Now()
	return nil
}

// checkUnique refuses an email or phone another live user of the tenant has.
func (tx *Tx) checkUnique(tenantID, userID string, su *sealedUser) error {
	var n int
	if err := tx.queryRow(`SELECT count(*) FROM users WHERE tenant_id = ? AND email_index = ? AND id <> ? AND deleted_at IS NULL`, tenantID, su.emailIdx, userID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return kycd.Errorf(kycd.EEmailAlreadyExists, "The provided email is already in use by another user")
	}
	if su.phoneIdx != nil {
		if err := tx.queryRow(`SELECT count(*) FROM users WHERE tenant_id = ? AND phone_index = ? AND id <> ? AND deleted_at IS NULL`, tenantID, su.phoneIdx, userID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return kycd.Errorf(kycd.EPhoneAlreadyExists, "The provided phone is already in use by another user")
		}
	}
	return nil
}

// CreateUser implements kycd.UserStore.
func (db *DB) CreateUser(ctx context.Context, u *kycd.User, c kycd.Change) error {
	su, err := db.sealUser(ctx, u)
	if err != nil {
		return err
	}
	evidence, err := db.sealEvidence(ctx, u.TenantID, u.ID, u.TermsOfService, u.CreatedContext)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		u.CreatedAt, u.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.checkUnique(u.TenantID, u.ID, su); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO users (id, tenant_id, type, email_index, phone_index, pii, terms_of_service, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.TenantID, u.Type, su.emailIdx, su.phoneIdx, su.pii, u.TermsOfService, fmtTime(u.CreatedAt), fmtTime(u.UpdatedAt))
		if db.dialect.isUniqueViolation(err) {
			// A concurrent creation won the race for the same email or phone.
			return kycd.Errorf(kycd.EEmailAlreadyExists, "The provided email or phone is already in use by another user")
		} else if err != nil {
			return err
		}
		// The general terms given at creation are the user's first consent.
		if err := tx.insertAcceptance(u.TenantID, u.ID, u.TermsOfService, evidence); err != nil {
			return err
		}
		return tx.record(u.TenantID, c)
	})
}

// FindUserByID implements kycd.UserStore.
func (db *DB) FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error) {
	return db.findLiveUser(ctx, `id = ? AND tenant_id = ?`, id, tenantID)
}

// findLiveUser reads and opens the live user a condition selects.
func (db *DB) findLiveUser(ctx context.Context, where string, args ...any) (*kycd.User, error) {
	var r userRow
	err := db.readRow(ctx, `SELECT id, tenant_id, type, pii, terms_of_service, created_at, updated_at
		FROM users WHERE `+where+` AND deleted_at IS NULL`, args...).
		Scan(&r.id, &r.tenantID, &r.typ, &r.sealed, &r.terms, timeCol{&r.created}, timeCol{&r.updated})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kycd.NotFound("user")
	} else if err != nil {
		return nil, err
	}
	return db.openUser(ctx, &r)
}

// FindUsersByID implements kycd.UserStore.
func (db *DB) FindUsersByID(ctx context.Context, tenantID string, ids []string) ([]*kycd.User, error) {
	ids = uuids(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := anyOf(db.dialect, "id", ids)
	rows, err := db.readRows(ctx, `SELECT id, tenant_id, type, pii, terms_of_service, created_at, updated_at
		FROM users WHERE tenant_id = ? AND `+in, append([]any{tenantID}, args...)...)
	return db.openUsers(ctx, rows, err)
}

// openUsers reads and decrypts the users of rows selecting id, tenant_id,
// type, pii, terms_of_service, created_at and updated_at.
func (db *DB) openUsers(ctx context.Context, rows *sql.Rows, err error) ([]*kycd.User, error) {
	found, err := scanAll(rows, err, func(r *userRow) []any {
		return []any{&r.id, &r.tenantID, &r.typ, &r.sealed, &r.terms, timeCol{&r.created}, timeCol{&r.updated}}
	})
	if err != nil {
		return nil, err
	}
	out := make([]*kycd.User, len(found))
	for i := range found {
		if out[i], err = db.openUser(ctx, &found[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FindUserByContact implements kycd.UserStore.
func (db *DB) FindUserByContact(ctx context.Context, tenantID, channel, value string) (*kycd.User, error) {
	column, purpose, key := "email_index", "user.email", strings.ToLower(strings.TrimSpace(value))
	switch channel {
	case kycd.ChannelEmail:
	case kycd.ChannelPhone:
		column, purpose, key = "phone_index", "user.phone", strings.TrimSpace(value)
	default:
		return nil, fmt.Errorf("sqlstore: no contact channel %q", channel)
	}
	if key == "" {
		return nil, kycd.NotFound("user")
	}
	idx, err := db.vault.BlindIndex(ctx, tenantID, purpose, key)
	if err != nil {
		return nil, err
	}
	return db.findLiveUser(ctx, `tenant_id = ? AND `+column+` = ?`, tenantID, idx)
}

// userRow is a user row as read, before decryption.
type userRow struct {
	id, tenantID, typ, terms string
	created, updated         time.Time
	sealed                   []byte
}

// openUser decrypts a user row.
func (db *DB) openUser(ctx context.Context, r *userRow) (*kycd.User, error) {
	usr := &kycd.User{ID: r.id, TenantID: r.tenantID, Type: r.typ, TermsOfService: r.terms, CreatedAt: r.created, UpdatedAt: r.updated}
	var p userPII
	if err := db.openJSON(ctx, r.tenantID, r.sealed, userAD(r.id), &p); err != nil {
		return nil, err
	}
	usr.Email, usr.FullName, usr.Birthdate, usr.PrimaryCitizenship = p.Email, p.FullName, p.Birthdate, p.PrimaryCitizenship
	usr.Address, usr.Phone, usr.Metadata, usr.CreatedContext = p.Address, p.Phone, p.Metadata, p.CreatedContext
	usr.Birthplace, usr.OtherCitizenships, usr.PartnerOnboardedAt = p.Birthplace, p.OtherCitizenships, p.PartnerOnboardedAt
	usr.DocumentNationalities, usr.LegalEntityType = p.DocumentNationalities, p.LegalEntityType
	return usr, nil
}

// DeleteUser implements kycd.UserStore.
func (db *DB) DeleteUser(ctx context.Context, tenantID, id string, why kycd.UserDeletion, c kycd.Change) error {
	var note any
	if why.Note != "" {
		sealed, err := db.vault.Seal(ctx, tenantID, []byte(why.Note), []byte("users.deletion_note:"+id))
		if err != nil {
			return err
		}
		note = sealed
	}
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.execOne(kycd.NotFound("user"), `UPDATE users SET deleted_at = ?, updated_at = ?, deletion_reason = ?, deletion_note = ? WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
			fmtTime(tx.Now()), fmtTime(tx.Now()), why.Reason, note, id, tenantID); err != nil {
			return err
		}
		return tx.record(tenantID, c)
	})
}

// FindClosedUsers implements kycd.UserEraser.
func (db *DB) FindClosedUsers(ctx context.Context, before time.Time, limit int) ([]kycd.UserRef, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT tenant_id, id FROM users WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at, id LIMIT ?`),
		fmtTime(before), limit)
	return scanAll(rows, err, func(r *kycd.UserRef) []any { return []any{&r.TenantID, &r.UserID} })
}

// UserBlobKeys implements kycd.UserEraser.
func (db *DB) UserBlobKeys(ctx context.Context, u kycd.UserRef) ([]string, error) {
	tenantID, userID := u.TenantID, u.UserID
	return scanStrings(db.read.QueryContext(ctx, db.q(`SELECT blob_key FROM files WHERE tenant_id = ? AND user_id = ? AND blob_key <> '' ORDER BY id`), tenantID, userID))
}

// erasedTables are the tables that hold rows about a user, by their user
// column; EraseUser empties them of the user's rows before the user's own.
var erasedTables = []struct{ table, userColumn string }{
	{"kyc_processes", "user_id"}, {"identity_documents", "user_id"}, {"verification_codes", "user_id"},
	{"terms_acceptances", "user_id"}, {"files", "user_id"}, {"checks", "user_id"}, {"ingestions", "user_id"},
	{"kyc_submissions", "user_id"}, {"kyc_applications", "user_id"}, {"kyc_documents", "user_id"},
	{"provider_events", "external_user_id"}, {"cases", "user_id"}, {"screening_hits", "user_id"},
}

// EraseUser implements kycd.UserEraser.
func (db *DB) EraseUser(ctx context.Context, u kycd.UserRef) error {
	tenantID, userID := u.TenantID, u.UserID
	return db.Update(ctx, func(tx *Tx) error {
		var (
			closed string
			reason sql.NullString
		)
		err := tx.queryRow(`SELECT deleted_at, deletion_reason FROM users WHERE id = ? AND tenant_id = ? AND deleted_at IS NOT NULL`, userID, tenantID).Scan(&closed, &reason)
		if errors.Is(err, sql.ErrNoRows) {
			return kycd.NotFound("user")
		} else if err != nil {
			return err
		}
		removed := map[string]any{}
		for _, t := range erasedTables {
			res, err := tx.exec(`DELETE FROM `+t.table+` WHERE tenant_id = ? AND `+t.userColumn+` = ?`, tenantID, userID)
			if err != nil {
				return fmt.Errorf("erase %s: %w", t.table, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				removed[t.table] = n
			}
		}
		if err := tx.execOne(kycd.NotFound("user"), `DELETE FROM users WHERE id = ? AND tenant_id = ? AND deleted_at IS NOT NULL`, userID, tenantID); err != nil {
			return err
		}
		return tx.Audit(tenantID, "user.erased", "user", userID, map[string]any{"closedAt": closed, "reason": reason.String, "removed": removed})
	})
}
