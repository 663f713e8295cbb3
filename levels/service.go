package levels

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/keylock"
	"github.com/kycd/kycd/kyc"
)

// KYC is what levels need of the KYC service (kyc.Service): to submit what
// an approved application collected to the Core processes.
type KYC interface {
	UpdateProcess(ctx context.Context, u *kycd.User, code string, up *kycd.ProcessUpdate) (*kyc.ProcessView, []kyc.Warning, error)
}

// Files finds the files documents are made of.
type Files interface {
	FindFileByID(ctx context.Context, k kycd.FileKey) (*kycd.File, error)
}

// Users reads clients.
type Users interface {
	FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error)
}

// Codes reads and counts the one-time codes that sign changes.
type Codes interface {
	FindVerificationCode(ctx context.Context, tenantID, userID, channel string) (*kycd.VerificationCode, error)
	RecordCodeAttempt(ctx context.Context, tenantID, codeID string, change kycd.Change) error
}

// Tenants reads a tenant's settings (four eyes on decisions).
type Tenants interface {
	FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error)
}

// Senders tells which signature providers can send codes.
type Senders interface {
	Supports(channel string) bool
}

// Liveness issues liveness checks bound to one client (the connector's
// Sumsub account): an SDK access token ("token") or a link ("url").
type Liveness interface {
	Liveness(ctx context.Context, tenantID, kind, userID, levelName string, ttl time.Duration) (string, error)
	// DocumentReviews reads how Sumsub reviewed the document images of the
	// applicant a liveness check ran for.
	DocumentReviews(ctx context.Context, tenantID, applicantID string) ([]kycd.DocumentReview, error)
}

// Config is what the levels service needs.
type Config struct {
	Store   kycd.ApplicationStore
	Codes   Codes
	Users   Users
	Files   Files
	Tenants Tenants
	Digest  kycd.CodeDigester
	Senders Senders
	Geo     Geography
	Clock   kycd.Clock
	// Liveness issues liveness tokens and links (nil: none can be issued).
	Liveness Liveness
	// KYC receives what approved applications collected.
	KYC KYC
	// Sandbox accepts the code 111111 for every signature, and lets a
	// client's application change status directly.
	Sandbox bool
}

// Service runs KYC levels and applications.
type Service struct {
	Config
	builtin *Catalog
	// queue serializes, in this process, the changes of each application,
	// the creations of each client's applications and the replacements of
	// each tenant's catalog (serial).
	queue keylock.Locks
}

// maxRetries bounds how often a change is computed again
// after a change made elsewhere (another kycd sharing the database) won
// the race.
const maxRetries = 8

// serial runs fn, a read-check-save of what key names, after the earlier
// changes of key made in this process, so that requests sent at once are
// applied one after another as if sent in turn. When a change made
// elsewhere wins the race (EStale), fn runs again on what is now stored;
// one that loses every try is kycd.EConcurrentChange, and nothing is
// applied (the entity named by key's first part).
func (s *Service) serial(ctx context.Context, key string, fn func() error) error {
	unlock, err := s.queue.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	for range maxRetries {
		if err := fn(); kycd.ErrorCode(err) != kycd.EStale {
			return err
		}
	}
	return kycd.Contended(strings.SplitN(key, "/", 2)[0])
}

// applicationKey and clientKey are the keys of serial: one application's
// changes, and the creations of one client's applications.
func applicationKey(tenantID, id string) string { return "kyc-application/" + tenantID + "/" + id }
func clientKey(tenantID, userID string) string  { return "client/" + tenantID + "/" + userID }

// New returns the levels service over the built-in catalog.
func New(c Config) (*Service, error) {
	cat, err := Default()
	if err != nil {
		return nil, err
	}
	return &Service{Config: c, builtin: cat}, nil
}

// SandboxSignCode is accepted for every signature in sandbox mode. Sign
// codes follow the one-time code rules (kycd.CodeLifetime, CodeMaxAttempts).
const SandboxSignCode = "111111"

// Error codes of the levels surface (409 unless said otherwise).
const (
	ELevelNotAvailable        = "kyc_level_not_available"
	ELevelInUse               = "kyc_level_in_use"
	EApplicationExists        = "kyc_application_exists"
	EApplicationNotEditable   = "kyc_application_not_editable"
	EApplicationIncomplete    = "kyc_application_incomplete"
	ESignCodeRequired         = "sign_code_required"
	ESignCodeUsed             = "code_used"
	ESignCodeAttemptsExceeded = "code_attempts_exceeded"
	ESignProviderUnavailable  = "sign_provider_unavailable"
)

// Catalog returns a tenant's current catalog: its own newest, else the
// newest built-in one.
func (s *Service) Catalog(ctx context.Context, tenantID string) (*Catalog, error) {
	raw, version, err := s.Store.FindLevelCatalog(ctx, tenantID, 0)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return s.builtin, nil
	} else if err != nil {
		return nil, err
	}
	return s.parseTenantCatalog(raw, version)
}

