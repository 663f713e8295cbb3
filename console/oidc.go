package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/kycd/kycd"
)

// OIDC is sign-in through a tenant's identity provider (OpenID Connect,
// authorization code flow with PKCE): the people it vouches for are the
// tenant's reviewers, their role taken from a claim (groups) or, for an
// allowed email domain, a default.
type OIDC struct {
	// Issuer is the provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is kycd's callback: <public URL>/console/oidc/callback.
	RedirectURL string
	// TenantID is the tenant whose reviewers the provider's people are.
	TenantID string
	// Domain, when set, is the one email domain allowed (verified emails
	// only).
	Domain string
	// RoleClaim names the claim holding the person's groups; Roles maps a
	// group to a role. DefaultRole is the role of an allowed person in no
	// mapped group ("": refused).
	RoleClaim   string
	Roles       map[string]string
	DefaultRole string
	// HTTP reaches the provider (through the SSRF guard).
	HTTP *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// setup discovers the provider once it answers (not at start: a provider
// down then must not stop kycd).
func (o *OIDC) setup(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.HTTP), o.Issuer)
	if err != nil {
		return nil, err
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL, Endpoint: p.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// rolePrecedence picks among the roles a person's groups map to.
var rolePrecedence = []string{kycd.RoleAdmin, kycd.RoleSupervisor, kycd.RoleAnalyst, kycd.RoleAuditor}

// roleOf is the role of a person with these claims, or "" when the person
// is not allowed.
func (o *OIDC) roleOf(email string, verified bool, groups []string) string {
	domainOK := o.Domain == "" || (verified && strings.HasSuffix(email, "@"+strings.ToLower(o.Domain)))
	if !domainOK || email == "" {
		return ""
	}
	for _, role := range rolePrecedence {
		for _, g := range groups {
			if o.Roles[g] == role {
				return role
			}
		}
	}
	if o.Domain != "" {
		return o.DefaultRole
	}
	return ""
}

// oidcCookie carries the state, nonce, PKCE verifier and destination of a
// sign-in between kycd and the provider (ten minutes at most).
const oidcCookie = "kycd_console_oidc"

var errOIDC = &kycd.Error{Code: errForbidden.Code, Message: "Your identity provider's sign-in did not allow you in"}

// handleOIDCLogin sends the reviewer to the identity provider.
func (s *Server) handleOIDCLogin() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.oidc.setup(r.Context())
		if err != nil {
			return &kycd.Error{Code: kycd.EServiceUnavailable, Message: "The identity provider does not answer: try again shortly"}
		}
		state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
		next := safeNext(r.URL.Query().Get("next"))
		http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, "."),
			Path: "/console/oidc/", MaxAge: 600, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, s.oidc.oauth2Config(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
		return nil
	}
}

// handleOIDCCallback finishes a sign-in at the provider: the state matches
// the cookie's, the code is exchanged (with the PKCE verifier), the ID
// token is verified (signature, issuer, audience, expiry, nonce), and the
// person's email and groups give the reviewer and role.
func (s *Server) handleOIDCCallback() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := r.Cookie(oidcCookie)
		http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/console/oidc/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		if err != nil {
			return errOIDC
		}
		parts := strings.Split(c.Value, ".")
		q := r.URL.Query()
		if len(parts) != 4 || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 || q.Get("code") == "" {
			return errOIDC
		}
		nonce, verifier := parts[1], parts[2]
		rawNext, _ := base64.RawURLEncoding.DecodeString(parts[3])
		p, err := s.oidc.setup(r.Context())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), s.oidc.HTTP), 15*time.Second)
		defer cancel()
		tok, err := s.oidc.oauth2Config(p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			return s.oidcRefused(r, "exchange", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := p.Verifier(&oidc.Config{ClientID: s.oidc.ClientID, Now: s.clock.Now}).Verify(ctx, raw)
		if err != nil {
			return s.oidcRefused(r, "id token", err)
		}
		if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
			return s.oidcRefused(r, "nonce", errors.New("nonce mismatch"))
		}
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			return s.oidcRefused(r, "claims", err)
		}
		email, _ := claims["email"].(string)
		email = strings.ToLower(strings.TrimSpace(email))
		verified, _ := claims["email_verified"].(bool)
		role := s.oidc.roleOf(email, verified, stringsOf(claims[s.oidc.RoleClaim]))
		if role == "" {
			return s.oidcRefused(r, "not allowed", nil)
		}
		sess, err := s.reviewers.SignInExternal(r.Context(), s.oidc.TenantID, email, role)
		if kycd.ErrorCode(err) == kycd.ESignInFailed {
			return s.oidcRefused(r, "another tenant's reviewer", nil)
		} else if err != nil {
			return err
		}
		s.setSession(w, sess)
		http.Redirect(w, r, safeNext(string(rawNext)), http.StatusSeeOther)
		return nil
	}
}

// oidcRefused logs why a provider's sign-in was refused (no personal data)
// and answers errOIDC.
func (s *Server) oidcRefused(r *http.Request, why string, err error) error {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.logger.Warn("console OIDC sign-in refused", "request_id", kycd.RequestIDFromContext(r.Context()), "why", why, "error", msg)
	return errOIDC
}

// stringsOf reads a claim that is a string or a list of strings.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
