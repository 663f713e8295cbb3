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
	return s.store.CreateUser(ctx, u, jobs...)
}

// FindUserByID implements kycd.UserService.
func (s *Service) FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error) {
	return s.store.FindUserByID(ctx, tenantID, id)
}

// FindUserByContact implements kycd.UserService.
func (s *Service) FindUserByContact(ctx context.Context, tenantID, channel, value string) (*kycd.User, error) {
	return s.store.FindUserByContact(ctx, tenantID, channel, value)
}

// DeleteUser implements kycd.UserService.
func (s *Service) DeleteUser(ctx context.Context, tenantID, id string, why kycd.UserDeletion) error {
	return s.store.DeleteUser(ctx, tenantID, id, why)
}
