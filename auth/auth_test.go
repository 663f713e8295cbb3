package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/mock"
)

func TestSecretHash(t *testing.T) {
	t.Parallel()
	s := auth.NewSecret()
	h := auth.HashSecret(s)
	if strings.Contains(h, s) || !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := auth.VerifySecret(h, s); !ok || err != nil {
		t.Fatalf("right secret: %v %v", ok, err)
	}
	if ok, _ := auth.VerifySecret(h, s+"x"); ok {
		t.Fatal("wrong secret accepted")
	}
	if h2 := auth.HashSecret(s); h2 == h {
		t.Fatal("hashes are not salted")
	}
	if _, err := auth.VerifySecret("$2a$10$bcrypt", s); err == nil {
		t.Fatal("foreign hash accepted")
	}
	// The default cost is OWASP's minimum, and a hash records its cost:
	// one made cheaper is checked at its own cost.
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") { // HashSecret is Cost{}.Hash
		t.Errorf("default cost: %q", h)
	}
	cheap := auth.Cost{Time: 1, MemoryKiB: 64}.Hash(s)
	if !strings.HasPrefix(cheap, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("cheap hash %q", cheap)
	}
	if ok, err := auth.VerifySecret(cheap, s); !ok || err != nil {
		t.Errorf("the cheap hash's secret: %v %v", ok, err)
	}
	if ok, _ := auth.VerifySecret(cheap, s+"x"); ok {
		t.Error("wrong secret accepted by the cheap hash")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tokens := auth.NewTokens(key, 10*time.Minute, clock)
	c := &kycd.Client{ID: "c1", TenantID: "t1"}
	raw, err := tokens.Issue(c, []string{"core.users:read", "core.kyc:read"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.Verify(raw)
	if err != nil || claims.Subject != "c1" || claims.TenantID != "t1" || len(claims.Scopes()) != 2 {
		t.Fatalf("verify: %+v %v", claims, err)
	}
	clock.Advance(9 * time.Minute)
	if _, err := tokens.Verify(raw); err != nil {
		t.Fatalf("within lifetime: %v", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := tokens.Verify(raw); kycd.ErrorCode(err) != kycd.ETokenExpired {
		t.Fatalf("after lifetime: %v", err)
	}
	clock.Set(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))
	if _, err := tokens.Verify(raw); kycd.ErrorCode(err) != kycd.ETokenInvalid {
		t.Fatalf("before issue: %v", err)
	}
}

// TestTokensStrict: tokens signed with kycd's own key are still refused
// when a lifetime claim is not a number (RFC 7519) or when they carry a
// "crit" header (RFC 7515: kycd understands no extension).
func TestTokensStrict(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tokens := auth.NewTokens(key, 10*time.Minute, mock.NewClock(now))
	sign := func(claims jwt.MapClaims, header map[string]any) string {
		t.Helper()
		base := jwt.MapClaims{"iss": auth.Issuer, "sub": "c1", "tid": "t1", "scope": "core.users:read",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		maps.Copy(base, claims)
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, base)
		maps.Copy(tok.Header, header)
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// The same construction with numbers is accepted, also as fractions.
	for _, ok := range []jwt.MapClaims{{}, {"exp": float64(now.Add(time.Minute).Unix()) + 0.5}} {
		if _, err := tokens.Verify(sign(ok, nil)); err != nil {
			t.Fatalf("well-formed %v: %v", ok, err)
		}
	}
	exp := strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	iat := strconv.FormatInt(now.Unix(), 10)
	for name, claims := range map[string]jwt.MapClaims{
		"exp string": {"exp": exp}, "nbf string": {"nbf": iat}, "iat string": {"iat": iat},
		"exp null": {"exp": nil}, "exp bool": {"exp": true}, "exp array": {"exp": []int64{now.Unix()}},
		"exp object": {"exp": map[string]any{"n": now.Unix()}},
	} {
		if _, err := tokens.Verify(sign(claims, nil)); kycd.ErrorCode(err) != kycd.ETokenInvalid {
			t.Errorf("%s: %v, want token_invalid", name, err)
		}
	}
	for name, header := range map[string]map[string]any{
		"crit unknown": {"crit": []string{"x-kycd-unknown"}, "x-kycd-unknown": true},
		"crit b64":     {"crit": []string{"b64"}, "b64": false},
		"crit empty":   {"crit": []string{}},
		"crit string":  {"crit": "exp"},
	} {
		if _, err := tokens.Verify(sign(nil, header)); kycd.ErrorCode(err) != kycd.ETokenInvalid {
			t.Errorf("%s: %v, want token_invalid", name, err)
		}
	}
}

// FuzzVerify: any string is either refused as token_invalid or
// token_expired, or verifies to claims with a subject and a tenant; never a
// panic. The seeds are kycd's own tokens and their variants.
func FuzzVerify(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tokens := auth.NewTokens(key, 10*time.Minute, mock.NewClock(now))
	good, err := tokens.Issue(&kycd.Client{ID: "c1", TenantID: "t1"}, []string{"core.users:read"})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for _, s := range []string{good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"exp":`, `"exp":"`, 1))) + "." + parts[2]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := tokens.Verify(raw)
		if err != nil {
			if c := kycd.ErrorCode(err); c != kycd.ETokenInvalid && c != kycd.ETokenExpired {
				t.Fatalf("error %v", err)
			}
			return
		}
		if claims.Subject == "" || claims.TenantID == "" || claims.ExpiresAt == nil {
			t.Fatalf("%q verified to %+v", raw, claims)
		}
	})
}

func TestParseOnBehalfOf(t *testing.T) {
	t.Parallel()
	kind, id, err := auth.ParseOnBehalfOf("user cd21b26d-35d2-408a-9201-b8fdbef7a604")
	if err != nil || kind != "user" || id != "cd21b26d-35d2-408a-9201-b8fdbef7a604" {
		t.Fatalf("%s %s %v", kind, id, err)
	}
	for _, bad := range []string{"", "user", "user ", "user cd21b26d", "admin cd21b26d-35d2-408a-9201-b8fdbef7a604",
		"user  cd21b26d-35d2-408a-9201-b8fdbef7a604", "user CD21B26D-35D2-408A-9201-B8FDBEF7A604",
		"user cd21b26d-35d2-408a-9201-b8fdbef7a604 ", "user cd21b26d-35d2-408a-9201-b8fdbef7a604\n"} {
		if _, _, err := auth.ParseOnBehalfOf(bad); kycd.ErrorCode(err) != kycd.ERequestInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	if got := auth.ParseScopes("a b,c  a"); strings.Join(got, " ") != "a b c" {
		t.Fatalf("ParseScopes = %v", got)
	}
	if m := auth.Missing([]string{"a", "b"}, []string{"b", "c"}); len(m) != 1 || m[0] != "c" {
		t.Fatalf("Missing = %v", m)
	}
	for _, s := range auth.PartnerScopes {
		if strings.HasPrefix(s, "admin.") {
			t.Errorf("partner scope %s is an admin scope", s)
		}
	}
}

// FuzzParseOnBehalfOf: any header value either parses to a user or client
// subject with a canonical UUID, or is a request_invalid error; never a panic.
func FuzzParseOnBehalfOf(f *testing.F) {
	for _, s := range []string{"user cd21b26d-35d2-408a-9201-b8fdbef7a604", "client 3fa85f64-5717-4562-b3fc-2c963f66afa6", "", "user", "user\tcd21b26d-35d2-408a-9201-b8fdbef7a604", "user \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		kind, id, err := auth.ParseOnBehalfOf(v)
		if err != nil {
			if kycd.ErrorCode(err) != kycd.ERequestInvalid {
				t.Fatalf("error %v is not request_invalid", err)
			}
			return
		}
		if (kind != "user" && kind != "client") || len(id) != 36 || !strings.HasSuffix(v, id) || !strings.HasPrefix(v, kind) {
			t.Fatalf("%q parsed to %q %q", v, kind, id)
		}
	})
}

// TestGrant: Uphold's token-request example (`users:* users.kyc:read`)
// reads as the Core API's users actions and KYC read; a wildcard grants
// only what the client holds; a scope is read as given first; anything the client does not hold is refused.
func TestGrant(t *testing.T) {
	t.Parallel()
	held := []string{"core.users:act-on-behalf-of", "core.users:read", "core.users.metadata:read", "core.kyc:read", "core.kyc.profile:update", "checks:read", "reports:read"}
	for _, tc := range []struct {
		want string
		ok   bool
		got  string
	}{
		{"users:* users.kyc:read", true, "core.users:act-on-behalf-of core.users:read core.kyc:read"},
		{"core.users:read core.kyc:read", true, "core.users:read core.kyc:read"},
		{"users.kyc.profile:update checks:read", true, "core.kyc.profile:update checks:read"},
		{"users.metadata:*", true, "core.users.metadata:read"},
		{"kyc:*", true, "core.kyc:read"},
		{"users:create", false, ""},
		// A scope is read as given before Uphold's spelling is tried: a
		// family kycd adds needs no entry in a list of prefixes.
		{"reports:read", true, "reports:read"},
		{"reports:*", true, "reports:read"},
		{"core.users:*", true, "core.users:act-on-behalf-of core.users:read"},
		{"files:*", false, ""},
		{"users", false, ""},
		{":*", false, ""},
		{"", false, ""},
		{"users.kycx:read", false, ""},
	} {
		got, ok := auth.Grant(held, auth.ParseScopes(tc.want))
		if ok != tc.ok || strings.Join(got, " ") != tc.got {
			t.Errorf("Grant(%q) = %v %v, want %q %v", tc.want, got, ok, tc.got, tc.ok)
		}
	}
}
