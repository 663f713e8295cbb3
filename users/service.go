// Package users runs the rules of users' lives in kycd: what a user's
// creation starts (screening against the sanctions lists), on top of the
// store that keeps them.
package users

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// Config holds the service's dependencies.
type Config struct {
	Store kycd.UserStore
	// ScreeningOff is the operator's choice not to screen users.
	ScreeningOff bool
}

// Service implements kycd.UserService.
type Service struct {
	store        kycd.UserStore
	screeningOff bool
}

var _ kycd.UserService = (*Service)(nil)

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil {
		return nil, errors.New("users: missing store")
	}
	return &Service{store: c.Store, screeningOff: c.ScreeningOff}, nil
}

// CreateUser implements kycd.UserService: the user is stored and, in the
// same transaction, its screening starts, so that no user exists that
// kycd will not screen.
func (s *Service) CreateUser(ctx context.Context, u *kycd.User) error {
	u.ID = uuid.NewString()
	var jobs []kycd.JobArgs
	if !s.screeningOff {
		jobs = append(jobs, kycd.ScreenUserArgs{TenantID: u.TenantID, UserID: u.ID})
	}
	return s.store.CreateUser(ctx, u, kycd.UserCreated(u, jobs...))
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
