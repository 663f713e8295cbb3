package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/netguard"
	"github.com/kycd/kycd/sandbox/evidencesbx"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sandbox/veriffsbx"
	"github.com/kycd/kycd/screening/lists/snapshot"
	"github.com/kycd/kycd/sqlstore"
)

type serveOptions struct {
	options
	Addr        string
	PublicURL   string
	Sandbox     bool
	Workers     int
	TokenTTL    time.Duration
	RateLimit   float64
	RateBurst   int
	MaxBodySize int
	ClientCache time.Duration
	// SecretMemory (MiB) and SecretWait bound the token endpoint's secret
	// verifications (api.Config).
	SecretMemory   int
	SecretWait     time.Duration
	SecretRemember time.Duration
	// BodyTimeout, BodyMinRate and BodyMax cut slow request bodies;
	// ReadTimeout, WriteTimeout and IdleTimeout are the server's.
	BodyTimeout  time.Duration
	BodyMinRate  int
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// SandboxLists are the bundled screening lists the sandbox imports.
	SandboxLists string
	// MetricsAddr is the listener of /metrics ("": the API's, with a token).
	MetricsAddr string
	// MetricsToken is the bearer token /metrics requires.
	MetricsToken string
	Console      consoleOptions
}

func (o *serveOptions) register(fs *flagSet) {
	fs.common(&o.options)
	fs.string(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.string(&o.PublicURL, "public-url", "", "base URL clients reach kycd at, for the URLs it hands out (default: http://<addr>)")
	fs.bool(&o.Sandbox, "sandbox", false, "create (once) a sandbox tenant with an all-scope client and print its credentials; outbound connections may then reach loopback (the sandbox's fakes) and plain http, not private networks unless --allow-network names them")
	fs.int(&o.Workers, "workers", 10, "job workers in this process (0: API only)")
	fs.duration(&o.TokenTTL, "token-ttl", 10*time.Minute, "access token lifetime")
	fs.float(&o.RateLimit, "rate-limit", 50, "requests per second per client (0: no limit)")
	fs.int(&o.RateBurst, "rate-burst", 100, "burst of requests per client")
	fs.int(&o.MaxBodySize, "max-body-bytes", 1<<20, "largest JSON or form body accepted")
	fs.int(&o.SecretMemory, "secret-memory", 40, "MiB the token endpoint's client secret verifications may use at once, each counted at 38 MiB (Argon2id's 19 MiB, until the garbage collector frees it): bounds memory under credential stuffing; clients from addresses they authenticated from take the next turn")
	fs.duration(&o.BodyTimeout, "body-timeout", 10*time.Second, "how long a request body may take beyond what its bytes earn at --body-min-rate: a client sending a body at 1 byte/s is cut after about this long (408)")
	fs.int(&o.BodyMinRate, "body-min-rate", 4096, "bytes per second a request body must keep up, beyond --body-timeout (uploads of any size at this rate or faster are not cut)")
	fs.duration(&o.ReadTimeout, "read-timeout", 30*time.Minute, "the longest a request (headers and body) may take to arrive, however fast it comes")
	fs.duration(&o.WriteTimeout, "write-timeout", 30*time.Minute, "the longest a request may take from its arrival to the end of its response")
	fs.duration(&o.IdleTimeout, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection is kept open")
	fs.duration(&o.SecretRemember, "secret-remember", auth.VerifiedFor, "how long a client secret that matched is remembered, so that the client's next tokens cost no Argon2id verification (0: never)")
	fs.duration(&o.SecretWait, "secret-wait", 2*time.Second, "how long a token request waits for a secret verification's turn before it is answered 429 with Retry-After")
	fs.string(&o.SandboxLists, "sandbox-lists", strings.Join(snapshot.Sources, ","), "the bundled screening lists serve --sandbox imports when the database has none of a source (comma-separated: "+strings.Join(snapshot.Sources, ", ")+"; \"\" for none)")
	fs.string(&o.MetricsAddr, "metrics-addr", "", "address to serve GET /metrics on, apart from the API (loopback or the cluster network: 127.0.0.1:9090); without it /metrics is on the API listener only with --metrics-token")
	fs.string(&o.MetricsToken, "metrics-token", "", "bearer token GET /metrics requires (needed to serve it on the API listener; give it through the environment)")
	o.Console.register(fs)
	fs.duration(&o.ClientCache, "client-cache-ttl", 2*time.Second, "how long a client's state is trusted without reading it again: the longest a revocation takes to apply (0: every request)")
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o serveOptions
	fs := newFlags("serve", getenv, stderr)
	o.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if o.Sandbox {
		// The sandboxes run on loopback: it, not the operator's private
		// networks (unless named with --allow-network).
		o.AllowLoopback = true
		o.EvidenceAllowHTTP = true
	}
	o.options.sandbox = o.Sandbox
	a, err := openApp(ctx, o.options, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	a.warnDatabase(ctx)
	key, created, err := auth.LoadSigningKey(o.signingKeyPath(), o.SigningKeyFile == "")
	if err != nil {
		return err
	}
	if created {
		a.logger.Warn("generated a token signing key; every node of a cluster must share it (--signing-key-file)", slog.String("path", o.signingKeyPath()))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), storeCollector{db: a.db},
		screeningCollector{a})

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if o.PublicURL == "" {
		o.PublicURL = "http://" + ln.Addr().String()
	}
	rs, err := newReviewers(a, o.Console, o.Sandbox)
	if err != nil {
		return err
	}
	consoleHandler, err := newConsole(ctx, a, rs, o.Console, o.PublicURL)
	if err != nil {
		return err
	}
	var (
		sandbox *api.Sandbox
		mounts  = []func(*http.ServeMux){func(mux *http.ServeMux) { mux.Handle("/console/", consoleHandler) }}
	)
	if o.Sandbox {
		creds, err := ensureSandbox(ctx, a, stdout)
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		if err := ensureSandboxReviewer(ctx, rs, creds, o.PublicURL, stdout); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		// Sandbox mode sends nothing: messages wait in an outbox.
		sandbox = &api.Sandbox{Outbox: a.outbox, Clock: a.clock}
		if err := wireSandboxConnector(ctx, a, creds, o.PublicURL); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		if err := a.importSnapshot(ctx, o.SandboxLists); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		veriffSandbox := veriffsbx.New(map[string]string{creds.VeriffAPIKey: creds.VeriffSharedSecret})
		sumsubSandbox := sumsubsbx.New(map[string]string{creds.SumsubAppToken: creds.SumsubSecret})
		// Their webhooks leave through netguard too.
		veriffSandbox.SetHTTP(a.guard.Client(10*time.Second, netguard.NoRedirects))
		sumsubSandbox.SetHTTP(a.guard.Client(10*time.Second, netguard.NoRedirects))
		// The sandboxes' webhooks come back to this kycd, for the sandbox tenant.
		veriffSandbox.SetWebhook(o.PublicURL + "/kyc-connector/veriff/webhooks/" + creds.TenantID)
		sumsubSandbox.SetWebhook(o.PublicURL+"/kyc-connector/sumsub/webhooks/"+creds.TenantID, creds.SumsubWebhookKey)
		mounts = append(mounts, func(mux *http.ServeMux) {
			mux.Handle("/sandbox/veriff/", http.StripPrefix("/sandbox/veriff", veriffSandbox))
			mux.Handle("/sandbox/sumsub/", http.StripPrefix("/sandbox/sumsub", sumsubSandbox))
			mux.Handle("GET /sandbox/evidence/", http.StripPrefix("/sandbox/evidence", evidencesbx.Handler()))
		})
	}
	cfg := a.apiConfig(auth.NewTokens(key, o.TokenTTL, a.clock))
	cfg.Sandbox, cfg.Registry, cfg.PublicURL = sandbox, reg, o.PublicURL
	cfg.RateLimit, cfg.RateBurst, cfg.MaxBodyBytes, cfg.ClientCacheTTL = o.RateLimit, o.RateBurst, int64(o.MaxBodySize), o.ClientCache
	cfg.SecretMemory, cfg.SecretWait, cfg.SecretRemember = int64(o.SecretMemory)<<20, o.SecretWait, o.SecretRemember
	cfg.BodyTimeout, cfg.BodyMinRate, cfg.BodyMax = o.BodyTimeout, float64(o.BodyMinRate), o.ReadTimeout
	cfg.MetricsOnAPI, cfg.MetricsToken = o.MetricsAddr == "" && o.MetricsToken != "", o.MetricsToken
	cfg.Mount = func(mux *http.ServeMux) {
		for _, m := range mounts {
			m(mux)
		}
	}
	srv, err := api.New(cfg)
	if err != nil {
		return err
	}
	// Metrics: on a listener of their own, or on the API's behind a token.
	var metricsSrv *http.Server
	switch {
	case o.MetricsAddr != "":
		mln, err := net.Listen("tcp", o.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer mln.Close()
		metricsSrv = &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn)}
		go metricsSrv.Serve(mln)
		fmt.Fprintf(stdout, "metrics at http://%s/metrics\n", mln.Addr())
	case o.MetricsToken == "":
		a.logger.Warn("GET /metrics is not served: give --metrics-addr (a listener of its own) or --metrics-token (on the API listener, with that bearer token)")
	}
	var stopJobs func(context.Context) error
	waitDispatch := func() {}
	dispatchCtx, stopDispatch := context.WithCancel(context.Background())
	defer stopDispatch()
	if o.Workers > 0 {
		jc, err := a.workerClient(o.Workers)
		if err != nil {
			return err
		}
		if err := jc.Start(ctx); err != nil {
			return err
		}
		stopJobs = jc.Stop
		waitDispatch = a.startDispatcher(dispatchCtx)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	chainCtx, stopChain := context.WithCancel(context.Background())
	defer stopChain()
	waitChain := a.startAuditChainer(chainCtx)
	waitOptimizer := a.startOptimizer(chainCtx)
	screeningCtx, stopScreening := context.WithCancel(context.Background())
	defer stopScreening()
	waitScreening := a.startScreening(screeningCtx)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "kycd %s listening on %s (%s database, %d workers)\n", version(), o.PublicURL, a.db.Dialect(), o.Workers)
	a.logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("database", a.db.Dialect()))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = shutdownStep("HTTP server", hs.Shutdown(shutCtx))
	stopScreening()
	waitScreening()
	if metricsSrv != nil {
		err = errors.Join(err, shutdownStep("metrics server", metricsSrv.Shutdown(shutCtx)))
	}
	stopDispatch()
	waitDispatch()
	if stopJobs != nil {
		err = errors.Join(err, shutdownStep("job workers", stopJobs(shutCtx)))
	}
	// The last changes' audit entries reach the chain before the store closes.
	stopChain()
	waitChain()
	waitOptimizer()
	err = errors.Join(err, shutdownStep("audit chain", a.db.ChainAudit(shutCtx)))
	if err == nil {
		a.logger.Info("stopped")
	}
	return err
}

func cmdWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		o       options
		workers int
	)
	fs := newFlags("worker", getenv, stderr)
	fs.common(&o)
	fs.int(&workers, "workers", 10, "job workers")
	if err := fs.parse(args); err != nil {
		return err
	}
	if workers <= 0 {
		return errors.New("--workers must be at least 1")
	}
	a, err := openApp(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	a.warnDatabase(ctx)
	jc, err := a.workerClient(workers)
	if err != nil {
		return err
	}
	if err := jc.Start(ctx); err != nil {
		return err
	}
	waitChain := a.startAuditChainer(ctx)
	waitOptimizer := a.startOptimizer(ctx)
	waitDispatch := a.startDispatcher(ctx)
	fmt.Fprintf(stdout, "kycd %s worker running (%s database, %d workers)\n", version(), a.db.Dialect(), workers)
	<-ctx.Done()
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitDispatch()
	err = shutdownStep("job workers", jc.Stop(shutCtx))
	waitChain()
	waitOptimizer()
	return errors.Join(err, shutdownStep("audit chain", a.db.ChainAudit(shutCtx)))
}

// shutdownStep names the step of a shutdown that failed (a deadline passed
// says which part of the process did not stop in time).
func shutdownStep(step string, err error) error {
	if err != nil {
		return fmt.Errorf("shutdown: %s: %w", step, err)
	}
	return nil
}

