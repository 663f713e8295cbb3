package cli

import (
	"context"
	"database/sql"
	"flag"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/bench"
)

// cmdBench is kycd bench: it opens kycd as serve does and runs
// internal/bench's scenario against it, in this process.
func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		o  options
		bo bench.Options
	)
	fs := newFlags("bench", getenv, stderr)
	fs.common(&o)
	fs.duration(&bo.Round, "round", 2*time.Second, "length of one measuring round")
	fs.int(&bo.Rounds, "rounds", 5, "rounds per route (they alternate); ingest: at most 3")
	fs.string(&bo.Concurrency, "concurrency", "8,32", "concurrent connections: a number, or a comma-separated list of numbers each measured in turn")
	fs.string(&bo.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured rounds to this file")
	fs.string(&bo.MemProfile, "memprofile", "", "write an allocation profile (since start) to this file when the rounds end")
	fs.string(&bo.Scenario, "scenario", "all", "users-me (GET /core/users/me), cdd (PATCH customer-due-diligence steps), all (both), ingest (KYC Connector ingestions), webhooks (deliveries) screening (searches, re-screening) or console (the back office's pages)")
	fs.int(&bo.Ingestions, "ingestions", 2000, "ingest: how many ingestions")
	fs.duration(&bo.IngestLatency, "latency", 50*time.Millisecond, "ingest: the provider sandbox's latency per call")
	fs.int(&bo.IngestWorkers, "ingest-workers", 50, "ingest: River workers")
	fs.int(&bo.Events, "events", 5000, "webhooks: how many events")
	fs.int(&bo.ScreeningUsers, "screening-users", 100000, "screening: how many users are re-screened")
	fs.int(&bo.ConsoleUsers, "console-users", 100000, "console: how many users the tenant has")
	fs.int(&bo.ConsoleCases, "console-cases", 10000, "console: how many of them have an open case")
	if err := fs.parse(args); err != nil {
		return err
	}
	if _, err := bo.Check(); err != nil {
		return err
	}
	bo.JSON = o.JSON
	if bo.Scenario == "ingest" || bo.Scenario == "webhooks" {
		o.AllowPrivate = true // the sandbox and the receiver listen on loopback
	}
	if o.DatabaseURL == "" && getenv("KYCD_DATA_DIR") == "" && !fs.isSet("data-dir") {
		dir, err := os.MkdirTemp("", "kycd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	o.LogLevel = "error"
	a, err := openApp(ctx, o, io.Discard)
	if err != nil {
		return err
	}
	defer a.close()
	// Chain the audit trail as serve does, so its cost is measured.
	chainCtx, stopChain := context.WithCancel(ctx)
	defer a.startAuditChainer(chainCtx)()
	defer stopChain()
	key, _, err := auth.LoadSigningKey(o.signingKeyPath(), true)
	if err != nil {
		return err
	}
	tokens := auth.NewTokens(key, time.Hour, a.clock)
	return bench.Run(ctx, &bench.App{
		DB: a.db, DatabaseURL: o.DatabaseURL, MaxConns: o.DBMaxConns, KYC: a.kyc, Connector: a.connector, Screening: a.screening, Webhooks: a.webhooks,
		Clock: a.clock, Tokens: tokens, Admin: adminContext, StartDispatcher: a.startDispatcher,
		Handler: func(ctx context.Context, mount func(*http.ServeMux)) (http.Handler, error) {
			return benchHandler(ctx, a, tokens, mount)
		},
		CreateClient: func(ctx context.Context, tenantID, name string, scopes []string) (*kycd.Client, error) {
			c, _, err := createClient(ctx, a, tenantID, name, scopes)
			return c, err
		},
		Workers: func(n int, extra ...func(*river.Workers)) (*river.Client[*sql.Tx], error) {
			return a.workerClient(n, extra...)
		},
	}, bo, stdout)
}

// benchHandler is kycd's HTTP handler as the benchmark measures it: every
// surface and the console, with the benchmark's baselines mounted.
func benchHandler(ctx context.Context, a *app, tokens *auth.Tokens, mount func(*http.ServeMux)) (http.Handler, error) {
	rs, err := newReviewers(a, consoleOptions{}, false)
	if err != nil {
		return nil, err
	}
	consoleHandler, err := newConsole(ctx, a, rs, consoleOptions{}, "http://127.0.0.1")
	if err != nil {
		return nil, err
	}
	cfg := a.apiConfig(tokens)
	cfg.Registry, cfg.ClientCacheTTL = prometheus.NewRegistry(), 2*time.Second
	cfg.Mount = func(mux *http.ServeMux) {
		mux.Handle("/console/", consoleHandler)
		mount(mux)
	}
	return api.New(cfg)
}

// isSet reports whether a flag was given on the command line.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
