package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/sandbox/veriffsbx"
)

// noopArgs is the benchmark's baseline job: River's cost and nothing else.
type noopArgs struct {
	Seq int `json:"seq"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done *atomic.Int64
}

func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.done.Add(1)
	return nil
}

// benchNoop times n no-op River jobs worked by w workers: the baseline of
// the job benchmarks.
func benchNoop(ctx context.Context, a *App, n, workers int) (time.Duration, error) {
	var noops atomic.Int64
	return workUntil(ctx, a, workers, func(ws *river.Workers) { river.AddWorker(ws, &noopWorker{done: &noops}) }, func() (bool, error) {
		return noops.Load() >= int64(n), nil
	}, func(c *river.Client[*sql.Tx]) error {
		for i := range n {
			if _, err := c.Insert(ctx, noopArgs{Seq: i}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// benchIngest measures ingestion throughput against the Veriff sandbox
// with latency per provider call: n ingestions queued, then worked by w
// workers. The ideal bound is w / (calls per ingestion × latency): what w
// workers that only waited on the provider would do. At latency 0 the
// time per ingestion is pure overhead, compared with a no-op River job
// worked by as many workers in the same run.
func benchIngest(ctx context.Context, a *App, n, workers, rounds int, latency time.Duration) (map[string]any, error) {
	sb := veriffsbx.New(map[string]string{"bench-key": "bench-secret"})
	var calls atomic.Int64
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		sb.ServeHTTP(w, r)
	}))
	defer provider.Close()
	ctx = a.Admin(ctx)
	t := &kycd.Tenant{Name: "bench-ingest-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if err := a.DB.CreateTenant(ctx, t, kycd.TenantCreated(t)); err != nil {
		return nil, err
	}
	base := provider.URL
	if _, err := a.Connector.SetVeriffConfig(ctx, t.ID, connector.VeriffConfigRequest{BaseURL: &base, Integrations: []kycd.VeriffIntegration{
		{Name: "bench", APIKey: "bench-key", SharedSecretKey: "bench-secret", Processes: []string{kycd.ProcessProfile, kycd.ProcessIdentity}}}}); err != nil {
		return nil, err
	}
	users := make([]*kycd.User, n)
	for i := range users {
		users[i] = &kycd.User{TenantID: t.ID, Type: "individual", Email: fmt.Sprintf("ingest-%d@bench.example", i), PrimaryCitizenship: "GB",
			Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}
		if err := a.DB.CreateUser(ctx, users[i], kycd.UserCreated(users[i])); err != nil {
			return nil, err
		}
	}
	// run queues one ingestion per user and works them all.
	run := func(lat time.Duration) (time.Duration, float64, error) {
		sb.SetLatency(lat)
		if _, err := a.write.ExecContext(ctx, a.DB.Rebind(`DELETE FROM river_job WHERE state = 'completed'`)); err != nil {
			return 0, 0, err
		}
		if err := a.DB.Vacuum(ctx); err != nil {
			return 0, 0, err
		}
		for _, u := range users {
			if _, err := a.Connector.CreateVeriffIngestion(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, connector.VeriffRequest{Sessions: []connector.VeriffSession{
				{SessionID: veriffsbx.Approved, IntegrationName: "bench"}}, Processes: []string{kycd.ProcessProfile, kycd.ProcessIdentity}}); err != nil {
				return 0, 0, err
			}
		}
		before := calls.Load()
		elapsed, err := workUntil(ctx, a, workers, nil, func() (bool, error) {
			var left int
			err := a.read.QueryRowContext(ctx, a.DB.Rebind(`SELECT count(*) FROM ingestions WHERE tenant_id = ? AND status <> 'finished'`), t.ID).Scan(&left)
			return left == 0, err
		})
		return elapsed, float64(calls.Load()-before) / float64(n), err
	}
	// The no-op baseline: n jobs, as many workers.
	noopTime, err := benchNoop(ctx, a, n, workers)
	if err != nil {
		return nil, err
	}
	// Alternate rounds at latency 0 and at the latency; medians.
	var zeros, ratios, rates []float64
	var perIngestion float64
	for range max(rounds, 1) {
		zero, _, err := run(0)
		if err != nil {
			return nil, err
		}
		elapsed, calls, err := run(latency)
		if err != nil {
			return nil, err
		}
		perIngestion = calls
		rate := float64(n) / elapsed.Seconds()
		ideal := float64(workers) / (calls * latency.Seconds())
		zeros, ratios, rates = append(zeros, zero.Seconds()), append(ratios, rate/ideal), append(rates, rate)
	}
	ideal := float64(workers) / (perIngestion * latency.Seconds())
	zero := median(zeros)
	roundRatios := make([]float64, len(ratios))
	for i, r := range ratios {
		roundRatios[i] = float64(int(r*1000)) / 1000
	}
	res := map[string]any{
		"ingest_n": n, "ingest_workers": workers, "ingest_latency": latency.String(), "ingest_rounds": len(ratios),
		"ingest_calls_per_ingestion": perIngestion, "ingest_per_s": int(median(rates)), "ingest_ideal_per_s": int(ideal),
		"ingest_ratio_to_ideal":   float64(int(median(ratios)*1000)) / 1000,
		"ingest_round_ratios":     roundRatios,
		"ingest_overhead_ms":      zero * 1000 / float64(n) * float64(workers),
		"noop_job_ms":             noopTime.Seconds() * 1000 / float64(n) * float64(workers),
		"ingest_overhead_vs_noop": float64(int(zero/noopTime.Seconds()*10)) / 10,
		"ingest_peak_rss_mib":     peakRSSMiB(),
	}
	return res, nil
}

// workUntil starts a worker client (with extra workers), runs queue, and
// waits until done says so; it returns the time from start to done.
func workUntil(ctx context.Context, a *App, workers int, extra func(*river.Workers), done func() (bool, error), queue ...func(*river.Client[*sql.Tx]) error) (time.Duration, error) {
	var adds []func(*river.Workers)
	if extra != nil {
		adds = append(adds, extra)
	}
	c, err := a.Workers(workers, adds...)
	if err != nil {
		return 0, err
	}
	for _, q := range queue {
		if err := q(c); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if err := c.Start(ctx); err != nil {
		return 0, err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(stop)
	}()
	for {
		ok, err := done()
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(start), nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peakRSSMiB is the process's peak resident memory (Linux; 0 elsewhere).
func peakRSSMiB() int {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.Atoi(f[1])
				return kb / 1024
			}
		}
	}
	return 0
}
