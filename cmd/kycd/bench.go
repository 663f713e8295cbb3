package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/blob"
)

// cmdBench measures GET /core/users/me against a baseline served by the same
// process over the same HTTP stack: a handler that only verifies the token
// and reads one row. Both run in alternating rounds on the same database, so
// the ratio is what the full route costs over the least any authenticated
// read can cost.
func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		o           options
		duration    time.Duration
		rounds      int
		concurrency int
		cpuProfile  string
	)
	fs := newFlags("bench", getenv, stderr)
	fs.common(&o)
	fs.duration(&duration, "round", 2*time.Second, "length of one measuring round")
	fs.int(&rounds, "rounds", 5, "rounds per route (they alternate)")
	fs.int(&concurrency, "concurrency", 8, "concurrent connections")
	fs.string(&cpuProfile, "cpuprofile", "", "write a CPU profile of the measured rounds to this file")
	if err := fs.parse(args); err != nil {
		return err
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
	key, _, err := auth.LoadSigningKey(o.signingKeyPath(), true)
	if err != nil {
		return err
	}
	tokens := auth.NewTokens(key, time.Hour, a.clock)
	blobs, err := blob.OpenDir(o.DataDir+"/blobs", a.vault)
	if err != nil {
		return err
	}
	defer blobs.Close()

	// A tenant, a client, a user.
	t := &kycd.Tenant{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano())}
	if err := a.db.CreateTenant(adminContext(ctx), t); err != nil {
		return err
	}
	c, _, err := createClient(ctx, a, t.ID, "bench", slices.Clone(auth.PartnerScopes))
	if err != nil {
		return err
	}
	u := &kycd.User{TenantID: t.ID, Type: kycd.UserIndividual, Email: "bench@example.com", FullName: "Bench Mark",
		Birthdate: "1980-01-01", PrimaryCitizenship: "GB", TermsOfService: "general-gb-fca",
		Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}
	if err := a.db.CreateUser(ctx, u); err != nil {
		return err
	}
	tok, err := tokens.Issue(c, c.Scopes)
	if err != nil {
		return err
	}

	read := a.db.ReadPool()
	baseline := func(w http.ResponseWriter, r *http.Request) {
		claims, err := tokens.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, "token", http.StatusUnauthorized)
			return
		}
		var id string
		q := `SELECT id FROM users WHERE id = ? AND tenant_id = ?`
		if a.db.Dialect() == "postgres" {
			q = `SELECT id FROM users WHERE id = $1 AND tenant_id = $2`
		}
		if err := read.QueryRowContext(r.Context(), q, u.ID, claims.TenantID).Scan(&id); err != nil {
			http.Error(w, "row", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, id)
	}
	srv, err := api.New(api.Config{
		Clients: a.db, Users: a.db, Files: a.db, Audit: a.db, Terms: a.db, KYC: a.kyc, Policy: a.policy, Health: a.db, Tokens: tokens, Blobs: blobs, Vault: a.vault,
		Geo: a.geo, Clock: a.clock, Logger: a.logger, Registry: prometheus.NewRegistry(), ClientCacheTTL: 2 * time.Second,
		Mount: func(mux *http.ServeMux) { mux.HandleFunc("GET /bench/baseline", baseline) },
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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}}

	measure := func(path string, d time.Duration) (float64, error) {
		var n, failed atomic.Int64
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("X-On-Behalf-Of", "user "+u.ID)
					res, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						failed.Add(1)
						continue
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			return 0, fmt.Errorf("%s: %d failed requests", path, f)
		}
		return float64(n.Load()) / time.Since(start).Seconds(), nil
	}
	// Warm up both routes, then alternate rounds.
	for _, p := range []string{"/bench/baseline", "/core/users/me"} {
		if _, err := measure(p, duration/4); err != nil {
			return err
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var baseRPS, meRPS []float64
	for i := 0; i < rounds; i++ {
		b, err := measure("/bench/baseline", duration)
		if err != nil {
			return err
		}
		m, err := measure("/core/users/me", duration)
		if err != nil {
			return err
		}
		baseRPS, meRPS = append(baseRPS, b), append(meRPS, m)
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	b, m := median(baseRPS), median(meRPS)
	res := map[string]any{
		"database": a.db.Dialect(), "concurrency": concurrency, "rounds": rounds, "round": duration.String(),
		"baseline_rps": int(b), "users_me_rps": int(m), "ratio": float64(int(m/b*1000)) / 1000,
	}
	if o.JSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "database %s, %d connections, %d rounds of %s each\n", a.db.Dialect(), concurrency, rounds, duration)
	fmt.Fprintf(stdout, "baseline (token + one row): %8.0f req/s (median)\n", b)
	fmt.Fprintf(stdout, "GET /core/users/me:         %8.0f req/s (median)\n", m)
	fmt.Fprintf(stdout, "ratio:                      %8.3f (goal >= 0.8)\n", m/b)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// isSet reports whether a flag was given on the command line.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
