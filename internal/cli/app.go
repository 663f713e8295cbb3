package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/blob"
	"github.com/kycd/kycd/checks"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/evidence"
	"github.com/kycd/kycd/files"
	"github.com/kycd/kycd/forms"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/jobs"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/levels"
	"github.com/kycd/kycd/metadata"
	"github.com/kycd/kycd/netguard"
	"github.com/kycd/kycd/notify"
	"github.com/kycd/kycd/policy"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/screening/lists/snapshot"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/terms"
	"github.com/kycd/kycd/users"
	"github.com/kycd/kycd/vault"
	"github.com/kycd/kycd/webhook"
)

// app is what every command opens: the store, migrated, with its vault.
type app struct {
	opts   options
	db     *sqlstore.DB
	vault  *vault.Vault
	clock  *kycd.OffsetClock
	logger *slog.Logger
	geo    *geo.Geo
	policy *policy.Policy
	forms  *forms.Registry
	kyc    *kyc.Service
	blobs  *blob.Store
	// guard is the outbound connection policy.
	guard     netguard.Policy
	connector *connector.Service
	// providers read verifications for the connector.
	providers map[string]connector.Provider
	webhooks  *webhook.Service
	checks    *checks.Service
	// scratch is this process's folder for evidence being inspected.
	scratch *evidence.Space
	levels  *levels.Service
	// screening screens names against the screening lists.
	screening *screening.Service
	// users runs the rules of users' creation.
	users *users.Service
	// files runs the rules of uploads; terms those of consent to terms of
	// service.
	files *files.Service
	terms *terms.Service
	// sandbox is serve --sandbox: the levels surface accepts its test code,
	// and messages wait in outbox instead of being sent.
	sandbox bool
	outbox  *notify.Outbox
	// closers close what openApp opened, in order.
	closers []func() error
	// evidenceSchedule is the evidence download retry schedule.
	evidenceSchedule kycd.Schedule
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// openApp opens and migrates the database, unlocks the vault and builds
// every service once. A master key that does not exist is generated, with
// a loud warning, unless the operator named its file (then it must exist).
// What it opened is closed again when it fails.
func openApp(ctx context.Context, o options, stderr io.Writer) (_ *app, err error) {
	logger, err := newLogger(o.LogLevel, stderr)
	if err != nil {
		return nil, err
	}
	if o.EventRetention < 0 {
		return nil, errors.New("--event-retention must not be negative (0 keeps events for ever)")
	}
	if o.JobPollInterval < 20*time.Millisecond {
		return nil, errors.New("--job-poll-interval must be at least 20ms")
	}
	if o.IngestRetryBase < 0 {
		return nil, errors.New("--ingest-retry-base must not be negative")
	}
	if o.UserRetention < 0 {
		return nil, errors.New("--user-retention must not be negative (0 keeps closed users for ever)")
	}
	if o.Screening != "on" && o.Screening != "off" {
		return nil, fmt.Errorf("--screening: %q is neither on nor off", o.Screening)
	}
	// Every outbound connection goes through netguard.
	allow, err := parseNetworks(strings.Join(o.AllowNetworks, ","))
	if err != nil {
		return nil, err
	}
	schedule, err := parseSchedule(o.WebhookRetries, "--webhook-retries")
	if err != nil {
		return nil, err
	}
	evidenceSchedule, err := parseSchedule(o.EvidenceRetries, "--evidence-retries")
	if err != nil {
		return nil, err
	}
	// The system clock, which only sandbox mode ever moves.
	clock := &kycd.OffsetClock{}
	a := &app{opts: o, clock: clock, logger: logger, sandbox: o.sandbox, evidenceSchedule: evidenceSchedule,
		guard: netguard.Policy{AllowPrivate: o.AllowPrivate, AllowLoopback: o.AllowLoopback, Allow: allow}}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	// The vault keeps its keys in the store, and the store seals with it:
	// the store builds it from its key tables once the database is open
	// and migrated (so a database that cannot be opened leaves no new
	// master key behind).
	seal := func(ctx context.Context, keys sqlstore.KeyTables) (kycd.Vault, error) {
		master, created, err := vault.LoadMasterKey(o.masterKeyPath(), o.MasterKeyFile == "")
		if err != nil {
			return nil, err
		}
		if created {
			fmt.Fprintf(stderr, "\n%s\nWARNING: generated a new master key at %s.\n"+
				"Every personal field and file is encrypted under it: lose it and the data is gone.\n"+
				"Back it up, and in production give it with --master-key-file from a secret store.\n%s\n\n",
				strings.Repeat("!", 78), o.masterKeyPath(), strings.Repeat("!", 78))
		}
		a.vault, err = vault.New(ctx, master, keys, keys)
		return a.vault, err
	}
	if a.db, err = sqlstore.Open(ctx, sqlstore.Config{URL: o.DatabaseURL, DataDir: o.DataDir, Clock: clock, Logger: logger, MaxConns: o.DBMaxConns, Vault: seal}); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.db.Close)
	if err := a.db.Optimize(ctx); err != nil {
		return nil, fmt.Errorf("refresh the planner's statistics: %w", err)
	}
	if n, err := a.db.SettleIngestionFlags(ctx); err != nil {
		return nil, fmt.Errorf("settle the failed flags of earlier ingestions: %w", err)
	} else if n > 0 {
		logger.LogAttrs(ctx, slog.LevelInfo, "settled the failed flags of ingestions finished before migration 0022", slog.Int("count", n))
	}
	a.geo = geo.New()
	if a.policy, err = policy.Load(a.geo.Codes()); err != nil {
		return nil, err
	}
	if a.forms, err = forms.Load(o.FormsDir); err != nil {
		return nil, err
	}
	if a.blobs, err = blob.Open(ctx, o.BlobURL, filepath.Join(o.DataDir, "blobs"), a.vault); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.blobs.Close)
	if a.scratch, err = evidence.OpenSpace(filepath.Join(o.DataDir, "scratch")); err != nil {
		return nil, fmt.Errorf("scratch folder: %w", err)
	}
	a.closers = append(a.closers, a.scratch.Close)
	providerHTTP := a.guard.Client(o.ProviderTimeout, netguard.NoRedirects)
	a.providers = map[string]connector.Provider{
		kycd.ProviderSumsub: &sumsub.Provider{HTTP: providerHTTP},
		kycd.ProviderVeriff: &veriff.Provider{HTTP: providerHTTP},
	}
	notifier, err := a.notifier()
	if err != nil {
		return nil, err
	}
	if err := a.buildServices(notifier, schedule); err != nil {
		return nil, err
	}
	return a, nil
}

