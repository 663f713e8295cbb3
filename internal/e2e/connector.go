package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// ConnectorEnv is a kycd in sandbox mode, acting as the sandbox tenant
// (whose connector configurations point at the mounted provider sandboxes).
type ConnectorEnv struct {
	*KYCEnv
	Creds cli.SandboxCredentials
}

// NewConnectorEnv starts kycd on db with the provider sandboxes, the sandbox tenant's credentials and a KYC env.
func NewConnectorEnv(t *testing.T, db storetest.Database, flags ...string) *ConnectorEnv {
	k := Start(t, db, append([]string{"--sandbox", "--provider-timeout", "1s", "--ingest-retry-base", "100ms"}, flags...)...)
	raw, err := os.ReadFile(filepath.Join(db.DataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds cli.SandboxCredentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	tn := Tenant{ID: creds.TenantID, ClientID: creds.ClientID, Secret: creds.ClientSecret}
	e := &KYCEnv{Proc: k, T: t, DB: db, Tenant: tn, Tok: k.Token(t, tn, ""), Sent: map[string]int{}}
	return &ConnectorEnv{KYCEnv: e, Creds: creds}
}

// Ingest creates an ingestion and waits for it to finish.
func (e *ConnectorEnv) Ingest(user, provider string, body any) *Response {
	e.T.Helper()
	res := e.Call(e.T, "POST", "/kyc-connector/"+provider+"/ingestions", e.Tok, user, body)
	if res.Status != 201 || res.Get("ingestion.status") != "queued" {
		e.T.Fatalf("create %s ingestion: %d %s", provider, res.Status, res.Body)
	}
	return e.Await(user, provider, res.Get("ingestion.id").(string))
}

// Await polls an ingestion until it is finished.
func (e *ConnectorEnv) Await(user, provider, id string) *Response {
	e.T.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		res := e.Call(e.T, "GET", "/kyc-connector/"+provider+"/ingestions/"+id, e.Tok, user, nil)
		if res.Status != 200 {
			e.T.Fatalf("get ingestion: %d %s", res.Status, res.Body)
		}
		if res.Get("ingestion.status") == "finished" {
			return res
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("ingestion %s did not finish: %s", id, res.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Script posts to a provider sandbox's own control endpoint.
func (e *ConnectorEnv) Script(provider, path string, body any) {
	e.T.Helper()
	raw, _ := json.Marshal(body)
	var req *http.Request
	switch provider {
	case "sumsub":
		req = e.Req("POST", "/sandbox/sumsub"+path, bytes.NewReader(raw))
		sumsub.SignRequest(req, e.Creds.SumsubAppToken, e.Creds.SumsubSecret, time.Now().Unix(), raw)
	default:
		req = e.Req("POST", "/sandbox/veriff/v1"+path, bytes.NewReader(raw))
		veriff.SignRequest(req, e.Creds.VeriffAPIKey, e.Creds.VeriffSharedSecret, raw)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		e.T.Fatalf("sandbox %s %s: %d %s", provider, path, res.StatusCode, out)
	}
}

// NewSession creates a Veriff sandbox session whose vendorData picks its outcome.
func (e *ConnectorEnv) NewSession(vendorData string) string {
	e.T.Helper()
	raw, _ := json.Marshal(map[string]any{"verification": map[string]any{"vendorData": vendorData,
		"person": map[string]any{"firstName": "Sarah", "lastName": "Morgan"}}})
	req := e.Req("POST", "/sandbox/veriff/v1/sessions", bytes.NewReader(raw))
	veriff.SignRequest(req, e.Creds.VeriffAPIKey, e.Creds.VeriffSharedSecret, raw)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Verification struct{ ID string } `json:"verification"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Verification.ID == "" {
		e.T.Fatalf("new session: %v", err)
	}
	return out.Verification.ID
}

// NewApplicant creates a Sumsub sandbox applicant, decides it and returns
// a share token for it.
func (e *ConnectorEnv) NewApplicant(first, last, dob, answer string) (id, shareToken string) {
	return e.NewApplicantFor("kycd-test-"+first, first, last, dob, answer)
}

// NewApplicantFor creates a Sumsub sandbox applicant with an external user
// id; an empty answer leaves it undecided.
func (e *ConnectorEnv) NewApplicantFor(externalUserID, first, last, dob, answer string) (id, shareToken string) {
	e.T.Helper()
	post := e.SumsubPost
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

// Invalid sends a request the OpenAPI document rejects too.
func (e *ConnectorEnv) Invalid(method, path, user, body string) *Response {
	e.T.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := e.Req(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.Tok)
	req.Header.Set("X-On-Behalf-Of", "user "+user)
	return e.Do(e.T, req, DoOpts{InvalidRequest: true})
}

// resultOf returns the status and error code of a process's result.
func resultOf(res *Response, key string) (string, string) {
	status, _ := res.Get("ingestion.result." + key + ".status").(string)
	code, _ := res.Get("ingestion.result." + key + ".error.code").(string)
	return status, code
}

// WantResults checks the result of each process an ingestion submitted.
func WantResults(t *testing.T, what string, res *Response, want map[string]string) {
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

// AllCompleted is the results of an ingestion that submitted every process.
var AllCompleted = map[string]string{"profile": "completed", "address": "completed", "identity": "completed", "proofOfAddress": "completed"}
