package api

import (
	"net/http"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
)

// principal is who a request acts as: an OAuth2 client of a tenant, with the
// token's scopes, and the user it acts for (X-On-Behalf-Of), if any.
type principal struct {
	ClientID string
	TenantID string
	Scopes   []string
	UserID   string
}

// authenticate verifies the bearer token and its client, applies the
// client's rate limit and returns the principal. A token that fails
// (missing, malformed, forged, expired, of an unknown or revoked client)
// counts against the source address's limit of failed credentials, which
// answers too_many_requests once exhausted.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	failed := func(err error) error {
		if limited := s.failedCredentials(r); limited != nil {
			return limited
		}
		return err
	}
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, failed(&kycd.Error{Code: kycd.ETokenInvalid, Message: "The access token is invalid"})
	}
	claims, err := s.tokens.Verify(strings.TrimSpace(raw))
	if err != nil {
		return nil, failed(err)
	}
	c, err := s.clientsC.find(r.Context(), claims.Subject)
	if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && c.TenantID != claims.TenantID) {
		return nil, failed(&kycd.Error{Code: kycd.ETokenInvalid, Message: "The access token is invalid"})
	} else if err != nil {
		return nil, err
	}
	if c.Revoked() {
		return nil, failed(&kycd.Error{Code: kycd.ETokenRevoked, Message: "The access token has been revoked"})
	}
	if err := s.limits.allow("client:" + c.ID); err != nil {
		return nil, err
	}
	p := &principal{ClientID: c.ID, TenantID: c.TenantID, Scopes: claims.Scopes()}
	setPrincipal(r.Context(), p)
	return p, nil
}

// insufficient returns Uphold's token_insufficient_scopes error.
func insufficient(p *principal, required []string) error {
	return &kycd.Error{
		Code:    kycd.ETokenInsufficientScope,
		Message: "Authorization failed due to insufficient scopes",
		Details: map[string]any{"security": []map[string]any{{
			"scheme": "OAuth2", "schemeScopes": required, "tokenScopes": p.Scopes,
		}}},
	}
}

// authed wraps a handler that needs a valid token holding every scope given.
// The request's context carries the actor for the audit trail.
func (s *Server) authed(scopes []string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if len(auth.Missing(p.Scopes, scopes)) > 0 {
			return insufficient(p, scopes)
		}
		ctx := kycd.NewContextWithActor(r.Context(), kycd.Actor{Kind: "client", ID: p.ClientID})
		return h(w, r.WithContext(ctx))
	}
}

// actingUser resolves X-On-Behalf-Of to a user of the principal's tenant.
// The header is required, needs the act-on-behalf-of scope, and a user of
// another tenant is reported as not found.
func (s *Server) actingUser(r *http.Request) (*kycd.User, *http.Request, error) {
	ref, r, err := s.actingUserRef(r)
	if err != nil {
		return nil, r, err
	}
	u, err := s.users.FindUserByID(r.Context(), ref.TenantID, ref.ID)
	if err != nil {
		return nil, r, err
	}
	return u, r, nil
}

// actingUserRef checks X-On-Behalf-Of like actingUser but does not read the
// user: it returns a reference (ID and tenant) for a service that reads the
// user itself, with what else it needs, in one query (the KYC routes).
func (s *Server) actingUserRef(r *http.Request) (*kycd.User, *http.Request, error) {
	p := principalFrom(r.Context())
	v := r.Header.Get("X-On-Behalf-Of")
	if v == "" {
		return nil, r, kycd.Invalid("headers", kycd.Violation{Property: "x-on-behalf-of", Rule: "required"})
	}
	kind, id, err := auth.ParseOnBehalfOf(v)
	if err != nil {
		return nil, r, err
	}
	if kind != auth.SubjectUser {
		return nil, r, kycd.Invalid("headers", kycd.Violation{Property: "x-on-behalf-of", Rule: "enum", RuleParams: map[string]any{"allowedValues": []string{"user"}}})
	}
	if len(auth.Missing(p.Scopes, []string{auth.ActOnBehalfOf})) > 0 {
		return nil, r, insufficient(p, []string{auth.ActOnBehalfOf})
	}
	p.UserID = id
	ctx := kycd.NewContextWithActor(r.Context(), kycd.Actor{Kind: "client", ID: p.ClientID, OnBehalfOf: id})
	return &kycd.User{ID: id, TenantID: p.TenantID}, r.WithContext(ctx), nil
}
