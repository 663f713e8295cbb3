// Package users runs the rules of users' lives in kycd: who may be created
// (the tenant's policy and the user's own validity), what a user's creation
// starts (screening against the sanctions lists), on top of the store that
// keeps them.
package users

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/policy"
)

// Config holds the service's dependencies.
type Config struct {
	Store  kycd.UserStore
	Policy *policy.Policy
	Geo    kycd.Geography
	Clock  kycd.Clock
	// ScreeningOff is the operator's choice not to screen users.
	ScreeningOff bool
}

// Service implements kycd.UserService.
type Service struct {
	store        kycd.UserStore
	policy       *policy.Policy
	geo          kycd.Geography
	clock        kycd.Clock
	screeningOff bool
}

var _ kycd.UserService = (*Service)(nil)

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Policy == nil || c.Geo == nil || c.Clock == nil {
		return nil, errors.New("users: missing dependency")
	}
	return &Service{store: c.Store, policy: c.Policy, geo: c.Geo, clock: c.Clock, screeningOff: c.ScreeningOff}, nil
}

// Admit checks a new user before it is created: it is refused when the
// partner says it onboarded them in the future, when their citizenship or
// phone ties them to a restricted country, when their data is invalid, or
// when the policy refuses their email, residence or terms (in that order,
// the order Uphold reports them in).
func (s *Service) Admit(u *kycd.User) error {
	if u.PartnerOnboardedAt != nil && u.PartnerOnboardedAt.After(s.clock.Now()) {
		return &kycd.Error{Code: kycd.EDateInvalid, Message: "The date must be in the past", Details: map[string]any{
			"context": "body", "property": "partnerOnboardedAt", "rule": "difference-greater-than-threshold", "threshold": map[string]any{"limit": 0}}}
	}
	if err := s.policy.CheckCountries(u); err != nil {
		return err
	}
	if err := u.Validate(s.clock.Now(), s.geo); err != nil {
		return err
	}
	return s.policy.CheckNewUser(u)
}

// CreateUser implements kycd.UserService: a user Admit refuses is not
// created. Metadata over kycd.MetadataLimit does not refuse the user: the
// user is created without it, and the refusal is returned for the response
// to report. The user is stored and, in the same transaction, its
// screening starts, so that no user exists that kycd will not screen.
func (s *Service) CreateUser(ctx context.Context, u *kycd.User) (metadataRefused *kycd.Error, err error) {
	if err := s.Admit(u); err != nil {
		return nil, err
	}
	if metadataRefused = kycd.MetadataOverLimit(u.Metadata); metadataRefused != nil {
		u.Metadata = nil
	}
	u.ID = uuid.NewString()
	var jobs []kycd.JobArgs
	if !s.screeningOff {
		jobs = append(jobs, kycd.ScreenUserArgs{TenantID: u.TenantID, UserID: u.ID})
	}
	return metadataRefused, s.store.CreateUser(ctx, u, kycd.UserCreated(u, jobs...))
}

// FindUserByID implements kycd.UserService.
func (s *Service) FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error) {
	return s.store.FindUserByID(ctx, tenantID, id)
}

// CompleteEvents gives the events of a user's creation and deletion the
// user object Uphold's user-webhook-event requires (data.user), read when
// the event is delivered or read from the feed: the outbox copy holds only
// the id, as the outbox is not sealed. A user erased since keeps the id.
func (s *Service) CompleteEvents(ctx context.Context, events []*kycd.Event) error {
	userEvent := func(ev *kycd.Event) string {
		if ev.Type != kycd.EventUserCreated && ev.Type != kycd.EventUserDeleted {
			return ""
		}
		id, _ := ev.Data["userId"].(string)
		return id
	}
	userOf, err := kycd.EventEntities(ctx, events, userEvent, s.store.FindUsersByID, func(u *kycd.User) string { return u.ID })
	if err != nil {
		return err
	}
	for _, ev := range events {
		u, ok := userOf(ev)
		if !ok {
			continue
		}
		view, err := kycd.DataMap(u)
		if err != nil {
			return err
		}
		ev.Data = map[string]any{"user": view}
	}
	return nil
}

// FindUserByContact implements kycd.UserService.
func (s *Service) FindUserByContact(ctx context.Context, tenantID, channel, value string) (*kycd.User, error) {
	return s.store.FindUserByContact(ctx, tenantID, channel, value)
}

// DeleteUser implements kycd.UserService.
func (s *Service) DeleteUser(ctx context.Context, tenantID, id string, why kycd.UserDeletion) error {
	return s.store.DeleteUser(ctx, tenantID, id, why, kycd.UserDeleted(tenantID, id, why))
}
