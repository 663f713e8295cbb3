// Package bench is kycd bench: it measures kycd's routes, jobs and pages
// against baselines served by the same process over the same HTTP stack,
// on the same database. internal/cli opens kycd as serve does and hands it
// over as an App; the benchmark lives here so that the shipping binary's
// package holds no measuring code and the store keeps its pools to itself
// (the baselines open their own connections to the same database).
package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/webhook"
)

// Scenarios are the scenarios Run knows; "all" is users-me and cdd.
var Scenarios = []string{"all", "users-me", "cdd", "ingest", "webhooks", "screening", "console"}

// Options are the benchmark's settings (kycd bench's flags).
type Options struct {
	// Scenario is one of Scenarios.
	Scenario string
	// Round is the length of one measuring round, Rounds how many per
	// route (they alternate; ingest: at most 3).
	Round  time.Duration
	Rounds int
	// Concurrency is the concurrent connections: a number, or a
	// comma-separated list of numbers each measured in turn.
	Concurrency string
	// CPUProfile and MemProfile name the profiles' files ("" for none).
	CPUProfile, MemProfile string
	// Ingestions, IngestLatency and IngestWorkers size the ingest scenario.
	Ingestions    int
	IngestLatency time.Duration
	IngestWorkers int
	// Events sizes the webhooks scenario.
	Events int
	// ScreeningUsers sizes the screening scenario.
	ScreeningUsers int
	// ConsoleUsers and ConsoleCases size the console scenario.
	ConsoleUsers, ConsoleCases int
	// JSON prints the figures as one JSON object.
	JSON bool
}

// Check validates the options and returns the concurrency levels.
func (o Options) Check() ([]int, error) {
	if !slices.Contains(Scenarios, o.Scenario) {
		return nil, fmt.Errorf("bench: unknown scenario %q", o.Scenario)
	}
	if (o.Scenario == "ingest" || o.Scenario == "webhooks") && (o.Ingestions < 1 || o.IngestWorkers < 1 || o.IngestLatency <= 0) {
		return nil, errors.New("bench: --ingestions and --ingest-workers must be at least 1, --latency above 0")
	}
	return parseLevels(o.Concurrency)
}

// App is the opened kycd the benchmark drives: its store and services, and
// what internal/cli's wiring does for serve.
type App struct {
	DB *sqlstore.DB
	// DatabaseURL is the PostgreSQL URL DB was opened with ("" for SQLite,
	// at DB.Path) and MaxConns its pool's size: the baselines open their
	// own connections alike.
	DatabaseURL string
	MaxConns    int
	KYC         *kyc.Service
	Connector   *connector.Service
	Screening   *screening.Service
	Webhooks    *webhook.Service
	Clock       kycd.Clock
	Tokens      *auth.Tokens
	// Handler builds kycd's HTTP handler as serve does (every surface and
	// the console), with mount's routes added.
	Handler func(ctx context.Context, mount func(*http.ServeMux)) (http.Handler, error)
	// CreateClient makes an API client of the tenant.
	CreateClient func(ctx context.Context, tenantID, name string, scopes []string) (*kycd.Client, error)
	// Admin marks the changes the benchmark makes as the command line's.
	Admin func(context.Context) context.Context
	// Workers returns a River client working every job with n workers and
	// the extra ones registered.
	Workers func(n int, extra ...func(*river.Workers)) (*river.Client[*sql.Tx], error)
	// StartDispatcher runs the webhook dispatcher until ctx ends.
	StartDispatcher func(ctx context.Context) (wait func())

	// read and write are the benchmark's own connections (Run opens them).
	read, write *sql.DB
}

