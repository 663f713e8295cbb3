package levels

import (
	"context"
	"slices"
	"time"

	"github.com/kycd/kycd"
)

// TTL are a read's options for liveness tokens and links (seed 003's
// ttl_min, ttl_max, ttl_renew): a value that ends within Min, or any value
// when Renew is set, is replaced by a new one valid Max.
type TTL struct {
	Min, Max time.Duration
	Renew    bool
}

// DefaultTTL is a read's liveness options when it gives none.
var DefaultTTL = TTL{Min: 10 * time.Minute, Max: time.Hour}

// defaultSumsubLevel is the Sumsub level a liveness attribute runs.
const defaultSumsubLevel = "liveness"

// Read returns one of a client's applications, with its liveness
// attributes issued: while the application is filled in (new or pending),
// each liveness attribute of its level holds a Sumsub token or link bound
// to the client, renewed as its options in ttls say (DefaultTTL when
// absent). Only, when set, limits the attributes issued to one (a read of
// one attribute).
func (s *Service) Read(ctx context.Context, tenantID, userID, id string, ttls map[string]TTL, only string) (*kycd.Application, *Catalog, error) {
	a, cat, err := s.Application(ctx, kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: id})
	if err != nil || !fillable(a) {
		return a, cat, err
	}
	level, ok := cat.Level(a.LevelID)
	if !ok {
		return a, cat, nil
	}
	now := s.Clock.Now()
	var (
		issued []string
		info   map[string]any
	)
	for _, key := range level.Attributes() {
		attr, _ := cat.Attribute(key)
		if attr.Type != TypeLiveness || (only != "" && key != only) {
			continue
		}
		ttl, ok := ttls[key]
		if !ok {
			ttl = DefaultTTL
		}
		if v := a.Data.Attributes[key]; v != nil && !ttl.Renew && ((v.ExpiresAt != nil && v.ExpiresAt.Sub(now) >= ttl.Min) || v.Verification != nil) {
			continue // fresh enough, or done (Sumsub gave its verdict): renewed on request only
		}
		if s.Liveness == nil {
			return nil, nil, kycd.NotAllowed("No liveness provider is configured", "provider-not-configured")
		}
		sumsubLevel := attr.SumsubLevel
		if sumsubLevel == "" {
			sumsubLevel = defaultSumsubLevel
		}
		value, err := s.Liveness.Liveness(ctx, tenantID, attr.Liveness, userID, sumsubLevel, ttl.Max)
		if err != nil {
			return nil, nil, err
		}
		ends := now.Add(ttl.Max)
		if info == nil { // what every check issued now is for: read once
			if info, err = s.contact(ctx, a); err != nil {
				return nil, nil, err
			}
		}
		// A new check starts: the last one's verdict goes with its token.
		a.Data.Attributes[key] = &kycd.AttributeValue{Value: value, UpdatedAt: now, ExpiresAt: &ends, Info: info}
		issued = append(issued, key)
	}
	if len(issued) == 0 {
		return a, cat, nil
	}
	err = s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, false, "kyc-application.liveness-issued", map[string]any{"attributes": issued}))
	if kycd.ErrorCode(err) == kycd.EStale {
		return s.Application(ctx, kycd.ApplicationKey{TenantID: tenantID, UserID: userID, ID: id}) // another read issued them
	}
	return a, cat, err
}

// contact is the email and phone a liveness check is for: the newest the
// client gave in its applications, else the ones it declared.
func (s *Service) contact(ctx context.Context, a *kycd.Application) (map[string]any, error) {
	info := map[string]any{}
	apps, err := s.Store.FindApplications(ctx, kycd.UserRef{TenantID: a.TenantID, UserID: a.UserID})
	if err != nil {
		return nil, err
	}
	for _, key := range []string{"email", "phone"} {
		if v, ok := a.Data.Attributes[key]; ok {
			info[key] = v.Value
		}
		for i := len(apps) - 1; i >= 0 && info[key] == nil; i-- {
			if v, ok := apps[i].Data.Attributes[key]; ok {
				info[key] = v.Value
			}
		}
	}
	if info["email"] == nil || info["phone"] == nil {
		u, err := s.Users.FindUserByID(ctx, a.TenantID, a.UserID)
		if err != nil {
			return nil, err
		}
		if info["email"] == nil && u.Email != "" {
			info["email"] = u.Email
		}
		if info["phone"] == nil && u.Phone != nil {
			info["phone"] = u.Phone.Number
		}
	}
	return info, nil
}

