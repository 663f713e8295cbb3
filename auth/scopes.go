// Package auth implements kycd's OAuth2 side: client secrets (stored only as
// Argon2id hashes), scopes, signed JWT access tokens and the X-On-Behalf-Of
// subject header.
package auth

import (
	"slices"
	"strings"
)

// ActOnBehalfOf is the scope a token needs to act for one of its tenant's users.
const ActOnBehalfOf = "core.users:act-on-behalf-of"

// PartnerScopes are the scopes a partner's client may hold: Uphold's Core API
// scopes for the KYC part, and its KYC Connector scopes.
var PartnerScopes = []string{
	ActOnBehalfOf,
	"core.users:create",
	"core.users:read",
	"core.users:delete",
	"core.users.metadata:read",
	"core.users.metadata:write",
	"core.kyc:read",
	"core.kyc.profile:update",
	"core.kyc.address:update",
	"core.kyc.email:update",
	"core.kyc.phone:update",
	"core.kyc.identity:update",
	"core.kyc.proof-of-address:update",
	"core.kyc.customer-due-diligence:update",
	"core.kyc.enhanced-due-diligence:update",
	"core.kyc.crypto-risk-assessment:update",
	"core.kyc.self-categorization-statement:update",
	"core.kyc.tax-details:update",
	"core.capabilities:read",
	"core.terms-of-service:read",
	"core.terms-of-service:accept",
	"core.files:create",
	"core.files:read",
	"core.files.metadata:read",
	"core.files.metadata:write",
	"core.webhooks:management-link",
	// kycd extensions: webhook endpoints and the pull feed of events.
	"core.webhooks:read",
	"core.webhooks:write",
	"core.events:read",
	"kyc-connector.sumsub.ingestions:create",
	"kyc-connector.sumsub.ingestions:read",
	"kyc-connector.veriff.ingestions:create",
	"kyc-connector.veriff.ingestions:read",
	"kyc-connector.veriff.config:read",
	"kyc-connector.veriff.config:write",
	// kycd extension: the tenant's Sumsub credentials.
	"kyc-connector.sumsub.config:read",
	"kyc-connector.sumsub.config:write",
	// Checks (Upvest-compatible).
	"checks:read",
	"checks:admin",
	// KYC levels and applications (STASIS-compatible).
	"kyc-applications:read",
	"kyc-applications:write",
}

// AdminScopes are scopes for a tenant's compliance and operations tooling;
// a client gets them only when named.
var AdminScopes = []string{
	"admin.audit:read",
	// The compliance role records COMPLIANCE checks.
	"checks:compliance",
	// Compliance officers review KYC applications; the tenant's levels.
	"admin.kyc-applications:read",
	"admin.kyc-applications:review",
	"admin.kyc-levels:write",
	// Screening: the lists in force and searches of them.
	"admin.screening:read",
	// Cases: reading them, and deciding them (analysts).
	"admin.cases:read",
	"admin.cases:review",
}

// KnownScope reports whether s is a partner or an admin scope.
func KnownScope(s string) bool {
	return slices.Contains(PartnerScopes, s) || slices.Contains(AdminScopes, s)
}

// ParseScopes splits a space- or comma-separated scope list, dropping
// duplicates and keeping order.
func ParseScopes(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Missing returns the scopes of want that have is not holding.
func Missing(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// Grant returns the scopes a token request gets: each requested scope the
// client holds, in kycd's spelling or in Uphold's token-request spelling.
// A scope is first read as given; only when it names nothing the client
// holds is it read in Uphold's spelling. Uphold's token endpoint documents
// the request `users:* users.kyc:read` beside scopes named
// `core.<resource>:<action>`: its scopes leave out the `core.` of the API
// they belong to, and `*` stands for every action on the resource (never for
// resources below it). So `users.kyc` is the user's KYC, the Core API's `kyc`
// resource (the KYC processes are always a user's: /core/kyc acts on behalf
// of one), as `users.kyc.<process>` is `kyc.<process>`; and `<resource>:*`
// grants every action on the resource that the client holds. ok is false
// when a scope names nothing the client holds (the request asks for more
// than the client's own).
func Grant(held []string, requested []string) (granted []string, ok bool) {
	for _, r := range requested {
		matches := holding(held, r)
		if len(matches) == 0 {
			matches = holding(held, upholdSpelling(r))
		}
		if len(matches) == 0 {
			return nil, false
		}
		for _, h := range matches {
			if !slices.Contains(granted, h) {
				granted = append(granted, h)
			}
		}
	}
	return granted, len(granted) > 0
}

// holding returns the held scopes that scope names: itself, or, with the
// action `*`, every held action on its resource.
func holding(held []string, scope string) []string {
	resource, action, found := strings.Cut(scope, ":")
	if !found || resource == "" || action == "" {
		return nil
	}
	var out []string
	for _, h := range held {
		hr, ha, _ := strings.Cut(h, ":")
		if hr == resource && (action == "*" || ha == action) {
			out = append(out, h)
		}
	}
	return out
}

// upholdSpelling is kycd's name for a scope written as Uphold's
// token-request example writes it (see Grant).
func upholdSpelling(s string) string {
	if rest, ok := strings.CutPrefix(s, "users.kyc"); ok && (rest == "" || rest[0] == ':' || rest[0] == '.') {
		s = "kyc" + rest
	}
	return "core." + s
}
