package ops

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/bench"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

func TestOperations(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--rate-limit", "0.1", "--rate-burst", "3", "--workers", "2", "--metrics-token", "ops-metrics")
		if res := k.Do(t, k.Req("GET", "/healthz", nil)); res.Status != 200 || res.JSON["status"] != "ok" {
			t.Fatalf("healthz: %d %s", res.Status, res.Body)
		}
		// Not ready without a screening list (TestScreeningLists imports one).
		if res := k.Do(t, k.Req("GET", "/readyz", nil), e2e.DoOpts{Unavailable: true}); res.Status != 503 || res.Get("checks.database") != "ok" ||
			res.Get("checks.migrations") != "ok" || res.Get("checks.screening") != "no-lists" {
			t.Fatalf("readyz: %d %s", res.Status, res.Body)
		}
		// The operator is warned at start when PostgreSQL runs without
		// autovacuum (and only then; SQLite has none).
		autovacuum := "on"
		if db.URL != "" {
			if err := db.Open(t).QueryRow(`SHOW autovacuum`).Scan(&autovacuum); err != nil {
				t.Fatal(err)
			}
		}
		if warned := strings.Contains(k.Stderr.String(), "autovacuum is off"); warned != (autovacuum == "off") {
			t.Errorf("autovacuum %s, warned at start: %v", autovacuum, warned)
		}
		res := k.Do(t, k.Req("GET", "/openapi.json", nil))
		if res.Status != 200 || res.JSON["openapi"] != "3.1.0" || res.Get("components.securitySchemes.OAuth2") == nil {
			t.Fatalf("openapi.json: %d", res.Status)
		}
		// Per-client rate limit: a burst of 3, then 429 with Retry-After.
		tn := k.NewTenant(t, "ops")
		tok := k.Token(t, tn, "")
		var limited *e2e.Response
		for i := 0; i < 6 && limited == nil; i++ {
			if r := k.Call(t, "GET", "/core/countries/PT", tok, "", nil); r.Status == 429 {
				limited = r
			}
		}
		if limited == nil {
			t.Fatal("no 429 after 6 rapid requests with a burst of 3")
		}
		if limited.Code() != "too_many_requests" {
			t.Errorf("429 body: %s", limited.Body)
		}
		if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After = %q", limited.Header.Get("Retry-After"))
		}
		// Another client is not limited by the first one's use.
		other := k.NewTenant(t, "ops-other")
		if r := k.Call(t, "GET", "/core/countries/PT", k.Token(t, other, ""), "", nil); r.Status != 200 {
			t.Errorf("other client: %d", r.Status)
		}
		// Metrics: requests per route and status, latency, and jobs per kind
		// and state (the periodic file purge runs at start on the worker pool).
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := k.Call(t, "GET", "/metrics", "ops-metrics", "", nil)
			text := string(m.Body)
			ok := strings.Contains(text, `kycd_http_requests_total{code="429",method="GET",route="GET /core/countries/{country}"}`) &&
				strings.Contains(text, `kycd_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"`) &&
				strings.Contains(text, `kycd_jobs{kind="file_purge",state="completed"} 1`) &&
				strings.Contains(text, "\nkycd_audit_pending ") && strings.Contains(text, "\nkycd_audit_pending_oldest_seconds ") &&
				strings.Contains(text, "\nkycd_outbox_pending ") && strings.Contains(text, "\nkycd_sqlite_write_commits_total ") &&
				strings.Contains(text, "\nkycd_sqlite_write_changes_total ") && strings.Contains(text, "\nkycd_postgres_step_statements_total ") &&
				strings.Contains(text, "\nkycd_postgres_steps_total ") && strings.Contains(text, "\nkycd_postgres_kyc_read_queries_total ") &&
				strings.Contains(text, "\nkycd_postgres_kyc_reads_total ")
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics lack requests, latency, the completed purge job or the backlogs:\n%s", grepLines(text, "kycd_"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCLI drives the operator commands, and audit verify against a tampered trail.
func TestCLI(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := &e2e.Proc{T: t, DB: db}
		var mig struct {
			Dialect string
			Current bool
		}
		k.CLIJSON(t, &mig, "migrate")
		if !mig.Current || mig.Dialect != db.Name {
			t.Fatalf("migrate: %+v", mig)
		}
		tn := k.NewTenant(t, "cli")
		if _, err := k.CLI(t, "tenant", "create", "--name", "cli"); err == nil || !strings.Contains(err.Error(), "exists already") {
			t.Errorf("duplicate tenant: %v", err)
		}
		var tenants struct{ Tenants []struct{ ID, Name string } }
		k.CLIJSON(t, &tenants, "tenant", "list")
		if len(tenants.Tenants) != 1 || tenants.Tenants[0].ID != tn.ID {
			t.Errorf("tenant list: %+v", tenants)
		}
		var admin struct {
			Scopes []string `json:"scopes"`
		}
		k.CLIJSON(t, &admin, "client", "create", "--tenant", "cli", "--name", "ops", "--scopes", "admin.audit:read,core.users:read")
		if len(admin.Scopes) != 2 {
			t.Errorf("named scopes: %+v", admin)
		}
		if _, err := k.CLI(t, "client", "create", "--tenant", "cli", "--name", "x", "--scopes", "core.everything:write"); err == nil {
			t.Error("unknown scope accepted")
		}
		var clients struct {
			Clients []struct {
				ID     string   `json:"id"`
				Scopes []string `json:"scopes"`
			}
		}
		k.CLIJSON(t, &clients, "client", "list", "--tenant", tn.ID)
		if len(clients.Clients) != 2 {
			t.Fatalf("client list: %+v", clients)
		}
		for _, s := range clients.Clients[0].Scopes {
			if strings.HasPrefix(s, "admin.") {
				t.Errorf("a client made without --scopes got admin scope %s", s)
			}
		}
		var revoked map[string]any
		k.CLIJSON(t, &revoked, "client", "revoke", "--id", tn.ClientID)
		if revoked["revoked"] != true {
			t.Errorf("revoke: %v", revoked)
		}
		// The benchmark runs end to end (its figures are for people, not asserted).
		var figures struct {
			Database       string  `json:"database"`
			BaselineRPS    float64 `json:"users_me_baseline_rps"`
			UsersMeRPS     float64 `json:"users_me_rps"`
			Ratio          float64 `json:"users_me_ratio"`
			CDDBaselineRPS float64 `json:"cdd_step_baseline_rps"`
			CDDStepRPS     float64 `json:"cdd_step_rps"`
			CDDStepRatio   float64 `json:"cdd_step_ratio"`
			CDDBaselineCPU float64 `json:"cdd_step_baseline_kycd_cpu_us"`
			CDDStepCPU     float64 `json:"cdd_step_kycd_cpu_us"`
			CDDStepBusy    float64 `json:"cdd_step_machine_busy_pct"`
			Levels         []struct {
				Concurrency int     `json:"concurrency"`
				CDDStepRPS  float64 `json:"cdd_step_rps"`
			} `json:"levels"`
		}
		// Two levels of concurrency, each measured; the top level's figures
		// are the last level's. Rounds of a second: on a busy machine a
		// shorter one may finish no request.
		k.CLIJSON(t, &figures, "bench", "--rounds", "1", "--round", "1s", "--concurrency", "1,3")
		cpu, linux := bench.Measures()
		if figures.Database != db.Name || figures.BaselineRPS <= 0 || figures.UsersMeRPS <= 0 || figures.Ratio <= 0 ||
			figures.CDDBaselineRPS <= 0 || figures.CDDStepRPS <= 0 || figures.CDDStepRatio <= 0 ||
			(cpu && (figures.CDDBaselineCPU <= 0 || figures.CDDStepCPU <= 0)) || (linux && figures.CDDStepBusy <= 0) ||
			len(figures.Levels) != 2 || figures.Levels[0].Concurrency != 1 || figures.Levels[1].Concurrency != 3 ||
			figures.Levels[0].CDDStepRPS <= 0 || figures.Levels[1].CDDStepRPS != figures.CDDStepRPS {
			t.Errorf("bench: %+v", figures)
		}
		for _, bad := range []string{"0", "8,", "x", "-2"} {
			if _, err := k.CLI(t, "bench", "--rounds", "1", "--round", "100ms", "--concurrency", bad); err == nil || !strings.Contains(err.Error(), "--concurrency") {
				t.Errorf("bench --concurrency %q: %v", bad, err)
			}
		}
		if out, err := k.CLI(t, "version"); err != nil || !strings.HasPrefix(out, "kycd ") {
			t.Errorf("version: %q %v", out, err)
		}
		if _, err := k.CLI(t, "frobnicate"); err == nil {
			t.Error("unknown command accepted")
		}
		var rep struct {
			OK      bool `json:"ok"`
			Entries int  `json:"entries"`
		}
		k.CLIJSON(t, &rep, "audit", "verify")
		if !rep.OK || rep.Entries < 4 {
			t.Fatalf("audit verify: %+v", rep)
		}
		// Tamper with the trail behind kycd's back: verify fails and says where.
		conn := db.Open(t)
		q := `UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2 AND tenant_id = ?`
		if db.URL != "" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if _, err := conn.ExecContext(context.Background(), q, tn.ID); err != nil {
			t.Fatal(err)
		}
		out, err := k.CLI(t, "audit", "verify", "--json")
		if err == nil {
			t.Fatal("audit verify passed a tampered trail")
		}
		var broken struct {
			OK     bool `json:"ok"`
			Breaks []struct {
				Seq    int    `json:"seq"`
				Reason string `json:"reason"`
			} `json:"breaks"`
		}
		if err := json.Unmarshal([]byte(out), &broken); err != nil || broken.OK || len(broken.Breaks) != 1 || broken.Breaks[0].Seq != 2 || !strings.Contains(out, tn.ID) {
			t.Fatalf("tampered verify: %v %s", err, out)
		}
	})
}

