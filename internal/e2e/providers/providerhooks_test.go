package providers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestProviderWebhookNoTenantOracle: the provider webhook URLs need no
// credential, so they must not tell which tenants exist. A webhook to an
// unknown, malformed or unconfigured tenant is answered exactly as one to a
// configured tenant with a bad signature: same status, headers and body.
func TestProviderWebhookNoTenantOracle(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		hooked := k.NewTenant(t, "hooked")
		tok := k.Token(t, hooked, "")
		if res := k.Call(t, "PUT", "/kyc-connector/sumsub/config", tok, "", map[string]any{
			"appToken": "app-token", "secret": "app-secret", "webhookSecret": "webhook-secret"}); res.Status != 200 {
			t.Fatalf("sumsub config: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"integrations": []any{map[string]any{
			"name": "main", "apiKey": "veriff-key", "sharedSecretKey": "veriff-secret", "processes": []string{"identity"}}}}); res.Status != 200 {
			t.Fatalf("veriff config: %d %s", res.Status, res.Body)
		}
		bare := k.NewTenant(t, "bare") // configures no provider
		unknown := uuid.NewString()
		tenants := map[string]string{
			"unconfigured tenant":   bare.ID,
			"unknown tenant":        unknown,
			"unknown, upper case":   strings.ToUpper(unknown),
			"nil uuid":              uuid.Nil.String(),
			"not a uuid":            "not-a-uuid",
			"uuid in braces":        "%7B" + unknown + "%7D",
			"uuid without hyphens":  strings.ReplaceAll(unknown, "-", ""),
			"urn":                   "urn:uuid:" + unknown,
			"NUL":                   "%00",
			"invalid UTF-8":         "%C3%28",
			"long":                  strings.Repeat("a", 300),
			"hyphens":               "--------",
			"uuid with a NUL after": unknown + "%00",
		}
		bodies := map[string][]byte{
			"json":     []byte(`{"type":"applicantReviewed","applicantId":"x","reviewResult":{"reviewAnswer":"GREEN"}}`),
			"not json": []byte("not json"),
		}
		send := func(provider, tenantID string, body []byte, invalid bool) *e2e.Response {
			t.Helper()
			req := k.Req("POST", "/kyc-connector/"+provider+"/webhooks/"+tenantID, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			switch provider {
			case "sumsub":
				req.Header.Set(sumsub.HeaderDigest, sumsub.WebhookDigest("forged-secret", body))
				req.Header.Set(sumsub.HeaderDigestAlg, "HMAC_SHA256_HEX")
			case "veriff":
				req.Header.Set("X-AUTH-CLIENT", "veriff-key")
				req.Header.Set("X-HMAC-SIGNATURE", veriff.Sign("forged-secret", body))
			}
			return k.Do(t, req, e2e.DoOpts{InvalidRequest: invalid})
		}
		for _, provider := range []string{"sumsub", "veriff"} {
			for bodyName, body := range bodies {
				want := send(provider, hooked.ID, body, bodyName == "not json")
				if want.Status != http.StatusUnauthorized || want.Code() != "signature_invalid" {
					t.Fatalf("%s, %s body, configured tenant, bad signature: %d %s", provider, bodyName, want.Status, want.Body)
				}
				for name, id := range tenants {
					got := send(provider, id, body, bodyName == "not json")
					if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) || !sameHeaders(got.Header, want.Header) {
						t.Errorf("%s, %s body, %s: %d %v %s\nwant as a bad signature: %d %v %s", provider, bodyName, name,
							got.Status, got.Header, got.Body, want.Status, want.Header, want.Body)
					}
				}
			}
		}
	})
}

// sameHeaders reports whether two responses carry the same headers, apart
// from those that differ on every response (the date, the request id).
func sameHeaders(a, b http.Header) bool {
	strip := func(h http.Header) http.Header {
		h = h.Clone()
		for _, name := range []string{"Date", "X-Request-Id", "X-Uphold-Request-Id"} {
			h.Del(name)
		}
		return h
	}
	a, b = strip(a), strip(b)
	if len(a) != len(b) {
		return false
	}
	for name, vs := range a {
		if strings.Join(vs, "\n") != strings.Join(b[name], "\n") {
			return false
		}
	}
	return true
}
