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
	a, cat, err := s.Application(ctx, tenantID, userID, id)
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
		if v := a.Data.Attributes[key]; v != nil && v.ExpiresAt != nil && v.ExpiresAt.Sub(now) >= ttl.Min && !ttl.Renew {
			continue
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
		prev := a.Data.Attributes[key]
		if info == nil { // what every check issued now is for: read once
			if info, err = s.contact(ctx, a); err != nil {
				return nil, nil, err
			}
		}
		v := &kycd.AttributeValue{Value: value, UpdatedAt: now, ExpiresAt: &ends, Info: info}
		if prev != nil {
			v.Verification = prev.Verification
		}
		a.Data.Attributes[key] = v
		issued = append(issued, key)
	}
	if len(issued) == 0 {
		return a, cat, nil
	}
	err = s.Store.SaveApplication(ctx, a, false, "kyc-application.liveness-issued", map[string]any{"attributes": issued}, nil)
	if kycd.ErrorCode(err) == kycd.EStale {
		return s.Application(ctx, tenantID, userID, id) // another read issued them
	}
	return a, cat, err
}

// contact is the email and phone a liveness check is for: the newest the
// client gave in its applications, else the ones it declared.
func (s *Service) contact(ctx context.Context, a *kycd.Application) (map[string]any, error) {
	info := map[string]any{}
	apps, err := s.Store.FindApplications(ctx, a.TenantID, a.UserID)
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
// in progress that issued a liveness check. Recording twice is harmless.
func (s *Service) RecordVerdict(ctx context.Context, ev *kycd.ProviderEvent) error {
	if ev.Provider != kycd.ProviderSumsub || ev.ExternalUserID == "" {
		return nil
	}
	apps, err := s.Store.FindApplications(ctx, ev.TenantID, ev.ExternalUserID)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if !open(a) {
			continue
		}
		cat, err := s.catalogOf(ctx, a)
		if err != nil {
			return err
		}
		var keys []string
		for key, v := range a.Data.Attributes {
			if attr, ok := cat.Attribute(key); ok && attr.Type == TypeLiveness && v.Value != nil {
				v.Verification = map[string]any{"sumsub": map[string]any{"verificator": "sumsub", "status": ev.Outcome,
					"event": ev.Type, "received_at": ev.ReceivedAt.UTC().Format(time.RFC3339)}}
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			continue
		}
		slices.Sort(keys)
		// A stale save fails the job, which runs again on fresh data.
		if err := s.Store.SaveApplication(ctx, a, false, "kyc-application.liveness-verified", map[string]any{"attributes": keys, "status": ev.Outcome}, nil); err != nil {
			return err
		}
	}
	return nil
}
