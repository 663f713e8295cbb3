package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/console"
	"github.com/kycd/kycd/netguard"
	"github.com/kycd/kycd/queues"
	"github.com/kycd/kycd/reviewers"
)

// consoleOptions are serve's settings of the back-office console.
type consoleOptions struct {
	// SessionIdle ends a session unused that long; SessionMax any session
	// that old.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// OIDC: sign-in through the tenant's identity provider.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCTenant       string
	OIDCDomain       string
	OIDCRoleClaim    string
	OIDCRoles        string
	OIDCDefaultRole  string
}

func (o *consoleOptions) register(fs *flagSet) {
	fs.duration(&o.SessionIdle, "console-session-idle", reviewers.DefaultIdleTimeout, "the console signs a reviewer out after this long unused")
	fs.duration(&o.SessionMax, "console-session-max", reviewers.DefaultMaxAge, "the console signs a reviewer out this long after signing in, used or not")
	fs.string(&o.OIDCIssuer, "console-oidc-issuer", "", "OpenID Connect issuer URL the console's reviewers sign in with (off when empty)")
	fs.string(&o.OIDCClientID, "console-oidc-client-id", "", "the console's client id at the identity provider")
	fs.string(&o.OIDCClientSecret, "console-oidc-client-secret", "", "the console's client secret at the identity provider (give it through the environment)")
	fs.string(&o.OIDCTenant, "console-oidc-tenant", "", "the tenant (id or name) whose reviewers the identity provider's people are")
	fs.string(&o.OIDCDomain, "console-oidc-domain", "", "the one email domain allowed to sign in (verified emails only)")
	fs.string(&o.OIDCRoleClaim, "console-oidc-role-claim", "groups", "the ID token claim holding the person's groups")
	fs.string(&o.OIDCRoles, "console-oidc-roles", "", "groups to roles: group=role,... (roles: analyst, supervisor, auditor, admin)")
	fs.string(&o.OIDCDefaultRole, "console-oidc-default-role", "", "the role of a person of the allowed domain in no mapped group (empty: refused)")
}

// oidcOf is the console's OIDC sign-in the options ask for, or nil.
func oidcOf(ctx context.Context, a *app, o consoleOptions, publicURL string) (*console.OIDC, error) {
	if o.OIDCIssuer == "" {
		return nil, nil
	}
	if o.OIDCClientID == "" || o.OIDCTenant == "" {
		return nil, errors.New("--console-oidc-issuer needs --console-oidc-client-id and --console-oidc-tenant")
	}
	if o.OIDCRoles == "" && (o.OIDCDomain == "" || o.OIDCDefaultRole == "") {
		return nil, errors.New("--console-oidc-issuer needs --console-oidc-roles, or --console-oidc-domain with --console-oidc-default-role")
	}
	t, err := findTenant(ctx, a, o.OIDCTenant)
	if err != nil {
		return nil, fmt.Errorf("--console-oidc-tenant: %w", err)
	}
	roles := map[string]string{}
	for _, pair := range strings.Split(o.OIDCRoles, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		group, role, ok := strings.Cut(pair, "=")
		if !ok || group == "" || !slices.Contains(kycd.Roles, role) {
			return nil, fmt.Errorf("--console-oidc-roles: %q is not group=role (roles: %s)", pair, strings.Join(kycd.Roles, ", "))
		}
		roles[group] = role
	}
	if o.OIDCDefaultRole != "" && !slices.Contains(kycd.Roles, o.OIDCDefaultRole) {
		return nil, fmt.Errorf("--console-oidc-default-role: %q is no role", o.OIDCDefaultRole)
	}
	return &console.OIDC{Issuer: o.OIDCIssuer, ClientID: o.OIDCClientID, ClientSecret: o.OIDCClientSecret,
		RedirectURL: strings.TrimRight(publicURL, "/") + "/console/oidc/callback", TenantID: t.ID, Domain: o.OIDCDomain,
		RoleClaim: o.OIDCRoleClaim, Roles: roles, DefaultRole: o.OIDCDefaultRole,
		HTTP: a.guard.Client(15*time.Second, netguard.NoRedirects)}, nil
}