// notifier is how the KYC and levels services send codes: in sandbox mode
// nothing is sent (messages wait in an outbox the sandbox API shows);
// otherwise email through SMTP and SMS through Twilio, where configured.
func (a *app) notifier() (kyc.Notifier, error) {
	if a.sandbox {
		a.outbox = notify.NewOutbox(a.clock)
		return notify.NewMux(a.outbox, a.outbox), nil
	}
	var email, sms kyc.Notifier
	var err error
	if a.opts.SMTPURL != "" {
		if email, err = notify.NewSMTP(a.opts.SMTPURL, a.guard.Dialer()); err != nil {
			return nil, err
		}
	}
	if a.opts.SMSURL != "" {
		if sms, err = notify.NewTwilio(a.opts.SMSURL, a.guard.Client(15*time.Second, netguard.NoRedirects)); err != nil {
			return nil, err
		}
	}
	return notify.NewMux(email, sms), nil
}

// close closes what openApp opened, the last first.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// auditChainEvery is how often pending audit entries are chained when no
// reader chains them first.
const auditChainEvery = time.Second

// warnDatabase logs what the operator should know about the database kycd
// runs on: PostgreSQL without autovacuum.
func (a *app) warnDatabase(ctx context.Context) {
	off, err := a.db.AutovacuumOff(ctx)
	if err != nil {
		a.logger.Warn("could not read the database's autovacuum setting", slog.String("error", err.Error()))
	} else if off {
		a.logger.Warn("PostgreSQL's autovacuum is off: kycd's queue tables (pending audit entries, jobs, the outbox) bloat and its queries are planned without statistics (a lookup by id can read a whole tenant); turn autovacuum on, or run VACUUM (ANALYZE) often")
	}
}

// startAuditChainer chains the audit trail in the background until ctx
// ends; the returned function waits for it to stop.
func (a *app) startAuditChainer(ctx context.Context) (wait func()) {
	return a.background(func() { a.db.RunAuditChainer(ctx, auditChainEvery, a.logger) })
}

// optimizeEvery is how often the planner's statistics are refreshed where
// stale (SQLite; PostgreSQL's autovacuum does it itself).
const optimizeEvery = time.Hour

// startOptimizer refreshes the planner's statistics until ctx ends; the
// returned function waits for it to stop.
func (a *app) startOptimizer(ctx context.Context) (wait func()) {
	return a.background(func() { a.db.RunOptimizer(ctx, optimizeEvery, a.logger) })
}

