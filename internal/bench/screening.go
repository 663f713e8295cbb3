package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/screening/lists/snapshot"
)

// GivenNames and FamilyNames make the ordinary names of the screening
// scenario's users and queries (many cultures, none a listed name alone).
var (
	GivenNames = strings.Fields(`James Mary Olivia Lucas Sofia Mateo Camille Louis Lukas Anna Giulia Marco Ana João
		Piotr Zofia Olga Dmitri Aiko Haruto Wei Mei Minjun Seoyeon Arjun Priya Ahmed Fatima Youssef Leila Emeka Chiamaka
		Kwame Ama Thabo Lerato Ayşe Mehmet Noa Yosef Nguyen Linh Somchai Malee Juan Lucía Sven Ingrid Aroha Tane`)
	FamilyNames = strings.Fields(`Smith Johnson Müller Schneider Dubois Laurent Rossi Bianchi García Fernández Silva
		Santos Kowalski Nowak Ivanova Petrov Sato Suzuki Zhang Wang Kim Park Sharma Patel Haddad Mansour Okafor Adeyemi
		Mensah Boateng Dlamini Nkosi Yılmaz Demir Cohen Levi Tran Pham Srisai Wongsa Jensen Larsen Ngata Walker Novak`)
)

// benchScreening measures screening: searches of the index against a
// brute-force scorer over every listed name in the same process, searches
// over HTTP at a concurrency, the index's memory, and the re-screening of
// users against a 100-listing delta and against the whole lists.
func benchScreening(ctx context.Context, a *App, base string, tokens *auth.Tokens, tenantID string, users, concurrency int, round time.Duration) (map[string]any, error) {
	res := map[string]any{"database": a.DB.Dialect(), "users": users}
	bundled, err := snapshot.Entries()
	if err != nil {
		return nil, err
	}
	var all []kycd.ListEntry
	for _, s := range snapshot.Sources {
		all = append(all, bundled[s]...)
	}
	names := 0
	for _, e := range all {
		names += len(e.Names)
	}
	res["entries"], res["names"] = len(all), names

	// The index's memory: the heap before and after building it.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := screening.NewIndex(all)
	runtime.GC()
	runtime.ReadMemStats(&after)
	res["index_mib"] = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)

	// Search against brute force, the same queries alternating.
	rng := rand.New(rand.NewPCG(1, 2))
	var queries []screening.Query
	for i := 0; i < len(all) && len(queries) < 200; i += len(all) / 200 {
		if e := all[i]; e.Type == kycd.EntryPerson || e.Type == kycd.EntryOrganization {
			queries = append(queries, screening.Query{Name: e.Names[0].Full, Type: e.Type})
		}
	}
	for len(queries) < 400 {
		queries = append(queries, screening.Query{Name: GivenNames[rng.IntN(len(GivenNames))] + " " + FamilyNames[rng.IntN(len(FamilyNames))], Type: kycd.EntryPerson})
	}
	var indexT, bruteT time.Duration
	agree := 0
	for _, q := range queries {
		t0 := time.Now()
		fast := x.Search(q)
		t1 := time.Now()
		slow := x.BruteForce(q)
		bruteT += time.Since(t1)
		indexT += t1.Sub(t0)
		if reviewed(fast) == reviewed(slow) {
			agree++
		}
	}
	res["search_us"] = float64(indexT.Microseconds()) / float64(len(queries))
	res["brute_force_us"] = float64(bruteT.Microseconds()) / float64(len(queries))
	res["search_vs_brute_force"] = float64(bruteT) / float64(indexT)
	res["search_agrees_with_brute_force"] = float64(agree) / float64(len(queries))

	// The lists first (no user yet), then users screened once against
	// them as a running kycd's are; then a 100-listing delta, and the
	// whole lists again as new sources (every listing new), re-screened.
	for _, s := range snapshot.Sources {
		if _, err := benchRescreen(ctx, a, &screening.ImportRequest{Source: s, Format: s, Entries: bundled[s]}); err != nil {
			return nil, err
		}
	}
	if err := benchScreeningUsers(ctx, a, tenantID, users, all); err != nil {
		return nil, err
	}
	// The planner's statistics after each bulk change, off the clock, as
	// autovacuum keeps them on a server that runs it (PostgreSQL; nothing
	// on SQLite).
	if err := a.DB.Vacuum(ctx); err != nil {
		return nil, err
	}
	// Each phase's wall time, and kycd's CPU time in it (which a busy
	// machine changes less: the database server's is not counted).
	cpu := processCPU()
	phase := func(key string, took time.Duration) {
		now := processCPU()
		res[key+"_s"], res[key+"_cpu_s"] = took.Seconds(), (now - cpu).Seconds()
		cpu = now
	}
	took, err := benchScreenAll(ctx, a)
	if err != nil {
		return nil, err
	}
	phase("screen_all", took)
	if err := a.DB.Vacuum(ctx); err != nil {
		return nil, err
	}
	cpu = processCPU()
	delta := make([]kycd.ListEntry, 0, 100)
	for _, e := range bundled[kycd.SourceOFACSDN] {
		if e.Type == kycd.EntryPerson && len(delta) < 100 {
			e.Source = "bench-delta"
			delta = append(delta, e)
		}
	}
	if took, err = benchRescreen(ctx, a, &screening.ImportRequest{Source: "bench-delta", Format: kycd.FormatJSONL, Entries: delta}); err != nil {
		return nil, err
	}
	phase("rescreen_delta_100", took)
	full := time.Duration(0)
	for _, s := range snapshot.Sources {
		entries := slices.Clone(bundled[s])
		for i := range entries {
			entries[i].Source = "bench-" + s
		}
		took, err := benchRescreen(ctx, a, &screening.ImportRequest{Source: "bench-" + s, Format: kycd.FormatJSONL, Entries: entries})
		if err != nil {
			return nil, err
		}
		full += took
	}
	phase("rescreen_full", full)

	// Searches over HTTP.
	if _, err := a.Screening.Refresh(ctx); err != nil {
		return nil, err
	}
	c, err := a.CreateClient(ctx, tenantID, "bench-screening", []string{"admin.screening:read"})
	if err != nil {
		return nil, err
	}
	tok, err := tokens.Issue(c, c.Scopes)
	if err != nil {
		return nil, err
	}
	rate, p99, err := benchSearchHTTP(ctx, base+"/admin/screening/search", tok, queries, concurrency, round)
	if err != nil {
		return nil, err
	}
	res["http_searches_per_s"], res["http_p99_ms"], res["http_concurrency"] = rate, p99, concurrency
	res["peak_rss_mib"] = peakRSSMiB()
	return res, nil
}