// SandboxCredentials is what --sandbox keeps in the data folder so that it can
// print the sandbox client's secret at every start (the database holds only
// its hash).
type SandboxCredentials struct {
	TenantID     string `json:"tenant_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// The provider sandboxes' credentials (mounted at /sandbox/veriff and
	// /sandbox/sumsub).
	VeriffAPIKey       string `json:"veriff_api_key"`
	VeriffSharedSecret string `json:"veriff_shared_secret"`
	SumsubAppToken     string `json:"sumsub_app_token"`
	SumsubSecret       string `json:"sumsub_secret"`
	SumsubWebhookKey   string `json:"sumsub_webhook_secret"`
	// ConsolePassword is the sandbox reviewer's password.
	ConsolePassword string `json:"console_password"`
}

// ensureSandbox creates, once, the tenant named "sandbox", a client with
// every partner scope and the provider sandboxes' integrations, and prints
// their credentials.
func ensureSandbox(ctx context.Context, a *app, stdout io.Writer) (*SandboxCredentials, error) {
	path := filepath.Join(a.opts.DataDir, "sandbox-credentials.json")
	t, err := a.db.FindTenantByName(ctx, "sandbox")
	if kycd.ErrorCode(err) == kycd.ENotFound {
		t = &kycd.Tenant{Name: "sandbox"}
		if err := a.db.CreateTenant(adminContext(ctx), t, kycd.TenantCreated(t)); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	var creds SandboxCredentials
	valid := false
	if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &creds) == nil && creds.TenantID == t.ID {
		c, err := a.db.FindClientByID(ctx, creds.ClientID)
		valid = err == nil && !c.Revoked()
	}
	changed := false
	if !valid {
		c, secret, err := createClient(ctx, a, t.ID, "sandbox", slices.Clone(auth.PartnerScopes))
		if err != nil {
			return nil, err
		}
		creds = SandboxCredentials{TenantID: t.ID, ClientID: c.ID, ClientSecret: secret}
		changed = true
	}
	if creds.VeriffAPIKey == "" {
		creds.VeriffAPIKey, creds.VeriffSharedSecret = uuid.NewString(), uuid.NewString()
		changed = true
	}
	if creds.SumsubAppToken == "" {
		creds.SumsubAppToken, creds.SumsubSecret = "sbx:"+uuid.NewString(), uuid.NewString()
		changed = true
	}
	if creds.SumsubWebhookKey == "" {
		creds.SumsubWebhookKey = uuid.NewString()
		changed = true
	}
	if creds.ConsolePassword == "" {
		creds.ConsolePassword = auth.NewSecret()
		changed = true
	}
	if changed {
		raw, _ := json.MarshalIndent(creds, "", "  ")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, err
		}
	}
	printSandbox(stdout, creds)
	return &creds, nil
}

// wireSandboxConnector points the sandbox tenant's Sumsub and Veriff
// configurations at the provider sandboxes this process mounts.
func wireSandboxConnector(ctx context.Context, a *app, creds *SandboxCredentials, publicURL string) error {
	ctx = adminContext(ctx)
	veriffURL, sumsubURL := publicURL+"/sandbox/veriff", publicURL+"/sandbox/sumsub"
	on := true
	if c, err := a.db.FindConnectorConfig(ctx, creds.TenantID, kycd.ProviderVeriff); err != nil || c.BaseURL != veriffURL ||
		c.FindIntegration("sandbox") == nil || c.FindIntegration("sandbox").APIKey != creds.VeriffAPIKey {
		if _, err := a.connector.SetVeriffConfig(ctx, creds.TenantID, connector.VeriffConfigRequest{BaseURL: &veriffURL, AutoIngest: &on,
			Integrations: []kycd.VeriffIntegration{{Name: "sandbox", APIKey: creds.VeriffAPIKey, SharedSecretKey: creds.VeriffSharedSecret,
				Processes: slices.Clone(kycd.IngestionProcesses)}}}); err != nil {
			return err
		}
	}
	if c, err := a.db.FindConnectorConfig(ctx, creds.TenantID, kycd.ProviderSumsub); err != nil || c.BaseURL != sumsubURL ||
		c.AppToken != creds.SumsubAppToken || c.WebhookSecret != creds.SumsubWebhookKey {
		if _, err := a.connector.SetSumsubConfig(ctx, creds.TenantID, connector.SumsubConfigRequest{BaseURL: &sumsubURL, AutoIngest: &on,
			AppToken: &creds.SumsubAppToken, Secret: &creds.SumsubSecret, WebhookSecret: &creds.SumsubWebhookKey}); err != nil {
			return err
		}
	}
	return nil
}

func printSandbox(w io.Writer, c SandboxCredentials) {
	fmt.Fprintf(w, "sandbox tenant %s\n  client_id:     %s\n  client_secret: %s\n", c.TenantID, c.ClientID, c.ClientSecret)
	fmt.Fprintf(w, "veriff sandbox at /sandbox/veriff\n  api key:       %s\n  shared secret: %s\n", c.VeriffAPIKey, c.VeriffSharedSecret)
	fmt.Fprintf(w, "sumsub sandbox at /sandbox/sumsub\n  app token:     %s\n  secret:        %s\n  webhook secret: %s\n", c.SumsubAppToken, c.SumsubSecret, c.SumsubWebhookKey)
}

// storeCollector reports, at scrape time, River job counts by kind and state,
// the backlogs of the audit chainer and of the webhook dispatcher, and the
// counters of grouped operations (SQLite group commit; PostgreSQL's step
// group and grouped reads).
type storeCollector struct{ db *sqlstore.DB }

var jobsDesc = prometheus.NewDesc("kycd_jobs", "River jobs by kind and state.", []string{"kind", "state"}, nil)

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jobsDesc, auditPendingDesc, auditLagDesc, outboxDesc, commitsDesc, changesDesc, stepStatementsDesc, stepsDesc, readQueriesDesc, readsDesc} {
		ch <- d
	}
}

var (
	auditPendingDesc   = prometheus.NewDesc("kycd_audit_pending", "Audit entries written but not yet chained onto their tenant's chain.", nil, nil)
	auditLagDesc       = prometheus.NewDesc("kycd_audit_pending_oldest_seconds", "Age of the oldest audit entry not yet chained (0 when none): a growing value means the chainer is stuck.", nil, nil)
	outboxDesc         = prometheus.NewDesc("kycd_outbox_pending", "Events not yet handed to their webhook endpoints.", nil, nil)
	commitsDesc        = prometheus.NewDesc("kycd_sqlite_write_commits_total", "Write transactions of grouped changes (SQLite group commit; 0 on PostgreSQL).", nil, nil)
	changesDesc        = prometheus.NewDesc("kycd_sqlite_write_changes_total", "Changes those transactions carried (changes per commit = this / commits).", nil, nil)
	stepStatementsDesc = prometheus.NewDesc("kycd_postgres_step_statements_total", "Statements that saved form steps (a stored process and its audit entry), those made at the same time together (PostgreSQL; 0 on SQLite).", nil, nil)
	stepsDesc          = prometheus.NewDesc("kycd_postgres_steps_total", "Form steps those statements saved or refused (steps per statement = this / statements).", nil, nil)
	readQueriesDesc    = prometheus.NewDesc("kycd_postgres_kyc_read_queries_total", "Queries that read users' KYC state, those read at the same time together (PostgreSQL; 0 on SQLite).", nil, nil)
	readsDesc          = prometheus.NewDesc("kycd_postgres_kyc_reads_total", "Reads those queries answered (reads per query = this / queries).", nil, nil)
)

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.db.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
	} else {
		for _, jc := range counts {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(jc.Count), jc.Kind, jc.State)
		}
	}
	b, err := c.db.FindBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(auditPendingDesc, err)
	} else {
		lag := 0.0
		if !b.AuditOldest.IsZero() {
			lag = max(0, time.Since(b.AuditOldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(auditPendingDesc, prometheus.GaugeValue, float64(b.AuditPending))
		ch <- prometheus.MustNewConstMetric(auditLagDesc, prometheus.GaugeValue, lag)
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(b.OutboxPending))
	}
	commits, changes := c.db.WriteGroups()
	ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.CounterValue, float64(commits))
	ch <- prometheus.MustNewConstMetric(changesDesc, prometheus.CounterValue, float64(changes))
	statements, steps := c.db.StepGroups()
	ch <- prometheus.MustNewConstMetric(stepStatementsDesc, prometheus.CounterValue, float64(statements))
	ch <- prometheus.MustNewConstMetric(stepsDesc, prometheus.CounterValue, float64(steps))
	queries, reads := c.db.ReadGroups()
	ch <- prometheus.MustNewConstMetric(readQueriesDesc, prometheus.CounterValue, float64(queries))
	ch <- prometheus.MustNewConstMetric(readsDesc, prometheus.CounterValue, float64(reads))
}

// screeningCollector reports, at scrape time, each loaded screening list's
// age and size: an alert on the age catches a schedule that stopped.
type screeningCollector struct{ a *app }

var (
	listAgeDesc     = prometheus.NewDesc("kycd_screening_list_age_seconds", "Time since the loaded version of a screening list was imported (see --screening-max-age).", []string{"source"}, nil)
	listEntriesDesc = prometheus.NewDesc("kycd_screening_list_entries", "Listings of the loaded version of a screening list.", []string{"source"}, nil)
	listStaleDesc   = prometheus.NewDesc("kycd_screening_list_stale", "1 when a screening list is older than --screening-max-age.", []string{"source"}, nil)
)

func (screeningCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- listAgeDesc
	ch <- listEntriesDesc
	ch <- listStaleDesc
}

func (c screeningCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.screening.Status() // the service sandbox mode built, if it rebuilt it
	now := c.a.clock.Now()
	for _, v := range st.Versions {
		stale := 0.0
		if slices.Contains(st.Stale, v.Source) {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(listAgeDesc, prometheus.GaugeValue, max(0, now.Sub(v.ImportedAt).Seconds()), v.Source)
		ch <- prometheus.MustNewConstMetric(listEntriesDesc, prometheus.GaugeValue, float64(v.Entries), v.Source)
		ch <- prometheus.MustNewConstMetric(listStaleDesc, prometheus.GaugeValue, stale, v.Source)
	}
}
