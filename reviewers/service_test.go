package reviewers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/reviewers"
	"github.com/kycd/kycd/sqlstore/storetest"
)

type bundle struct {
	svc    *reviewers.Service
	clock  *mock.Clock
	tenant *kycd.Tenant
	f      *storetest.Fixture
}

func setup(t *testing.T, d storetest.Database, requireTOTP bool) *bundle {
	t.Helper()
	clock := mock.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	f := storetest.Open(t, d, clock)
	tn := &kycd.Tenant{Name: "reviewers-" + strings.ToLower(t.Name()[len(t.Name())-6:])}
	if err := f.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)); err != nil {
		t.Fatal(err)
	}
	svc, err := reviewers.New(reviewers.Config{Store: f.DB, Tenants: f.DB, Clock: clock, RequireTOTP: requireTOTP})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{svc: svc, clock: clock, tenant: tn, f: f}
}

func forEachDB(t *testing.T, fn func(t *testing.T, d storetest.Database)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// TestSignIn: a reviewer signs in with password and TOTP code; a wrong
// password, a wrong code, a reused code or an unknown email fail alike;
// five failures in a row lock the account for a while, whatever is given.
func TestSignIn(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, d storetest.Database) {
		b := setup(t, d, true)
		ctx := context.Background()
		c, err := b.svc.Create(ctx, reviewers.CreateRequest{TenantID: b.tenant.ID, Email: "Ana@Example.com", Role: kycd.RoleAnalyst})
		if err != nil {
			t.Fatal(err)
		}
		if c.Password == "" || c.TOTPSecret == "" || !strings.HasPrefix(c.TOTPURL, "otpauth://totp/") || c.Reviewer.Email != "ana@example.com" {
			t.Fatalf("created: %+v", c)
		}
		code := func() string {
			s, err := totp.GenerateCode(c.TOTPSecret, b.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		for _, tc := range []struct{ email, password, code string }{
			{"ana@example.com", "wrong-password-1", code()},
			{"ana@example.com", c.Password, "000000"},
			{"ana@example.com", c.Password, ""},
			{"nobody@example.com", c.Password, code()},
		} {
			if _, err := b.svc.SignIn(ctx, tc.email, tc.password, tc.code); kycd.ErrorCode(err) != kycd.ESignInFailed {
				t.Errorf("sign in %+v: %v", tc, err)
			}
		}
		s, err := b.svc.SignIn(ctx, "ANA@example.com", c.Password, code())
		if err != nil || s.Token == "" || s.Reviewer.ID != c.Reviewer.ID {
			t.Fatalf("sign in: %+v %v", s, err)
		}
		// The same code again (same step) is refused.
		if _, err := b.svc.SignIn(ctx, "ana@example.com", c.Password, code()); kycd.ErrorCode(err) != kycd.ESignInFailed {
			t.Errorf("a reused code: %v", err)
		}
		b.clock.Advance(30 * time.Second)
		// The reused code was the first failure in a row: four more lock.
		for range 4 {
			if _, err := b.svc.SignIn(ctx, "ana@example.com", "wrong-password-2", code()); kycd.ErrorCode(err) != kycd.ESignInFailed {
				t.Fatalf("a failure: %v", err)
			}
		}
		if _, err := b.svc.SignIn(ctx, "ana@example.com", c.Password, code()); kycd.ErrorCode(err) != kycd.ETooManyRequests {
			t.Fatalf("a locked account: %v", err)
		}
		b.clock.Advance(reviewers.DefaultLockFor)
		if _, err := b.svc.SignIn(ctx, "ana@example.com", c.Password, code()); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		for _, bad := range []reviewers.CreateRequest{
			{TenantID: b.tenant.ID, Email: "not an email", Role: kycd.RoleAnalyst},
			{TenantID: b.tenant.ID, Email: "x@example.com", Role: "boss"},
			{TenantID: b.tenant.ID, Email: "y@example.com", Role: kycd.RoleAnalyst, Password: "short"},
		} {
			if _, err := b.svc.Create(ctx, bad); kycd.ErrorCode(err) != kycd.ERequestInvalid {
				t.Errorf("create %+v: %v", bad, err)
			}
		}
		if _, err := b.svc.Create(ctx, reviewers.CreateRequest{TenantID: b.tenant.ID, Email: "ana@example.com", Role: kycd.RoleAuditor}); kycd.ErrorCode(err) != kycd.EConflict {
			t.Errorf("a taken email: %v", err)
		}
	})
}

// TestSessions: a session lives while used within the idle timeout, never
// past its absolute age; signing out ends it. Without TOTP required (the
// sandbox) the password alone signs in.
func TestSessions(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, d storetest.Database) {
		b := setup(t, d, false)
		ctx := context.Background()
		r, err := b.svc.EnsureSandbox(ctx, b.tenant.ID, "sandbox-"+d.Name+"@kycd.invalid", "sandbox-password-long")
		if err != nil {
			t.Fatal(err)
		}
		if again, err := b.svc.EnsureSandbox(ctx, b.tenant.ID, "sandbox-"+d.Name+"@kycd.invalid", "other"); err != nil || again.ID != r.ID {
			t.Fatalf("the sandbox reviewer again: %v %v", again, err)
		}
		signIn := func() string {
			t.Helper()
			s, err := b.svc.SignIn(ctx, r.Email, "sandbox-password-long", "")
			if err != nil {
				t.Fatal(err)
			}
			return s.Token
		}
		tok := signIn()
		// Used every 20 minutes, it lives until its absolute age.
		for elapsed := time.Duration(0); elapsed < reviewers.DefaultMaxAge-20*time.Minute; elapsed += 20 * time.Minute {
			if got, err := b.svc.Authenticate(ctx, tok); err != nil || got.ID != r.ID {
				t.Fatalf("after %s: %v %v", elapsed, got, err)
			}
			b.clock.Advance(20 * time.Minute)
		}
		b.clock.Advance(20 * time.Minute)
		if _, err := b.svc.Authenticate(ctx, tok); !errors.Is(err, reviewers.ErrNoSession) {
			t.Fatalf("past its absolute age: %v", err)
		}
		tok = signIn()
		b.clock.Advance(reviewers.DefaultIdleTimeout)
		if _, err := b.svc.Authenticate(ctx, tok); !errors.Is(err, reviewers.ErrNoSession) {
			t.Fatalf("idle: %v", err)
		}
		tok = signIn()
		if err := b.svc.SignOut(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for _, tk := range []string{tok, "", "forged"} {
			if _, err := b.svc.Authenticate(ctx, tk); !errors.Is(err, reviewers.ErrNoSession) {
				t.Fatalf("token %q: %v", tk, err)
			}
		}
	})
}

