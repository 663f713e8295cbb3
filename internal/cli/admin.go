package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/jobs"
)

// adminContext marks changes made through the command line on the audit trail.
func adminContext(ctx context.Context) context.Context {
	return kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "cli", ID: "kycd"})
}

// adminCommand parses a command's flags (the common ones, and those extra
// adds), opens the app and runs fn with it.
func adminCommand(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer,
	extra func(fs *flagSet), fn func(a *app) error) error {
	var o options
	fs := newFlags(name, getenv, stderr)
	fs.common(&o)
	if extra != nil {
		extra(fs)
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return adminCommand(ctx, "migrate", args, getenv, stderr, nil, func(a *app) error {
		ok, err := a.db.MigrationsCurrent(ctx)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"dialect": a.db.Dialect(), "current": ok})
		}
		fmt.Fprintf(stdout, "%s database is migrated\n", a.db.Dialect())
		return nil
	})
}

func cmdTenantCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var name string
	flags := func(fs *flagSet) { fs.StringVar(&name, "name", "", "the tenant's name (unique)") }
	return adminCommand(ctx, "tenant create", args, getenv, stderr, flags, func(a *app) error {
		t := &kycd.Tenant{Name: name}
		if err := a.db.CreateTenant(adminContext(ctx), t, kycd.TenantCreated(t)); err != nil {
			return describe(err)
		}
		if a.opts.JSON {
			return printJSON(stdout, t)
		}
		fmt.Fprintf(stdout, "tenant %s created: %s\n", t.Name, t.ID)
		return nil
	})
}

// cmdTenantSettings changes a tenant's settings (four eyes on case
// decisions and on applications' final decisions) and prints them.
func cmdTenantSettings(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var idOrName, fourEyes string
	flags := func(fs *flagSet) {
		fs.StringVar(&idOrName, "tenant", "", "the tenant's id or name")
		fs.StringVar(&fourEyes, "four-eyes", "", "on: a case, and a KYC level application's approval or rejection, are decided by two different reviewers; off: by one")
	}
	return adminCommand(ctx, "tenant settings", args, getenv, stderr, flags, func(a *app) error {
		t, err := findTenant(ctx, a, idOrName)
		if err != nil {
			return err
		}
		switch fourEyes {
		case "":
		case "on", "off":
			t.Settings.FourEyes = fourEyes == "on"
			if err := a.db.UpdateTenantSettings(adminContext(ctx), t.ID, t.Settings, kycd.TenantSettingsChanged(t.ID, t.Settings)); err != nil {
				return describe(err)
			}
		default:
			return fmt.Errorf("--four-eyes: %q is neither on nor off", fourEyes)
		}
		if a.opts.JSON {
			return printJSON(stdout, t)
		}
		fmt.Fprintf(stdout, "tenant %s: four eyes %v\n", t.Name, map[bool]string{true: "on", false: "off"}[t.Settings.FourEyes])
		return nil
	})
}

func cmdTenantList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return adminCommand(ctx, "tenant list", args, getenv, stderr, nil, func(a *app) error {
		ts, err := a.db.FindTenants(ctx)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"tenants": ts})
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%s  %s  %s\n", t.ID, t.CreatedAt.Format("2006-01-02T15:04:05Z"), t.Name)
		}
		return nil
	})
}

// SecretCost is what kycd hashes client secrets and reviewer passwords at
// (zero: auth's default, OWASP's minimum). Only the tests lower it
// (internal/e2e's Main).
var SecretCost auth.Cost

// createClient makes a client and returns it with its secret (shown once).
func createClient(ctx context.Context, a *app, tenantID, name string, scopes []string) (*kycd.Client, string, error) {
	for _, s := range scopes {
		if !auth.KnownScope(s) {
			return nil, "", fmt.Errorf("unknown scope %q", s)
		}
	}
	secret := auth.NewSecret()
	c := &kycd.Client{ID: uuid.NewString(), TenantID: tenantID, Name: name, Scopes: scopes, SecretHash: SecretCost.Hash(secret)}
	if err := a.db.CreateClient(adminContext(ctx), c, kycd.ClientCreated(c)); err != nil {
		return nil, "", describe(err)
	}
	return c, secret, nil
}

func cmdClientCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var tenant, name, scopes string
	flags := func(fs *flagSet) {
		fs.StringVar(&tenant, "tenant", "", "the tenant's id (or name)")
		fs.StringVar(&name, "name", "", "the client's name")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes (default: every partner scope; admin scopes only when named)")
	}
	return adminCommand(ctx, "client create", args, getenv, stderr, flags, func(a *app) error {
		if tenant == "" || name == "" {
			return errors.New("--tenant and --name are required")
		}
		t, err := findTenant(ctx, a, tenant)
		if err != nil {
			return err
		}
		granted := slices.Clone(auth.PartnerScopes)
		if scopes != "" {
			granted = auth.ParseScopes(scopes)
		}
		c, secret, err := createClient(ctx, a, t.ID, name, granted)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"client_id": c.ID, "client_secret": secret, "tenant_id": c.TenantID, "name": c.Name, "scopes": c.Scopes})
		}
		fmt.Fprintf(stdout, "client_id:     %s\nclient_secret: %s\n(the secret is shown only now: keep it safe)\nscopes:        %s\n", c.ID, secret, strings.Join(c.Scopes, " "))
		return nil
	})
}

