package auth

import (
	"context"
	"testing"
	"time"

	"github.com/kycd/kycd/mock"
)

// TestVerifierRemembersMatches: a secret that matched is answered without an
// Argon2id run for VerifiedFor; a wrong secret, a rotated hash and a match
// older than VerifiedFor are verified again; the memory stays bounded.
func TestVerifierRemembersMatches(t *testing.T) {
	t.Parallel()
	clock := mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	v := NewVerifier(0, clock, VerifiedFor)
	runs := 0
	v.check = func(hash, secret string) (bool, error) {
		runs++
		return VerifySecret(hash, secret)
	}
	ctx := context.Background()
	secret := NewSecret()
	hash := HashSecret(secret)
	verify := func(what, hash, secret string, want bool, wantRuns int) {
		t.Helper()
		ok, err := v.Verify(ctx, hash, secret, true)
		if err != nil || ok != want {
			t.Fatalf("%s: %v %v, want %v", what, ok, err, want)
		}
		if runs != wantRuns {
			t.Fatalf("%s: %d Argon2id runs in all, want %d", what, runs, wantRuns)
		}
	}
	verify("the first match", hash, secret, true, 1)
	verify("the same secret again", hash, secret, true, 1)
	verify("a wrong secret", hash, secret+"x", false, 2)
	verify("the wrong secret again", hash, secret+"x", false, 3)
	rotated := HashSecret(secret)
	verify("the secret under a new hash", rotated, secret, true, 4)
	clock.Advance(VerifiedFor - time.Second)
	verify("just before VerifiedFor", hash, secret, true, 4)
	clock.Advance(time.Second)
	verify("after VerifiedFor", hash, secret, true, 5)
	verify("remembered again", hash, secret, true, 5)

	// Bounded: past maxVerified, the expired go, then all of them.
	for i := range maxVerified + 10 {
		v.verified.put([32]byte{byte(i), byte(i >> 8), byte(i >> 16), 1}, struct{}{}, clock.Now().Add(VerifiedFor), clock.Now())
	}
	if n := v.verified.len(); n > maxVerified {
		t.Fatalf("%d secrets remembered, at most %d", n, maxVerified)
	}

	// Remembering off: every verification runs.
	off := NewVerifier(0, clock, 0)
	off.check, runs = v.check, 0
	for range 2 {
		if ok, err := off.Verify(ctx, hash, secret, true); !ok || err != nil {
			t.Fatalf("remembering off: %v %v", ok, err)
		}
	}
	if runs != 2 {
		t.Fatalf("remembering off: %d Argon2id runs for 2 verifications", runs)
	}
}
