package ops

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// TestWebhooks: events reach subscribed endpoints, signed per Standard
// Webhooks over the bytes sent; unsubscribed endpoints and other tenants get
// nothing; failures retry on the schedule, 410 disables the endpoint, 429
// with Retry-After waits, exhaustion fails the delivery; a rotated secret
// signs alongside the new one; the pull feed pages the same events.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--allow-private-network", "--webhook-retries", "200ms,300ms,400ms")
		a, b := k.NewTenant(t, "hooks-a"), k.NewTenant(t, "hooks-b")
		tokA, tokB := k.Token(t, a, ""), k.Token(t, b, "")
		users, kyc, other := e2e.NewReceiver(t), e2e.NewReceiver(t), e2e.NewReceiver(t)
		create := func(tok, url string, types ...string) (string, string) {
			res := k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": url, "eventTypes": types, "description": "test"})
			if res.Status != 201 || !strings.HasPrefix(res.Get("endpoint.secret").(string), "whsec_") {
				t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
			}
			return res.Get("endpoint.id").(string), res.Get("endpoint.secret").(string)
		}
		usersID, usersSecret := create(tokA, users.URL+"/users", "core.user.")
		create(tokA, kyc.URL+"/kyc", "core.kyc.email.status-changed")
		files := e2e.NewReceiver(t)
		create(tokA, files.URL+"/files", "kycd.file.")
		create(tokB, other.URL+"/b", "core.user.")
		if res := k.Call(t, "GET", "/core/webhooks/endpoints/"+usersID, tokA, "", nil); res.Status != 200 || res.Get("endpoint.secret") != nil {
			t.Errorf("read shows the secret: %s", res.Body)
		}
		if res := k.Call(t, "GET", "/core/webhooks/endpoints/"+usersID, tokB, "", nil); res.Status != 404 {
			t.Errorf("another tenant's endpoint: %d", res.Status)
		}

		// An event: delivered, signed, to the subscribed endpoint only.
		u := e2e.CreateUser(t, k, tokA, "hook@webhooks.example")
		e2e.WaitUntil(t, "core.user.created", func() bool { return len(users.Events()) == 1 })
		g := users.Deliveries()[0]
		if err := webhook.Verify(usersSecret, g.Body, g.Header); err != nil {
			t.Errorf("signature: %v", err)
		}
		ev := users.Events()[0]
		if ev["type"] != "core.user.created" || ev["id"] != g.Header.Get("webhook-id") || ev["data"] == nil {
			t.Errorf("envelope: %v", ev)
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(kyc.Events()); n != 0 {
			t.Errorf("the unsubscribed endpoint got %d events", n)
		}
		if n := len(other.Events()); n != 0 {
			t.Errorf("another tenant's endpoint got %d events", n)
		}

		// The other kinds of event: a file uploaded, a user deleted.
		fileID, uploadURL := e2e.CreateFile(t, k, tokA, u, "image", "image/png")
		if res := e2e.Upload(t, k, uploadURL, e2e.PNGBytes("hook")); res.Status != 204 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "kycd.file.uploaded", func() bool {
			ev := files.Events()
			return len(ev) == 1 && ev[0]["type"] == "kycd.file.uploaded" && e2e.MustJSONString(ev[0]["data"]) != "" && strings.Contains(e2e.MustJSONString(ev[0]), fileID)
		})
		gone := e2e.CreateUser(t, k, tokA, "gone-user@webhooks.example")
		if res := k.Call(t, "DELETE", "/core/users/me", tokA, gone, map[string]any{"review": map[string]any{"reason": "closure-per-user-request"}}); res.Status != 204 {
			t.Fatalf("delete user: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "core.user.deleted", func() bool {
			for _, ev := range users.Events() {
				if ev["type"] == "core.user.deleted" && strings.Contains(e2e.MustJSONString(ev["data"]), gone) {
					return true
				}
			}
			return false
		})
		users.Script("")

		// 503 twice, then 200: retried on the schedule.
		users.Script("", 503, 503)
		e2e.CreateUser(t, k, tokA, "retry@webhooks.example")
		e2e.WaitUntil(t, "delivery after two 503s", func() bool { return len(users.Events()) == 1 })
		// 429 with Retry-After: waits that long.
		users.Script("1", 429)
		start := time.Now()
		e2e.CreateUser(t, k, tokA, "later@webhooks.example")
		e2e.WaitUntil(t, "delivery after a 429", func() bool { return len(users.Events()) == 1 })
		if d := time.Since(start); d < time.Second {
			t.Errorf("delivered %s after a 429 with Retry-After: 1", d)
		}
		// Exhaustion: every attempt fails; after the schedule, the delivery failed.
		users.Script("", 500, 500, 500, 500, 500)
		e2e.CreateUser(t, k, tokA, "never@webhooks.example")
		e2e.WaitUntil(t, "four failed attempts", func() bool {
			return users.AttemptCount() >= 4
		})
		conn := db.Open(t)
		q := `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'failed' AND attempts = 4`
		if db.URL != "" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		e2e.WaitUntil(t, "the delivery to end failed", func() bool {
			var n int
			_ = conn.QueryRow(q, usersID).Scan(&n)
			return n == 1
		})

		// Rotation: both secrets sign while they overlap.
		res := k.Call(t, "POST", "/core/webhooks/endpoints/"+usersID+"/rotate-secret", tokA, "", map[string]any{"overlapSeconds": 3600})
		newSecret, _ := res.Get("endpoint.secret").(string)
		if res.Status != 200 || newSecret == "" || newSecret == usersSecret {
			t.Fatalf("rotate: %d %s", res.Status, res.Body)
		}
		users.Script("")
		e2e.CreateUser(t, k, tokA, "rotated@webhooks.example")
		e2e.WaitUntil(t, "delivery after rotation", func() bool { return len(users.Events()) == 1 })
		g = users.Deliveries()[0]
		if webhook.Verify(newSecret, g.Body, g.Header) != nil || webhook.Verify(usersSecret, g.Body, g.Header) != nil ||
			len(strings.Fields(g.Header.Get("webhook-signature"))) != 2 {
			t.Errorf("signatures after rotation: %q", g.Header.Get("webhook-signature"))
		}

		// A test event, to this endpoint only.
		users.Script("")
		if res := k.Call(t, "POST", "/core/webhooks/endpoints/"+usersID+"/test", tokA, "", nil); res.Status != 202 {
			t.Fatalf("test event: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "the test event", func() bool { return len(users.Events()) == 1 && users.Events()[0]["type"] == "kycd.webhook.test" })
		// The log: the failed delivery with its attempts and last answer.
		res = k.Call(t, "GET", "/core/webhooks/endpoints/"+usersID+"/deliveries?limit=100", tokA, "", nil)
		var failed map[string]any
		statuses := map[string]int{}
		for _, d := range res.Get("deliveries").([]any) {
			dm := d.(map[string]any)
			statuses[dm["status"].(string)]++
			if dm["status"] == "failed" {
				failed = dm
			}
		}
		if failed == nil || failed["attempts"] != float64(4) || failed["lastAttempt"].(map[string]any)["status"] != float64(500) || statuses["succeeded"] < 5 {
			t.Fatalf("deliveries: %v %s", statuses, res.Body)
		}
		// Resend it, then replay everything: the receiver gets them again.
		users.Script("")
		if res := k.Call(t, "POST", "/core/webhooks/endpoints/"+usersID+"/deliveries/"+failed["id"].(string)+"/resend", tokA, "", nil); res.Status != 202 {
			t.Fatalf("resend: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "the resent event", func() bool { return len(users.Events()) == 1 && users.Events()[0]["id"] == failed["eventId"] })
		users.Script("")
		res = k.Call(t, "POST", "/core/webhooks/endpoints/"+usersID+"/replay", tokA, "", map[string]any{"since": "2020-01-01T00:00:00Z"})
		if res.Status != 202 || res.Get("deliveries") != float64(7) { // six users created, one deleted
			t.Fatalf("replay: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "the replayed events", func() bool { return len(users.Events()) == 7 })

		// The management link opens the tenant's page; a tampered one does not.
		res = k.Call(t, "POST", "/core/webhooks/management-link", tokA, "", nil)
		link, _ := res.Get("managementLink.url").(string)
		if res.Status != 201 || link == "" || res.Get("managementLink.expiresAt") == nil {
			t.Fatalf("management link: %d %s", res.Status, res.Body)
		}
		lu, _ := url.Parse(link)
		page := k.Do(t, k.Req("GET", lu.RequestURI(), nil))
		if page.Status != 200 || !strings.Contains(string(page.Body), users.URL+"/users") || strings.Contains(string(page.Body), other.URL) {
			t.Errorf("management page: %d %s", page.Status, page.Body)
		}
		if res := k.Do(t, k.Req("GET", strings.Replace(lu.RequestURI(), "s=", "s=x", 1), nil)); res.Status != 403 {
			t.Errorf("tampered link: %d", res.Status)
		}

		// 410 Gone disables the endpoint.
		users.Script("", 410)
		e2e.CreateUser(t, k, tokA, "gone@webhooks.example")
		e2e.WaitUntil(t, "the endpoint disabled", func() bool {
			return k.Call(t, "GET", "/core/webhooks/endpoints/"+usersID, tokA, "", nil).Get("endpoint.enabled") == false
		})
		if r := k.Call(t, "GET", "/core/webhooks/endpoints/"+usersID, tokA, "", nil); r.Get("endpoint.disabledReason") == nil {
			t.Errorf("no reason given: %s", r.Body)
		}
		// The delivery job disabled it, and the trail says so.
		var trail struct {
			Entries []struct {
				Action   string `json:"action"`
				EntityID string `json:"entityId"`
				Actor    string `json:"actor"`
			} `json:"entries"`
		}
		k.CLIJSON(t, &trail, "audit", "list", "--tenant", a.ID, "--limit", "1000")
		var actors []string
		for _, e := range trail.Entries {
			if e.Action == "webhook-endpoint.state-changed" && e.EntityID == usersID {
				actors = append(actors, e.Actor)
			}
		}
		if len(actors) == 0 || slices.ContainsFunc(actors, func(a string) bool { return a != "system:webhook_deliver" }) {
			t.Errorf("the endpoint's state changes were made by %v, want system:webhook_deliver", actors)
		}
		// Enabled again (and its types changed) through PATCH.
		res = k.Call(t, "PATCH", "/core/webhooks/endpoints/"+usersID, tokA, "", map[string]any{"enabled": true, "eventTypes": []string{"core.user.", "kycd.file."},
			"description": "users and files"})
		if res.Status != 200 || res.Get("endpoint.enabled") != true || res.Get("endpoint.disabledReason") != nil || res.Get("endpoint.description") != "users and files" ||
			len(res.Get("endpoint.eventTypes").([]any)) != 2 {
			t.Errorf("re-enable: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PATCH", "/core/webhooks/endpoints/"+usersID, tokB, "", map[string]any{"enabled": false}); res.Status != 404 {
			t.Errorf("another tenant's PATCH: %d", res.Status)
		}

		// The pull feed pages tenant A's events in order; B sees none of them.
		var seen []string
		after := ""
		for range 20 {
			path := "/core/events?limit=2"
			if after != "" {
				path += "&after=" + after
			}
			res := k.Call(t, "GET", path, tokA, "", nil)
			list, _ := res.Get("events").([]any)
			for _, e := range list {
				seen = append(seen, e.(map[string]any)["type"].(string))
			}
			if len(list) == 0 {
				break
			}
			after = res.Get("next").(string)
		}
		created := 0
		for _, typ := range seen {
			if typ == "core.user.created" {
				created++
			}
		}
		if created != 7 {
			t.Errorf("feed: %d core.user.created in %v", created, seen)
		}
		for _, e := range k.Call(t, "GET", "/core/events", tokB, "", nil).Get("events").([]any) {
			if strings.Contains(e2e.MustJSONString(e), u) {
				t.Error("tenant B's feed shows tenant A's user")
			}
		}
		if res := k.Call(t, "DELETE", "/core/webhooks/endpoints/"+usersID, tokA, "", nil); res.Status != 204 {
			t.Errorf("delete: %d", res.Status)
		}
	})
}

// TestWebhooksListen: `kycd webhooks listen` verifies signatures with the
// secret it is given, prints the events it accepts, refuses forged ones.
func TestWebhooksListen(t *testing.T) {
	t.Parallel()
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	out := &e2e.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"kycd", "webhooks", "listen", "--port", "0", "--secret", secret}, func(string) string { return "" }, strings.NewReader(""), out, io.Discard)
	}()
	var base string
	e2e.WaitUntil(t, "the receiver to listen", func() bool {
		m := regexp.MustCompile(`listening on (http://\S+):`).FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	post := func(body []byte, h http.Header) int {
		req, _ := http.NewRequest("POST", base, bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	body := []byte(`{"id":"evt_1","type":"core.kyc.identity.status-changed","createdAt":"2026-01-01T00:00:00.000Z","data":{"status":"ok","userId":"u1"}}`)
	h, err := webhook.Sign("evt_1", time.Now(), body, secret)
	if err != nil {
		t.Fatal(err)
	}
	if status := post(body, h); status != 204 {
		t.Errorf("signed: %d", status)
	}
	forged, _ := webhook.Sign("evt_2", time.Now(), body, "whsec_"+strings.Repeat("A", 43)+"=")
	if status := post(body, forged); status != 401 {
		t.Errorf("forged: %d", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("listen: %v", err)
	}
	printed := out.String()
	if !strings.Contains(printed, "core.kyc.identity.status-changed  evt_1 (signature ok)") || !strings.Contains(printed, "refused evt_2") {
		t.Errorf("printed:\n%s", printed)
	}
}

// TestWebhookOrder: the events about one object reach an endpoint in the
// order of the feed, while the objects' events interleave freely.
func TestWebhookOrder(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--allow-private-network", "--rate-limit", "0")
		tn := k.NewTenant(t, "order")
		tok := k.Token(t, tn, "")
		rc := e2e.NewReceiver(t)
		if res := k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": rc.URL, "eventTypes": []string{"core."}}); res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		var users []string
		for i := range 8 {
			u := e2e.CreateUser(t, k, tok, fmt.Sprintf("order%d@webhooks.example", i))
			users = append(users, u)
			k.Call(t, "PATCH", "/core/kyc/processes/email", tok, u, map[string]any{"input": map[string]any{"email": fmt.Sprintf("order%d@webhooks.example", i)},
				"output": map[string]any{"verifiedAt": "2020-01-01T00:00:00.000Z"}})
			k.Call(t, "PATCH", "/core/kyc/processes/profile", tok, u, map[string]any{"input": map[string]any{"birthdate": "1990-01-01"}})
		}
		// The feed's order, per user, once every event is dispatched.
		var feed []any
		e2e.WaitUntil(t, "the feed to settle", func() bool {
			before := len(feed)
			time.Sleep(300 * time.Millisecond)
			feed, _ = k.Call(t, "GET", "/core/events?limit=1000", tok, "", nil).Get("events").([]any)
			return len(feed) > 0 && len(feed) == before
		})
		want := map[string][]string{}
		for _, e := range feed {
			em := e.(map[string]any)
			data, _ := em["data"].(map[string]any)
			u, _ := data["userId"].(string)
			if u == "" {
				if usr, ok := data["user"].(map[string]any); ok {
					u, _ = usr["id"].(string)
				}
			}
			want[u] = append(want[u], em["id"].(string))
		}
		total := 0
		for _, ids := range want {
			total += len(ids)
		}
		e2e.WaitUntil(t, "every event delivered", func() bool { return len(rc.Events()) >= total })
		got := map[string][]string{}
		for _, em := range rc.Events() {
			data, _ := em["data"].(map[string]any)
			u, _ := data["userId"].(string)
			if u == "" {
				if usr, ok := data["user"].(map[string]any); ok {
					u, _ = usr["id"].(string)
				}
			}
			got[u] = append(got[u], em["id"].(string))
		}
		for _, u := range users {
			if strings.Join(got[u], ",") != strings.Join(want[u], ",") || len(want[u]) < 2 {
				t.Errorf("user %s: received %v, feed %v", u, got[u], want[u])
			}
		}
	})
}

// TestOutboundGuard: without --allow-private-network, a webhook endpoint
// that reaches loopback or is not https, and a provider baseUrl that is not
// https, are refused through the API.
func TestOutboundGuard(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tok := k.Token(t, k.NewTenant(t, "guard"), "")
		for _, url := range []string{"https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest", "http://hooks.example/hook",
			"https://2130706433/hook"} {
			res := k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": url, "eventTypes": []string{"core."}})
			if res.Status != 400 || res.Code() != "request_invalid" || !strings.Contains(string(res.Body), `"url"`) {
				t.Errorf("endpoint %s: %d %s", url, res.Status, res.Body)
			}
		}
		integ := []any{map[string]any{"name": "main", "apiKey": "k", "sharedSecretKey": "s", "processes": []string{"identity"}}}
		if res := k.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": "http://127.0.0.1:9/veriff", "integrations": integ}); res.Status != 400 ||
			!strings.Contains(string(res.Body), "baseUrl") {
			t.Errorf("http base URL: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/kyc-connector/sumsub/config", tok, "", map[string]any{"baseUrl": "http://127.0.0.1:9/sumsub", "appToken": "a", "secret": "b"}); res.Status != 400 {
			t.Errorf("http Sumsub base URL: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": "https://veriff.example", "integrations": integ}); res.Status != 200 ||
			res.Get("config.baseUrl") != "https://veriff.example" {
			t.Errorf("https base URL: %d %s", res.Status, res.Body)
		}
	})
}

// TestEventRetention: past --event-retention, delivered events leave the
// feed and the delivery logs (a replay after one is 404), while an event
// still owed to an endpoint stays.
func TestEventRetention(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		flags := []string{"--allow-private-network", "--webhook-retries", "1h"}
		var stderr e2e.SyncBuffer
		err := cli.Run(context.Background(), []string{"kycd", "serve", "--addr", "127.0.0.1:0", "--event-retention", "-1h"}, (&e2e.Proc{T: t, DB: db}).Env,
			strings.NewReader(""), &e2e.SyncBuffer{}, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--event-retention") {
			t.Errorf("a negative retention: %v", err)
		}
		k := e2e.Start(t, db, append(flags, "--event-retention", "0")...)
		tn := k.NewTenant(t, "retention")
		tok := k.Token(t, tn, "")
		ok, failing := e2e.NewReceiver(t), e2e.NewReceiver(t)
		failing.Script("", 503, 503, 503, 503, 503, 503, 503, 503)
		endpoint := func(url string) string {
			res := k.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": url, "eventTypes": []string{"core.user.created"}})
			if res.Status != 201 {
				t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
			}
			return res.Get("endpoint.id").(string)
		}
		okID := endpoint(ok.URL + "/ok")
		delivered := e2e.CreateUser(t, k, tok, "delivered@retention.example")
		e2e.WaitUntil(t, "the first event", func() bool { return len(ok.Events()) == 1 })
		endpoint(failing.URL + "/failing")
		owed := e2e.CreateUser(t, k, tok, "owed@retention.example")
		e2e.WaitUntil(t, "the second event", func() bool {
			return len(ok.Events()) == 2 && failing.AttemptCount() > 0
		})
		feed := func() map[string]string { // user id -> event id
			out := map[string]string{}
			for _, e := range k.Call(t, "GET", "/core/events?limit=100", tok, "", nil).Get("events").([]any) {
				em := e.(map[string]any)
				if em["type"] == "core.user.created" {
					out[em["data"].(map[string]any)["user"].(map[string]any)["id"].(string)] = em["id"].(string)
				}
			}
			return out
		}
		before := feed()
		if before[delivered] == "" || before[owed] == "" {
			t.Fatalf("feed before: %v", before)
		}
		// Restarted with a retention of 1ms, the job (run at start) removes
		// what was delivered.
		k.Stop(t)
		k = e2e.Start(t, db, append(flags, "--event-retention", "1ms")...)
		tok = k.Token(t, tn, "")
		e2e.WaitUntil(t, "the retention job", func() bool { _, ok := feed()[delivered]; return !ok })
		after := feed()
		if after[owed] != before[owed] {
			t.Errorf("the event owed to the failing endpoint left the feed: %v", after)
		}
		res := k.Call(t, "GET", "/core/webhooks/endpoints/"+okID+"/deliveries?limit=100", tok, "", nil)
		// The log keeps the kept event's delivery only.
		if l := res.Get("deliveries").([]any); len(l) != 1 || l[0].(map[string]any)["eventId"] != before[owed] {
			t.Errorf("the delivery log after the retention: %s", res.Body)
		}
		if res := k.Call(t, "POST", "/core/webhooks/endpoints/"+okID+"/replay", tok, "", map[string]any{"afterEventId": before[delivered]}); res.Status != 404 {
			t.Errorf("replay after a removed event: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "POST", "/core/webhooks/endpoints/"+okID+"/replay", tok, "", map[string]any{"since": "2020-01-01T00:00:00Z"}); res.Status != 202 || res.Get("deliveries") != float64(1) {
			t.Errorf("replay since: only the kept event is sent again: %d %s", res.Status, res.Body)
		}
	})
}