func (s *Service) parseTenantCatalog(raw []byte, version int) (*Catalog, error) {
	c, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	c.Ref = TenantRef(version)
	return c, nil
}

// catalogOf returns the catalog an application was created under: its
// levels, questions and attribute rules do not change under it when the
// tenant replaces its catalog or kycd ships a newer built-in one. Its
// lists (reference data, legal documents) are the current ones.
func (s *Service) catalogOf(ctx context.Context, a *kycd.Application) (*Catalog, error) {
	current, err := s.Catalog(ctx, a.TenantID)
	if err != nil || a.Catalog == "" || a.Catalog == current.Ref {
		return current, err
	}
	kind, version, err := ParseRef(a.Catalog)
	if err != nil {
		return nil, err
	}
	var own *Catalog
	if kind == "builtin" {
		own, err = Builtin(version)
	} else {
		var raw []byte
		if raw, _, err = s.Store.FindLevelCatalog(ctx, a.TenantID, version); err == nil {
			own, err = s.parseTenantCatalog(raw, version)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("levels: the catalog of application %s: %w", a.ID, err)
	}
	return own.WithListsOf(current), nil
}

// ReplaceCatalog checks and stores a new version of a tenant's own catalog;
// applications created before keep theirs.
func (s *Service) ReplaceCatalog(ctx context.Context, tenantID string, raw []byte) (*Catalog, error) {
	c, err := Parse(raw)
	if err != nil {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "", Rule: "catalog", RuleParams: map[string]any{"reason": err.Error()}})
	}
	// Levels clients applied for stay: the levels clients hold and the
	// upgrades open to them are read from the current catalog.
	used, err := s.Store.ApplicationLevels(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, id := range used {
		if _, ok := c.Level(id); !ok {
			dropped = append(dropped, id)
		}
	}
	if len(dropped) > 0 {
		return nil, &kycd.Error{Code: ELevelInUse, Message: "The catalog drops levels clients applied for; keep them",
			Details: map[string]any{"levels": dropped}}
	}
	// Replacements sent at once each add their version, one after another
	// (another node's numbered meanwhile: numbered again).
	var version int
	err = s.serial(ctx, "catalog/"+tenantID, func() (err error) {
		version, err = s.Store.SaveLevelCatalog(ctx, tenantID, raw, func(v int) kycd.Change { return kycd.LevelCatalogReplaced(tenantID, v) })
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Ref = TenantRef(version)
	return c, nil
}

// LevelInfo is what a client may do next.
type LevelInfo struct {
	Held              []*Level
	Available         []*Level
	AllowedToCreate   bool
	LastApplicationID string
}

// open reports whether an application is still in progress.
func open(a *kycd.Application) bool {
	return a.Status == kycd.ApplicationNew || a.Status == kycd.ApplicationPending || a.Status == kycd.ApplicationInReview
}

// Info returns a client's levels, the levels it may apply for, and its last application.
func (s *Service) Info(ctx context.Context, tenantID, userID string) (*LevelInfo, *Catalog, error) {
	if _, err := s.Users.FindUserByID(ctx, tenantID, userID); err != nil {
		return nil, nil, err
	}
	cat, err := s.Catalog(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	apps, err := s.Store.FindApplications(ctx, kycd.UserRef{TenantID: tenantID, UserID: userID})
	if err != nil {
		return nil, nil, err
	}
	info := &LevelInfo{}
	var held []string
	inProgress := false
	for _, a := range apps {
		info.LastApplicationID = a.ID
		if a.Status == kycd.ApplicationApproved && !slices.Contains(held, a.LevelID) {
			held = append(held, a.LevelID)
			if l, ok := cat.Level(a.LevelID); ok {
				info.Held = append(info.Held, l)
			}
		}
		inProgress = inProgress || open(a)
	}
	info.Available = cat.Upgrades(held)
	info.AllowedToCreate = !inProgress && len(info.Available) > 0
	return info, cat, nil
}

// Create starts an application of a client for a level it may apply for.
// A client's creations run one after another (serial): of two sent at once
// the second finds the first in progress.
func (s *Service) Create(ctx context.Context, tenantID, userID, levelID string) (a *kycd.Application, cat *Catalog, err error) {
	err = s.serial(ctx, clientKey(tenantID, userID), func() error {
		a, cat, err = s.create(ctx, tenantID, userID, levelID)
		return err
	})
	return a, cat, err
}

func (s *Service) create(ctx context.Context, tenantID, userID, levelID string) (*kycd.Application, *Catalog, error) {
	info, cat, err := s.Info(ctx, tenantID, userID)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(info.Available, func(l *Level) bool { return l.UUID == levelID }) {
		return nil, nil, &kycd.Error{Code: ELevelNotAvailable, Message: "The client cannot apply for this level: it is unknown, held already, or needs a level the client does not hold",
			Details: map[string]any{"available_levels_for_upgrade": levelIDs(info.Available)}}
	}
	if !info.AllowedToCreate {
		return nil, nil, &kycd.Error{Code: EApplicationExists, Message: "The client has an application in progress; complete it first",
			Details: map[string]any{"last_kyc_application_uuid": info.LastApplicationID}}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, nil, err
	}
	a := &kycd.Application{ID: id.String(), TenantID: tenantID, UserID: userID, LevelID: levelID, Catalog: cat.Ref, Status: kycd.ApplicationNew,
		Data: kycd.ApplicationData{Attributes: map[string]*kycd.AttributeValue{}}}
	return a, cat, s.Store.CreateApplication(ctx, a, kycd.ApplicationCreated(a))
}

func levelIDs(ls []*Level) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.UUID)
	}
	return out
}