// background runs fn in a goroutine; the returned function waits for it
// to return.
func (a *app) background(fn func()) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	return func() { <-done }
}

// screeningRefreshEvery is how often a process looks for a new version of
// the screening lists (imported by any process on the database).
const screeningRefreshEvery = 2 * time.Second

// startScreening keeps the screening index current until ctx ends; the
// returned function waits for it to stop.
func (a *app) startScreening(ctx context.Context) (wait func()) {
	return a.background(func() { a.screening.Run(ctx, screeningRefreshEvery) })
}

// importSnapshot imports the bundled snapshot of each of the sources named
// (comma-separated) that has no version yet (serve --sandbox: screening
// works out of the box).
func (a *app) importSnapshot(ctx context.Context, sources string) error {
	var want []string
	for _, s := range strings.Split(sources, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(snapshot.Sources, s) {
			return fmt.Errorf("--sandbox-lists: no bundled list %q (%s)", s, strings.Join(snapshot.Sources, ", "))
		}
		want = append(want, s)
	}
	have, err := a.screening.Lists(ctx)
	if err != nil {
		return err
	}
	for _, source := range want {
		if slices.ContainsFunc(have, func(v *kycd.ListVersion) bool { return v.Source == source }) {
			continue
		}
		entries, err := snapshot.Load(source)
		if err != nil {
			return err
		}
		if _, err := a.screening.Import(adminContext(ctx), screening.ImportRequest{Source: source, Format: source,
			Origin: "bundled snapshot", Entries: entries}); err != nil && kycd.ErrorCode(err) != kycd.EStale {
			return fmt.Errorf("importing the bundled %s list: %w", source, err)
		}
	}
	return nil
}

// parseNetworks reads a comma-separated list of CIDRs.
func parseNetworks(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("--allow-network: %q is not a CIDR (10.1.2.0/24)", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// parseSchedule reads a comma-separated list of durations ("" is the
// default schedule) given by a flag.
func parseSchedule(v, flag string) (kycd.Schedule, error) {
	if v == "" {
		return nil, nil
	}
	var out kycd.Schedule
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s: %q is not a duration", flag, part)
		}
		out = append(out, d)
	}
	return out, nil
}

// webhookDispatchEvery is how often committed events become deliveries.
const webhookDispatchEvery = 100 * time.Millisecond

// startDispatcher turns the outbox into webhook deliveries until ctx
// ends; the returned function waits for it to stop.
func (a *app) startDispatcher(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.webhooks.RunDispatcher(ctx, webhookDispatchEvery)
	}()
	return func() { <-done }
}

