package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kycd/kycd"
)

// reviewerJSON is a reviewer as `kycd reviewer list --json` prints it (no
// secret).
type reviewerJSON struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSignIn *time.Time `json:"last_sign_in_at"`
	DisabledAt *time.Time `json:"disabled_at"`
	Disabled   bool       `json:"disabled"`
}

func cmdReviewerList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var tenant string
	flags := func(fs *flagSet) { fs.StringVar(&tenant, "tenant", "", "the tenant's id (or name)") }
	return adminCommand(ctx, "reviewer list", args, getenv, stderr, flags, func(a *app) error {
		if tenant == "" {
			return errors.New("--tenant is required")
		}
		t, err := findTenant(ctx, a, tenant)
		if err != nil {
			return err
		}
		rs, err := newReviewers(a, consoleOptions{}, false)
		if err != nil {
			return err
		}
		list, err := rs.Reviewers(ctx, t.ID)
		if err != nil {
			return err
		}
		out := make([]reviewerJSON, 0, len(list))
		for _, r := range list {
			out = append(out, reviewerJSON{ID: r.ID, Email: r.Email, Role: r.Role, CreatedAt: r.CreatedAt, LastSignIn: r.LastSignInAt,
				DisabledAt: r.DisabledAt, Disabled: r.DisabledAt != nil})
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"reviewers": out})
		}
		fmt.Fprintf(stdout, "%-40s %-10s %-20s %s\n", "EMAIL", "ROLE", "LAST SIGN-IN", "STATE")
		for _, r := range out {
			last, state := "never", "active"
			if r.LastSignIn != nil {
				last = r.LastSignIn.UTC().Format("2006-01-02 15:04")
			}
			if r.Disabled {
				state = "disabled " + r.DisabledAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(stdout, "%-40s %-10s %-20s %s\n", r.Email, r.Role, last, state)
		}
		return nil
	})
}

// cmdReviewerDisable disables (or, as `reviewer enable`, enables again) a
// reviewer of a tenant: their sessions end at once and sign-in is refused.
func cmdReviewerDisable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, disable bool) error {
	var tenant, email string
	flags := func(fs *flagSet) {
		fs.StringVar(&tenant, "tenant", "", "the tenant's id (or name)")
		fs.StringVar(&email, "email", "", "the reviewer's email")
	}
	name := "reviewer enable"
	if disable {
		name = "reviewer disable"
	}
	return adminCommand(ctx, name, args, getenv, stderr, flags, func(a *app) error {
		if tenant == "" || email == "" {
			return errors.New("--tenant and --email are required")
		}
		t, err := findTenant(ctx, a, tenant)
		if err != nil {
			return err
		}
		rs, err := newReviewers(a, consoleOptions{}, false)
		if err != nil {
			return err
		}
		r, err := a.db.FindReviewerByEmail(ctx, email)
		if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && r.TenantID != t.ID) {
			return fmt.Errorf("no reviewer %s in tenant %s", email, t.Name)
		} else if err != nil {
			return err
		}
		if err := rs.SetDisabled(adminContext(ctx), t.ID, r.ID, disable); err != nil {
			return describe(err)
		}
		state := "enabled"
		if disable {
			state = "disabled (sessions ended)"
		}
		if a.opts.JSON {
			return printJSON(stdout, map[string]any{"id": r.ID, "email": r.Email, "disabled": disable})
		}
		fmt.Fprintf(stdout, "reviewer %s of tenant %s %s\n", r.Email, t.Name, state)
		return nil
	})
}
