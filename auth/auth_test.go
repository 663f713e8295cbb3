package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

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
