package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// TestTokensRemembered: a verified token is remembered, and a remembered
// one is still refused once expired or before it was issued; what Verify
// returns is the caller's to change; a token altered after being
// remembered is checked whole (and refused); at most the memo's bound are kept.
func TestTokensRemembered(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tokens := NewTokens(key, 10*time.Minute, clock)
	tokens.verified = newMemo[*Claims](3)
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
	if err != nil || tokens.verified.len() != 1 {
		t.Fatalf("first: %v, %d remembered", err, tokens.verified.len())
	}
	first.TenantID = "changed by the caller"
	first.ExpiresAt.Time = first.ExpiresAt.Add(time.Hour)
	again, err := tokens.Verify(raw)
	if err != nil || again.TenantID != "t1" || again.Subject != "c1" {
		t.Fatalf("remembered: %+v %v", again, err)
	}
	again.ExpiresAt.Time = again.ExpiresAt.Add(time.Hour)
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
	// The bound: expired tokens go first, then all (when that frees less
	// than a tenth).
	clock.Set(time.Date(2026, 1, 1, 0, 20, 0, 0, time.UTC))
	for range 2 {
		if _, err := tokens.Verify(issue()); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokens.verified.len(); n != 3 {
		t.Fatalf("%d remembered, want 3", n)
	}
	if _, err := tokens.Verify(issue()); err != nil || tokens.verified.len() != 3 {
		t.Fatalf("the expired one dropped: %v, %d remembered", err, tokens.verified.len())
	}
	if _, err := tokens.Verify(issue()); err != nil || tokens.verified.len() != 1 {
		t.Fatalf("none expired, all dropped: %v, %d remembered", err, tokens.verified.len())
	}
}

// TestTokensRememberedAsVerified: at the edges of a token's lifetime, a
// remembered token is answered as a token checked whole is.
func TestTokensRememberedAsVerified(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := mock.NewClock(issued)
	warm := NewTokens(key, 10*time.Minute, clock)
	raw, err := warm.Issue(&kycd.Client{ID: "c1", TenantID: "t1"}, []string{"core.users:read"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Verify(raw); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{issued.Add(-time.Second), issued, issued.Add(10*time.Minute - time.Second),
		issued.Add(10 * time.Minute), issued.Add(time.Hour)} {
		clock.Set(at)
		_, whole := NewTokens(key, 10*time.Minute, clock).Verify(raw)
		_, remembered := warm.Verify(raw)
		if kycd.ErrorCode(whole) != kycd.ErrorCode(remembered) || (whole == nil) != (remembered == nil) {
			t.Errorf("at %s: checked whole %v, remembered %v", at.Sub(issued), whole, remembered)
		}
	}
}

// TestTokensConcurrent: tokens verified at once, some remembered, some
// new, while the bound drops them (under -race).
func TestTokensConcurrent(t *testing.T) {
	t.Parallel()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tokens := NewTokens(key, 10*time.Minute, mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	tokens.verified = newMemo[*Claims](4)
	var raws []string
	for range 8 {
		raw, err := tokens.Issue(&kycd.Client{ID: "c1", TenantID: "t1"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 40 {
				if c, err := tokens.Verify(raws[(w+i)%len(raws)]); err != nil || c.Subject != "c1" {
					t.Errorf("verify: %v", err)
				}
			}
		})
	}
	wg.Wait()
}