// buildServices builds every service once, each from its dependencies.
func (a *app) buildServices(n kyc.Notifier, webhookSchedule kycd.Schedule) error {
	var err error
	if a.users, err = users.New(users.Config{Store: a.db, Policy: a.policy, Geo: a.geo, Clock: a.clock, ScreeningOff: a.opts.Screening == "off"}); err != nil {
		return err
	}
	if a.files, err = files.New(files.Config{Store: a.db, Blobs: a.blobs, Clock: a.clock, Logger: a.logger}); err != nil {
		return err
	}
	if a.terms, err = terms.New(terms.Config{Store: a.db, Policy: a.policy}); err != nil {
		return err
	}
	if a.kyc, err = kyc.New(kyc.Config{Store: a.db, Files: a.db, Forms: a.forms, Policy: a.policy, Geo: a.geo,
		Vault: a.vault, Clock: a.clock, Notifier: n, ScreeningOff: a.opts.Screening == "off", OnSettled: checks.FollowUp}); err != nil {
		return err
	}
	sources := map[string]string{}
	for _, v := range a.opts.ScreeningSources {
		name, u, err := screening.ParseSource(v)
		if err != nil {
			return err
		}
		sources[name] = u
	}
	if a.screening, err = screening.New(screening.Config{Sources: sources, HTTP: a.guard.Client(5*time.Minute, netguard.FollowRedirects), Lists: a.db, Cases: a.db, Tenants: a.db, Users: a.db, Monitor: a.db, KYC: a.kyc, Digests: a.vault, Clock: a.clock,
		Logger: a.logger, MaxAge: a.opts.ScreeningMaxAge, Off: a.opts.Screening == "off"}); err != nil {
		return err
	}
	// The connector tells the levels service of Sumsub's verdicts (the
	// liveness checks of applications), and the levels service asks the
	// connector for liveness checks: the verdicts go through a function
	// that reaches levels once it is built.
	var lv *levels.Service
	a.connector = connector.New(connector.Config{Store: a.db, Events: a.db, Users: a.db, Files: a.db, KYC: a.kyc, Blobs: a.blobs, Providers: a.providers,
		Clock: a.clock, Guard: a.guard, OnVerdict: func(ctx context.Context, ev *kycd.ProviderEvent) (bool, error) { return lv.RecordVerdict(ctx, ev) }})
	a.checks = checks.New(checks.Config{Store: a.db, Users: a.db, Files: a.db, KYC: a.kyc, Blobs: a.blobs, Geo: a.geo, Clock: a.clock,
		HTTP: a.guard.Client(0, netguard.FollowRedirects), Guard: a.guard, AllowHTTP: a.opts.EvidenceAllowHTTP, ScratchDir: a.scratch.Dir,
		IdleTimeout: a.opts.EvidenceIdleTimeout, Schedule: a.evidenceSchedule})
	if lv, err = levels.New(levels.Config{Store: a.db, Codes: a.db, Users: a.db, Files: a.db, Tenants: a.db, Digest: a.vault, Senders: n,
		Geo: a.geo, Clock: a.clock, Sandbox: a.sandbox, Liveness: a.connector, KYC: a.kyc}); err != nil {
		return err
	}
	a.levels = lv
	a.webhooks = &webhook.Service{Store: a.db, HTTP: a.guard.Client(10*time.Second, netguard.NoRedirects), Guard: a.guard, Clock: a.clock,
		Logger: a.logger, Schedule: webhookSchedule,
		// Events carry what their outbox copy leaves out (personal data).
		Complete: func(ctx context.Context, events []*kycd.Event) error {
			if err := a.users.CompleteEvents(ctx, events); err != nil {
				return err
			}
			if err := a.checks.CompleteEvents(ctx, events); err != nil {
				return err
			}
			return a.connector.CompleteEvents(ctx, events)
		}}
	return nil
}

// apiConfig is the HTTP server's configuration of the app's services, with
// the tokens given; serve and the benchmark add their own settings.
func (a *app) apiConfig(tokens *auth.Tokens) api.Config {
	return api.Config{
		Clients: a.db, Users: a.users, Files: a.files, Metadata: &metadata.Service{Store: a.db}, Audit: a.db, Terms: a.terms, KYC: a.kyc,
		Connector: a.connector, Checks: a.checks, Levels: a.levels, Screening: a.screening, Cases: a.screening, Webhooks: a.webhooks,
		Policy: a.policy, Health: a.db, Tokens: tokens, Vault: a.vault, Geo: a.geo, Clock: a.clock, Logger: a.logger,
	}
}

// workerClient returns a River client that works jobs with n workers
// (extra, when not nil, registers more: the benchmark's no-op job).
func (a *app) workerClient(n int, extra ...func(*river.Workers)) (*river.Client[*sql.Tx], error) {
	ws := river.NewWorkers()
	// A job that runs longer than rescueAfter is taken for one whose worker
	// died (a crash, a SIGKILL) and run again: jobs are idempotent. No job
	// may run longer than half of it, or the rescuer would wait for the
	// job's own timeout instead.
	timeout, rescue := 5*time.Minute, a.opts.RescueAfter
	if rescue > 0 && rescue <= 2*timeout {
		timeout = rescue / 2
	}
	jobs.Register(ws, jobs.Deps{Files: a.db, KYC: a.kyc, Connector: a.connector, Webhooks: a.webhooks, Checks: a.checks, Levels: a.levels,
		Events: a.db, Screening: a.screening, EventRetention: a.opts.EventRetention, Users: a.db, Blobs: a.blobs, UserRetention: a.opts.UserRetention, Clock: a.clock, Logger: a.logger, MaxRun: rescue / 2,
		IngestRetryBase: a.opts.IngestRetryBase})
	for _, add := range extra {
		add(ws)
	}
	c, err := river.NewClient(a.db.RiverDriver(), &river.Config{
		Logger:               a.logger,
		Workers:              ws,
		Middleware:           jobs.Middleware(),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}},
		PeriodicJobs:         append(jobs.Periodic(a.opts.EventRetention, a.opts.UserRetention), jobs.ScreeningDownloads(a.screening.Sources())...),
		FetchCooldown:        20 * time.Millisecond,
		FetchPollInterval:    a.opts.JobPollInterval,
		PollOnly:             true,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
