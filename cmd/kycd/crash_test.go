package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/internal/bench"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/veriffsbx"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// cliOnly is a kycd that only runs commands (cli, newTenant) on the
// test's database, in-process: creating a tenant and its client before the
// children start needs no server (start would run one, with its workers,
// only to stop it).
func cliOnly(t *testing.T, db storetest.Database) *e2e.Proc {
	return &e2e.Proc{T: t, DB: db}
}

// TestCrashSafety: a real kycd process is SIGKILLed at random moments while
// 200 ingestions run, and restarted; at the end every ingestion finished
// exactly once, no file or submission was made twice, and no blob is
// orphaned. River's rescue (--rescue-after) runs the killed jobs again.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and restarts a kycd process for about a minute")
	}
	e2e.ForEachDBAtOnce(t, func(t *testing.T, db storetest.Database) {
		// The provider lives in the test, so that it outlives every kycd.
		sb := veriffsbx.New(map[string]string{"crash-key": "crash-secret"})
		sb.SetLatency(50 * time.Millisecond)
		provider := httptest.NewServer(sb)
		t.Cleanup(provider.Close)

		tn := cliOnly(t, db).NewTenant(t, "crash")
		// Kills cost attempts (a rescued job retries): retry soon.
		flags := []string{"--allow-private-network", "--rescue-after", "4s", "--workers", "8", "--rate-limit", "0", "--ingest-retry-base", "50ms"}

		// First an API-only node queues the ingestions, so that the workers
		// then have all 200 to run when the kills start.
		c := e2e.StartChild(t, db, append(flags, "--workers", "0")...)
		t.Cleanup(func() { c.Kill() })
		k := &e2e.Proc{T: t, DB: db, Base: c.Base, Router: e2e.NewRouter(t, c.Base)}
		tok := k.Token(t, tn, "")
		if res := k.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": provider.URL,
			"integrations": []any{map[string]any{"name": "main", "apiKey": "crash-key", "sharedSecretKey": "crash-secret", "processes": []string{"profile", "identity"}}}}); res.Status != 200 {
			t.Fatalf("config: %d %s", res.Status, res.Body)
		}
		const n = 200
		users := make([]string, n)
		ingestions := map[string]string{} // ingestion -> user
		for i := range n {
			body := e2e.NewUserBody(fmt.Sprintf("crash%d@crash.example", i))
			delete(body, "fullName")
			delete(body, "birthdate")
			users[i] = k.Call(t, "POST", "/core/users", tok, "", body).Get("user.id").(string)
			res := k.Call(t, "POST", "/kyc-connector/veriff/ingestions", tok, users[i], map[string]any{"processes": []string{"profile", "identity"},
				"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main"}}})
			if res.Status != 201 {
				t.Fatalf("ingestion: %d %s", res.Status, res.Body)
			}
			ingestions[res.Get("ingestion.id").(string)] = users[i]
		}
		c.Kill()
		c = e2e.StartChild(t, db, flags...)
		k.Base, k.Router = c.Base, e2e.NewRouter(t, c.Base)
		// Kill it at random moments while the ingestions run; restart it.
		conn := db.Open(t)
		hit := 0
		for range 4 {
			time.Sleep(time.Duration(200+rand.IntN(1500)) * time.Millisecond)
			unfinished := e2e.CountRows(t, db, conn, `SELECT count(*) FROM ingestions WHERE status <> 'finished'`)
			if unfinished > 0 {
				hit++
			}
			c.Kill()
			c = e2e.StartChild(t, db, flags...)
			k.Base, k.Router = c.Base, e2e.NewRouter(t, c.Base)
			tok = k.Token(t, tn, "")
		}
		// Wait on the database (a query, not 200 requests a round), then
		// read every ingestion through the API.
		deadline := time.Now().Add(3 * time.Minute)
		for {
			finished := e2e.CountRows(t, db, conn, `SELECT count(*) FROM ingestions WHERE status = 'finished'`)
			if finished == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d ingestions finished", finished, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for id, u := range ingestions {
			if res := k.Call(t, "GET", "/kyc-connector/veriff/ingestions/"+id, tok, u, nil); res.Get("ingestion.status") != "finished" {
				t.Errorf("ingestion %s: %s", id, res.Body)
			}
		}
		c.Kill()
		t.Logf("%d of 4 kills hit running ingestions", hit)
		if hit == 0 {
			t.Error("no kill happened while ingestions ran: the test proved nothing")
		}

		for id, u := range ingestions {
			// Finished exactly once: one status change to finished.
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ? AND payload LIKE ?`,
				id, "kyc-connector.veriff.ingestion.status-changed", `%"status":"finished"%`); got != 1 {
				t.Errorf("ingestion %s finished %d times", id, got)
			}
			// Each of the session's three images stored once.
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM files WHERE user_id = ?`, u); got != 3 {
				t.Errorf("user %s has %d files, want 3", u, got)
			}
			// Each process submitted once.
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM kyc_submissions WHERE user_id = ?`, u); got > 2 {
				t.Errorf("user %s: %d submissions", u, got)
			}
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, u, "core.kyc.identity.status-changed"); got != 1 {
				t.Errorf("user %s: identity changed %d times", u, got)
			}
		}
		// No orphaned blob: every stored object belongs to a file record.
		keys := map[string]bool{}
		rows, err := conn.Query(`SELECT blob_key FROM files WHERE blob_key <> ''`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var key string
			_ = rows.Scan(&key)
			keys[key] = true
		}
		rows.Close()
		root := filepath.Join(db.DataDir, "blobs")
		objects := 0
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".attrs") || strings.Contains(filepath.Base(path), ".tmp") {
				return nil
			}
			objects++
			rel, _ := filepath.Rel(root, path)
			if !keys[filepath.ToSlash(rel)] {
				t.Errorf("orphaned blob %s", rel)
			}
			return nil
		})
		if objects != 3*n {
			t.Errorf("%d blobs, want %d", objects, 3*n)
		}
	})
}

// TestWebhookCrashSafety: a real kycd process is SIGKILLed at random
// moments while 5,000 events are delivered; after the last restart every
// event arrived at least once with a valid signature, under 1 % twice,
// and nothing reached the endpoint that did not subscribe.
func TestWebhookCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and restarts a kycd process")
	}
	e2e.ForEachDBAtOnce(t, func(t *testing.T, db storetest.Database) {
		const n = 5000
		var (
			mu       sync.Mutex
			arrivals = map[string]int{}
			bad      int
			stray    int
		)
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Path == "/unsubscribed" {
				stray++
			} else if webhook.Verify(secret, body, r.Header) != nil {
				bad++
			} else {
				arrivals[r.Header.Get("webhook-id")]++
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(recv.Close)

		tn := cliOnly(t, db).NewTenant(t, "hook-crash")
		// Kills cost attempts (a rescued delivery retries): retry soon, as
		// often as the default schedule does.
		flags := []string{"--allow-private-network", "--rescue-after", "4s", "--workers", "8", "--rate-limit", "0",
			"--webhook-retries", strings.TrimSuffix(strings.Repeat("100ms,", len(webhook.DefaultSchedule)), ",")}
		// An API-only node registers the endpoints and the events wait.
		c := e2e.StartChild(t, db, append(flags, "--workers", "0")...)
		t.Cleanup(func() { c.Kill() })
		k := &e2e.Proc{T: t, DB: db, Base: c.Base, Router: e2e.NewRouter(t, c.Base)}
		tok := k.Token(t, tn, "")
		res := k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": recv.URL + "/hooks", "eventTypes": []string{"test.crash."}})
		secret, _ = res.Get("endpoint.secret").(string)
		if res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": recv.URL + "/unsubscribed", "eventTypes": []string{"core.kyc."}})
		// 5,000 committed events (as state changes write them).
		conn := db.Open(t)
		tx, err := conn.Begin()
		if err != nil {
			t.Fatal(err)
		}
		insert := `INSERT INTO outbox_events (id, tenant_id, type, entity_type, entity_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
		if db.URL != "" {
			insert = `INSERT INTO outbox_events (id, tenant_id, type, entity_type, entity_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
		}
		ids := make([]string, n)
		for i := range n {
			ids[i] = fmt.Sprintf("evt-%05d-%d", i, rand.IntN(1<<30))
			if _, err := tx.Exec(insert, ids[i], tn.ID, "test.crash.event", "object", fmt.Sprintf("o%d", i%500), `{"n":`+fmt.Sprint(i)+`}`,
				time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00")); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c.Kill()
		c = e2e.StartChild(t, db, flags...)
		received := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(arrivals)
		}
		// Kill it four times while deliveries run, after a sixth, two, three
		// and four sixths of the events arrived (by progress, not by time: a
		// quiet machine delivers them all before a fixed wait ends, a busy
		// one has delivered none); restart it each time.
		hit := 0
		for i := range 4 {
			until := time.Now().Add(2 * time.Minute)
			for received() < (i+1)*n/6 && time.Now().Before(until) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := received(); got > 0 && got < n {
				hit++
			}
			c.Kill()
			c = e2e.StartChild(t, db, flags...)
		}
		deadline := time.Now().Add(4 * time.Minute)
		for received() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events arrived", received(), n)
			}
			time.Sleep(200 * time.Millisecond)
		}
		c.Kill()
		mu.Lock()
		defer mu.Unlock()
		dups := 0
		for _, id := range ids {
			if arrivals[id] == 0 {
				t.Errorf("event %s never arrived", id)
			}
			dups += arrivals[id] - 1
		}
		t.Logf("%d of 4 kills hit deliveries in progress; %d duplicates (%.2f %%)", hit, dups, 100*float64(dups)/n)
		if hit == 0 {
			t.Error("no kill happened while deliveries ran: the test proved nothing")
		}
		if float64(dups) >= 0.01*n {
			t.Errorf("%d duplicates: 1 %% or more", dups)
		}
		if bad > 0 || stray > 0 {
			t.Errorf("%d deliveries with a bad signature, %d to the unsubscribed endpoint", bad, stray)
		}
	})
}

// TestCheckCrashSafety: a real kycd process is SIGKILLed at random
// moments while 60 KYC checks fetch their evidence (slowly) and decide;
// after the restarts every check passed exactly once, with one evidence
// file and one identity submission per user, no orphaned blob, and the
// killed processes' scratch files were removed.
func TestCheckCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and restarts a kycd process")
	}
	e2e.ForEachDBAtOnce(t, func(t *testing.T, db storetest.Database) {
		// The bucket lives in the test and sends each zip slowly, so that
		// kills land mid-download.
		good := e2e.EvidenceZip(t, [2]string{"ident/protocol.txt", strings.Repeat("video ident protocol ", 20000)})
		bucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			for rest := good; len(rest) > 0; {
				n := min(len(rest), len(good)/6+1)
				if _, err := w.Write(rest[:n]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				rest = rest[n:]
				time.Sleep(40 * time.Millisecond)
			}
		}))
		t.Cleanup(bucket.Close)

		tn := cliOnly(t, db).NewTenant(t, "check-crash")
		// Kills cost attempts (a rescued job retries): retry soon.
		flags := []string{"--allow-private-network", "--evidence-allow-http", "--rescue-after", "4s", "--workers", "8", "--rate-limit", "0",
			"--evidence-retries", "500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms"}
		c := e2e.StartChild(t, db, append(flags, "--workers", "0")...)
		t.Cleanup(func() { c.Kill() })
		k := &e2e.Proc{T: t, DB: db, Base: c.Base, Router: e2e.NewRouter(t, c.Base)}
		tok := k.Token(t, tn, "")
		const n = 60
		checks := map[string]string{} // check -> user
		for i := range n {
			u := e2e.CreateUser(t, k, tok, fmt.Sprintf("check%d@crash.example", i))
			res := k.Call(t, "POST", "/users/"+u+"/checks", tok, "", map[string]any{"type": "KYC",
				"check_confirmed_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "data_download_link": bucket.URL + "/ident.zip",
				"document_type": "PASSPORT", "document_expiration_date": "2031-01-01", "nationality": "GB", "provider": "IDNOW", "method": "VIDEO_ID",
				"confirmed_address": map[string]any{"address_line1": "1 High Street", "postcode": "M4 1AA", "city": "Manchester", "state": "MAN", "country": "GB"}})
			if res.Status != 202 {
				t.Fatalf("check: %d %s", res.Status, res.Body)
			}
			checks[res.JSON["id"].(string)] = u
		}
		c.Kill()
		c = e2e.StartChild(t, db, flags...)
		conn := db.Open(t)
		hit := 0
		for range 4 {
			time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
			pending := e2e.CountRows(t, db, conn, `SELECT count(*) FROM checks WHERE status = 'PENDING'`)
			if pending > 0 {
				hit++
			}
			c.Kill()
			c = e2e.StartChild(t, db, flags...)
		}
		k.Base, k.Router = c.Base, e2e.NewRouter(t, c.Base)
		tok = k.Token(t, tn, "")
		deadline := time.Now().Add(3 * time.Minute)
		for {
			pending := e2e.CountRows(t, db, conn, `SELECT count(*) FROM checks WHERE status = 'PENDING'`)
			if pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				rows, _ := conn.Query(`SELECT state, attempt, max_attempts, CAST(errors AS TEXT), CAST(scheduled_at AS TEXT) FROM river_job WHERE kind = 'check_decide' AND state <> 'completed' LIMIT 5`)
				for rows != nil && rows.Next() {
					var state, errs, at string
					var attempt, maxA int
					_ = rows.Scan(&state, &attempt, &maxA, &errs, &at)
					t.Logf("job %s attempt %d/%d at %s: %.300s", state, attempt, maxA, at, errs)
				}
				t.Fatalf("%d checks still pending", pending)
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("%d of 4 kills hit pending checks", hit)
		if hit == 0 {
			t.Error("no kill happened while checks were pending: the test proved nothing")
		}
		for id, u := range checks {
			if res := k.Call(t, "GET", "/users/"+u+"/checks/"+id, tok, "", nil); res.JSON["status"] != "PASSED" {
				t.Errorf("check %s: %s", id, res.Body)
			}
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ?`, id, "USER_CHECK.PASSED"); got != 1 {
				t.Errorf("check %s passed %d times", id, got)
			}
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM files WHERE user_id = ? AND category = 'evidence'`, u); got != 1 {
				t.Errorf("user %s has %d evidence files", u, got)
			}
			if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM kyc_submissions WHERE user_id = ?`, u); got != 1 {
				t.Errorf("user %s: %d submissions", u, got)
			}
		}
		if blobs := e2e.BlobFiles(t, db, "evidence"); len(blobs) != n {
			t.Errorf("%d evidence blobs, want %d", len(blobs), n)
		}
		// The last process's space remains while it lives; the killed
		// processes' scratch files are gone.
		if left := e2e.ScratchFiles(db); len(left) != 0 {
			t.Errorf("scratch files left: %v", left)
		}
	})
}

