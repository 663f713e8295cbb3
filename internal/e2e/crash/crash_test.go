package crash

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/veriffsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// cliOnly is a kycd that only runs commands (CLI, NewTenant) on the
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
		var hit int
		c, hit = killAtRandom(t, db, c, flags, 200*time.Millisecond, 1500*time.Millisecond, func() bool {
			return e2e.CountRows(t, db, conn, `SELECT count(*) FROM ingestions WHERE status <> 'finished'`) > 0
		})
		k.Base, k.Router = c.Base, e2e.NewRouter(t, c.Base)
		tok = k.Token(t, tn, "")
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
		var hit int
		c, hit = killAtRandom(t, db, c, flags, 300*time.Millisecond, 900*time.Millisecond, func() bool {
			return e2e.CountRows(t, db, conn, `SELECT count(*) FROM checks WHERE status = 'PENDING'`) > 0
		})
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

// killAtRandom SIGKILLs the child four times, each after a pause of
// least to least+spread (random), and restarts it each time with flags; it
// returns the last child and how many kills landed while busy (asked just
// before each kill) said work was left.
func killAtRandom(t *testing.T, db storetest.Database, c *e2e.Child, flags []string, least, spread time.Duration, busy func() bool) (*e2e.Child, int) {
	t.Helper()
	hit := 0
	for range 4 {
		time.Sleep(least + rand.N(spread))
		if busy() {
			hit++
		}
		c.Kill()
		c = e2e.StartChild(t, db, flags...)
	}
	return c, hit
}
