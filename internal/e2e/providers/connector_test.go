package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sandbox/veriffsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// TestConnector: Sumsub and Veriff verifications are ingested into the KYC
// processes through the HTTP API, against the mounted provider sandboxes,
// with every failure the issue names, on both databases.
func TestConnector(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewConnectorEnv(t, db)
		// The ingestions' events reach a webhook endpoint.
		hooks := e2e.NewReceiver(t)
		res := e.Call(t, "POST", "/core/webhooks/endpoints", e.Tok, "", map[string]any{"url": hooks.URL, "eventTypes": []string{"kyc-connector.", "core.kyc.identity."}})
		hookSecret, _ := res.Get("endpoint.secret").(string)
		if res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		newUser := func(email string) string {
			body := e2e.NewUserBody(email)
			delete(body, "fullName")
			delete(body, "birthdate")
			return e.Call(t, "POST", "/core/users", e.Tok, "", body).Get("user.id").(string)
		}

		t.Run("sumsub share token", func(t *testing.T) {
			u := newUser("sumsub@connector.example")
			res := e.Ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareGreen})
			e2e.WantResults(t, "green applicant", res, e2e.AllCompleted)
			if res.Get("ingestion.startedAt") == nil || res.Get("ingestion.finishedAt") == nil ||
				res.Get("ingestion.result.profile.data.fullName") != "Christian Smith" ||
				res.Get("ingestion.result.identity.data.document.country") != "GB" ||
				res.Get("ingestion.result.identity.data.document.type") != "passport" {
				t.Errorf("normalized data: %s", res.Body)
			}
			files, _ := res.Get("ingestion.result.identity.files").([]any)
			if len(files) != 2 {
				t.Fatalf("identity files: %s", res.Body)
			}
			f := files[0].(map[string]any)
			if f["context"] != "photo-document-front" || f["contentType"] != "image/png" || f["providerDetails"].(map[string]any)["fileId"] == nil {
				t.Errorf("file: %v", f)
			}
			// The file is in the file store, readable through the files API.
			got := e.Call(t, "GET", "/core/files/"+f["id"].(string), e.Tok, u, nil)
			dl, _ := url.Parse(fmt.Sprint(got.Get("file.download.url")))
			if got.Status != 200 || got.Get("file.status") != "uploaded" || dl == nil {
				t.Fatalf("ingested file: %d %s", got.Status, got.Body)
			}
			content := e.Do(t, e.Req("GET", dl.RequestURI(), nil))
			if content.Status != 200 || !bytes.HasPrefix(content.Body, []byte("\x89PNG")) {
				t.Errorf("content: %d %d bytes", content.Status, len(content.Body))
			}
			// Its events, signed: created, then running, then finished; and the
			// identity's status change.
			id := res.Get("ingestion.id").(string)
			e2e.WaitUntil(t, "the ingestion's events", func() bool {
				var seen []string
				identityOK := false
				for _, g := range hooks.Deliveries() {
					var ev map[string]any
					_ = json.Unmarshal(g.Body, &ev)
					data, _ := ev["data"].(map[string]any)
					if in, ok := data["ingestion"].(map[string]any); ok && in["id"] == id {
						if webhook.Verify(hookSecret, g.Body, g.Header) != nil {
							t.Fatalf("signature of %v", ev["type"])
						}
						if in["status"] == "finished" && in["result"].(map[string]any)["profile"].(map[string]any)["data"] == nil {
							t.Fatal("the finished ingestion's event lacks the extracted data")
						}
						seen = append(seen, ev["type"].(string)+"="+in["status"].(string))
					} else if ev["type"] == "core.kyc.identity.status-changed" && data["userId"] == u && data["status"] == "ok" {
						identityOK = true
					}
				}
				// In order for the ingestion (one object); the user's events are
				// another object's, in no set order with these.
				return identityOK && strings.Join(seen, ",") == "kyc-connector.sumsub.ingestion.created=queued,"+
					"kyc-connector.sumsub.ingestion.status-changed=running,kyc-connector.sumsub.ingestion.status-changed=finished"
			})
			// The outbox itself keeps no personal data: the delivery filled it in.
			q := `SELECT count(*) FROM outbox_events WHERE entity_id = ? AND payload LIKE ?`
			if db.URL != "" {
				q = `SELECT count(*) FROM outbox_events WHERE entity_id = $1 AND payload LIKE $2`
			}
			var leaked int
			if err := db.Open(t).QueryRow(q, id, "%Christian%").Scan(&leaked); err != nil || leaked != 0 {
				t.Errorf("%d outbox rows of the ingestion hold its extracted data (%v)", leaked, err)
			}
			// The feed shows the finished ingestion whole too.
			feedFull := false
			for _, fe := range e.Call(t, "GET", "/core/events?limit=1000", e.Tok, "", nil).Get("events").([]any) {
				if in, ok := fe.(map[string]any)["data"].(map[string]any)["ingestion"].(map[string]any); ok && in["id"] == id && in["status"] == "finished" {
					feedFull = strings.Contains(e2e.MustJSONString(in), "Christian Smith")
				}
			}
			if !feedFull {
				t.Error("the feed's finished ingestion lacks its data")
			}
			ov := e.Overview(u, "")
			for _, key := range []string{"profile", "address", "identity", "proofOfAddress"} {
				if s := ov.Get("processes." + key + ".status"); s != "ok" {
					t.Errorf("overview %s: %v\n%s", key, s, ov.Body)
				}
			}
			// Another user, the same person by an applicant of the tenant's own
			// account (an extension): submitted ("completed"), but the KYC rules
			// fail the identity, whose document belongs to the first user.
			u2 := newUser("sumsub2@connector.example")
			again := e.Ingest(u2, "sumsub", map[string]any{"applicantId": sumsubsbx.Green})
			e2e.WantResults(t, "applicant id", again, e2e.AllCompleted)
			if ov := e.Overview(u2, "identity"); ov.Get("processes.identity.status") != "failed" || ov.Get("processes.identity.output.reason") != "duplicate" {
				t.Errorf("duplicate document: %s", ov.Body)
			}
			// An applicant the account does not have: Sumsub's 404.
			e2e.WantResults(t, "unknown applicant", e.Ingest(u2, "sumsub", map[string]any{"applicantId": "000000000000000000000000", "processes": []string{"profile"}}),
				map[string]string{"profile": "failed:sumsub_client_error"})
		})

		t.Run("veriff sessions", func(t *testing.T) {
			u := newUser("veriff@connector.example")
			res := e.Ingest(u, "veriff", map[string]any{"sessions": []any{
				map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "sandbox", "processes": []string{"profile", "identity"}},
				map[string]any{"sessionId": veriffsbx.Address, "integrationName": "sandbox", "processes": []string{"address", "proof-of-address"}},
			}})
			e2e.WantResults(t, "two sessions", res, e2e.AllCompleted)
			if res.Get("ingestion.result.profile.data.fullName") != "Sarah Morgan" || res.Get("ingestion.result.proofOfAddress.files") == nil {
				t.Errorf("data: %s", res.Body)
			}
			ov := e.Overview(u, "identity")
			if ov.Get("processes.identity.status") != "ok" || ov.Get("processes.identity.output.provider") != "veriff" {
				t.Errorf("identity: %s", ov.Body)
			}
			// One session for everything: proof of address has no document.
			u2 := newUser("veriff2@connector.example")
			res = e.Ingest(u2, "veriff", map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "sandbox"}}})
			e2e.WantResults(t, "one process failing", res, map[string]string{"profile": "completed", "address": "completed", "identity": "completed",
				"proofOfAddress": "failed:provider_data_not_available"})
		})

		t.Run("not approved", func(t *testing.T) {
			u := newUser("declined@connector.example")
			res := e.Ingest(u, "veriff", map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Declined, "integrationName": "sandbox"}}})
			e2e.WantResults(t, "declined", res, map[string]string{"profile": "failed:veriff_session_not_approved", "identity": "failed:veriff_session_not_approved"})
			if res.Get("ingestion.result.identity.error.step") != "fetch-provider-data" {
				t.Errorf("step: %s", res.Body)
			}
			res = e.Ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareRed, "processes": []string{"identity"}})
			e2e.WantResults(t, "red", res, map[string]string{"identity": "failed:sumsub_applicant_review_state_invalid"})
			if p, _ := res.Get("ingestion.processes").([]any); len(p) != 1 {
				t.Errorf("processes: %s", res.Body)
			}
		})

		t.Run("rules refuse a process, its dependents fail", func(t *testing.T) {
			u := newUser("minor@connector.example")
			_, share := e.NewApplicant("Tom", "Young", time.Now().AddDate(-15, 0, 0).Format("2006-01-02"), "GREEN")
			res := e.Ingest(u, "sumsub", map[string]any{"shareToken": share})
			e2e.WantResults(t, "underage", res, map[string]string{"profile": "failed:operation_not_allowed", "address": "completed",
				"identity": "failed:dependent_process_failed", "proofOfAddress": "failed:dependent_process_failed"})
			if res.Get("ingestion.result.profile.error.details.code") != "date_invalid" || res.Get("ingestion.result.profile.error.step") != "update-kyc-process" {
				t.Errorf("profile error: %s", res.Body)
			}
		})

		t.Run("provider faults", func(t *testing.T) {
			session := func(faults sandbox.Faults) string {
				id := e.NewSession("approved")
				e.Script("veriff", "/_sandbox/faults", map[string]any{"ref": id, "faults": faults})
				return id
			}
			body := func(id string) map[string]any {
				return map[string]any{"processes": []string{"profile", "identity"}, "sessions": []any{map[string]any{"sessionId": id, "integrationName": "sandbox"}}}
			}
			ok := map[string]string{"profile": "completed", "identity": "completed"}
			e2e.WantResults(t, "503 twice then success", e.Ingest(newUser("503@connector.example"), "veriff", body(session(sandbox.Faults{ServerErrors: 2}))), ok)
			e2e.WantResults(t, "429 with Retry-After", e.Ingest(newUser("429@connector.example"), "veriff", body(session(sandbox.Faults{RateLimited: 1, RetryAfter: 1}))), ok)
			e2e.WantResults(t, "a timeout", e.Ingest(newUser("slow@connector.example"), "veriff", body(session(sandbox.Faults{Slow: 1, DelayMS: 1500}))), ok)
			e2e.WantResults(t, "malformed JSON", e.Ingest(newUser("malformed@connector.example"), "veriff", body(session(sandbox.Faults{Malformed: true}))),
				map[string]string{"profile": "failed:provider_data_invalid", "identity": "failed:provider_data_invalid"})
			res := e.Ingest(newUser("big@connector.example"), "veriff", body(session(sandbox.Faults{OversizedImage: true})))
			e2e.WantResults(t, "oversized image", res, map[string]string{"profile": "completed", "identity": "failed:provider_file_download_failed"})
			if res.Get("ingestion.result.identity.error.step") != "download-provider-files" {
				t.Errorf("step: %s", res.Body)
			}
			// Sumsub: a share token whose import is rate limited, then served.
			_, share := e.NewApplicant("Rita", "Rate", "1980-02-02", "GREEN")
			e.Script("sumsub", "/_sandbox/faults", map[string]any{"ref": share, "faults": sandbox.Faults{RateLimited: 1, RetryAfter: 1}})
			e2e.WantResults(t, "sumsub 429", e.Ingest(newUser("rita@connector.example"), "sumsub", map[string]any{"shareToken": share}), e2e.AllCompleted)
		})

		t.Run("bad signature", func(t *testing.T) {
			// A tenant whose secrets are wrong: the sandboxes refuse its
			// signatures as the providers do.
			tn := e.NewTenant(t, "wrong-keys")
			tok := e.Token(t, tn, "")
			base := e.Base
			if res := e.Call(t, "PUT", "/kyc-connector/sumsub/config", tok, "", map[string]any{"baseUrl": base + "/sandbox/sumsub",
				"appToken": e.Creds.SumsubAppToken, "secret": "not-the-secret"}); res.Status != 200 || res.Get("config.secret") != "not-****" {
				t.Fatalf("sumsub config: %d %s", res.Status, res.Body)
			}
			if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": base + "/sandbox/veriff",
				"integrations": []any{map[string]any{"name": "main", "apiKey": e.Creds.VeriffAPIKey, "sharedSecretKey": "wrong-secret", "processes": []string{"identity", "profile"}}}}); res.Status != 200 {
				t.Fatalf("veriff config: %d %s", res.Status, res.Body)
			}
			if res := e.Call(t, "GET", "/kyc-connector/sumsub/config", tok, "", nil); res.Status != 200 || res.Get("config.secret") != "not-****" ||
				res.Get("config.appToken") != e.Creds.SumsubAppToken[:4]+"****" || strings.Contains(string(res.Body), "not-the-secret") {
				t.Errorf("sumsub config read: %d %s", res.Status, res.Body)
			}
			u := e.Call(t, "POST", "/core/users", tok, "", map[string]any{"email": "sig@connector.example", "termsOfService": "general-gb-fca",
				"primaryCitizenship": "GB", "address": map[string]any{"country": "GB", "subdivision": "GB-MAN"}}).Get("user.id").(string)
			other := &e2e.ConnectorEnv{KYCEnv: &e2e.KYCEnv{Proc: e.Proc, T: t, DB: db, Tenant: tn, Tok: tok}, Creds: e.Creds}
			e2e.WantResults(t, "sumsub", other.Ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareGreen, "processes": []string{"identity"}}),
				map[string]string{"identity": "failed:sumsub_client_error"})
			e2e.WantResults(t, "veriff", other.Ingest(u, "veriff", map[string]any{"processes": []string{"identity"},
				"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main"}}}),
				map[string]string{"identity": "failed:veriff_client_error"})
			// Requests the integration cannot serve are refused up front.
			for _, c := range []struct {
				body   map[string]any
				reason string
			}{
				{map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main"}}}, "ingestion-process-not-resolvable"},
				{map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main", "processes": []string{"address"}}}}, "ingestion-not-supported-by-provider-config"},
				{map[string]any{"processes": []string{"identity"}, "sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main"},
					map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "main"}}}, "duplicate-session"},
				{map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "other"}}}, "provider-not-configured"},
			} {
				if res := e.Call(t, "POST", "/kyc-connector/veriff/ingestions", tok, u, c.body); res.Status != 409 || !e2e.HasReason(res, c.reason) {
					t.Errorf("%s: %d %s", c.reason, res.Status, res.Body)
				}
			}
		})

		t.Run("configuration and reads", func(t *testing.T) {
			tn := e.NewTenant(t, "unconfigured")
			tok := e.Token(t, tn, "")
			u := e.Call(t, "POST", "/core/users", tok, "", map[string]any{"email": "cfg@connector.example", "termsOfService": "general-gb-fca",
				"primaryCitizenship": "GB", "address": map[string]any{"country": "GB", "subdivision": "GB-MAN"}}).Get("user.id").(string)
			if res := e.Call(t, "POST", "/kyc-connector/sumsub/ingestions", tok, u, map[string]any{"shareToken": "x"}); res.Status != 409 || !e2e.HasReason(res, "provider-not-configured") {
				t.Errorf("not configured: %d %s", res.Status, res.Body)
			}
			if res := e.Call(t, "GET", "/kyc-connector/veriff/config", tok, "", nil); res.Status != 404 || res.Get("details.entity") != "provider-config" {
				t.Errorf("no config: %d %s", res.Status, res.Body)
			}
			integ := map[string]any{"name": "main", "processes": []string{"identity"}}
			if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "integrations.0.apiKey") {
				t.Errorf("new integration without keys: %d %s", res.Status, res.Body)
			}
			integ["apiKey"], integ["sharedSecretKey"] = "4e0a1234-key", "b6221234-secret"
			if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}}); res.Status != 200 {
				t.Fatalf("veriff config: %d %s", res.Status, res.Body)
			}
			delete(integ, "apiKey")
			delete(integ, "sharedSecretKey")
			integ["processes"] = []string{"identity", "profile"}
			res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}})
			list, _ := res.Get("config.integrations").([]any)
			if res.Status != 200 || len(list) != 1 || list[0].(map[string]any)["apiKey"] != "4e0a****" || list[0].(map[string]any)["sharedSecretKey"] != "b622****" {
				t.Errorf("keys kept and masked: %d %s", res.Status, res.Body)
			}
			if strings.Contains(string(e.Call(t, "GET", "/kyc-connector/veriff/config", tok, "", nil).Body), "1234") {
				t.Error("a read shows a secret")
			}
			if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": "ftp://veriff.example", "integrations": []any{integ}}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "baseUrl") {
				t.Errorf("ftp base URL: %d %s", res.Status, res.Body)
			}
			if res := e.Call(t, "GET", "/kyc-connector/sumsub/ingestions/not-a-uuid", e.Tok, u, nil); res.Status != 400 {
				t.Errorf("bad id: %d %s", res.Status, res.Body)
			}
			if res := e.Call(t, "GET", "/kyc-connector/sumsub/ingestions/01a22ed8-d8be-713a-b0da-0719565912db", e.Tok, u, nil); res.Status != 404 || res.Get("details.entity") != "ingestion" {
				t.Errorf("unknown id: %d %s", res.Status, res.Body)
			}
			if res := e.Invalid("POST", "/kyc-connector/sumsub/ingestions", u, `{"shareToken": "a", "applicantId": "b"}`); res.Status != 400 {
				t.Errorf("both references: %d %s", res.Status, res.Body)
			}
			// Another tenant's user: not found; the scope is required.
			if res := e.Call(t, "POST", "/kyc-connector/sumsub/ingestions", e.Tok, u, map[string]any{"shareToken": sumsubsbx.ShareGreen}); res.Status != 404 {
				t.Errorf("another tenant's user: %d %s", res.Status, res.Body)
			}
			narrow := e.Token(t, e.Tenant, "core.users:act-on-behalf-of kyc-connector.sumsub.ingestions:read")
			if res := e.Call(t, "POST", "/kyc-connector/sumsub/ingestions", narrow, u, map[string]any{"shareToken": "x"}); res.Status != 403 {
				t.Errorf("scope: %d %s", res.Status, res.Body)
			}
		})

		t.Run("provider webhooks", func(t *testing.T) {
			// The sandbox tenant has auto-ingestion on, and the sandboxes send
			// their webhooks back to this kycd.
			ingestions := func(user, provider string) []any {
				l, _ := e.Call(t, "GET", "/kyc-connector/"+provider+"/ingestions", e.Tok, user, nil).Get("ingestions").([]any)
				return l
			}
			waitFor := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s\n%s", what, e.Stderr.String())
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			finished := func(user, provider string) func() bool {
				return func() bool {
					l := ingestions(user, provider)
					return len(l) == 1 && l[0].(map[string]any)["status"] == "finished"
				}
			}
			// Sumsub: an applicant approved, then rejected.
			u := newUser("hook-sumsub@connector.example")
			applicant, _ := e.NewApplicantFor(u, "Hana", "Hook", "1985-05-05", "GREEN")
			waitFor("the Sumsub auto-ingestion", finished(u, "sumsub"))
			in := ingestions(u, "sumsub")[0].(map[string]any)
			if in["parameters"].(map[string]any)["applicantId"] != applicant {
				t.Errorf("auto-ingestion: %v", in)
			}
			waitFor("identity ok", func() bool { return e.Overview(u, "").Get("processes.identity.status") == "ok" })
			e.Script("sumsub", "/resources/applicants/"+applicant+"/status/testCompleted", map[string]any{"reviewAnswer": "RED"})
			waitFor("identity reopened", func() bool {
				ov := e.Overview(u, "identity")
				return ov.Get("processes.identity.status") == "pending" && ov.Get("processes.identity.output.reason") == "provider-verification-rejected"
			})
			// Veriff: a session for the user, decided approved, then declined.
			v := newUser("hook-veriff@connector.example")
			session := e.NewSession(v)
			e.Script("veriff", "/_sandbox/decision", map[string]any{"sessionId": session, "status": "approved"})
			waitFor("the Veriff auto-ingestion", finished(v, "veriff"))
			waitFor("identity ok", func() bool { return e.Overview(v, "").Get("processes.identity.status") == "ok" })
			e.Script("veriff", "/_sandbox/decision", map[string]any{"sessionId": session, "status": "declined"})
			waitFor("identity reopened", func() bool { return e.Overview(v, "").Get("processes.identity.status") == "pending" })

			// A forged webhook is refused; a replayed one is acknowledged and
			// changes nothing.
			w := newUser("hook-replay@connector.example")
			applicant, _ = e.NewApplicantFor(w, "Rey", "Play", "1985-05-05", "")
			body := []byte(`{"applicantId":"` + applicant + `","inspectionId":"x","correlationId":"req-1","externalUserId":"` + w +
				`","type":"applicantReviewed","reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed","createdAtMs":"2026-11-30 10:00:00.000"}`)
			send := func(digest string) *e2e.Response {
				req := e.Req("POST", "/kyc-connector/sumsub/webhooks/"+e.Creds.TenantID, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Payload-Digest", digest)
				req.Header.Set("X-Payload-Digest-Alg", "HMAC_SHA256_HEX")
				return e.Do(t, req)
			}
			if res := send(sumsub.WebhookDigest("forged-secret", body)); res.Status != 401 || res.Code() != "signature_invalid" {
				t.Errorf("forged: %d %s", res.Status, res.Body)
			}
			good := sumsub.WebhookDigest(e.Creds.SumsubWebhookKey, body)
			for range 3 {
				if res := send(good); res.Status != 200 {
					t.Fatalf("delivery: %d %s", res.Status, res.Body)
				}
			}
			waitFor("one ingestion for three deliveries", finished(w, "sumsub"))
			time.Sleep(500 * time.Millisecond)
			if l := ingestions(w, "sumsub"); len(l) != 1 {
				t.Errorf("replays started %d ingestions", len(l))
			}
			vbody := []byte(`{"status":"success","verification":{"id":"` + veriffsbx.Approved + `","status":"approved","vendorData":"x","decisionTime":"2026-11-30T10:00:00.000Z"}}`)
			req := e.Req("POST", "/kyc-connector/veriff/webhooks/"+e.Creds.TenantID, bytes.NewReader(vbody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-AUTH-CLIENT", e.Creds.VeriffAPIKey)
			req.Header.Set("X-HMAC-SIGNATURE", veriff.Sign("wrong", vbody))
			if res := e.Do(t, req); res.Status != 401 {
				t.Errorf("forged Veriff webhook: %d %s", res.Status, res.Body)
			}
			req = e.Req("POST", "/kyc-connector/veriff/webhooks/00000000-0000-4000-8000-000000000000", bytes.NewReader(vbody))
			req.Header.Set("Content-Type", "application/json")
			if res := e.Do(t, req); res.Status != 401 || res.Code() != "signature_invalid" { // as a bad signature: no tenant oracle
				t.Errorf("unknown tenant: %d %s", res.Status, res.Body)
			}
		})

		t.Run("bulk backfill", func(t *testing.T) {
			var users []string
			var csv strings.Builder
			csv.WriteString("user_id,reference\n")
			for i := range 3 {
				u := newUser(fmt.Sprintf("backfill%d@connector.example", i))
				users = append(users, u)
				// Not linked to the user at Sumsub: its approval webhook starts nothing.
				id, _ := e.NewApplicantFor("crm-"+u, "Bea", fmt.Sprintf("Fill%c", 'a'+i), "1980-03-03", "GREEN")
				fmt.Fprintf(&csv, "%s,%s\n", u, id)
			}
			path := filepath.Join(t.TempDir(), "refs.csv")
			if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			var out struct{ Rows, Created, Skipped int }
			e.CLIJSON(t, &out, "ingest", "--tenant", e.Creds.TenantID, "--provider", "sumsub", "--file", path)
			if out.Rows != 3 || out.Created != 3 || out.Skipped != 0 {
				t.Errorf("first run: %+v", out)
			}
			// Run again (as after a stop): nothing is created twice.
			e.CLIJSON(t, &out, "ingest", "--tenant", e.Creds.TenantID, "--provider", "sumsub", "--file", path)
			if out.Created != 0 || out.Skipped != 3 {
				t.Errorf("second run: %+v", out)
			}
			for _, u := range users {
				res := e.Call(t, "GET", "/kyc-connector/sumsub/ingestions", e.Tok, u, nil)
				list, _ := res.Get("ingestions").([]any)
				if len(list) != 1 {
					t.Fatalf("user %s has %d ingestions", u, len(list))
				}
				e2e.WantResults(t, "backfilled", e.Await(u, "sumsub", list[0].(map[string]any)["id"].(string)), e2e.AllCompleted)
			}
			if err := os.WriteFile(path, []byte("not-a-uuid,x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := e.CLI(t, "ingest", "--tenant", e.Creds.TenantID, "--provider", "sumsub", "--file", path); err == nil {
				t.Error("a malformed line was accepted")
			}
		})

		t.Run("list pages", func(t *testing.T) {
			u := newUser("pages@connector.example")
			var ids []string
			for range 3 {
				res := e.Call(t, "POST", "/kyc-connector/sumsub/ingestions", e.Tok, u, map[string]any{"shareToken": sumsubsbx.ShareGreen, "processes": []string{"profile"}})
				ids = append(ids, res.Get("ingestion.id").(string))
			}
			var seen []string
			path := "/kyc-connector/sumsub/ingestions?perPage=2"
			for path != "" {
				res := e.Call(t, "GET", path, e.Tok, u, nil)
				for _, in := range res.Get("ingestions").([]any) {
					seen = append(seen, in.(map[string]any)["id"].(string))
				}
				path = ""
				if next, ok := res.Get("pagination.next").(string); ok {
					nu, _ := url.Parse(next)
					path = nu.RequestURI()
				}
			}
			if len(seen) != 3 || seen[0] != ids[2] || seen[2] != ids[0] {
				t.Errorf("pages: %v, created %v", seen, ids)
			}
			if res := e.Invalid("GET", "/kyc-connector/sumsub/ingestions?perPage=0", u, ""); res.Status != 400 {
				t.Errorf("perPage 0: %d", res.Status)
			}
		})
	})
}
