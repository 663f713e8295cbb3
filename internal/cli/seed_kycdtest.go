//go:build kycdtest

package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/kycd/kycd"
)

// The kycd the crash tests build (go build -tags kycdtest) has one command
// more than the shipped one: seed-users. The tests kill that binary's
// serve, which the tag leaves as it is.
func init() {
	testCommands = map[string]command{"seed-users": cmdSeedUsers}
}

// cmdSeedUsers creates the users read from stdin (one JSON object a line,
// kycd.User's profile fields) in a tenant, each as POST /core/users would
// (the users service's checks, then the store's CreateUser without the screening job), and screens each one
// against the current lists, as its screen_user job would, by calling the
// screening service; then it chains the audit trail. It prints each user's
// id on a line, in the order read. It costs a fraction of the same users
// created over HTTP and screened by queued jobs: no token, request or job
// per user, and on SQLite the changes of users created at the same time
// share a commit.
func cmdSeedUsers(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		tenantID, terms, ip string
		workers             int
	)
	flags := func(fs *flagSet) {
		// Enough for SQLite's group commit to share each sync among many
		// changes, and for PostgreSQL's connections to stay busy.
		fs.IntVar(&workers, "concurrency", 16, "how many users are created and screened at once")
		fs.StringVar(&tenantID, "tenant", "", "the users' tenant id")
		fs.StringVar(&terms, "terms-of-service", "general-gb-fca", "the terms of service the users accept")
		fs.StringVar(&ip, "user-ip", "203.0.113.7", "the end user's IP recorded with the creation")
	}
	return adminCommand(ctx, "seed-users", args, getenv, stderr, flags, func(a *app) error {
		if tenantID == "" {
			return errors.New("--tenant is needed")
		}
		var users []*kycd.User
		sc := bufio.NewScanner(stdin)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			u := &kycd.User{}
			if err := json.Unmarshal(sc.Bytes(), u); err != nil {
				return fmt.Errorf("user %d: %w", len(users)+1, err)
			}
			u.ID, u.TenantID, u.TermsOfService, u.CreatedContext = "", tenantID, terms, kycd.EndUserContext{IP: ip}
			if u.Type == "" {
				u.Type = kycd.UserIndividual
			}
			users = append(users, u)
		}
		if err := sc.Err(); err != nil {
			return err
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
			next  = make(chan *kycd.User)
		)
		fail := func(err error) {
			mu.Lock()
			first = cmp.Or(first, err)
			mu.Unlock()
		}
		for range max(workers, 1) {
			wg.Go(func() {
				for u := range next {
					if err := a.seedUser(ctx, u); err != nil {
						fail(fmt.Errorf("seed a user: %w", err))
					}
				}
			})
		}
		for i, u := range users {
			if i > 0 && i%statsEvery == 0 {
				// The planner's statistics as the tenant grows, as the
				// console bench refreshes them: on a PostgreSQL without
				// autovacuum (the tests'), plans made while the tables were
				// empty make each new user's e-mail check read the tenant.
				if err := a.db.Analyze(ctx); err != nil {
					fail(err)
				}
			}
			next <- u
		}
		close(next)
		wg.Wait()
		if first != nil {
			return first
		}
		// Chained here, as a serve would have chained them meanwhile.
		if err := a.db.ChainAudit(ctx); err != nil {
			return err
		}
		w := bufio.NewWriter(stdout)
		for _, u := range users {
			fmt.Fprintln(w, u.ID)
		}
		return w.Flush()
	})
}

// statsEvery is how many users seed-users creates between two refreshes of
// the planner's statistics.
const statsEvery = 2000

// seedUser checks one user as the users service does (Admit) and creates
// it without its screening job, then screens it.
func (a *app) seedUser(ctx context.Context, u *kycd.User) error {
	if err := a.users.Admit(u); err != nil {
		return err
	}
	if err := a.db.CreateUser(ctx, u, kycd.UserCreated(u)); err != nil {
		return err
	}
	return a.screening.Screen(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
}