// reviewed is the best match that would open a case ("" when none).
func reviewed(ms []screening.Match) string {
	for _, m := range ms {
		if m.Review {
			return m.Source + "/" + m.EntryID
		}
	}
	return ""
}

// benchScreeningUsers creates users of ordinary names (one in a thousand
// with a listed person's name), 16 at a time.
func benchScreeningUsers(ctx context.Context, a *App, tenantID string, n int, listed []kycd.ListEntry) error {
	var persons []string
	for _, e := range listed {
		if e.Type == kycd.EntryPerson {
			persons = append(persons, e.Names[0].Full)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				name := GivenNames[rng.IntN(len(GivenNames))] + " " + FamilyNames[rng.IntN(len(FamilyNames))]
				if i%1000 == 999 {
					name = persons[rng.IntN(len(persons))]
				}
				u := &kycd.User{TenantID: tenantID, Type: kycd.UserIndividual, Email: fmt.Sprintf("screen-%d@bench.example", i), FullName: name,
					Birthdate: fmt.Sprintf("%d-%02d-%02d", 1940+rng.IntN(65), 1+rng.IntN(12), 1+rng.IntN(28)), PrimaryCitizenship: "GB",
					TermsOfService: "general-gb-fca", Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN"}}
				if err := a.DB.CreateUser(ctx, u, kycd.UserCreated(u)); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// benchRescreen imports a version and works its
// re-screening jobs to the end; it returns the time from the workers'
// start to the last job done.
func benchRescreen(ctx context.Context, a *App, req *screening.ImportRequest) (time.Duration, error) {
	if _, err := a.Screening.Import(a.Admin(ctx), *req); err != nil {
		return 0, err
	}
	return benchWork(ctx, a, "screening_delta", "screening_batch")
}

// benchScreenAll screens every user never screened (as at their creation),
// calling the screening service from as many goroutines as a worker
// client runs jobs (the job queue's own cost is not what is measured), and
// returns the time it took.
func benchScreenAll(ctx context.Context, a *App) (time.Duration, error) {
	start := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan kycd.UserRef)
	)
	for range runtime.GOMAXPROCS(0) * 2 {
		wg.Go(func() {
			for ref := range next {
				if err := a.Screening.Screen(ctx, ref); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	var err error
	for after := (kycd.UserRef{}); err == nil; {
		var users []kycd.UserRef
		if users, err = a.DB.FindUnscreenedUsers(ctx, after, 1000); err != nil || len(users) == 0 {
			break
		}
		for _, u := range users {
			next <- u
		}
		after = users[len(users)-1]
	}
	close(next)
	wg.Wait()
	return time.Since(start), cmp.Or(err, first)
}

// benchWork runs workers until no job of the kinds is left to run.
func benchWork(ctx context.Context, a *App, kinds ...string) (time.Duration, error) {
	pending := a.DB.Rebind(`SELECT count(*) FROM river_job WHERE kind IN ('` + strings.Join(kinds, "', '") + `') AND state NOT IN ('completed', 'discarded', 'cancelled')`)
	return workUntil(ctx, a, runtime.GOMAXPROCS(0)*2, nil, func() (bool, error) {
		var n int
		err := a.write.QueryRowContext(ctx, pending).Scan(&n)
		return n == 0, err
	})
}

// benchSearchHTTP sends searches at a concurrency for a round and returns
// the searches per second and the 99th percentile latency in ms.
func benchSearchHTTP(ctx context.Context, url, tok string, queries []screening.Query, concurrency int, round time.Duration) (float64, float64, error) {
	bodies := make([][]byte, len(queries))
	for i, q := range queries {
		bodies[i], _ = json.Marshal(q)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	var (
		mu    sync.Mutex
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	end := time.Now().Add(round)
	for w := range concurrency {
		wg.Go(func() {
			var mine []time.Duration
			buf := new(bytes.Buffer)
			for i := w; time.Now().Before(end) && ctx.Err() == nil; i += concurrency {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					buf.Reset()
					_, err = io.Copy(buf, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("search answered %d: %s", res.StatusCode, buf.Bytes())
					}
				}
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		return 0, 0, first
	}
	if len(lat) == 0 {
		return 0, 0, fmt.Errorf("no search completed")
	}
	slices.Sort(lat)
	p99 := lat[min(len(lat)-1, len(lat)*99/100)]
	return float64(len(lat)) / round.Seconds(), float64(p99.Microseconds()) / 1000, nil
}
