package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/keyfile"
)

// Issuer is the "iss" of every kycd access token.
const Issuer = "kycd"

// Claims are the claims of a kycd access token.
type Claims struct {
	jwt.RegisteredClaims
	// TenantID is the tenant of the client the token was issued to.
	TenantID string `json:"tid"`
	// Scope is the space-separated list of granted scopes.
	Scope string `json:"scope"`
}

// Scopes returns the granted scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// UnmarshalJSON decodes the claims, refusing an "exp", "nbf" or "iat" that
// is not a JSON number (RFC 7519, section 2: a NumericDate is a number).
// golang-jwt reads those through json.Number, which also takes a string
// holding digits ("exp": "1999999999").
func (c *Claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := raw[name]; ok && !isJSONNumber(v) {
			return fmt.Errorf("claim %q is not a number", name)
		}
	}
	type plain Claims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// isJSONNumber reports whether a raw JSON value is a number (a string, null,
// bool, object or array starts otherwise).
func isJSONNumber(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && (v[0] == '-' || ('0' <= v[0] && v[0] <= '9'))
}

// Tokens issues and verifies access tokens, signed with Ed25519.
type Tokens struct {
	key   ed25519.PrivateKey
	kid   string
	ttl   time.Duration
	clock kycd.Clock

	// verified are the tokens whose signature and claims were checked, by
	// the SHA-256 of the token, with their claims: a client sends the same
	// token with each request of its lifetime, and checking the signature
	// and decoding the claims again costs more than the rest of
	// authenticating. Each is remembered until it expires, and its "nbf"
	// and "iat" are checked at each use. Remembered claims are never
	// changed: callers get copies (Claims.clone).
	verified *memo[*Claims]
}

// maxTokens bounds the tokens a Tokens remembers (a few MB).
const maxTokens = 10_000

// NewTokens returns a token issuer and verifier over a signing key.
func NewTokens(key ed25519.PrivateKey, ttl time.Duration, clock kycd.Clock) *Tokens {
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &Tokens{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:8]), ttl: ttl, clock: clock,
		verified: newMemo[*Claims](maxTokens)}
}

// TTL is the lifetime of the tokens it issues.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed access token for a client and the granted scopes.
func (t *Tokens) Issue(c *kycd.Client, scopes []string) (string, error) {
	now := t.clock.Now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		TenantID: c.TenantID,
		Scope:    strings.Join(scopes, " "),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = t.kid
	return tok.SignedString(t.key)
}

// Verify checks a token's signature, issuer and lifetime and returns its
// claims. It returns ETokenExpired for an expired token and ETokenInvalid for
// anything else wrong with it, including lifetime claims that are not
// numbers and a "crit" header: kycd understands no JWS extension, and RFC
// 7515 (section 4.1.11) requires refusing a token that names one it does not
// understand. Its own tokens never carry one. A token verified once is
// remembered (Tokens.verified): later calls check only its lifetime.
func (t *Tokens) Verify(raw string) (*Claims, error) {
	sum := sha256.Sum256([]byte(raw))
	now := t.clock.Now()
	if c, ok := t.verified.get(sum, now); ok {
		// Valid until it expires, unless the clock went back before its
		// "nbf" or "iat" (golang-jwt's checks, without leeway).
		if c.NotBefore != nil && now.Before(c.NotBefore.Time) || c.IssuedAt != nil && now.Before(c.IssuedAt.Time) {
			return nil, &kycd.Error{Code: kycd.ETokenInvalid, Message: "The access token is invalid"}
		}
		return c.clone(), nil
	}
	claims, err := t.verify(raw)
	if err != nil {
		return nil, err
	}
	t.verified.put(sum, claims.clone(), claims.ExpiresAt.Time, now)
	return claims, nil
}

// clone is a deep copy of the claims: its dates and audience are its own.
func (c *Claims) clone() *Claims {
	cp := *c
	date := func(d *jwt.NumericDate) *jwt.NumericDate {
		if d == nil {
			return nil
		}
		return jwt.NewNumericDate(d.Time)
	}
	cp.ExpiresAt, cp.NotBefore, cp.IssuedAt = date(c.ExpiresAt), date(c.NotBefore), date(c.IssuedAt)
	cp.Audience = slices.Clone(c.Audience)
	return &cp
}

// verify checks a token whole: signature, header and claims.
func (t *Tokens) verify(raw string) (*Claims, error) {
	var claims Claims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.key.Public(), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.clock.Now),
	)
	if err == nil {
		if _, ok := tok.Header["crit"]; ok {
			err = errors.New("crit header")
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, &kycd.Error{Code: kycd.ETokenExpired, Message: "The access token has expired"}
	case err != nil || claims.Subject == "" || claims.TenantID == "":
		return nil, &kycd.Error{Code: kycd.ETokenInvalid, Message: "The access token is invalid"}
	}
	return &claims, nil
}

// LoadSigningKey reads an Ed25519 private key (PKCS #8 PEM) from path. When
// the file does not exist and create is true, it generates one there (mode
// 0600) and reports created=true.
func LoadSigningKey(path string, create bool) (key ed25519.PrivateKey, created bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, false, err
		}
		raw = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := keyfile.Create(path, raw); err != nil {
			return nil, false, fmt.Errorf("create signing key: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, false, fmt.Errorf("signing key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("signing key %s: not an Ed25519 key", path)
	}
	return priv, created, nil
}