// Application returns the application a key names with its catalog: one
// of a client's applications or, when the key names no user, the
// application of whichever client of the tenant it belongs to; the client
// must be a live one (entity_not_found "user" otherwise).
func (s *Service) Application(ctx context.Context, k kycd.ApplicationKey) (*kycd.Application, *Catalog, error) {
	tenantID, userID := k.TenantID, k.UserID
	if userID != "" {
		if _, err := s.Users.FindUserByID(ctx, tenantID, userID); err != nil {
			return nil, nil, err
		}
	}
	a, err := s.Store.FindApplication(ctx, k)
	if err != nil {
		return nil, nil, err
	}
	if userID == "" {
		if _, err := s.Users.FindUserByID(ctx, tenantID, a.UserID); err != nil {
			return nil, nil, err
		}
	}
	cat, err := s.catalogOf(ctx, a)
	return a, cat, err
}

// Applications lists a user's applications and documents, oldest first
// (what a user's file shows).
func (s *Service) Applications(ctx context.Context, u kycd.UserRef) ([]*kycd.Application, []*kycd.KYCDocument, error) {
	apps, err := s.Store.FindApplications(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	docs, err := s.Store.FindDocuments(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	return apps, docs, nil
}

// fillable reports whether the client fills an application in: new, or
// returned as pending.
func fillable(a *kycd.Application) bool {
	return a.Status == kycd.ApplicationNew || a.Status == kycd.ApplicationPending
}

// editable returns a client's application that is being filled in, with its
// catalog and level; others are EApplicationNotEditable ("only new or
// pending applications " + doing).
func (s *Service) editable(ctx context.Context, tenantID, userID, id, doing string) (*kycd.Application, *Catalog, *Level, error) {
	a, cat, err := s.Application(ctx, kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: id})
	if err != nil {
		return nil, nil, nil, err
	}
	if !fillable(a) {
		return nil, nil, nil, &kycd.Error{Code: EApplicationNotEditable, Message: "The application is " + a.Status + ": only new or pending applications " + doing,
			Details: map[string]any{"status": a.Status}}
	}
	level, ok := cat.Level(a.LevelID)
	if !ok {
		return nil, nil, nil, kycd.NotFound("kyc-level")
	}
	return a, cat, level, nil
}

// Change is one attribute change of an update.
type Change struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// Update applies attribute changes to an application, all or none: each
// value is checked by its attribute's type (documents must be the client's
// documents of that key), attributes that need a signature need a valid
// code of one of their providers (codes, by provider: one covers every
// attribute of its provider in the request), and the application must be
// new or returned as pending. The changes of one application run one
// after another (serial).
func (s *Service) Update(ctx context.Context, tenantID, userID, id string, changes []Change, codes map[string]string) (a *kycd.Application, cat *Catalog, err error) {
	err = s.serial(ctx, applicationKey(tenantID, id), func() error {
		a, cat, err = s.update(ctx, tenantID, userID, id, changes, codes)
		return err
	})
	return a, cat, err
}

func (s *Service) update(ctx context.Context, tenantID, userID, id string, changes []Change, codes map[string]string) (*kycd.Application, *Catalog, error) {
	a, cat, level, err := s.editable(ctx, tenantID, userID, id, "change")
	if err != nil {
		return nil, nil, err
	}
	asked := level.Attributes()
	now := s.Clock.Now()
	var (
		vs     []kycd.Violation
		values = map[string]any{}
		signed = map[string][]string{} // key → the providers that may sign it
		seen   = map[string]bool{}
	)
	for _, ch := range changes {
		attr, known := cat.Attribute(ch.Key)
		switch {
		case !known || !slices.Contains(asked, ch.Key):
			vs = append(vs, kycd.Violation{Property: ch.Key, Rule: "unknown_attribute", RuleParams: map[string]any{"allowedValues": asked}})
			continue
		case seen[ch.Key]:
			vs = append(vs, kycd.Violation{Property: ch.Key, Rule: "duplicate"})
			continue
		}
		seen[ch.Key] = true
		v, bad := cat.Check(attr, ch.Value, now, s.Geo)
		if bad != nil {
			vs = append(vs, *bad)
			continue
		}
		if attr.Type == TypeDocument {
			d, err := s.Store.FindDocument(ctx, tenantID, userID, v.(string))
			if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && d.AttributeKey != attr.Key) {
				vs = append(vs, kycd.Violation{Property: attr.Key, Rule: "document", RuleParams: map[string]any{"attribute_key": attr.Key}})
				continue
			} else if err != nil {
				return nil, nil, err
			}
		}
		values[attr.Key] = v
		if len(attr.SignProviders) > 0 {
			signed[attr.Key] = attr.SignProviders
		}
	}
	if len(vs) > 0 {
		return nil, nil, kycd.Invalid("body", vs...)
	}
	used, by, err := s.signatures(ctx, a, signed, codes)
	if err != nil {
		return nil, nil, err
	}
	for key, v := range values {
		a.Data.Attributes[key] = &kycd.AttributeValue{Value: v, UpdatedAt: now, SignedWith: by[key]}
		delete(a.Data.Corrections, key)
	}
	keys := slices.Sorted(maps.Keys(values))
	if err := s.Store.SaveApplication(ctx, a, slices.Collect(maps.Values(used)), kycd.ApplicationSaved(a, false, "kyc-application.updated", map[string]any{"attributes": keys, "signedWith": slices.Sorted(maps.Keys(used))})); err != nil {
		return nil, nil, err
	}
	return a, cat, nil
}