// TestReadyzNotReady: a database that lacks a migration is not ready.
func TestReadyzNotReady(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		if _, err := db.Open(t).ExecContext(context.Background(), `DELETE FROM kycd_migrations WHERE version = 2`); err != nil {
			t.Fatal(err)
		}
		res := k.Do(t, k.Req("GET", "/readyz", nil), e2e.DoOpts{Unavailable: true})
		if res.Status != 503 || res.JSON["status"] != "unavailable" || res.Get("checks.migrations") != "pending" {
			t.Fatalf("readyz with a missing migration: %d %s", res.Status, res.Body)
		}
		if res := k.Do(t, k.Req("GET", "/healthz", nil)); res.Status != 200 {
			t.Fatalf("healthz: %d", res.Status)
		}
	})
}

// TestWorkerCommand: `kycd worker` works jobs (the periodic file purge runs
// at start) and stops cleanly when told to.
func TestWorkerCommand(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := &e2e.Proc{T: t, DB: db}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var out e2e.SyncBuffer
		go func() {
			done <- cli.Run(ctx, []string{"kycd", "worker", "--workers", "2"}, k.Env, strings.NewReader(""), &out, &e2e.SyncBuffer{})
		}()
		// One connection for every poll (a pool opened per poll kept up to
		// 300 PostgreSQL connections until the test ended).
		conn := db.Open(t)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'file_purge' AND state = 'completed'`).Scan(&n)
			if err == nil && n == 1 {
				break
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("the worker did not complete the purge job: %v (printed %q)", err, out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(out.String(), "worker running") {
			t.Errorf("worker printed %q", out.String())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("worker returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("worker did not stop")
		}
	})
}

// TestAuditTrailAPI: a tenant's compliance tooling reads its own audit trail
// (and only its own), page by page; the operator reads it with the CLI.
func TestAuditTrailAPI(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "audited", "admin.audit:read", "core.users:create")
		other := k.NewTenant(t, "unaudited")
		tok := k.Token(t, tn, "")
		for i := 0; i < 3; i++ {
			e2e.CreateUser(t, k, tok, "audited"+strconv.Itoa(i)+"@example.com")
		}
		e2e.CreateUser(t, k, k.Token(t, other, ""), "elsewhere@example.com")

		res := k.Call(t, "GET", "/admin/audit?limit=2", tok, "", nil)
		if res.Status != 200 || res.JSON["next"] != float64(2) {
			t.Fatalf("first page: %d %s", res.Status, res.Body)
		}
		var all []any
		all = append(all, res.JSON["entries"].([]any)...)
		res = k.Call(t, "GET", "/admin/audit?after=2&limit=100", tok, "", nil)
		if res.Status != 200 || res.JSON["next"] != nil {
			t.Fatalf("last page: %d %s", res.Status, res.Body)
		}
		all = append(all, res.JSON["entries"].([]any)...)
		// tenant.created, client.created, three user.created.
		if len(all) != 5 {
			t.Fatalf("%d entries, want 5: %s", len(all), res.Body)
		}
		actions := []string{}
		for i, e := range all {
			m := e.(map[string]any)
			actions = append(actions, m["action"].(string))
			if m["seq"] != float64(i+1) {
				t.Errorf("entry %d has seq %v", i, m["seq"])
			}
		}
		if strings.Join(actions, ",") != "tenant.created,client.created,user.created,user.created,user.created" {
			t.Errorf("actions: %v", actions)
		}
		last := all[4].(map[string]any)
		if !strings.HasPrefix(last["actor"].(string), "client:"+tn.ClientID) || last["requestId"] == "" {
			t.Errorf("last entry: %v", last)
		}
		if strings.Contains(string(res.Body), "elsewhere@example.com") || strings.Contains(string(res.Body), "audited2@example.com") {
			t.Errorf("the trail holds personal data or another tenant's: %s", res.Body)
		}
		// Without the scope: a problem document.
		res = k.Call(t, "GET", "/admin/audit", k.Token(t, other, ""), "", nil)
		if res.Status != 403 || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(res.Body), "token_insufficient_scopes") {
			t.Errorf("without scope: %d %s", res.Status, res.Body)
		}
		req := k.Req("GET", "/admin/audit?limit=5000", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
			t.Errorf("limit 5000: %d %s", res.Status, res.Body)
		}
		// The operator's view.
		var listed struct {
			Entries []struct {
				Seq    int    `json:"seq"`
				Action string `json:"action"`
			} `json:"entries"`
		}
		k.CLIJSON(t, &listed, "audit", "list", "--tenant", "audited")
		if len(listed.Entries) != 5 || listed.Entries[4].Action != "user.created" {
			t.Errorf("audit list: %+v", listed)
		}
	})
}