// Run runs the scenario of o against a and prints its figures to stdout.
// users-me compares GET /core/users/me with a handler that verifies the
// token and reads one row; cdd compares PATCH customer-due-diligence (a
// form step: validate, merge, seal, save with its audit entry) with a
// handler that verifies the token, decodes the body and inserts one row in
// one transaction; the other scenarios are described where they run.
func Run(ctx context.Context, a *App, o Options, stdout io.Writer) error {
	levels, err := o.Check()
	if err != nil {
		return err
	}
	var closePools func()
	if a.read, a.write, closePools, err = openPools(a); err != nil {
		return err
	}
	defer closePools()
	scenario, duration, rounds := o.Scenario, o.Round, o.Rounds
	cpuProfile, memProfile := o.CPUProfile, o.MemProfile
	if scenario == "webhooks" {
		res, err := benchWebhooks(ctx, a, max(o.Events, 1), 10)
		if err != nil {
			return err
		}
		res["database"] = a.DB.Dialect()
		if o.JSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "database %s: %d events, 10 workers, a loopback receiver that answers at once\n", a.DB.Dialect(), o.Events)
		fmt.Fprintf(stdout, "%-40s %8d /s\n%-40s %8d /s\n%-40s %8.3f (goal >= 0.5)\n%-40s %8.1f ms\n%-40s %8.1f ms (goal < 500)\n%-40s %8d MiB\n",
			"no-op River jobs:", res["noop_jobs_per_s"], "deliveries:", res["webhooks_per_s"], "ratio:", res["webhooks_ratio_to_noop"],
			"commit to receipt, p50:", res["webhooks_p50_ms"], "commit to receipt, p99:", res["webhooks_p99_ms"], "peak memory (RSS):", res["webhooks_peak_rss_mib"])
		return nil
	}
	if scenario == "ingest" {
		stop, err := startProfile(cpuProfile, memProfile)
		if err != nil {
			return err
		}
		defer stop()
		res, err := benchIngest(ctx, a, o.Ingestions, o.IngestWorkers, min(rounds, 3), o.IngestLatency)
		if err != nil {
			return err
		}
		res["database"] = a.DB.Dialect()
		if o.JSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "database %s: %d ingestions, %d workers, provider latency %s, %.1f provider calls per ingestion\n",
			a.DB.Dialect(), o.Ingestions, o.IngestWorkers, o.IngestLatency, res["ingest_calls_per_ingestion"])
		fmt.Fprintf(stdout, "%-40s %8d /s\n%-40s %8d /s\n%-40s %8.3f (goal >= 0.9; rounds %v)\n", "ideal bound (workers / (calls x latency)):",
			res["ingest_ideal_per_s"], "ingestions (median):", res["ingest_per_s"], "ratio (median):", res["ingest_ratio_to_ideal"], res["ingest_round_ratios"])
		fmt.Fprintf(stdout, "%-40s %8.2f ms\n%-40s %8.2f ms\n%-40s %8.1f x\n%-40s %8d MiB\n",
			"overhead per ingestion at latency 0:", res["ingest_overhead_ms"], "no-op River job:", res["noop_job_ms"],
			"overhead / no-op job:", res["ingest_overhead_vs_noop"], "peak memory (RSS):", res["ingest_peak_rss_mib"])
		return nil
	}
	tokens := a.Tokens

	// A tenant, a client, a user.
	t := &kycd.Tenant{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano())}
	if err := a.DB.CreateTenant(a.Admin(ctx), t, kycd.TenantCreated(t)); err != nil {
		return err
	}
	c, err := a.CreateClient(ctx, t.ID, "bench", slices.Clone(auth.PartnerScopes))
	if err != nil {
		return err
	}
	u := &kycd.User{TenantID: t.ID, Type: kycd.UserIndividual, Email: "bench@example.com", FullName: "Bench Mark",
		Birthdate: "1980-01-01", PrimaryCitizenship: "GB", TermsOfService: "general-gb-fca",
		Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}
	if err := a.DB.CreateUser(ctx, u, kycd.UserCreated(u)); err != nil {
		return err
	}
	tok, err := tokens.Issue(c, c.Scopes)
	if err != nil {
		return err
	}

	read := a.read
	baseline := func(w http.ResponseWriter, r *http.Request) {
		claims, err := tokens.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, "token", http.StatusUnauthorized)
			return
		}
		var id string
		q := `SELECT id FROM users WHERE id = ? AND tenant_id = ?`
		if a.DB.Dialect() == "postgres" {
			q = `SELECT id FROM users WHERE id = $1 AND tenant_id = $2`
		}
		if err := read.QueryRowContext(r.Context(), q, u.ID, claims.TenantID).Scan(&id); err != nil {
			http.Error(w, "row", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, id)
	}
	// The write baseline: verify the token, decode the body and insert one
	// row in one transaction; the least any authenticated write can cost.
	write := a.write
	if _, err := write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		return err
	}
	defer write.ExecContext(context.Background(), `DROP TABLE IF EXISTS bench_rows`)
	var rowSeq atomic.Int64
	insert := `INSERT INTO bench_rows (id, body) VALUES (?, ?)`
	if a.DB.Dialect() == "postgres" {
		insert = `INSERT INTO bench_rows (id, body) VALUES ($1, $2)`
	}
	writeBaseline := func(w http.ResponseWriter, r *http.Request) {
		if _, err := tokens.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
			http.Error(w, "token", http.StatusUnauthorized)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "body", http.StatusBadRequest)
			return
		}
		raw, _ := json.Marshal(body)
		tx, err := write.BeginTx(r.Context(), nil)
		if err != nil {
			http.Error(w, "begin", http.StatusInternalServerError)
			return
		}
		if _, err := tx.ExecContext(r.Context(), insert, fmt.Sprint(rowSeq.Add(1)), string(raw)); err != nil {
			_ = tx.Rollback()
			http.Error(w, "insert", http.StatusInternalServerError)
			return
		}
		if err := tx.Commit(); err != nil {
			http.Error(w, "commit", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	}
	srv, err := a.Handler(ctx, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /bench/baseline", baseline)
		mux.HandleFunc("PATCH /bench/write-baseline", writeBaseline)
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	if scenario == "console" {
		res, err := benchConsole(ctx, a, base, tok, t.ID, max(o.ConsoleUsers, 1), min(max(o.ConsoleCases, 1), max(o.ConsoleUsers, 1)), max(rounds, 1)*100)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "database %s: %d users, %d open cases (seeded in %.0f s); one reviewer, one page at a time\n", res["database"], res["users"], res["open_cases"], res["seed_s"])
		for _, p := range []string{"baseline", "queue", "queue_deep", "case", "user", "applications"} {
			fmt.Fprintf(stdout, "%-12s p50 %7.2f ms  p95 %7.2f ms (goal < 50)  %7d bytes (goal < 100 KB)", p+":", res[p+"_p50_ms"], res[p+"_p95_ms"], res[p+"_bytes"])
			if r, ok := res[p+"_p95_vs_baseline"]; ok {
				fmt.Fprintf(stdout, "  p95 %5.1f x the baseline's", r)
			}
			fmt.Fprintln(stdout)
		}
		return nil
	}
	if scenario == "screening" {
		res, err := benchScreening(ctx, a, base, tokens, t.ID, max(o.ScreeningUsers, 1), levels[0], duration*time.Duration(max(rounds, 1)))
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "database %s: %d listings (%d names), %d users\n", res["database"], res["entries"], res["names"], res["users"])
		fmt.Fprintf(stdout, "%-44s %8.1f µs\n%-44s %8.1f µs\n%-44s %8.1f x (goal >= 50)\n%-44s %8.3f\n",
			"search (index), per query:", res["search_us"], "brute force over every name, per query:", res["brute_force_us"],
			"index vs brute force:", res["search_vs_brute_force"], "same review outcome as brute force:", res["search_agrees_with_brute_force"])
		fmt.Fprintf(stdout, "%-44s %8.0f /s (goal >= 1500)\n%-44s %8.2f ms (goal < 20)\n",
			fmt.Sprintf("HTTP searches at concurrency %d:", levels[0]), res["http_searches_per_s"], "HTTP p99:", res["http_p99_ms"])
		for _, p := range []struct{ key, what, goal string }{{"screen_all", "screening every user once (as at creation):", ""},
			{"rescreen_delta_100", "re-screening against a 100-listing delta:", " (goal < 60)"},
			{"rescreen_full", "re-screening against the whole lists:", " (goal < 900)"}} {
			fmt.Fprintf(stdout, "%-44s %8.1f s, kycd CPU %.1f s%s\n", p.what, res[p.key+"_s"], res[p.key+"_cpu_s"], p.goal)
		}
		fmt.Fprintf(stdout, "%-44s %8.1f MiB (goal < 100)\n%-44s %8d MiB\n", "index memory:", res["index_mib"], "peak memory (RSS):", res["peak_rss_mib"])
		return nil
	}

	// Each worker of the CDD scenario acts for its own user, whose form is
	// past its first step: every PATCH answers a question of the second
	// step (validate, merge, seal, save with the audit entry).
	cddUsers, cddForms := make([]string, slices.Max(levels)), make([]string, slices.Max(levels))
	if scenario != "users-me" {
		for i := range cddUsers {
			cu := *u
			cu.ID, cu.Email = "", fmt.Sprintf("bench-cdd-%d@example.com", i) // a new user
			if err := a.DB.CreateUser(ctx, &cu, kycd.UserCreated(&cu)); err != nil {
				return err
			}
			first := &kycd.ProcessUpdate{Input: &kycd.FormInput{Answers: map[string]any{"intent": map[string]any{"expected-activities": []any{"cryptocurrency_investing"}}}}}
			v, _, err := a.KYC.UpdateProcess(ctx, &cu, kycd.ProcessCDD, first)
			if err != nil {
				return err
			}
			cddUsers[i], cddForms[i] = cu.ID, v.Input["formId"].(string)
		}
	}
	sources := []string{"salary", "inheritance", "profits_own_business"}
	get := func(path string) benchRequest {
		return func(int, int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
			if err == nil {
				req.Header.Set("X-On-Behalf-Of", "user "+u.ID)
			}
			return req, err
		}
	}
	patch := func(path string) benchRequest {
		return func(worker, n int) (*http.Request, error) {
			body := fmt.Sprintf(`{"input":{"formId":%q,"answers":{"financial-information":{"source-of-funds":%q}}}}`, cddForms[worker], sources[n%len(sources)])
			req, err := http.NewRequestWithContext(ctx, "PATCH", base+path, strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-On-Behalf-Of", "user "+cddUsers[worker])
			}
			return req, err
		}
	}
	measure := func(mk benchRequest, d time.Duration, client *http.Client, concurrency int) (float64, error) {
		var n, failed atomic.Int64
		var firstErr atomic.Value
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < concurrency; i++ {
			wg.Add(1)
			go func(worker int) {
				defer wg.Done()
				// One buffer per worker for the responses: the load
				// generator shares the process it measures, so it
				// allocates as little as it can.
				var body bytes.Buffer
				for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
					req, err := mk(worker, k)
					if err != nil {
						failed.Add(1)
						continue
					}
					req.Header.Set("Authorization", "Bearer "+tok)
					res, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					body.Reset()
					_, err = body.ReadFrom(res.Body)
					res.Body.Close()
					if err != nil || res.StatusCode != 200 {
						firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", res.StatusCode, body.Bytes(), err))
						failed.Add(1)
						continue
					}
					n.Add(1)
				}
			}(i)
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			return 0, fmt.Errorf("%d failed requests (first: %v)", f, firstErr.Load())
		}
		return float64(n.Load()) / time.Since(start).Seconds(), nil
	}
	var pairs []benchPair
	if scenario != "cdd" {
		pairs = append(pairs, benchPair{"users_me", "GET /core/users/me", "baseline (token + one row)", get("/core/users/me"), get("/bench/baseline"), 0.8})
	}
	if scenario != "users-me" {
		pairs = append(pairs, benchPair{"cdd_step", "PATCH customer-due-diligence", "baseline (token + decode + insert)", patch("/core/kyc/processes/customer-due-diligence"), patch("/bench/write-baseline"), 0.7})
	}
	stop, err := startProfile(cpuProfile, memProfile)
	if err != nil {
		return err
	}
	defer stop()
	res := map[string]any{"database": a.DB.Dialect(), "concurrency": levels, "rounds": rounds, "round": duration.String()}
	var byLevel []map[string]any
	for _, level := range levels {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: level, MaxConnsPerHost: level}}
		lr, err := benchLevel(ctx, a, stdout, o.JSON, pairs, level, rounds, duration, func(r benchRequest, d time.Duration) (float64, error) {
			return measure(r, d, client, level)
		})
		client.CloseIdleConnections()
		if err != nil {
			return err
		}
		byLevel = append(byLevel, lr)
	}
	// The top-level figures are the last level's (by default the highest:
	// enough connections that both sides keep the machine busy).
	maps.Copy(res, byLevel[len(byLevel)-1])
	res["levels"] = byLevel
	if o.JSON {
		return printJSON(stdout, res)
	}
	return nil
}

