package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/kycd/kycd"
)

// Cost is what hashing a secret with Argon2id costs: passes over the
// memory, and the memory in KiB (one lane). A hash records its cost, and
// VerifySecret checks each hash at the cost it was made with. A field left
// zero is the default's: OWASP's minimum (19 MiB, t=2, p=1), what kycd
// hashes client secrets and reviewer passwords at. Client secrets are 256
// random bits, so the hash's slowness guards against a stolen table being
// used offline, not against guessing.
type Cost struct{ Time, MemoryKiB uint32 }

const (
	defaultTime      = 2
	defaultMemoryKiB = 19 * 1024
	argonThreads     = 1
	argonKeyLen      = 32
)

// NewSecret returns a fresh client secret: 32 random bytes, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the Argon2id hash of a secret at the default cost, in
// PHC string form.
func HashSecret(secret string) string { return Cost{}.Hash(secret) }

// Hash returns the Argon2id hash of a secret at this cost, in PHC string
// form (at least 8 KiB, Argon2's least for one lane).
func (c Cost) Hash(secret string) string {
	c.Time, c.MemoryKiB = cmp.Or(c.Time, defaultTime), max(cmp.Or(c.MemoryKiB, defaultMemoryKiB), 8*argonThreads)
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(secret), salt, c.Time, c.MemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Time, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifySecret reports whether secret matches a hash made by HashSecret or
// Cost.Hash, at the cost the hash records.
func VerifySecret(hash, secret string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("auth: not an argon2id hash")
	}
	var (
		version int
		mem, t  uint32
		threads uint8
	)
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads); err != nil {
		return false, fmt.Errorf("auth: argon2 parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(secret), salt, t, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// SecretMemory is what one verification of a client secret is counted at
// against a Verifier's budget: the default cost's memory (19 MiB), twice, as the
// garbage collector frees a finished verification's memory only at its
// next cycle (measured: one verification at a time peaks a kycd at about
// 120 MiB of resident memory, two at 170 MiB).
const SecretMemory = 2 * defaultMemoryKiB * 1024

// ErrBusy is returned by Verifier.Verify when no verification could start
// before the context ended: as many run as the memory budget allows.
var ErrBusy = errors.New("auth: too many secret verifications at once")

// Verifier verifies client secrets (VerifySecret) with at most as many
// verifications at once as a memory budget holds, so that a flood of token
// requests (credential stuffing) cannot take more memory than the budget:
// the others wait for a turn, and give up when their context ends. Known
// requests (a client from an address it authenticated from before) take
// the next turn before any stranger's, so that a flood of strangers makes
// them wait for one verification at most.
//
// A secret that matched is remembered for a while (as a SHA-256 digest
// of the hash and the secret, never the secret): a client asking for its
// next token within that time is answered without a turn or an Argon2id
// run (19 MiB and tens of milliseconds each). Only matches are remembered,
// so a wrong secret always costs a verification; and a secret revoked or
// rotated no longer has its hash stored, so its memory is never consulted.
type Verifier struct {
	clock            kycd.Clock
	remember         time.Duration // how long a match is remembered; 0: never
	mu               sync.Mutex
	free             int
	known, strangers []chan struct{} // waiting, first come first
	verified         *memo[struct{}] // digests of (hash, secret) that matched
	check            func(hash, secret string) (bool, error)
}

// VerifiedFor is how long a verifier remembers a secret that matched, by
// default.
const VerifiedFor = 10 * time.Minute

// maxVerified bounds the secrets a verifier remembers: at most this many
// digests (64 bytes each with their times; memo).
const maxVerified = 4096

// NewVerifier returns a verifier whose verifications together use at most
// budget bytes, counted at SecretMemory each (at least one runs at a time),
// and that remembers a secret that matched for remember (0: never).
func NewVerifier(budget int64, clock kycd.Clock, remember time.Duration) *Verifier {
	return &Verifier{clock: clock, remember: remember, free: int(max(1, budget/SecretMemory)), verified: newMemo[struct{}](maxVerified), check: VerifySecret}
}

// Verify reports whether secret matches hash (VerifySecret): at once when
// it matched within the time a match is remembered, else after waiting for a turn; ErrBusy
// when ctx ends first.
func (v *Verifier) Verify(ctx context.Context, hash, secret string, known bool) (bool, error) {
	digest := sha256.Sum256([]byte(hash + "\x00" + secret))
	now := v.clock.Now()
	if _, ok := v.verified.get(digest, now); ok {
		return true, nil
	}
	if err := v.acquire(ctx, known); err != nil {
		return false, err
	}
	defer v.release()
	ok, err := v.check(hash, secret)
	if ok && err == nil && v.remember > 0 {
		v.verified.put(digest, struct{}{}, now.Add(v.remember), now)
	}
	return ok, err
}

func (v *Verifier) acquire(ctx context.Context, known bool) error {
	v.mu.Lock()
	if v.free > 0 {
		v.free--
		v.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	queue := &v.strangers
	if known {
		queue = &v.known
	}
	*queue = append(*queue, turn)
	v.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	v.mu.Lock()
	if i := slices.Index(*queue, turn); i >= 0 {
		*queue = slices.Delete(*queue, i, i+1)
		v.mu.Unlock()
		return ErrBusy
	}
	v.mu.Unlock()
	// The turn came as the context ended: pass it on.
	v.release()
	return ErrBusy
}

// release hands the turn to the first known request waiting, else to the
// first stranger, else frees it.
func (v *Verifier) release() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, queue := range []*[]chan struct{}{&v.known, &v.strangers} {
		if len(*queue) > 0 {
			close((*queue)[0])
			*queue = (*queue)[1:]
			return
		}
	}
	v.free++
}