// RecordVerdict records a Sumsub verdict about a client in the
// verification diagnostics of the liveness attributes of its applications
// in progress that issued a liveness check, as seed 003 reads them
// (value.verification.sumsub {verificator, status, client_note}), and
// reports whether the verdict was a liveness check's: its level
// (Sumsub's levelName) is the Sumsub level of a liveness attribute of the
// client's applications. A verdict of another level is not recorded; one
// that names no level is recorded, as no more can be told. Recording twice
// is harmless.
func (s *Service) RecordVerdict(ctx context.Context, ev *kycd.ProviderEvent) (bool, error) {
	if ev.Provider != kycd.ProviderSumsub || ev.ExternalUserID == "" {
		return false, nil
	}
	apps, err := s.Store.FindApplications(ctx, kycd.UserRef{TenantID: ev.TenantID, UserID: ev.ExternalUserID})
	if err != nil {
		return false, err
	}
	liveness := false
	var reviews []kycd.DocumentReview // read once, when an application has a document to put them on
	read := false
	for _, a := range apps {
		cat, err := s.catalogOf(ctx, a)
		if err != nil {
			return false, err
		}
		l, ok := cat.Level(a.LevelID)
		if !ok {
			continue
		}
		var keys []string
		for _, key := range l.Attributes() {
			attr, ok := cat.Attribute(key)
			if !ok || attr.Type != TypeLiveness {
				continue
			}
			level := attr.SumsubLevel
			if level == "" {
				level = defaultSumsubLevel
			}
			if ev.Level != "" && ev.Level != level {
				continue
			}
			liveness = liveness || ev.Level != ""
			v := a.Data.Attributes[key]
			if !open(a) || v == nil || v.Value == nil {
				continue
			}
			diag := map[string]any{"verificator": "sumsub", "status": ev.Outcome, "event": ev.Type, "received_at": ev.ReceivedAt.UTC().Format(time.RFC3339)}
			if ev.Note != "" {
				diag["client_note"] = ev.Note
			}
			// The check is done: its value is now its diagnostics (a new
			// token is issued on request, ttl_renew).
			v.Verification = map[string]any{"sumsub": diag}
			v.Value, v.ExpiresAt = map[string]any{"verification": v.Verification}, nil
			keys = append(keys, key)
		}
		if len(keys) > 0 && ev.Level != "" && ev.Ref != "" && s.Liveness != nil {
			// Sumsub's diagnostics of the documents it reviewed for the
			// client, on the document attributes of the same kind given.
			if !read {
				if reviews, err = s.Liveness.DocumentReviews(ctx, ev.TenantID, ev.Ref); err != nil {
					return false, err
				}
				read = true
			}
			keys = append(keys, documentDiagnostics(a, l, cat, reviews, ev)...)
		}
		if len(keys) == 0 {
			continue
		}
		slices.Sort(keys)
		// A stale save fails the job, which runs again on fresh data.
		if err := s.Store.SaveApplication(ctx, a, nil, kycd.ApplicationSaved(a, false, "kyc-application.liveness-verified", map[string]any{"attributes": keys, "status": ev.Outcome})); err != nil {
			return false, err
		}
	}
	return liveness, nil
}

// documentKeys are the document attributes a Sumsub document kind (its
// idDocType, and idDocSubType when it has sides) stands for.
func documentKeys(typ, side string) []string {
	sided := func(prefix string) []string {
		switch side {
		case "FRONT_SIDE":
			return []string{prefix + "_front_side"}
		case "BACK_SIDE":
			return []string{prefix + "_back_side"}
		}
		return []string{prefix + "_front_side", prefix + "_back_side"}
	}
	switch typ {
	case "PASSPORT":
		return []string{"passport"}
	case "ID_CARD":
		return sided("id_card")
	case "DRIVERS":
		return sided("driver_license")
	case "RESIDENCE_PERMIT":
		return sided("residence_permit_license")
	case "UTILITY_BILL", "BANK_STATEMENT", "PROOF_OF_RESIDENCE":
		return []string{"proof_of_address"}
	}
	return nil
}

// documentDiagnostics puts Sumsub's review of each document kind on the
// application's document attributes of that kind that hold a document,
// and returns their keys.
func documentDiagnostics(a *kycd.Application, l *Level, cat *Catalog, reviews []kycd.DocumentReview, ev *kycd.ProviderEvent) []string {
	var keys []string
	for _, r := range reviews {
		for _, key := range documentKeys(r.Type, r.Side) {
			attr, ok := cat.Attribute(key)
			v := a.Data.Attributes[key]
			if !ok || attr.Type != TypeDocument || v == nil || v.Value == nil || !slices.Contains(l.Attributes(), key) {
				continue
			}
			diag := map[string]any{"verificator": "sumsub", "status": r.Status, "document_type": r.Type, "received_at": ev.ReceivedAt.UTC().Format(time.RFC3339)}
			if r.Note != "" {
				diag["client_note"] = r.Note
			}
			v.Verification = map[string]any{"sumsub": diag}
			keys = append(keys, key)
		}
	}
	return keys
}