// startProfile starts a CPU profile into cpu ("" for none); stop ends it and
// writes the allocations made so far into mem ("" for none).
func startProfile(cpu, mem string) (stop func(), err error) {
	stopCPU := func() {}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stopCPU = func() { pprof.StopCPUProfile(); f.Close() }
	}
	return func() {
		stopCPU()
		if mem == "" {
			return
		}
		if f, err := os.Create(mem); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// groups reports the groups of changes the store has written and the changes
// they carried: grouped transactions on SQLite, grouped form-step
// statements on PostgreSQL.
func groups(db *sqlstore.DB) (groups, changes int64) {
	g, c := db.WriteGroups()
	sg, sc := db.StepGroups()
	return g + sg, c + sc
}

// benchRequest makes the n-th request of a load generator's worker.
type benchRequest func(worker, n int) (*http.Request, error)

// benchPair is a route and its baseline, with the ratio's goal.
type benchPair struct {
	name, label, baseLabel string
	route, base            benchRequest
	goal                   float64
}

// parseLevels reads --concurrency: a number of connections or a
// comma-separated list of them.
func parseLevels(s string) ([]int, error) {
	var levels []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bench: --concurrency %q: want a number of connections of at least 1, or a comma-separated list of them", s)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

// benchLevel measures each pair at one level of concurrency: a warm-up, then
// alternating rounds of baseline and route; it prints (unless quiet) and
// returns the medians, their ratio, this process's CPU per request, the
// changes per group and how busy the machine was on each side.
func benchLevel(ctx context.Context, a *App, stdout io.Writer, quiet bool, pairs []benchPair, level, rounds int, duration time.Duration,
	measure func(benchRequest, time.Duration) (float64, error)) (map[string]any, error) {
	for _, p := range pairs {
		for _, r := range []benchRequest{p.base, p.route} {
			if _, err := measure(r, duration/4); err != nil {
				return nil, fmt.Errorf("%s: %w", p.label, err)
			}
		}
	}
	res := map[string]any{"concurrency": level}
	if !quiet {
		fmt.Fprintf(stdout, "database %s, %d connections, %d rounds of %s each (medians)\n", a.DB.Dialect(), level, rounds, duration)
	}
	for _, p := range pairs {
		var (
			baseRPS, routeRPS []float64
			commits, changes  int64 // the route's groups and the changes they carried
			queries, reads    int64 // the route's grouped reads (PostgreSQL)
			// kycd's CPU time and requests, over all rounds of each side
			baseCPU, routeCPU time.Duration
			baseN, routeN     float64
			// the machine's busy and total CPU ticks on each side
			baseBusy, baseTotal, routeBusy, routeTotal int64
		)
		for i := 0; i < rounds; i++ {
			if err := a.DB.Vacuum(ctx); err != nil {
				return nil, err
			}
			cpu0 := processCPU()
			b0, t0 := machine()
			b, err := measure(p.base, duration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.baseLabel, err)
			}
			cpu1 := processCPU()
			b1, t1 := machine()
			c0, n0 := groups(a.DB)
			q0, r0 := a.DB.ReadGroups()
			m, err := measure(p.route, duration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.label, err)
			}
			cpu2 := processCPU()
			b2, t2 := machine()
			c1, n1 := groups(a.DB)
			q1, r1 := a.DB.ReadGroups()
			commits, changes = commits+c1-c0, changes+n1-n0
			queries, reads = queries+q1-q0, reads+r1-r0
			baseRPS, routeRPS = append(baseRPS, b), append(routeRPS, m)
			baseCPU, routeCPU = baseCPU+cpu1-cpu0, routeCPU+cpu2-cpu1
			baseN, routeN = baseN+b*duration.Seconds(), routeN+m*duration.Seconds()
			baseBusy, baseTotal, routeBusy, routeTotal = baseBusy+b1-b0, baseTotal+t1-t0, routeBusy+b2-b1, routeTotal+t2-t1
		}
		if ctx.Err() != nil {
			return nil, errors.New("interrupted")
		}
		b, m := median(baseRPS), median(routeRPS)
		ratio := float64(int(m/b*1000)) / 1000
		res[p.name+"_baseline_rps"], res[p.name+"_rps"], res[p.name+"_ratio"] = int(b), int(m), ratio
		if commits > 0 {
			res[p.name+"_changes_per_group"] = float64(int(float64(changes)/float64(commits)*100)) / 100
		}
		if queries > 0 {
			res[p.name+"_reads_per_query"] = float64(int(float64(reads)/float64(queries)*100)) / 100
		}
		// This process's CPU per request: kycd, the load generator (alike
		// for both sides) and, on SQLite, the database; PostgreSQL's own
		// CPU is not in it.
		var baseUS, routeUS float64
		if baseCPU > 0 && routeCPU > 0 {
			baseUS, routeUS = float64(baseCPU.Microseconds())/baseN, float64(routeCPU.Microseconds())/routeN
			res[p.name+"_baseline_kycd_cpu_us"], res[p.name+"_kycd_cpu_us"] = int(baseUS), int(routeUS)
		}
		// How busy the whole machine was (every process, the database's
		// too): a side well below 100 % waited rather than worked, and its
		// requests per second measure latency more than capacity.
		var baseLoad, routeLoad float64
		if baseTotal > 0 && routeTotal > 0 {
			baseLoad, routeLoad = float64(baseBusy)/float64(baseTotal)*100, float64(routeBusy)/float64(routeTotal)*100
			res[p.name+"_baseline_machine_busy_pct"], res[p.name+"_machine_busy_pct"] = int(baseLoad), int(routeLoad)
		}
		if quiet {
			continue
		}
		fmt.Fprintf(stdout, "%-36s %8.0f req/s\n%-36s %8.0f req/s\n%-36s %8.3f (goal >= %.1f)\n", p.baseLabel+":", b, p.label+":", m, "ratio:", m/b, p.goal)
		if baseUS > 0 {
			fmt.Fprintf(stdout, "%-36s %8.0f µs baseline, %.0f µs route (this process: kycd, the load generator and, on SQLite, the database)\n", "kycd CPU per request:", baseUS, routeUS)
		}
		if baseLoad > 0 {
			fmt.Fprintf(stdout, "%-36s %7.0f %% baseline, %.0f %% route (all processes, all cores)\n", "machine CPU busy:", baseLoad, routeLoad)
		}
		if commits > 0 {
			fmt.Fprintf(stdout, "%-36s %8.2f (SQLite: grouped transactions; PostgreSQL: grouped form-step statements; the baseline commits each request)\n", "changes per group:", float64(changes)/float64(commits))
		}
		if queries > 0 {
			fmt.Fprintf(stdout, "%-36s %8.2f (PostgreSQL: users' KYC state read at the same time share a query)\n", "reads per query:", float64(reads)/float64(queries))
		}
	}
	return res, nil
}

// machine is the machine's busy and total CPU ticks so far (0, 0 where
// they are not measured).
func machine() (busy, total int64) {
	busy, total, _ = machineTicks()
	return busy, total
}

// printJSON writes v as one JSON object.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Measures reports whether this platform gives the benchmark the process's
// CPU time (cpu) and the machine's load (machine): where it does not, those
// figures are left out.
func Measures() (cpu, machine bool) {
	_, _, machine = machineTicks()
	return processCPU() > 0, machine
}
