package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/sandbox"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sandbox/veriffsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/webhook"
)

// connectorEnv is a kycd in sandbox mode, acting as the sandbox tenant
// (whose connector configurations point at the mounted provider sandboxes).
type connectorEnv struct {
	*kycEnv
	creds cli.SandboxCredentials
}

func newConnectorEnv(t *testing.T, db storetest.Database, flags ...string) *connectorEnv {
	k := start(t, db, append([]string{"--sandbox", "--provider-timeout", "1s", "--ingest-retry-base", "100ms"}, flags...)...)
	raw, err := os.ReadFile(filepath.Join(db.DataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds cli.SandboxCredentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	tn := tenant{ID: creds.TenantID, ClientID: creds.ClientID, Secret: creds.ClientSecret}
	e := &kycEnv{kycdProc: k, t: t, db: db, tn: tn, tok: k.token(t, tn, ""), sent: map[string]int{}}
	return &connectorEnv{kycEnv: e, creds: creds}
}

// ingest creates an ingestion and waits for it to finish.
func (e *connectorEnv) ingest(user, provider string, body any) *response {
	e.t.Helper()
	res := e.call(e.t, "POST", "/kyc-connector/"+provider+"/ingestions", e.tok, user, body)
	if res.Status != 201 || res.get("ingestion.status") != "queued" {
		e.t.Fatalf("create %s ingestion: %d %s", provider, res.Status, res.Body)
	}
	return e.await(user, provider, res.get("ingestion.id").(string))
}

func (e *connectorEnv) await(user, provider, id string) *response {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		res := e.call(e.t, "GET", "/kyc-connector/"+provider+"/ingestions/"+id, e.tok, user, nil)
		if res.Status != 200 {
			e.t.Fatalf("get ingestion: %d %s", res.Status, res.Body)
		}
		if res.get("ingestion.status") == "finished" {
			return res
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("ingestion %s did not finish: %s", id, res.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// script posts to a provider sandbox's own control endpoint.
func (e *connectorEnv) script(provider, path string, body any) {
	e.t.Helper()
	raw, _ := json.Marshal(body)
	var req *http.Request
	switch provider {
	case "sumsub":
		req = e.req("POST", "/sandbox/sumsub"+path, bytes.NewReader(raw))
		sumsub.SignRequest(req, e.creds.SumsubAppToken, e.creds.SumsubSecret, time.Now().Unix(), raw)
	default:
		req = e.req("POST", "/sandbox/veriff/v1"+path, bytes.NewReader(raw))
		veriff.SignRequest(req, e.creds.VeriffAPIKey, e.creds.VeriffSharedSecret, raw)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		e.t.Fatalf("sandbox %s %s: %d %s", provider, path, res.StatusCode, out)
	}
}

// newSession creates a Veriff sandbox session whose vendorData picks its outcome.
func (e *connectorEnv) newSession(vendorData string) string {
	e.t.Helper()
	raw, _ := json.Marshal(map[string]any{"verification": map[string]any{"vendorData": vendorData,
		"person": map[string]any{"firstName": "Sarah", "lastName": "Morgan"}}})
	req := e.req("POST", "/sandbox/veriff/v1/sessions", bytes.NewReader(raw))
	veriff.SignRequest(req, e.creds.VeriffAPIKey, e.creds.VeriffSharedSecret, raw)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Verification struct{ ID string } `json:"verification"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Verification.ID == "" {
		e.t.Fatalf("new session: %v", err)
	}
	return out.Verification.ID
}

// newApplicant creates a Sumsub sandbox applicant, decides it and returns
// a share token for it.
func (e *connectorEnv) newApplicant(first, last, dob, answer string) (id, shareToken string) {
	return e.newApplicantFor("kycd-test-"+first, first, last, dob, answer)
}

// newApplicantFor creates a Sumsub sandbox applicant with an external user
// id; an empty answer leaves it undecided.
func (e *connectorEnv) newApplicantFor(externalUserID, first, last, dob, answer string) (id, shareToken string) {
	e.t.Helper()
	post := e.sumsubPost
	a := post("/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": externalUserID,
		"fixedInfo": map[string]any{"firstName": first, "lastName": last, "dob": dob, "country": "GBR"}})
	id = a["id"].(string)
	if answer == "" {
		return id, ""
	}
	post("/resources/applicants/"+id+"/status/testCompleted", map[string]any{"reviewAnswer": answer})
	tok := post("/resources/accessTokens/shareToken", map[string]any{"applicantId": id, "forClientId": "kycd"})
	return id, tok["token"].(string)
}

// invalid sends a request the OpenAPI document rejects too.
func (e *connectorEnv) invalid(method, path, user, body string) *response {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := e.req(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("X-On-Behalf-Of", "user "+user)
	return e.do(e.t, req, doOpts{invalidRequest: true})
}

// resultOf returns the status and error code of a process's result.
func resultOf(res *response, key string) (string, string) {
	status, _ := res.get("ingestion.result." + key + ".status").(string)
	code, _ := res.get("ingestion.result." + key + ".error.code").(string)
	return status, code
}

func wantResults(t *testing.T, what string, res *response, want map[string]string) {
	t.Helper()
	for key, w := range want {
		status, code := resultOf(res, key)
		got := status
		if code != "" {
			got += ":" + code
		}
		if got != w {
			t.Errorf("%s: %s is %s, want %s\n%s", what, key, got, w, res.Body)
		}
	}
}

var allCompleted = map[string]string{"profile": "completed", "address": "completed", "identity": "completed", "proofOfAddress": "completed"}

// TestConnector: Sumsub and Veriff verifications are ingested into the KYC
// processes through the HTTP API, against the mounted provider sandboxes,
// with every failure the issue names, on both databases.
func TestConnector(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		e := newConnectorEnv(t, db)
		// The ingestions' events reach a webhook endpoint.
		hooks := newReceiver(t)
		res := e.call(t, "POST", "/core/webhooks/endpoints", e.tok, "", map[string]any{"url": hooks.URL, "eventTypes": []string{"kyc-connector.", "core.kyc.identity."}})
		hookSecret, _ := res.get("endpoint.secret").(string)
		if res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}
		newUser := func(email string) string {
			body := newUserBody(email)
			delete(body, "fullName")
			delete(body, "birthdate")
			return e.call(t, "POST", "/core/users", e.tok, "", body).get("user.id").(string)
		}

		t.Run("sumsub share token", func(t *testing.T) {
			u := newUser("sumsub@connector.example")
			res := e.ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareGreen})
			wantResults(t, "green applicant", res, allCompleted)
			if res.get("ingestion.startedAt") == nil || res.get("ingestion.finishedAt") == nil ||
				res.get("ingestion.result.profile.data.fullName") != "Christian Smith" ||
				res.get("ingestion.result.identity.data.document.country") != "GB" ||
				res.get("ingestion.result.identity.data.document.type") != "passport" {
				t.Errorf("normalized data: %s", res.Body)
			}
			files, _ := res.get("ingestion.result.identity.files").([]any)
			if len(files) != 2 {
				t.Fatalf("identity files: %s", res.Body)
			}
			f := files[0].(map[string]any)
			if f["context"] != "photo-document-front" || f["contentType"] != "image/png" || f["providerDetails"].(map[string]any)["fileId"] == nil {
				t.Errorf("file: %v", f)
			}
			// The file is in the file store, readable through the files API.
			got := e.call(t, "GET", "/core/files/"+f["id"].(string), e.tok, u, nil)
			dl, _ := url.Parse(fmt.Sprint(got.get("file.download.url")))
			if got.Status != 200 || got.get("file.status") != "uploaded" || dl == nil {
				t.Fatalf("ingested file: %d %s", got.Status, got.Body)
			}
			content := e.do(t, e.req("GET", dl.RequestURI(), nil))
			if content.Status != 200 || !bytes.HasPrefix(content.Body, []byte("\x89PNG")) {
				t.Errorf("content: %d %d bytes", content.Status, len(content.Body))
			}
			// Its events, signed: created, then running, then finished; and the
			// identity's status change.
			id := res.get("ingestion.id").(string)
			waitUntil(t, "the ingestion's events", func() bool {
				var seen []string
				identityOK := false
				hooks.mu.Lock()
				defer hooks.mu.Unlock()
				for _, g := range hooks.got {
					var ev map[string]any
					_ = json.Unmarshal(g.body, &ev)
					data, _ := ev["data"].(map[string]any)
					if in, ok := data["ingestion"].(map[string]any); ok && in["id"] == id {
						if webhook.Verify(hookSecret, g.body, g.header) != nil {
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
			for _, fe := range e.call(t, "GET", "/core/events?limit=1000", e.tok, "", nil).get("events").([]any) {
				if in, ok := fe.(map[string]any)["data"].(map[string]any)["ingestion"].(map[string]any); ok && in["id"] == id && in["status"] == "finished" {
					feedFull = strings.Contains(mustJSONString(in), "Christian Smith")
				}
			}
			if !feedFull {
				t.Error("the feed's finished ingestion lacks its data")
			}
			ov := e.overview(u, "")
			for _, key := range []string{"profile", "address", "identity", "proofOfAddress"} {
				if s := ov.get("processes." + key + ".status"); s != "ok" {
					t.Errorf("overview %s: %v\n%s", key, s, ov.Body)
				}
			}
			// Another user, the same person by an applicant of the tenant's own
			// account (an extension): submitted ("completed"), but the KYC rules
			// fail the identity, whose document belongs to the first user.
			u2 := newUser("sumsub2@connector.example")
			again := e.ingest(u2, "sumsub", map[string]any{"applicantId": sumsubsbx.Green})
			wantResults(t, "applicant id", again, allCompleted)
			if ov := e.overview(u2, "identity"); ov.get("processes.identity.status") != "failed" || ov.get("processes.identity.output.reason") != "duplicate" {
				t.Errorf("duplicate document: %s", ov.Body)
			}
			// An applicant the account does not have: Sumsub's 404.
			wantResults(t, "unknown applicant", e.ingest(u2, "sumsub", map[string]any{"applicantId": "000000000000000000000000", "processes": []string{"profile"}}),
				map[string]string{"profile": "failed:sumsub_client_error"})
		})

		t.Run("veriff sessions", func(t *testing.T) {
			u := newUser("veriff@connector.example")
			res := e.ingest(u, "veriff", map[string]any{"sessions": []any{
				map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "sandbox", "processes": []string{"profile", "identity"}},
				map[string]any{"sessionId": veriffsbx.Address, "integrationName": "sandbox", "processes": []string{"address", "proof-of-address"}},
			}})
			wantResults(t, "two sessions", res, allCompleted)
			if res.get("ingestion.result.profile.data.fullName") != "Sarah Morgan" || res.get("ingestion.result.proofOfAddress.files") == nil {
				t.Errorf("data: %s", res.Body)
			}
			ov := e.overview(u, "identity")
			if ov.get("processes.identity.status") != "ok" || ov.get("processes.identity.output.provider") != "veriff" {
				t.Errorf("identity: %s", ov.Body)
			}
			// One session for everything: proof of address has no document.
			u2 := newUser("veriff2@connector.example")
			res = e.ingest(u2, "veriff", map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Approved, "integrationName": "sandbox"}}})
			wantResults(t, "one process failing", res, map[string]string{"profile": "completed", "address": "completed", "identity": "completed",
				"proofOfAddress": "failed:provider_data_not_available"})
		})

		t.Run("not approved", func(t *testing.T) {
			u := newUser("declined@connector.example")
			res := e.ingest(u, "veriff", map[string]any{"sessions": []any{map[string]any{"sessionId": veriffsbx.Declined, "integrationName": "sandbox"}}})
			wantResults(t, "declined", res, map[string]string{"profile": "failed:veriff_session_not_approved", "identity": "failed:veriff_session_not_approved"})
			if res.get("ingestion.result.identity.error.step") != "fetch-provider-data" {
				t.Errorf("step: %s", res.Body)
			}
			res = e.ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareRed, "processes": []string{"identity"}})
			wantResults(t, "red", res, map[string]string{"identity": "failed:sumsub_applicant_review_state_invalid"})
			if p, _ := res.get("ingestion.processes").([]any); len(p) != 1 {
				t.Errorf("processes: %s", res.Body)
			}
		})

		t.Run("rules refuse a process, its dependents fail", func(t *testing.T) {
			u := newUser("minor@connector.example")
			_, share := e.newApplicant("Tom", "Young", time.Now().AddDate(-15, 0, 0).Format("2006-01-02"), "GREEN")
			res := e.ingest(u, "sumsub", map[string]any{"shareToken": share})
			wantResults(t, "underage", res, map[string]string{"profile": "failed:operation_not_allowed", "address": "completed",
				"identity": "failed:dependent_process_failed", "proofOfAddress": "failed:dependent_process_failed"})
			if res.get("ingestion.result.profile.error.details.code") != "date_invalid" || res.get("ingestion.result.profile.error.step") != "update-kyc-process" {
				t.Errorf("profile error: %s", res.Body)
			}
		})

		t.Run("provider faults", func(t *testing.T) {
			session := func(faults sandbox.Faults) string {
				id := e.newSession("approved")
				e.script("veriff", "/_sandbox/faults", map[string]any{"ref": id, "faults": faults})
				return id
			}
			body := func(id string) map[string]any {
				return map[string]any{"processes": []string{"profile", "identity"}, "sessions": []any{map[string]any{"sessionId": id, "integrationName": "sandbox"}}}
			}
			ok := map[string]string{"profile": "completed", "identity": "completed"}
			wantResults(t, "503 twice then success", e.ingest(newUser("503@connector.example"), "veriff", body(session(sandbox.Faults{ServerErrors: 2}))), ok)
			wantResults(t, "429 with Retry-After", e.ingest(newUser("429@connector.example"), "veriff", body(session(sandbox.Faults{RateLimited: 1, RetryAfter: 1}))), ok)
			wantResults(t, "a timeout", e.ingest(newUser("slow@connector.example"), "veriff", body(session(sandbox.Faults{Slow: 1, DelayMS: 1500}))), ok)
			wantResults(t, "malformed JSON", e.ingest(newUser("malformed@connector.example"), "veriff", body(session(sandbox.Faults{Malformed: true}))),
				map[string]string{"profile": "failed:provider_data_invalid", "identity": "failed:provider_data_invalid"})
			res := e.ingest(newUser("big@connector.example"), "veriff", body(session(sandbox.Faults{OversizedImage: true})))
			wantResults(t, "oversized image", res, map[string]string{"profile": "completed", "identity": "failed:provider_file_download_failed"})
			if res.get("ingestion.result.identity.error.step") != "download-provider-files" {
				t.Errorf("step: %s", res.Body)
			}
			// Sumsub: a share token whose import is rate limited, then served.
			_, share := e.newApplicant("Rita", "Rate", "1980-02-02", "GREEN")
			e.script("sumsub", "/_sandbox/faults", map[string]any{"ref": share, "faults": sandbox.Faults{RateLimited: 1, RetryAfter: 1}})
			wantResults(t, "sumsub 429", e.ingest(newUser("rita@connector.example"), "sumsub", map[string]any{"shareToken": share}), allCompleted)
		})

		t.Run("bad signature", func(t *testing.T) {
			// A tenant whose secrets are wrong: the sandboxes refuse its
			// signatures as the providers do.
			tn := e.newTenant(t, "wrong-keys")
			tok := e.token(t, tn, "")
			base := e.base
			if res := e.call(t, "PUT", "/kyc-connector/sumsub/config", tok, "", map[string]any{"baseUrl": base + "/sandbox/sumsub",
				"appToken": e.creds.SumsubAppToken, "secret": "not-the-secret"}); res.Status != 200 || res.get("config.secret") != "not-****" {
				t.Fatalf("sumsub config: %d %s", res.Status, res.Body)
			}
			if res := e.call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": base + "/sandbox/veriff",
				"integrations": []any{map[string]any{"name": "main", "apiKey": e.creds.VeriffAPIKey, "sharedSecretKey": "wrong-secret", "processes": []string{"identity", "profile"}}}}); res.Status != 200 {
				t.Fatalf("veriff config: %d %s", res.Status, res.Body)
			}
			if res := e.call(t, "GET", "/kyc-connector/sumsub/config", tok, "", nil); res.Status != 200 || res.get("config.secret") != "not-****" ||
				res.get("config.appToken") != e.creds.SumsubAppToken[:4]+"****" || strings.Contains(string(res.Body), "not-the-secret") {
				t.Errorf("sumsub config read: %d %s", res.Status, res.Body)
			}
			u := e.call(t, "POST", "/core/users", tok, "", map[string]any{"email": "sig@connector.example", "termsOfService": "general-gb-fca",
				"primaryCitizenship": "GB", "address": map[string]any{"country": "GB", "subdivision": "GB-MAN"}}).get("user.id").(string)
			other := &connectorEnv{kycEnv: &kycEnv{kycdProc: e.kycdProc, t: t, db: db, tn: tn, tok: tok}, creds: e.creds}
			wantResults(t, "sumsub", other.ingest(u, "sumsub", map[string]any{"shareToken": sumsubsbx.ShareGreen, "processes": []string{"identity"}}),
				map[string]string{"identity": "failed:sumsub_client_error"})
			wantResults(t, "veriff", other.ingest(u, "veriff", map[string]any{"processes": []string{"identity"},
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
				if res := e.call(t, "POST", "/kyc-connector/veriff/ingestions", tok, u, c.body); res.Status != 409 || !hasReason(res, c.reason) {
					t.Errorf("%s: %d %s", c.reason, res.Status, res.Body)
				}
			}
		})

		t.Run("configuration and reads", func(t *testing.T) {
			tn := e.newTenant(t, "unconfigured")
			tok := e.token(t, tn, "")
			u := e.call(t, "POST", "/core/users", tok, "", map[string]any{"email": "cfg@connector.example", "termsOfService": "general-gb-fca",
				"primaryCitizenship": "GB", "address": map[string]any{"country": "GB", "subdivision": "GB-MAN"}}).get("user.id").(string)
			if res := e.call(t, "POST", "/kyc-connector/sumsub/ingestions", tok, u, map[string]any{"shareToken": "x"}); res.Status != 409 || !hasReason(res, "provider-not-configured") {
				t.Errorf("not configured: %d %s", res.Status, res.Body)
			}
			if res := e.call(t, "GET", "/kyc-connector/veriff/config", tok, "", nil); res.Status != 404 || res.get("details.entity") != "provider-config" {
				t.Errorf("no config: %d %s", res.Status, res.Body)
			}
			integ := map[string]any{"name": "main", "processes": []string{"identity"}}
			if res := e.call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "integrations.0.apiKey") {
				t.Errorf("new integration without keys: %d %s", res.Status, res.Body)
			}
			integ["apiKey"], integ["sharedSecretKey"] = "4e0a1234-key", "b6221234-secret"
			if res := e.call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}}); res.Status != 200 {
				t.Fatalf("veriff config: %d %s", res.Status, res.Body)
			}
			delete(integ, "apiKey")
			delete(integ, "sharedSecretKey")
			integ["processes"] = []string{"identity", "profile"}
			res := e.call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{integ}})
			list, _ := res.get("config.integrations").([]any)
			if res.Status != 200 || len(list) != 1 || list[0].(map[string]any)["apiKey"] != "4e0a****" || list[0].(map[string]any)["sharedSecretKey"] != "b622****" {
				t.Errorf("keys kept and masked: %d %s", res.Status, res.Body)
			}
			if strings.Contains(string(e.call(t, "GET", "/kyc-connector/veriff/config", tok, "", nil).Body), "1234") {
				t.Error("a read shows a secret")
			}
			if res := e.call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": "ftp://veriff.example", "integrations": []any{integ}}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "baseUrl") {
				t.Errorf("ftp base URL: %d %s", res.Status, res.Body)
			}
			if res := e.call(t, "GET", "/kyc-connector/sumsub/ingestions/not-a-uuid", e.tok, u, nil); res.Status != 400 {
				t.Errorf("bad id: %d %s", res.Status, res.Body)
			}
			if res := e.call(t, "GET", "/kyc-connector/sumsub/ingestions/01a22ed8-d8be-713a-b0da-0719565912db", e.tok, u, nil); res.Status != 404 || res.get("details.entity") != "ingestion" {
				t.Errorf("unknown id: %d %s", res.Status, res.Body)
			}
			if res := e.invalid("POST", "/kyc-connector/sumsub/ingestions", u, `{"shareToken": "a", "applicantId": "b"}`); res.Status != 400 {
				t.Errorf("both references: %d %s", res.Status, res.Body)
			}
			// Another tenant's user: not found; the scope is required.
			if res := e.call(t, "POST", "/kyc-connector/sumsub/ingestions", e.tok, u, map[string]any{"shareToken": sumsubsbx.ShareGreen}); res.Status != 404 {
				t.Errorf("another tenant's user: %d %s", res.Status, res.Body)
			}
			narrow := e.token(t, e.tn, "core.users:act-on-behalf-of kyc-connector.sumsub.ingestions:read")
			if res := e.call(t, "POST", "/kyc-connector/sumsub/ingestions", narrow, u, map[string]any{"shareToken": "x"}); res.Status != 403 {
				t.Errorf("scope: %d %s", res.Status, res.Body)
			}
		})

		t.Run("provider webhooks", func(t *testing.T) {
			// The sandbox tenant has auto-ingestion on, and the sandboxes send
			// their webhooks back to this kycd.
			ingestions := func(user, provider string) []any {
				l, _ := e.call(t, "GET", "/kyc-connector/"+provider+"/ingestions", e.tok, user, nil).get("ingestions").([]any)
				return l
			}
			waitFor := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s\n%s", what, e.stderr.String())
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
			applicant, _ := e.newApplicantFor(u, "Hana", "Hook", "1985-05-05", "GREEN")
			waitFor("the Sumsub auto-ingestion", finished(u, "sumsub"))
			in := ingestions(u, "sumsub")[0].(map[string]any)
			if in["parameters"].(map[string]any)["applicantId"] != applicant {
				t.Errorf("auto-ingestion: %v", in)
			}
			waitFor("identity ok", func() bool { return e.overview(u, "").get("processes.identity.status") == "ok" })
			e.script("sumsub", "/resources/applicants/"+applicant+"/status/testCompleted", map[string]any{"reviewAnswer": "RED"})
			waitFor("identity reopened", func() bool {
				ov := e.overview(u, "identity")
				return ov.get("processes.identity.status") == "pending" && ov.get("processes.identity.output.reason") == "provider-verification-rejected"
			})
			// Veriff: a session for the user, decided approved, then declined.
			v := newUser("hook-veriff@connector.example")
			session := e.newSession(v)
			e.script("veriff", "/_sandbox/decision", map[string]any{"sessionId": session, "status": "approved"})
			waitFor("the Veriff auto-ingestion", finished(v, "veriff"))
			waitFor("identity ok", func() bool { return e.overview(v, "").get("processes.identity.status") == "ok" })
			e.script("veriff", "/_sandbox/decision", map[string]any{"sessionId": session, "status": "declined"})
			waitFor("identity reopened", func() bool { return e.overview(v, "").get("processes.identity.status") == "pending" })

			// A forged webhook is refused; a replayed one is acknowledged and
			// changes nothing.
			w := newUser("hook-replay@connector.example")
			applicant, _ = e.newApplicantFor(w, "Rey", "Play", "1985-05-05", "")
			body := []byte(`{"applicantId":"` + applicant + `","inspectionId":"x","correlationId":"req-1","externalUserId":"` + w +
				`","type":"applicantReviewed","reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed","createdAtMs":"2026-11-30 10:00:00.000"}`)
			send := func(digest string) *response {
				req := e.req("POST", "/kyc-connector/sumsub/webhooks/"+e.creds.TenantID, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Payload-Digest", digest)
				req.Header.Set("X-Payload-Digest-Alg", "HMAC_SHA256_HEX")
				return e.do(t, req)
			}
			if res := send(sumsub.WebhookDigest("forged-secret", body)); res.Status != 401 || res.code() != "signature_invalid" {
				t.Errorf("forged: %d %s", res.Status, res.Body)
			}
			good := sumsub.WebhookDigest(e.creds.SumsubWebhookKey, body)
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
			req := e.req("POST", "/kyc-connector/veriff/webhooks/"+e.creds.TenantID, bytes.NewReader(vbody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-AUTH-CLIENT", e.creds.VeriffAPIKey)
			req.Header.Set("X-HMAC-SIGNATURE", veriff.Sign("wrong", vbody))
			if res := e.do(t, req); res.Status != 401 {
				t.Errorf("forged Veriff webhook: %d %s", res.Status, res.Body)
			}
			req = e.req("POST", "/kyc-connector/veriff/webhooks/00000000-0000-4000-8000-000000000000", bytes.NewReader(vbody))
			req.Header.Set("Content-Type", "application/json")
			if res := e.do(t, req); res.Status != 401 || res.code() != "signature_invalid" { // as a bad signature: no tenant oracle
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
				id, _ := e.newApplicantFor("crm-"+u, "Bea", fmt.Sprintf("Fill%c", 'a'+i), "1980-03-03", "GREEN")
				fmt.Fprintf(&csv, "%s,%s\n", u, id)
			}
			path := filepath.Join(t.TempDir(), "refs.csv")
			if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			var out struct{ Rows, Created, Skipped int }
			e.cliJSON(t, &out, "ingest", "--tenant", e.creds.TenantID, "--provider", "sumsub", "--file", path)
			if out.Rows != 3 || out.Created != 3 || out.Skipped != 0 {
				t.Errorf("first run: %+v", out)
			}
			// Run again (as after a stop): nothing is created twice.
			e.cliJSON(t, &out, "ingest", "--tenant", e.creds.TenantID, "--provider", "sumsub", "--file", path)
			if out.Created != 0 || out.Skipped != 3 {
				t.Errorf("second run: %+v", out)
			}
			for _, u := range users {
				res := e.call(t, "GET", "/kyc-connector/sumsub/ingestions", e.tok, u, nil)
				list, _ := res.get("ingestions").([]any)
				if len(list) != 1 {
					t.Fatalf("user %s has %d ingestions", u, len(list))
				}
				wantResults(t, "backfilled", e.await(u, "sumsub", list[0].(map[string]any)["id"].(string)), allCompleted)
			}
			if err := os.WriteFile(path, []byte("not-a-uuid,x\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := e.cli(t, "ingest", "--tenant", e.creds.TenantID, "--provider", "sumsub", "--file", path); err == nil {
				t.Error("a malformed line was accepted")
			}
		})

		t.Run("list pages", func(t *testing.T) {
			u := newUser("pages@connector.example")
			var ids []string
			for range 3 {
				res := e.call(t, "POST", "/kyc-connector/sumsub/ingestions", e.tok, u, map[string]any{"shareToken": sumsubsbx.ShareGreen, "processes": []string{"profile"}})
				ids = append(ids, res.get("ingestion.id").(string))
			}
			var seen []string
			path := "/kyc-connector/sumsub/ingestions?perPage=2"
			for path != "" {
				res := e.call(t, "GET", path, e.tok, u, nil)
				for _, in := range res.get("ingestions").([]any) {
					seen = append(seen, in.(map[string]any)["id"].(string))
				}
				path = ""
				if next, ok := res.get("pagination.next").(string); ok {
					nu, _ := url.Parse(next)
					path = nu.RequestURI()
				}
			}
			if len(seen) != 3 || seen[0] != ids[2] || seen[2] != ids[0] {
				t.Errorf("pages: %v, created %v", seen, ids)
			}
			if res := e.invalid("GET", "/kyc-connector/sumsub/ingestions?perPage=0", u, ""); res.Status != 400 {
				t.Errorf("perPage 0: %d", res.Status)
			}
		})
	})
}
