package coreapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycd/kycd/internal/e2e"
)

// exampleWith is a copy of a request example with every fileId replaced by
// one of the user's real files (the examples name Uphold's files), and
// every expiresAt that has passed since the document was written moved a
// year past today (a past expiry is refused as documented, date_invalid).
func exampleWith(v any, file func() string) any {
	var cp any
	_ = json.Unmarshal(e2e.MustJSON(v), &cp)
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, w := range x {
				if k == "fileId" {
					x[k] = file()
					continue
				}
				if s, ok := w.(string); ok && k == "expiresAt" {
					if at, err := time.Parse(time.DateOnly, s[:min(len(s), 10)]); err == nil && at.Before(time.Now()) {
						x[k] = time.Now().AddDate(1, 0, 0).Format(time.DateOnly) + s[min(len(s), 10):]
					}
					continue
				}
				walk(w)
			}
		case []any:
			for _, w := range x {
				walk(w)
			}
		}
	}
	walk(cp)
	return cp
}

func basicAuth(tn e2e.Tenant) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(tn.ClientID+":"+tn.Secret))
}

// walk calls every operation of both documents with their own examples.
func (c *conformance) walk(e *e2e.ConnectorEnv) {
	t, k := c.t, e.Proc
	newTenant := func(name string) (e2e.Tenant, string) {
		tn := k.NewTenant(t, name)
		tok := k.Token(t, tn, "")
		c.feedTokens = append(c.feedTokens, tok)
		return tn, tok
	}
	tnA, tokA := newTenant("conformance-a")
	c.feedTokens = append(c.feedTokens, e.Tok)
	users := 0
	fresh := func(tok string) string {
		users++
		return e2e.CreateUser(t, k, tok, fmt.Sprintf("user%d@conformance.example", users))
	}

	// Authentication: the document's own form.
	op := c.op("POST /core/oauth2/token")
	for _, name := range op.RequestExampleNames() {
		form := url.Values{}
		for k, v := range op.RequestExample(name).(map[string]any) {
			form.Set(k, fmt.Sprint(v))
		}
		c.example(op.Key(), name, call{body: form, header: map[string]string{"Authorization": basicAuth(tnA)}})
	}

	// Countries.
	c.example("GET /core/countries", "", call{tok: tokA})
	c.example("GET /core/countries/{country}", "", call{path: "/core/countries/" + c.op("GET /core/countries/{country}").ParamValue("country"), tok: tokA})

	// Users: each example in a tenant of its own (they share an email).
	op = c.op("POST /core/users")
	var userA string
	for i, name := range op.RequestExampleNames() {
		tok := tokA
		if name != "Create Complete Individual User" {
			_, tok = newTenant(fmt.Sprintf("conformance-u%d", i))
		}
		res := c.example(op.Key(), name, call{tok: tok, body: op.RequestExample(name)})
		if id, ok := res.Get("user.id").(string); ok && name == "Create Complete Individual User" {
			userA = id
		}
	}
	if userA == "" {
		userA = fresh(tokA)
	}
	c.example("GET /core/users/me", "", call{tok: tokA, user: userA})
	detailed := strings.Trim(strings.ReplaceAll(c.op("GET /core/kyc").ParamValue("detailed"), " ", ","), "[]")
	c.example("GET /core/kyc", "", call{path: "/core/kyc?detailed=" + detailed, tok: tokA, user: userA})

	// Every process, each example on a user of its own (in a tenant where
	// the examples' email and phone are free).
	var tokP [2]string
	for i := range tokP {
		_, tokP[i] = newTenant(fmt.Sprintf("conformance-processes-%d", i))
	}
	for _, key := range c.order {
		op := c.op(key)
		if op.Method != "PATCH" || !strings.HasPrefix(op.Path, "/core/kyc/processes/") {
			continue
		}
		for i, name := range op.RequestExampleNames() {
			tok := tokP[i]
			u := fresh(tok)
			if key == "PATCH /core/kyc/processes/enhanced-due-diligence" {
				c.highRisk(tok, u) // EDD applies to high-risk users only
			}
			body := exampleWith(op.RequestExample(name), func() string { return e.UploadedWith(tok, u) })
			c.example(key, name, call{tok: tok, user: u, body: body})
		}
	}

	// Capabilities and terms of service.
	c.example("GET /core/capabilities", "", call{tok: tokA, user: userA})
	// Every capability code the document names.
	capability := c.op("GET /core/capabilities/{capability}")
	for _, code := range capability.ParamEnum("capability") {
		c.example(capability.Key(), code, call{path: "/core/capabilities/" + code, tok: tokA, user: userA})
	}
	c.example("GET /core/terms-of-service", "", call{tok: tokA, user: userA})
	c.example("GET /core/terms-of-service/{termsOfService}", "", call{path: "/core/terms-of-service/" + c.op("GET /core/terms-of-service/{termsOfService}").ParamValue("termsOfService"), tok: tokA, user: userA})
	accept := c.op("POST /core/terms-of-service/{termsOfService}/accept")
	c.example(accept.Key(), "", call{path: "/core/terms-of-service/" + accept.ParamValue("termsOfService") + "/accept", tok: tokA, user: userA})

	// Files.
	op = c.op("POST /core/files")
	fileID := ""
	for _, name := range op.RequestExampleNames() {
		res := c.example(op.Key(), name, call{tok: tokA, user: userA, body: op.RequestExample(name)})
		fileID, _ = res.Get("file.id").(string)
	}
	if fileID == "" {
		fileID = e.UploadedWith(tokA, userA)
	}
	c.example("GET /core/files/{fileId}", "", call{path: "/core/files/" + fileID, tok: tokA, user: userA})
	c.example("GET /core/files/settings", "", call{path: "/core/files/settings?category=" + strings.Trim(c.op("GET /core/files/settings").ParamValue("category"), "[]"), tok: tokA, user: userA})

	// Metadata, of the user and of a file.
	for _, entity := range []string{"users/" + c.op("GET /core/{entity}/{entityId}/metadata").ParamValue("entityId"), "files/" + fileID} {
		path := "/core/" + entity + "/metadata"
		put := c.op("PUT /core/{entity}/{entityId}/metadata")
		for _, name := range put.RequestExampleNames() {
			c.example(put.Key(), name, call{path: path, tok: tokA, user: userA, body: put.RequestExample(name)})
		}
		c.example("GET /core/{entity}/{entityId}/metadata", "", call{path: path, tok: tokA, user: userA})
		patch := c.op("PATCH /core/{entity}/{entityId}/metadata")
		for _, name := range patch.RequestExampleNames() {
			// What the replace and remove examples change must be there.
			c.send(put.Key(), call{path: path, tok: tokA, user: userA, body: map[string]any{"externalId": 123, "tier": "silver", "region": "eu"}})
			c.example(patch.Key(), name, call{path: path, tok: tokA, user: userA, body: patch.RequestExample(name), contentType: "application/json-patch+json"})
		}
		c.example("DELETE /core/{entity}/{entityId}/metadata", "", call{path: path, tok: tokA, user: userA})
	}

	// Webhooks.
	c.example("POST /core/webhooks/management-link", "", call{tok: tokA})

	// KYC Connector: Sumsub in the sandbox tenant.
	op = c.op("POST /kyc-connector/sumsub/ingestions")
	sumsubID, sumsubUser := "", ""
	for _, name := range op.RequestExampleNames() {
		u := fresh(e.Tok)
		res := c.example(op.Key(), name, call{tok: e.Tok, user: u, body: op.RequestExample(name)})
		sumsubID, _ = res.Get("ingestion.id").(string)
		sumsubUser = u
	}
	if sumsubID == "" {
		sumsubID, sumsubUser = "00000000-0000-4000-8000-000000000000", fresh(e.Tok)
	}
	// kycd's extension, an ingestion from a Sumsub applicant: its answers
	// and events must still be Uphold's Sumsub ingestion.
	applicant, _ := e.NewApplicantFor("conformance-applicant", "Sarah", "Morgan", "1990-01-01", "GREEN")
	res := c.example(op.Key(), "applicantId (a kycd extension)", call{tok: e.Tok, user: fresh(e.Tok), body: map[string]any{"applicantId": applicant}})
	applicantIngestion, _ := res.Get("ingestion.id").(string)
	c.example("GET /kyc-connector/sumsub/ingestions", "", call{tok: e.Tok, user: sumsubUser})
	c.example("GET /kyc-connector/sumsub/ingestions/{ingestionId}", "", call{path: "/kyc-connector/sumsub/ingestions/" + sumsubID, tok: e.Tok, user: sumsubUser})

	// Veriff: its configuration examples in one tenant, then each ingestion
	// example in a tenant of its own (they share a session).
	_, tokD := newTenant("conformance-veriff")
	op = c.op("PUT /kyc-connector/veriff/config")
	for _, name := range op.RequestExampleNames() {
		c.example(op.Key(), name, call{tok: tokD, body: op.RequestExample(name)})
	}
	c.example("GET /kyc-connector/veriff/config", "", call{tok: tokD})
	op = c.op("POST /kyc-connector/veriff/ingestions")
	veriffID := ""
	for i, name := range op.RequestExampleNames() {
		_, tok := newTenant(fmt.Sprintf("conformance-veriff-%d", i))
		// A configuration with the integrations every example names.
		c.send("PUT /kyc-connector/veriff/config", call{tok: tok, body: map[string]any{"integrations": []any{
			map[string]any{"name": "integration-abc123", "apiKey": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "sharedSecretKey": "f0e1d2c3-b4a5-6789-0fed-cba987654321",
				"processes": []string{"profile", "address", "identity", "proof-of-address"}},
			map[string]any{"name": "integration-def456", "apiKey": "b2c3d4e5-f6a7-8901-bcde-f12345678901", "sharedSecretKey": "e1d2c3b4-a5f6-7890-fedc-ba9876543210",
				"processes": []string{"address", "proof-of-address"}}}}})
		u := fresh(tok)
		res := c.example(op.Key(), name, call{tok: tok, user: u, body: op.RequestExample(name)})
		if id, ok := res.Get("ingestion.id").(string); ok && veriffID == "" {
			veriffID = id
			c.example("GET /kyc-connector/veriff/ingestions", "", call{tok: tok, user: u})
			c.example("GET /kyc-connector/veriff/ingestions/{ingestionId}", "", call{path: "/kyc-connector/veriff/ingestions/" + id, tok: tok, user: u})
		}
	}
	if veriffID == "" {
		c.example("GET /kyc-connector/veriff/ingestions", "", call{tok: tokD, user: fresh(tokD)})
		c.example("GET /kyc-connector/veriff/ingestions/{ingestionId}", "", call{path: "/kyc-connector/veriff/ingestions/00000000-0000-4000-8000-000000000000", tok: tokD})
	}

	// Last: deleting the user.
	op = c.op("DELETE /core/users/me")
	for _, name := range op.RequestExampleNames() {
		c.example(op.Key(), name, call{tok: tokA, user: userA, body: op.RequestExample(name)})
	}

	c.errorCases(e, tnA, tokA, fresh)

	// The ingestions' own events: wait until they leave the queue.
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range []string{sumsubID, applicantIngestion} {
		for time.Now().Before(deadline) {
			res := k.Call(t, "GET", "/kyc-connector/sumsub/ingestions/"+id, e.Tok, "", nil)
			if s := res.Get("ingestion.status"); s != "queued" && s != "processing" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// highRisk gives a user a customer due diligence scored high, which
// enhanced due diligence follows.
func (c *conformance) highRisk(tok, user string) {
	c.t.Helper()
	res := c.send("PATCH /core/kyc/processes/customer-due-diligence", call{tok: tok, user: user, body: map[string]any{
		"input":  map[string]any{"answers": map[string]any{"financial-profile": map[string]any{"source-of-funds": "salary"}}},
		"output": map[string]any{"score": "high", "expiresAt": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339), "verifiedAt": "2023-01-01T00:00:00.000Z"}}})
	if res.Status != 200 {
		c.t.Fatalf("high-risk CDD: %d %s", res.Status, res.Body)
	}
}
