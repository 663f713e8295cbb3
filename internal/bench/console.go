package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// benchConsole measures the console's pages as a reviewer opens them, one
// at a time (the server's time per page), in a tenant with users users of
// whom cases have an open screening case: the queue's first page and a
// page deep in it, a case, a user's file, the applications' queue; against the bench's read
// baseline (a token checked, one row read) in the same run, and each
// page's weight.
func benchConsole(ctx context.Context, a *App, base, tok, tenantID string, users, cases, samples int) (map[string]any, error) {
	res := map[string]any{"database": a.DB.Dialect(), "users": users, "open_cases": cases}
	start := time.Now()
	ids := make([]string, users)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= users {
					return
				}
				if i > 0 && i%seedStatsEvery == 0 {
					// The planner's statistics as the tenant grows: on a
					// PostgreSQL without autovacuum, plans made while the
					// tables were empty made each new user's e-mail check
					// scan the tenant (measured: 20 users/s at 60,000
					// users, 400/s once analyzed).
					if err := a.DB.Analyze(ctx); err != nil {
						errs <- err
						return
					}
				}
				u := &kycd.User{TenantID: tenantID, Type: kycd.UserIndividual, Email: fmt.Sprintf("user%d@bench.example", i),
					FullName: GivenNames[i%len(GivenNames)] + " " + FamilyNames[(i/len(GivenNames))%len(FamilyNames)], Birthdate: "1980-01-01",
					PrimaryCitizenship: "GB", TermsOfService: "general-gb-fca",
					Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}
				if err := a.DB.CreateUser(ctx, u, kycd.UserCreated(u)); err != nil {
					errs <- err
					return
				}
				ids[i] = u.ID
				if i < cases {
					if err := a.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tenantID, UserID: u.ID, Case: benchCase(tenantID, u), Action: "bench.case"}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res["seed_s"] = time.Since(start).Seconds()
	// The planner's statistics of the seeded tables, off the clock (as the
	// other scenarios do on PostgreSQL; nothing on SQLite).
	if err := a.DB.Vacuum(ctx); err != nil {
		return nil, err
	}
	open, err := a.Screening.Cases(ctx, tenantID, kycd.CaseFilter{Status: kycd.CaseOpen, Limit: cases})
	if err != nil {
		return nil, err
	}

	// A reviewer's session.
	rs, err := reviewers.New(reviewers.Config{Store: a.DB, Tenants: a.DB, Clock: a.Clock})
	if err != nil {
		return nil, err
	}
	created, err := rs.Create(a.Admin(ctx), reviewers.CreateRequest{TenantID: tenantID, Email: fmt.Sprintf("bench-%d@bench.example", time.Now().UnixNano()), Role: kycd.RoleAnalyst})
	if err != nil {
		return nil, err
	}
	sess, err := rs.SignInExternal(ctx, tenantID, created.Reviewer.Email, kycd.RoleAnalyst)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path string, bearer bool) (time.Duration, int, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		if err != nil {
			return 0, 0, err
		}
		if bearer {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else {
			req.AddCookie(&http.Cookie{Name: "kycd_console", Value: sess.Token})
		}
		t0 := time.Now()
		r, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		n, _ := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		d := time.Since(t0)
		if r.StatusCode != 200 {
			return 0, 0, fmt.Errorf("GET %s: %d", path, r.StatusCode)
		}
		return d, int(n), nil
	}
	pages := []struct {
		name string
		path func() string
		api  bool
	}{
		{"baseline", func() string { return "/bench/baseline" }, true},
		{"queue", func() string { return "/console/cases" }, false},
		{"queue_deep", func() string { return "/console/cases?after=" + open[rand.IntN(len(open))].ID }, false},
		{"case", func() string { return "/console/cases/" + open[rand.IntN(len(open))].ID }, false},
		{"user", func() string { return "/console/users/" + ids[rand.IntN(len(ids))] }, false},
		{"applications", func() string { return "/console/applications" }, false},
	}
	lat := map[string][]time.Duration{}
	for i := range samples + 10 {
		for _, p := range pages { // interleaved, so that each page sees the same machine
			d, n, err := get(p.path(), p.api)
			if err != nil {
				return nil, err
			}
			if i >= 10 { // warm-up
				lat[p.name] = append(lat[p.name], d)
				res[p.name+"_bytes"] = n
			}
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var baseP95 time.Duration
	for _, p := range pages {
		l := lat[p.name]
		slices.Sort(l)
		p50, p95 := l[len(l)/2], l[min(len(l)-1, len(l)*95/100)]
		res[p.name+"_p50_ms"], res[p.name+"_p95_ms"] = ms(p50), ms(p95)
		if p.name == "baseline" {
			baseP95 = p95
		} else {
			res[p.name+"_p95_vs_baseline"] = float64(p95) / float64(baseP95)
		}
	}
	return res, nil
}

// seedStatsEvery is how many users are seeded between two refreshes of
// the planner's statistics.
const seedStatsEvery = 10000

// benchCase is an open screening case of a user, with a candidate as the
// matcher makes them.
func benchCase(tenantID string, u *kycd.User) *kycd.Case {
	return &kycd.Case{ID: uuid.Must(uuid.NewV7()).String(), TenantID: tenantID, UserID: u.ID, Type: kycd.CaseScreening, Status: kycd.CaseOpen,
		Subject: kycd.ScreeningSubject{Name: u.FullName, Type: kycd.EntryPerson, BirthDate: u.Birthdate, Nationalities: []string{"GB"}},
		Candidates: []kycd.CaseCandidate{{EntryDigest: "d", Match: kycd.ScreeningMatch{EntryID: "QDi.001", Source: "un", ListedName: u.FullName + "ov",
			MatchedName: u.FullName + "ov", Score: 0.91, Review: true, Type: kycd.EntryPerson, BirthDates: []string{"1980"}, Nationalities: []string{"RU"},
			Programmes: []string{"UN-1267"}, Explanation: kycd.ScreeningExplanation{NameScore: 0.93, Text: "Both name parts match closely; the birth year agrees.",
				Pairs:    []kycd.ScreeningPair{{Query: "a", Listed: "a", Score: 1, Kind: "exact"}, {Query: "b", Listed: "bov", Score: 0.86, Kind: "similar"}},
				Features: []kycd.ScreeningFeature{{Name: "birth-year", Effect: 0.02, Detail: "1980 agrees"}}}}}},
		Lists: map[string]int{"un": 1}, History: []kycd.CaseEntry{{At: time.Now().UTC(), Action: "opened", Actor: "system:bench"}}}
}
