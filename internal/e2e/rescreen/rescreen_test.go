package rescreen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/internal/bench"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/sqlstore/storetest"
)

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
		// The profile e2e.NewUserBody gives, with this user's name and birth date.
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
	cmd := exec.Command(e2e.Binary(t), "seed-users", "--tenant", tn.ID, "--terms-of-service", "general-gb-fca", "--user-ip", e2e.EndUserIP, "--concurrency", "16")
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