// TestCan: what each role may do.
func TestCan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role, what string
		want       bool
	}{
		{kycd.RoleAnalyst, reviewers.CanDecide, true}, {kycd.RoleAnalyst, reviewers.CanConfirm, false}, {kycd.RoleAnalyst, reviewers.CanReassign, false},
		{kycd.RoleSupervisor, reviewers.CanConfirm, true}, {kycd.RoleSupervisor, reviewers.CanReassign, true},
		{kycd.RoleAuditor, reviewers.CanDecide, false}, {kycd.RoleAuditor, reviewers.CanTake, false},
		{kycd.RoleAdmin, reviewers.CanDecide, false}, {kycd.RoleAdmin, reviewers.CanManage, true}, {"nobody", reviewers.CanDecide, false},
		{kycd.RoleAnalyst, reviewers.CanAudit, false}, {kycd.RoleSupervisor, reviewers.CanAudit, true}, {kycd.RoleAuditor, reviewers.CanAudit, true},
		{kycd.RoleAdmin, reviewers.CanAudit, true}, {kycd.RoleSupervisor, reviewers.CanManage, false},
	} {
		if got := reviewers.Can(tc.role, tc.what); got != tc.want {
			t.Errorf("Can(%s, %s) = %v", tc.role, tc.what, got)
		}
	}
}