// signatures checks the codes that sign a request: for each attribute
// that needs one, a valid code of one of its providers. It returns the
// codes to mark used (by provider; none for the sandbox code) and which
// provider signed each attribute.
func (s *Service) signatures(ctx context.Context, a *kycd.Application, needs map[string][]string, codes map[string]string) (map[string]string, map[string]string, error) {
	used, by := map[string]string{}, map[string]string{}
	valid := map[string]bool{}
	check := func(provider string) error {
		if valid[provider] {
			return nil
		}
		id, err := s.checkCode(ctx, a, provider, codes[provider])
		if err != nil {
			return err
		}
		valid[provider] = true
		if id != "" {
			used[provider] = id
		}
		return nil
	}
	for _, key := range slices.Sorted(maps.Keys(needs)) {
		providers := needs[key]
		var chosen string
		for _, p := range providers {
			if codes[p] != "" {
				chosen = p
				break
			}
		}
		if chosen == "" {
			return nil, nil, &kycd.Error{Code: ESignCodeRequired, Message: fmt.Sprintf("Changing %s needs the client's signature: send a code and pass it as %s_sign_code", key, providers[0]),
				Details: map[string]any{"attribute": key, "sign_providers": providers}}
		}
		if err := check(chosen); err != nil {
			return nil, nil, err
		}
		by[key] = chosen
	}
	return used, by, nil
}

// checkCode checks one code for an application; it returns the code's id
// to mark used ("" for the sandbox code).
func (s *Service) checkCode(ctx context.Context, a *kycd.Application, provider, code string) (string, error) {
	if s.Sandbox && code == SandboxSignCode {
		return "", nil
	}
	vc, err := s.Codes.FindVerificationCode(ctx, a.TenantID, a.UserID, kycd.SignChannel(provider, a.ID))
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return "", &kycd.Error{Code: kycd.ECodeInvalid, Message: "No " + provider + " code was sent for this application", Details: map[string]any{"provider_type": provider}}
	} else if err != nil {
		return "", err
	}
	problem, err := vc.Check(ctx, s.Digest, code, s.Clock.Now())
	if err != nil {
		return "", err
	}
	details := map[string]any{"provider_type": provider}
	switch problem {
	case kycd.CodeUsed:
		return "", &kycd.Error{Code: ESignCodeUsed, Message: "The code was used already; send a new one", Details: details}
	case kycd.CodeExpired:
		return "", &kycd.Error{Code: kycd.ECodeExpired, Message: "The code has expired; send a new one", Details: details}
	case kycd.CodeAttemptsExceeded:
		return "", &kycd.Error{Code: ESignCodeAttemptsExceeded, Message: "Too many wrong codes; send a new one", Details: details}
	case kycd.CodeWrong:
		if err := s.Codes.RecordCodeAttempt(ctx, a.TenantID, vc.ID, kycd.CodeRejected(vc)); err != nil {
			return "", err
		}
		details["attempts_left"] = vc.AttemptsLeft()
		return "", &kycd.Error{Code: kycd.ECodeInvalid, Message: "The code is invalid", Details: details}
	}
	return vc.ID, nil
}