func cmdClientList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var tenant string
	flags := func(fs *flagSet) { fs.StringVar(&tenant, "tenant", "", "only this tenant's clients (id)") }
	return adminCommand(ctx, "client list", args, getenv, stderr, flags, func(a *app) error {
		var f kycd.ClientFilter
		if tenant != "" {
			f.TenantID = &tenant
		}
		cs, err := a.db.FindClients(ctx, f)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"clients": cs})
		}
		for _, c := range cs {
			state := "active"
			if c.Revoked() {
				state = "revoked"
			}
			fmt.Fprintf(stdout, "%s  %s  %-8s %s\n", c.ID, c.TenantID, state, c.Name)
		}
		return nil
	})
}

func cmdClientRevoke(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var id string
	flags := func(fs *flagSet) { fs.StringVar(&id, "id", "", "the client's id") }
	return adminCommand(ctx, "client revoke", args, getenv, stderr, flags, func(a *app) error {
		if id == "" {
			return errors.New("--id is required")
		}
		revoked := func(repeated bool) kycd.Change { return kycd.ClientRevoked(id, repeated) }
		if err := a.db.RevokeClient(adminContext(ctx), id, revoked); err != nil {
			return describe(err)
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"client_id": id, "revoked": true})
		}
		fmt.Fprintf(stdout, "client %s revoked: its tokens stop working within the nodes' --client-cache-ttl\n", id)
		return nil
	})
}

func cmdAuditVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return adminCommand(ctx, "audit verify", args, getenv, stderr, nil, func(a *app) error {
		rep, err := a.db.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			if err := printJSON(stdout, map[string]any{"ok": rep.OK(), "tenants": rep.Tenants, "entries": rep.Entries, "breaks": rep.Breaks}); err != nil {
				return err
			}
		} else {
			for _, b := range rep.Breaks {
				fmt.Fprintf(stdout, "BROKEN tenant %s at entry %d: %s\n", b.TenantID, b.Seq, b.Reason)
			}
			if rep.OK() {
				fmt.Fprintf(stdout, "audit trail intact: %d entries in %d tenant chains\n", rep.Entries, rep.Tenants)
			}
		}
		if !rep.OK() {
			return fmt.Errorf("audit trail broken in %d tenant chain(s)", len(rep.Breaks))
		}
		return nil
	})
}

func cmdAuditList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		tenant string
		after  int
		limit  int
	)
	flags := func(fs *flagSet) {
		fs.StringVar(&tenant, "tenant", "", "the tenant's id (or name)")
		fs.IntVar(&after, "after", 0, "list entries after this sequence number")
		fs.IntVar(&limit, "limit", 100, "how many entries (at most 1000)")
	}
	return adminCommand(ctx, "audit list", args, getenv, stderr, flags, func(a *app) error {
		if tenant == "" {
			return errors.New("--tenant is required")
		}
		t, err := findTenant(ctx, a, tenant)
		if err != nil {
			return err
		}
		entries, err := a.db.FindAuditEntries(ctx, t.ID, int64(after), limit)
		if err != nil {
			return err
		}
		if entries == nil {
			entries = []*kycd.AuditEntry{}
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"tenant_id": t.ID, "entries": entries})
		}
		for _, e := range entries {
			fmt.Fprintf(stdout, "%6d  %s  %-28s %-22s %s:%s\n", e.Seq, e.At.Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.EntityType, e.EntityID)
		}
		return nil
	})
}

// findTenant finds a tenant by id, or else by name.
func findTenant(ctx context.Context, a *app, idOrName string) (*kycd.Tenant, error) {
	t, err := a.db.FindTenantByID(ctx, idOrName)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		t, err = a.db.FindTenantByName(ctx, idOrName)
	}
	return t, describe(err)
}

// describe turns an application error into a message for the command line.
func describe(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := kycd.AsError(err); ok {
		msg := e.Message
		for _, v := range e.Violations {
			msg += fmt.Sprintf(" (%s: %s)", v.Property, v.Rule)
		}
		return errors.New(msg)
	}
	return err
}

// cmdUsersErase erases, now, the users closed before a time: what the
// retention sweep (--user-retention) does on its own, for an operator who
// must erase earlier or without a standing retention period.
func cmdUsersErase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var before string
	flags := func(fs *flagSet) {
		fs.StringVar(&before, "closed-before", "", "erase the users closed before this time (RFC 3339, for instance 2021-12-01T00:00:00Z); required")
	}
	return adminCommand(ctx, "users erase", args, getenv, stderr, flags, func(a *app) error {
		cutoff, err := time.Parse(time.RFC3339, before)
		if err != nil {
			return fmt.Errorf("--closed-before must be an RFC 3339 time: %q", before)
		}
		n, err := jobs.EraseClosedUsers(adminContext(ctx), a.db, a.blobs, cutoff)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"erased": n, "closedBefore": cutoff})
		}
		fmt.Fprintf(stdout, "erased %d user(s) closed before %s\n", n, cutoff.Format(time.RFC3339))
		return nil
	})
}
