package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// TestTokensRemembered: a verified token is remembered, and a remembered
// one is still refused once expired or before it was issued; what Verify
// returns is the caller's to change; a token altered after being
// remembered is checked whole (and refused); at most maxVerified are kept.
func TestTokensRemembered(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tokens := NewTokens(key, 10*time.Minute, clock)
	tokens.maxVerified = 3
	issue := func() string {
		t.Helper()
		raw, err := tokens.Issue(&kycd.Client{ID: "c1", TenantID: "t1"}, []string{"core.users:read"})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := issue()
	first, err := tokens.Verify(raw)
	if err != nil || len(tokens.verified) != 1 {
		t.Fatalf("first: %v, %d remembered", err, len(tokens.verified))
	}
	first.TenantID = "changed by the caller"
	if again, err := tokens.Verify(raw); err != nil || again.TenantID != "t1" || again.Subject != "c1" {
		t.Fatalf("remembered: %+v %v", again, err)
	}
	// A character of the signature changed (not the last, whose low bits
	// base64 leaves unused): another token, checked whole.
	i := len(raw) - 10
	forged := raw[:i] + map[bool]string{true: "A", false: "B"}[raw[i] != 'A'] + raw[i+1:]
	if _, err := tokens.Verify(forged); kycd.ErrorCode(err) != kycd.ETokenInvalid {
		t.Errorf("altered token: %v", err)
	}
	clock.Advance(10 * time.Minute)
	if _, err := tokens.Verify(raw); kycd.ErrorCode(err) != kycd.ETokenExpired {
		t.Errorf("remembered, expired: %v", err)
	}
	clock.Set(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))
	if _, err := tokens.Verify(raw); kycd.ErrorCode(err) != kycd.ETokenInvalid {
		t.Errorf("remembered, before its issue: %v", err)
	}
	// The bound: expired tokens go first, then all.
	clock.Set(time.Date(2026, 1, 1, 0, 20, 0, 0, time.UTC))
	for range 2 {
		if _, err := tokens.Verify(issue()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tokens.verified); n != 3 {
		t.Fatalf("%d remembered, want 3", n)
	}
	if _, err := tokens.Verify(issue()); err != nil || len(tokens.verified) != 3 {
		t.Fatalf("the expired one dropped: %v, %d remembered", err, len(tokens.verified))
	}
	if _, err := tokens.Verify(issue()); err != nil || len(tokens.verified) != 1 {
		t.Fatalf("none expired, all dropped: %v, %d remembered", err, len(tokens.verified))
	}
}