// TestDisable: disabling a reviewer ends their session at once and refuses
// their sign-in (password or identity provider) with the one answer, not
// counted as a failure; enabling lets them in again; a reviewer does not
// disable themself; another tenant cannot disable them.
func TestDisable(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, d storetest.Database) {
		b := setup(t, d, false)
		ctx := context.Background()
		pw := "correct horse battery"
		c, err := b.svc.Create(ctx, reviewers.CreateRequest{TenantID: b.tenant.ID, Email: "dis@example.com", Role: kycd.RoleAnalyst, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := b.svc.SignIn(ctx, "dis@example.com", pw, "")
		if err != nil {
			t.Fatal(err)
		}
		self := kycd.NewContextWithActor(ctx, reviewers.Actor(c.Reviewer))
		if err := b.svc.SetDisabled(self, b.tenant.ID, c.Reviewer.ID, true); kycd.ErrorCode(err) != kycd.EOperationNotAllowed {
			t.Fatalf("disabling oneself: %v", err)
		}
		other := &kycd.Tenant{Name: "other-" + d.Name}
		if err := b.f.DB.CreateTenant(ctx, other, kycd.TenantCreated(other)); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.SetDisabled(ctx, other.ID, c.Reviewer.ID, true); kycd.ErrorCode(err) != kycd.ENotFound {
			t.Fatalf("another tenant disabling: %v", err)
		}
		if err := b.svc.SetDisabled(ctx, b.tenant.ID, c.Reviewer.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Authenticate(ctx, sess.Token); !errors.Is(err, reviewers.ErrNoSession) {
			t.Fatalf("a disabled reviewer's session: %v", err)
		}
		if _, err := b.svc.SignIn(ctx, "dis@example.com", pw, ""); kycd.ErrorCode(err) != kycd.ESignInFailed {
			t.Fatalf("a disabled reviewer's sign-in: %v", err)
		}
		// Wrong passwords count no more than the right one: no lockout
		// tells the two apart.
		for range 6 {
			if _, err := b.svc.SignIn(ctx, "dis@example.com", "wrong-"+pw, ""); kycd.ErrorCode(err) != kycd.ESignInFailed {
				t.Fatalf("a disabled reviewer's wrong sign-in: %v", err)
			}
		}
		if _, err := b.svc.SignInExternal(ctx, b.tenant.ID, "dis@example.com", kycd.RoleAnalyst); kycd.ErrorCode(err) != kycd.ESignInFailed {
			t.Fatalf("a disabled reviewer's OIDC sign-in: %v", err)
		}
		if r, _ := b.f.DB.FindReviewerByID(ctx, c.Reviewer.ID); r.FailedLogins != 0 {
			t.Fatalf("a disabled reviewer's refused sign-in counted as a failure: %d", r.FailedLogins)
		}
		if err := b.svc.SetDisabled(ctx, b.tenant.ID, c.Reviewer.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.SignIn(ctx, "dis@example.com", pw, ""); err != nil {
			t.Fatalf("an enabled reviewer's sign-in: %v", err)
		}
	})
}

// TestMayTake: who may take a case or an application held by whom.
func TestMayTake(t *testing.T) {
	for _, c := range []struct {
		role, holder string
		want         bool
	}{
		{kycd.RoleAnalyst, "", true}, {kycd.RoleAnalyst, "me", true}, {kycd.RoleAnalyst, "other", false},
		{kycd.RoleSupervisor, "other", true}, {kycd.RoleAuditor, "", false}, {kycd.RoleAdmin, "", false},
	} {
		if got := reviewers.MayTake(&kycd.Reviewer{ID: "me", Role: c.role}, c.holder); got != c.want {
			t.Errorf("%s taking what %q holds: %v, want %v", c.role, c.holder, got, c.want)
		}
	}
}