// newReviewers is the reviewers service of a command: a sign-in needs a
// TOTP code unless sandbox.
func newReviewers(a *app, o consoleOptions, sandbox bool) (*reviewers.Service, error) {
	return reviewers.New(reviewers.Config{Store: a.db, Tenants: a.db, Clock: a.clock, RequireTOTP: !sandbox,
		IdleTimeout: o.SessionIdle, MaxAge: o.SessionMax, PasswordCost: SecretCost})
}

// newConsole is the console's handler for kycd reached at publicURL: its
// cookie is Secure unless kycd is reached over plain http on loopback.
func newConsole(ctx context.Context, a *app, rs *reviewers.Service, o consoleOptions, publicURL string) (http.Handler, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return nil, fmt.Errorf("--public-url: %w", err)
	}
	secure := true
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host == "localhost" || (ip != nil && ip.IsLoopback()) {
			secure = false
		} else {
			a.logger.Warn("the console's session cookie is Secure: reach kycd over https (--public-url https://...) to sign in")
		}
	}
	oidc, err := oidcOf(ctx, a, o, publicURL)
	if err != nil {
		return nil, err
	}
	return console.New(console.Config{Reviewers: rs, Cases: a.screening, Users: a.users, KYC: a.kyc, Tenants: a.db,
		Files: a.files, Checks: a.checks, Ingestions: a.connector, Applications: a.levels, Events: a.db, Audit: a.db, Lists: a.screening,
		Providers: slices.Sorted(maps.Keys(a.providers)), Queues: &queues.Service{Store: a.db}, Levels: a.levels,
		Clock: a.clock, Logger: a.logger, SecureCookies: secure, OIDC: oidc})
}

// sandboxReviewer is the email of the reviewer serve --sandbox creates.
const sandboxReviewer = "sandbox@kycd.invalid"

func cmdReviewerCreate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var tenant, email, role string
	var fromStdin bool
	flags := func(fs *flagSet) {
		fs.StringVar(&tenant, "tenant", "", "the tenant's id (or name)")
		fs.StringVar(&email, "email", "", "the reviewer's email: what they sign in with")
		fs.StringVar(&role, "role", "", "analyst, supervisor, auditor or admin")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
	}
	return adminCommand(ctx, "reviewer create", args, getenv, stderr, flags, func(a *app) error {
		if tenant == "" || email == "" || role == "" {
			return errors.New("--tenant, --email and --role are required")
		}
		t, err := findTenant(ctx, a, tenant)
		if err != nil {
			return err
		}
		var password string
		if fromStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if password = strings.TrimRight(line, "\r\n"); password == "" {
				return errors.New("--password-stdin: standard input holds no password")
			}
		}
		rs, err := newReviewers(a, consoleOptions{}, false)
		if err != nil {
			return err
		}
		c, err := rs.Create(adminContext(ctx), reviewers.CreateRequest{TenantID: t.ID, Email: email, Role: role, Password: password})
		if err != nil {
			return describe(err)
		}
		if a.opts.JSON {
			out := map[string]any{"id": c.Reviewer.ID, "tenant_id": t.ID, "email": c.Reviewer.Email, "role": c.Reviewer.Role,
				"totp_secret": c.TOTPSecret, "totp_url": c.TOTPURL}
			if c.Password != "" {
				out["password"] = c.Password
			}
			return printJSON(stdout, out)
		}
		fmt.Fprintf(stdout, "reviewer %s (%s) created in tenant %s: %s\n", c.Reviewer.Email, c.Reviewer.Role, t.Name, c.Reviewer.ID)
		if c.Password != "" {
			fmt.Fprintf(stdout, "  password (shown once): %s\n", c.Password)
		}
		fmt.Fprintf(stdout, "  TOTP secret (shown once): %s\n  add it to an authenticator app: %s\n", c.TOTPSecret, c.TOTPURL)
		return nil
	})
}

// ensureSandboxReviewer creates, once, the sandbox tenant's reviewer (a
// supervisor) and prints the console's sign-in.
func ensureSandboxReviewer(ctx context.Context, rs *reviewers.Service, creds *SandboxCredentials, publicURL string, stdout io.Writer) error {
	if _, err := rs.EnsureSandbox(adminContext(ctx), creds.TenantID, sandboxReviewer, creds.ConsolePassword); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "console at %s/console/ (no TOTP code in the sandbox)\n  email:    %s\n  password: %s\n", strings.TrimRight(publicURL, "/"), sandboxReviewer, creds.ConsolePassword)
	return nil
}