// TestScreeningCrashSafety: a real kycd process is SIGKILLed while it
// re-screens 20,000 users against a new list version, and restarted; at
// the end every batch ran, each user the version's listings resemble has
// one case naming them (once), one re-screening audit entry and one
// kycd.case.opened event, and no other user has a case: each user was
// screened against the delta, and its result recorded, exactly once.
func TestScreeningCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("seeds 20,000 users, kills and restarts a kycd process")
	}
	e2e.ForEachDBAtOnce(t, func(t *testing.T, db storetest.Database) {
		// 40 batches of screening.BatchSize (issue 18: a re-screen of
		// 20,000 users), seeded in bulk by a kycd built without the race
		// detector (seedScreenedUsers).
		const users, listed = 40 * screening.BatchSize, 60
		setup := e2e.Start(t, db)
		tn := setup.NewTenant(t, "rescreen-crash")
		dir := t.TempDir()
		watch := filepath.Join(dir, "watch.jsonl")
		writeList := func(lines []string) {
			if err := os.WriteFile(watch, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// Version 1: one listing no user resembles.
		other := `{"id":"W0","type":"person","names":[{"full":"Oswin Pettigrew-Laycock","kind":"primary"}],"birthDates":[{"year":1950}]}`
		writeList([]string{other})
		if out, err := setup.CLI(t, "screening", "import", "--source", "kycd-jsonl", "--path", watch); err != nil {
			t.Fatalf("import: %q %v", out, err)
		}
		conn := db.Open(t)
		e2e.WaitUntil(t, "the re-screening of version 1 (no user yet)", func() bool {
			return e2e.CountRows(t, db, conn, `SELECT count(*) FROM river_job WHERE kind = 'screening_delta' AND state = 'completed'`) == 1
		})
		setup.Stop(t)

		// The users, created and screened by a kycd built without the race
		// detector, as at their creation; every 333rd has a name and birth
		// date that version 2 lists.
		seeding := time.Now()
		want := seedScreenedUsers(t, db, tn, users, listed)
		t.Logf("seeded and screened %d users in %s", users, time.Since(seeding).Round(time.Millisecond))
		lines := []string{other}
		for i, u := range want {
			lines = append(lines, fmt.Sprintf(`{"id":"W%d","type":"person","names":[{"full":%q,"kind":"primary"}],"birthDates":[{"year":%s,"month":%s,"day":%s}]}`,
				i+1, u.FullName, u.Birthdate[:4], strings.TrimLeft(u.Birthdate[5:7], "0"), strings.TrimLeft(u.Birthdate[8:], "0")))
		}
		writeList(lines)

		// One worker, so that the batches run one after another and the
		// kills land among them; rescued soon after a kill (a job may run for
		// half of --rescue-after: planning 40 batches takes a second or two).
		flags := []string{"--rescue-after", "10s", "--workers", "1", "--rate-limit", "0"}
		rescreening := time.Now()
		c := e2e.StartChild(t, db, flags...)
		t.Cleanup(func() { c.Kill() })
		k := &e2e.Proc{T: t, DB: db, Base: c.Base, Router: e2e.NewRouter(t, c.Base)}
		if out, err := k.CLI(t, "screening", "import", "--source", "kycd-jsonl", "--path", watch); err != nil {
			t.Fatalf("import of version 2: %q %v", out, err)
		}
		batches := func() (done, all int) {
			all = e2e.CountRows(t, db, conn, `SELECT count(*) FROM river_job WHERE kind = 'screening_batch'`)
			done = e2e.CountRows(t, db, conn, `SELECT count(*) FROM river_job WHERE kind = 'screening_batch' AND state = 'completed'`)
			return done, all
		}
		// waitFor polls the batches until ok; it fails the test, with what
		// the jobs and the child say, after three minutes or at once when
		// ended says the state can no longer come.
		waitFor := func(what string, ok, ended func(done, all int) bool) {
			t.Helper()
			deadline := time.Now().Add(3 * time.Minute)
			for {
				done, all := batches()
				if ok(done, all) {
					return
				}
				if ended(done, all) || time.Now().After(deadline) {
					rows, err := conn.Query(`SELECT kind, state, coalesce(CAST(errors AS TEXT), '') FROM river_job WHERE kind LIKE 'screening%'`)
					for err == nil && rows.Next() {
						var kind, state, errs string
						_ = rows.Scan(&kind, &state, &errs)
						t.Log(kind, state, errs)
					}
					raw, _ := os.ReadFile(c.Logs)
					t.Fatalf("waiting for %s: %d of %d batches done\n%s", what, done, all, raw)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		// Kill it three times while batches remain, each after more of
		// them completed; restart it each time.
		for i, at := range []int{2, 12, 25} {
			waitFor(fmt.Sprintf("kill %d", i+1), func(done, all int) bool { return all > 0 && done >= at && done < all },
				func(done, all int) bool { return all > 0 && done == all })
			c.Kill()
			c = e2e.StartChild(t, db, flags...)
		}
		waitFor("every batch of the re-screening", func(done, all int) bool { return all == users/screening.BatchSize && done == all },
			func(int, int) bool { return false })
		c.Kill()
		t.Logf("re-screened them, killed 3 times, in %s", time.Since(rescreening).Round(time.Millisecond))

		for _, u := range want {
			if n := e2e.CountRows(t, db, conn, `SELECT count(*) FROM cases WHERE user_id = ?`, u.ID); n != 1 {
				t.Errorf("user %s: %d cases, want 1", u.ID, n)
			}
			if n := e2e.CountRows(t, db, conn, `SELECT count(*) FROM screening_hits WHERE user_id = ?`, u.ID); n < 1 {
				t.Errorf("user %s: no hit", u.ID)
			}
			if n := e2e.CountRows(t, db, conn, `SELECT (SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = ?) +
				(SELECT count(*) FROM audit_entries WHERE entity_id = ? AND action = ?)`, u.ID, "screening.rescreened", u.ID, "screening.rescreened"); n != 1 {
				t.Errorf("user %s: re-screened and recorded %d times, want 1", u.ID, n)
			}
		}
		if n := e2e.CountRows(t, db, conn, `SELECT count(*) FROM cases WHERE tenant_id = ?`, tn.ID); n != listed {
			t.Errorf("%d cases, want %d (one per listed user)", n, listed)
		}
		if n := e2e.CountRows(t, db, conn, `SELECT count(*) FROM outbox_events WHERE tenant_id = ? AND type = ?`, tn.ID, "kycd.case.opened"); n != listed {
			t.Errorf("%d case-opened events, want %d", n, listed)
		}
		// Each listed user's case names their own listing, once.
		for i, u := range want {
			if n := e2e.CountRows(t, db, conn, `SELECT count(*) FROM screening_hits WHERE user_id = ? AND entry_id = ?`, u.ID, fmt.Sprintf("W%d", i+1)); n != 1 {
				t.Errorf("user %s: their listing W%d raised %d times", u.ID, i+1, n)
			}
		}
	})
}

// seedScreenedUsers creates n users of the tenant and screens each one,
// through the seed-users command of a kycd built without the race
// detector (thousands in the race-instrumented test binary would take
// minutes; over HTTP, each with a token check and a queued screening job,
// most of the test); it returns the listed ones (every n/listed-th user),
// each with a distinctive made-up name and its own birth date.
func seedScreenedUsers(t *testing.T, db storetest.Database, tn e2e.Tenant, n, listed int) []*kycd.User {
	t.Helper()
	syllables := strings.Fields("ka lo mi ra vu zen tor bel qua nix dro fel gar hul jin")
	made := func(i, parts int) string {
		var b strings.Builder
		for p := range parts {
			b.WriteString(syllables[(i/pow(len(syllables), p)+p*7)%len(syllables)])
		}
		s := b.String()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	every := n / listed
	var (
		out = make([]*kycd.User, listed)
		in  bytes.Buffer
		enc = json.NewEncoder(&in)
	)
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		u := &kycd.User{FullName: bench.GivenNames[rng.IntN(len(bench.GivenNames))] + " " + bench.FamilyNames[rng.IntN(len(bench.FamilyNames))],
			Birthdate: fmt.Sprintf("%d-%02d-%02d", 1940+rng.IntN(65), 1+rng.IntN(12), 1+rng.IntN(28))}
		j := i / every
		if i%every == every-1 && j < listed {
			u.FullName = "Quor" + made(j, 3) + " " + made(j*31+5, 4) + "ström"
			u.Birthdate = fmt.Sprintf("%d-%02d-%02d", 1930+j, 1+j%12, 1+j%28)
			out[j] = u
		}
		// The profile newUserBody gives, with this user's name and birth date.
		if err := enc.Encode(&kycd.User{Type: kycd.UserIndividual, Email: fmt.Sprintf("rescreen-%d@crash.example", i), FullName: u.FullName,
			Birthdate: u.Birthdate, PrimaryCitizenship: "GB",
			Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}); err != nil {
			t.Fatal(err)
		}
	}
	// 16 users at once, so that on SQLite their changes share commits; on
	// PostgreSQL through 8 connections (32 workers with a connection each
	// seeded no faster than 16 on the shared server, whose connections every
	// test running at once shares).
	cmd := exec.Command(e2e.KycdBinary(t), "seed-users", "--tenant", tn.ID, "--terms-of-service", "general-gb-fca", "--user-ip", e2e.EndUserIP, "--concurrency", "16")
	cmd.Env = e2e.ChildEnv(db, 8)
	e2e.DieWithTest(cmd)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed-users: %v\n%s", err, stderr.Bytes())
	}
	ids := strings.Fields(string(raw))
	if len(ids) != n {
		t.Fatalf("seed-users printed %d ids for %d users\n%s", len(ids), n, stderr.Bytes())
	}
	for j := range out {
		out[j].ID = ids[j*every+every-1]
	}
	// Each one screened (what the re-screening takes up).
	conn := db.Open(t)
	if got := e2e.CountRows(t, db, conn, `SELECT count(*) FROM kyc_processes WHERE tenant_id = ? AND code = 'screening' AND status = 'ok'`, tn.ID); got != n {
		t.Fatalf("%d of %d users screened", got, n)
	}
	return out
}

func pow(b, e int) int {
	r := 1
	for range e {
		r *= b
	}
	return r
}
