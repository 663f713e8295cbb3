package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// LevelsEnv drives the /v1 surface for one client.
type LevelsEnv struct {
	*ConnectorEnv
	Client string
	Admin  string // a compliance officer's token
}

// NewLevelsEnv starts kycd on db for a levels test (the sandbox tenant: its
// Sumsub account is the sandbox's) and returns the env and its KYC env.
func NewLevelsEnv(t *testing.T, db storetest.Database) (*LevelsEnv, *KYCEnv) {
	t.Helper()
	c := NewConnectorEnv(t, db)
	return &LevelsEnv{ConnectorEnv: c}, c.KYCEnv
}

// Q is the query string of the /v1 surface: the tenant and client, and extra pairs.
func (e *LevelsEnv) Q(extra ...string) string {
	v := url.Values{"legal_entity_uuid": {e.Tenant.ID}, "client_uuid": {e.Client}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "?" + v.Encode()
}

// V1 calls the /v1 surface.
func (e *LevelsEnv) V1(method, path string, body any, extra ...string) *Response {
	e.T.Helper()
	return e.Call(e.T, method, path+e.Q(extra...), e.Tok, "", body)
}

// Invalid sends a request the OpenAPI document must reject to the /v1 surface.
func (e *LevelsEnv) Invalid(method, path string, body any, extra ...string) *Response {
	e.T.Helper()
	req := e.Req(method, path+e.Q(extra...), bytes.NewReader(MustJSON(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.Tok)
	return e.Do(e.T, req, DoOpts{InvalidRequest: true})
}

// Patch changes attributes of an application.
func (e *LevelsEnv) Patch(app string, changes map[string]any, extra ...string) *Response {
	e.T.Helper()
	var list []any
	for k, v := range changes {
		list = append(list, map[string]any{"key": k, "value": v})
	}
	return e.V1("PATCH", "/v1/kyc/"+app+"/", map[string]any{"attribute_changes": list}, extra...)
}

// Decide records an administrator's decision on an application.
func (e *LevelsEnv) Decide(app string, body map[string]any) *Response {
	e.T.Helper()
	return e.Call(e.T, "POST", "/admin/kyc-applications/"+app+"/decision", e.Admin, "", body)
}

// Attr returns an attribute of an application view.
func Attr(res *Response, key string) map[string]any {
	steps, _ := res.JSON["kyc_steps"].([]any)
	for _, s := range steps {
		for _, q := range s.(map[string]any)["questions"].([]any) {
			a := q.(map[string]any)["attribute"].(map[string]any)
			if a["key"] == key {
				return a
			}
		}
	}
	return nil
}

// SumsubGet and SumsubPost call the Sumsub sandbox, signed with the
// sandbox tenant's credentials.
func (e *ConnectorEnv) SumsubGet(path string) map[string]any { return e.sumsub("GET", path, nil) }

// SumsubPost posts to the Sumsub sandbox (see SumsubGet).
func (e *ConnectorEnv) SumsubPost(path string, body any) map[string]any {
	return e.sumsub("POST", path, body)
}

func (e *ConnectorEnv) sumsub(method, path string, body any) map[string]any {
	e.T.Helper()
	var raw []byte
	if body != nil {
		raw = MustJSON(body)
	}
	req := e.Req(method, "/sandbox/sumsub"+path, bytes.NewReader(raw))
	sumsub.SignRequest(req, e.Creds.SumsubAppToken, e.Creds.SumsubSecret, time.Now().Unix(), raw)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		e.T.Fatalf("sumsub sandbox %s %s: %d %v", method, path, res.StatusCode, err)
	}
	return out
}
