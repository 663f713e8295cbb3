package security

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestCredentialStuffing: 600 token requests with wrong secrets, 20 at a
// time from 20 addresses, for a real client's id and for made-up ones,
// against a kycd in its own process: its peak resident memory stays under
// 150 MiB (each Argon2id verification takes 19 MiB: without a bound it went
// past 600 MB), failed attempts are answered 429 with Retry-After once their
// address or client has failed too often, and the real client, from the
// address it authenticates from, still gets tokens during the attack and
// after it.
func TestCredentialStuffing(t *testing.T) {
	t.Parallel()
	if _, _, ok := e2e.PeakRSS(os.Getpid()); !ok {
		t.Skip("reads the child's peak memory from /proc")
	}
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		// The client is made by the kycd binary, so that its secret's hash
		// has the cost kycd's have (the tests' own kycds hash cheaply):
		// what every wrong guess at it costs the server.
		setup := &e2e.Proc{T: t, DB: db, Bin: e2e.Binary(t)}
		tn := setup.NewTenant(t, "stuffed")
		if n := e2e.CountRows(t, db, db.Open(t), `SELECT count(*) FROM oauth_clients WHERE id = ? AND secret_hash LIKE ?`,
			tn.ClientID, "$argon2id$v=19$m=19456,t=2,p=1$%"); n != 1 {
			t.Fatal("the client's secret is not hashed at kycd's cost (Argon2id, 19 MiB, t=2, p=1)")
		}
		// Matched secrets are not remembered, so that the client's tokens
		// during the attack take their turns among the attacker's guesses.
		c := e2e.StartChild(t, db, "--workers", "0", "--secret-remember", "0")
		t.Cleanup(c.Kill)
		_, before, _ := e2e.PeakRSS(c.Cmd.Process.Pid)

		from := func(addr string) *http.Client {
			return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4,
				DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}).DialContext}}
		}
		token := func(hc *http.Client, id, secret string) (int, string) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
			res, err := hc.Post(c.Base+"/core/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return 0, ""
			}
			defer res.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
				Code        string `json:"code"`
			}
			_ = json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&body)
			if res.StatusCode == 429 {
				if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || body.Code != "too_many_requests" {
					t.Errorf("429 with Retry-After %q, code %q", res.Header.Get("Retry-After"), body.Code)
				}
			}
			return res.StatusCode, body.AccessToken
		}
		legit := from("127.0.0.2")
		if status, tok := token(legit, tn.ClientID, tn.Secret); status != 200 || tok == "" {
			t.Fatalf("the client's token before the attack: %d", status)
		}

		var statuses sync.Map // status -> *atomic.Int64
		count := func(status int) {
			v, _ := statuses.LoadOrStore(status, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
		}
		const total, workers = 600, 20
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hc := from("127.0.0." + strconv.Itoa(10+w))
				for next.Add(1) <= total {
					id := tn.ClientID
					if next.Load()%2 == 0 {
						id = uuid.NewString()
					}
					status, _ := token(hc, id, "guess-"+uuid.NewString())
					count(status)
				}
			}()
		}
		// The client keeps getting tokens while the attack runs.
		during := 0
		for i := 0; i < 3; i++ {
			if status, tok := token(legit, tn.ClientID, tn.Secret); status == 200 && tok != "" {
				during++
			}
		}
		wg.Wait()
		elapsed := time.Since(start)
		if status, tok := token(legit, tn.ClientID, tn.Secret); status != 200 || tok == "" {
			t.Errorf("the client's token after the attack: %d", status)
		}
		peak, _, _ := e2e.PeakRSS(c.Cmd.Process.Pid)
		got := map[int]int64{}
		statuses.Range(func(k, v any) bool {
			got[k.(int)] = v.(*atomic.Int64).Load()
			return true
		})
		t.Logf("credential stuffing: %d requests in %v: %v; the client's tokens during the attack: %d of 3; resident memory %d MiB before, peak %d MiB",
			total, elapsed.Round(time.Millisecond), got, during, before>>20, peak>>20)
		if got[429] == 0 {
			t.Error("no attempt was answered 429")
		}
		if got[200] > 0 || got[0] > 0 {
			t.Errorf("answers: %v", got)
		}
		if during != 3 {
			t.Errorf("the client got %d of 3 tokens during the attack", during)
		}
		if peak > 150<<20 {
			t.Errorf("peak resident memory %d MiB, over 150 MiB", peak>>20)
		}
	})
}
