package security

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"maps"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestTenantIsolation calls every id-bearing route with the other tenant's
// token: each answers 404 and the body carries none of the other tenant's data.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		a, b := k.NewTenant(t, "alpha"), k.NewTenant(t, "bravo")
		ta, tb := k.Token(t, a, ""), k.Token(t, b, "")
		ua, ub := e2e.CreateUser(t, k, ta, "alice@alpha.example"), e2e.CreateUser(t, k, tb, "bob@bravo.example")
		fa, upA := e2e.CreateFile(t, k, ta, ua, "image", "image/png")
		if res := e2e.Upload(t, k, upA, e2e.PNGBytes("alpha evidence")); res.Status != 204 {
			t.Fatalf("upload: %d", res.Status)
		}
		fb, _ := e2e.CreateFile(t, k, tb, ub, "document", "application/pdf")

		leaks := func(res *e2e.Response) {
			t.Helper()
			for _, s := range []string{"alice@alpha.example", ua, fa, a.ID} {
				if res.Status != 404 && strings.Contains(string(res.Body), s) {
					t.Errorf("response leaks %q: %s", s, res.Body)
				}
			}
		}
		// Bravo's token acting for alpha's user.
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/core/users/me", nil},
			{"DELETE", "/core/users/me", map[string]any{"review": map[string]any{"reason": "other"}}},
			{"POST", "/core/files", map[string]any{"category": "image", "contentType": "image/png"}},
			{"GET", "/core/files/" + fa, nil},
		} {
			res := k.Call(t, c.method, c.path, tb, ua, c.body)
			if res.Status != 404 || res.Code() != "entity_not_found" || res.Get("details.entity") != "user" {
				t.Errorf("%s %s as bravo for alpha's user: %d %s", c.method, c.path, res.Status, res.Body)
			}
			leaks(res)
		}
		// Bravo's token, bravo's user, alpha's file.
		res := k.Call(t, "GET", "/core/files/"+fa, tb, ub, nil)
		if res.Status != 404 || res.Get("details.entity") != "file" {
			t.Errorf("alpha's file through bravo: %d %s", res.Status, res.Body)
		}
		leaks(res)
		// Alpha's token, alpha's user, bravo's file.
		if res := k.Call(t, "GET", "/core/files/"+fb, ta, ua, nil); res.Status != 404 {
			t.Errorf("bravo's file through alpha: %d %s", res.Status, res.Body)
		}
		// A signed URL moved to another tenant does not verify.
		res = k.Call(t, "GET", "/core/files/"+fa, ta, ua, nil)
		dl, _ := url.Parse(res.Get("file.download.url").(string))
		q := dl.Query()
		q.Set("t", b.ID)
		if res := k.Do(t, k.Req("GET", dl.Path+"?"+q.Encode(), nil)); res.Status != 403 {
			t.Errorf("download URL moved to bravo: %d %s", res.Status, res.Body)
		}
		// Alpha's own calls still work, and alpha's user is untouched.
		if res := k.Call(t, "GET", "/core/users/me", ta, ua, nil); res.Status != 200 || res.Get("user.email") != "alice@alpha.example" {
			t.Errorf("alpha's user after bravo's attempts: %d %s", res.Status, res.Body)
		}
	})
}

// TestTokenLifecycle covers expired, tampered, foreign, revoked and
// wrong-scope tokens, and X-On-Behalf-Of rules.
func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "tokens")
		other := k.NewTenant(t, "others")
		tok := k.Token(t, tn, "")
		uid := e2e.CreateUser(t, k, tok, "owner@tokens.example")
		ouid := e2e.CreateUser(t, k, k.Token(t, other, ""), "owner@others.example")

		tried, failed := 0, 0
		defer func() { t.Logf("security suite, token corpus: %d cases, %d failed", tried, failed) }()
		wantErr := func(name string, res *e2e.Response, status int, code string) {
			t.Helper()
			tried++
			if res.Status != status || res.Code() != code {
				failed++
				t.Errorf("%s: %d %s, want %d %s", name, res.Status, res.Body, status, code)
			}
		}
		// No token, not a bearer token, garbage.
		wantErr("no token", k.Call(t, "GET", "/core/users/me", "", uid, nil), 401, "token_invalid")
		wantErr("garbage", k.Call(t, "GET", "/core/users/me", "not-a-jwt", uid, nil), 401, "token_invalid")
		// Tampered: a claim changed, the signature kept.
		parts := strings.Split(tok, ".")
		claims, _ := jwt.NewParser().DecodeSegment(parts[1])
		forged := strings.Replace(string(claims), `"tid":"`+tn.ID, `"tid":"`+other.ID, 1)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
		wantErr("tampered", k.Call(t, "GET", "/core/users/me", tampered, ouid, nil), 401, "token_invalid")
		// Signed by another key, and alg none.
		_, foreignKey, _ := ed25519.GenerateKey(rand.Reader)
		c := &kycd.Client{ID: tn.ClientID, TenantID: tn.ID}
		foreign, _ := auth.NewTokens(foreignKey, time.Minute, kycd.SystemClock{}).Issue(c, auth.PartnerScopes)
		wantErr("foreign key", k.Call(t, "GET", "/core/users/me", foreign, uid, nil), 401, "token_invalid")
		none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "kycd", "sub": tn.ClientID, "tid": tn.ID, "scope": "core.users:read", "exp": time.Now().Add(time.Hour).Unix()})
		noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		wantErr("alg none", k.Call(t, "GET", "/core/users/me", noneTok, uid, nil), 401, "token_invalid")
		// Expired: minted with kycd's own key, an hour ago.
		key, _, err := auth.LoadSigningKey(filepath.Join(db.DataDir, "token-signing-key.pem"), false)
		if err != nil {
			t.Fatal(err)
		}
		past := mock.NewClock(time.Now().Add(-time.Hour))
		expired, _ := auth.NewTokens(key, 10*time.Minute, past).Issue(c, auth.PartnerScopes)
		wantErr("expired", k.Call(t, "GET", "/core/users/me", expired, uid, nil), 401, "token_expired")
		// Signed with kycd's own key but not strict: a lifetime claim that is
		// a string (RFC 7519), a "crit" header kycd does not understand (RFC 7515).
		strict := func(exp any, header map[string]any) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": auth.Issuer, "sub": tn.ClientID, "tid": tn.ID,
				"scope": strings.Join(auth.PartnerScopes, " "), "iat": time.Now().Unix(), "exp": exp})
			maps.Copy(tok.Header, header)
			raw, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		later := time.Now().Add(time.Hour).Unix()
		if res := k.Call(t, "GET", "/core/users/me", strict(later, nil), uid, nil); res.Status != 200 {
			t.Errorf("a well-formed token of kycd's key: %d %s", res.Status, res.Body)
		}
		wantErr("exp string", k.Call(t, "GET", "/core/users/me", strict(strconv.FormatInt(later, 10), nil), uid, nil), 401, "token_invalid")
		wantErr("unknown crit", k.Call(t, "GET", "/core/users/me", strict(later, map[string]any{"crit": []string{"x-kycd"}, "x-kycd": 1}), uid, nil), 401, "token_invalid")
		// Wrong scope: Uphold's details.security names what was needed.
		narrow := k.Token(t, tn, "core.users:read")
		res := k.Call(t, "GET", "/core/users/me", narrow, uid, nil)
		wantErr("without act-on-behalf-of", res, 403, "token_insufficient_scopes")
		sec, _ := res.Get("details.security").([]any)
		if len(sec) != 1 || !strings.Contains(string(res.Body), `"core.users:act-on-behalf-of"`) || !strings.Contains(string(res.Body), `"tokenScopes":["core.users:read"]`) {
			t.Errorf("details.security: %s", res.Body)
		}
		wantErr("wrong scope", k.Call(t, "POST", "/core/users", narrow, "", e2e.NewUserBody("x@tokens.example")), 403, "token_insufficient_scopes")
		// X-On-Behalf-Of: required, well formed, a user, of the token's tenant.
		wantErr("no subject", k.Call(t, "GET", "/core/users/me", tok, "", nil), 400, "request_invalid")
		req := k.Req("GET", "/core/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-On-Behalf-Of", "user not-a-uuid")
		wantErr("malformed subject", k.Do(t, req, e2e.DoOpts{}), 400, "request_invalid")
		req.Header.Set("X-On-Behalf-Of", "client "+tn.ClientID)
		wantErr("client subject", k.Do(t, req), 400, "request_invalid")
		wantErr("other tenant's user", k.Call(t, "GET", "/core/users/me", tok, ouid, nil), 404, "entity_not_found")
		wantErr("unknown user", k.Call(t, "GET", "/core/users/me", tok, uuid.NewString(), nil), 404, "entity_not_found")
		if res := k.Call(t, "GET", "/core/users/me", tok, uid, nil); res.Status != 200 {
			t.Fatalf("valid token: %d %s", res.Status, res.Body)
		}
		// Revoking the client invalidates its tokens at once, and it gets no new ones.
		if out, err := k.CLI(t, "client", "revoke", "--id", tn.ClientID); err != nil {
			t.Fatalf("revoke: %v %s", err, out)
		}
		// Nodes trust a client's state for --client-cache-ttl (2s by default):
		// the revocation applies within that window.
		revokedAt := time.Now()
		for {
			res := k.Call(t, "GET", "/core/users/me", tok, uid, nil)
			if res.Status == 401 {
				wantErr("revoked", res, 401, "token_revoked")
				break
			}
			if time.Since(revokedAt) > 5*time.Second {
				t.Fatalf("token still works 5s after its client was revoked: %d", res.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		form := url.Values{"grant_type": {"client_credentials"}}
		treq := k.Req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
		treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		treq.SetBasicAuth(tn.ClientID, tn.Secret)
		if res := k.Do(t, treq); res.Status != 401 || res.JSON["error"] != "invalid_client" {
			t.Errorf("token for a revoked client: %d %s", res.Status, res.Body)
		}
	})
}

// TestTokenEndpoint covers the OAuth2 token endpoint's own rules.
func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "oauth", "core.users:read", "core.users:create", "core.users:act-on-behalf-of")
		post := func(form url.Values, basic bool, invalid ...bool) *e2e.Response {
			t.Helper()
			req := k.Req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if basic {
				req.SetBasicAuth(tn.ClientID, tn.Secret)
			}
			return k.Do(t, req, e2e.DoOpts{InvalidRequest: len(invalid) > 0 && invalid[0]})
		}
		res := post(url.Values{"grant_type": {"client_credentials"}}, true)
		if res.Status != 200 || res.JSON["token_type"] != "Bearer" || res.JSON["scope"] != "core.users:read core.users:create core.users:act-on-behalf-of" || res.JSON["expires_in"] != float64(600) {
			t.Fatalf("basic: %d %s", res.Status, res.Body)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Error("token response may be cached")
		}
		res = post(url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID}, "client_secret": {tn.Secret}, "scope": {"core.users:read"}}, false)
		if res.Status != 200 || res.JSON["scope"] != "core.users:read" {
			t.Fatalf("form credentials, narrowed: %d %s", res.Status, res.Body)
		}
		// Uphold's own token example: users:* is every users action the
		// client holds (not core.users.metadata), users.kyc:read the Core
		// API's core.kyc:read, which this client lacks: refused, then
		// granted to a client that holds it.
		uphold := url.Values{"grant_type": {"client_credentials"}, "scope": {"users:* users.kyc:read"}}
		if res := post(uphold, true); res.Status != 400 || res.JSON["error"] != "invalid_scope" {
			t.Errorf("Uphold's example without core.kyc:read: %d %s", res.Status, res.Body)
		}
		kycTn := k.NewTenant(t, "oauth-kyc", "core.users:create", "core.users:read", "core.users:act-on-behalf-of", "core.users.metadata:read", "core.kyc:read", "core.kyc.profile:update")
		req := k.Req("POST", "/core/oauth2/token", strings.NewReader(uphold.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(kycTn.ClientID, kycTn.Secret)
		res = k.Do(t, req, e2e.DoOpts{})
		if res.Status != 200 || res.JSON["scope"] != "core.users:create core.users:read core.users:act-on-behalf-of core.kyc:read" {
			t.Fatalf("Uphold's example: %d %s", res.Status, res.Body)
		}
		narrowed, _ := res.JSON["access_token"].(string)
		u := e2e.CreateUser(t, k, narrowed, "uphold-scopes@oauth.example")
		if res := k.Call(t, "GET", "/core/kyc", narrowed, u, nil); res.Status != 200 {
			t.Errorf("the overview with users.kyc:read: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PATCH", "/core/kyc/processes/profile", narrowed, u, map[string]any{"input": map[string]any{"fullName": "Jane Doe"}}); res.Status != 403 || res.Code() != "token_insufficient_scopes" {
			t.Errorf("a profile update with users.kyc:read only: %d %s", res.Status, res.Body)
		}
		for name, c := range map[string]struct {
			form    url.Values
			basic   bool
			status  int
			code    string
			invalid bool
		}{
			"wider scope":       {url.Values{"grant_type": {"client_credentials"}, "scope": {"core.users:read core.users:delete"}}, true, 400, "invalid_scope", false},
			"no grant type":     {url.Values{}, true, 400, "invalid_request", true},
			"refresh token":     {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, true, 400, "invalid_grant", false},
			"password":          {url.Values{"grant_type": {"password"}}, true, 400, "unsupported_grant_type", false},
			"no credentials":    {url.Values{"grant_type": {"client_credentials"}}, false, 401, "invalid_client", false},
			"wrong secret":      {url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID}, "client_secret": {"nope"}}, false, 401, "invalid_client", false},
			"unknown client":    {url.Values{"grant_type": {"client_credentials"}, "client_id": {uuid.NewString()}, "client_secret": {"nope"}}, false, 401, "invalid_client", false},
			"credentials twice": {url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID}, "client_secret": {tn.Secret}}, true, 400, "invalid_request", false},
		} {
			if res := post(c.form, c.basic, c.invalid); res.Status != c.status || res.JSON["error"] != c.code {
				t.Errorf("%s: %d %s, want %d %s", name, res.Status, res.Body, c.status, c.code)
			}
		}
		req = k.Req("POST", "/core/oauth2/token", bytes.NewReader([]byte(`{"grant_type":"client_credentials"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(tn.ClientID, tn.Secret)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 || res.JSON["error"] != "invalid_request" {
			t.Errorf("JSON body: %d %s", res.Status, res.Body)
		}
	})
}

// TestBadInput sends malformed, mistyped, oversized and unknown input: each
// gets request_invalid (or 413/415), never a 500.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--max-body-bytes", "65536")
		tn := k.NewTenant(t, "badinput")
		tok := k.Token(t, tn, "")
		uid := e2e.CreateUser(t, k, tok, "valid@badinput.example")
		// The cases tried and failed, logged at the end as the security
		// suite's other areas are.
		tried, failed := 0, 0
		fail := func(format string, args ...any) {
			t.Helper()
			failed++
			t.Errorf(format, args...)
		}
		defer func() { t.Logf("bad input: %d cases, %d failed checks", tried, failed) }()
		send := func(method, path, contentType, body string, onBehalf bool) *e2e.Response {
			t.Helper()
			tried++
			req := k.Req(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if onBehalf {
				req.Header.Set("X-On-Behalf-Of", "user "+uid)
			}
			return k.Do(t, req, e2e.DoOpts{InvalidRequest: true})
		}
		// violationAt: an invalid request answered with a status (Uphold's
		// delete user documents no 400: its invalid review answers 409).
		violationAt := func(res *e2e.Response, status int, property, rule string) {
			t.Helper()
			if res.Status != status || res.Code() != "request_invalid" {
				fail("want %d request_invalid, got %d %s", status, res.Status, res.Body)
				return
			}
			for _, v := range res.Get("details.violations").([]any) {
				m := v.(map[string]any)
				if m["property"] == property && m["rule"] == rule {
					return
				}
			}
			fail("no violation %s/%s in %s", property, rule, res.Body)
		}
		violation := func(res *e2e.Response, property, rule string) {
			t.Helper()
			violationAt(res, 400, property, rule)
		}
		violation(send("POST", "/core/users", "application/json", `{"email": "a@b.c",`, false), "", "json")
		violation(send("POST", "/core/users", "application/json", `{"email": 1}{}`, false), "", "json")
		violation(send("POST", "/core/users", "application/json", `[]`, false), "", "type")
		res := send("POST", "/core/users", "application/json", `{"email": 42, "termsOfService": "general-gb-fca", "primaryCitizenship": "GB", "address": {"country": "GB"}, "favouriteColour": "blue"}`, false)
		violation(res, "email", "type")
		violation(res, "favouriteColour", "additionalProperties")
		res = send("POST", "/core/users", "application/json", `{"address": {"country": "gb", "planet": "earth"}}`, false)
		violation(res, "email", "required")
		violation(res, "address.country", "pattern")
		violation(res, "address.planet", "additionalProperties")
		violation(send("POST", "/core/files", "application/json", `{"category": "hologram", "contentType": "image/png"}`, true), "category", "enum")
		violationAt(send("DELETE", "/core/users/me", "application/json", `{"review": {"reason": 7}}`, true), 409, "review.reason", "type")
		if res := send("POST", "/core/users", "application/json", `{"email": "`+strings.Repeat("a", 70000)+`"}`, false); res.Status != 413 || res.Code() != "content_too_large" {
			fail("oversized body: %d %s", res.Status, res.Body)
		}
		if res := send("POST", "/core/users", "text/plain", `{}`, false); res.Status != 415 || res.Code() != "unsupported_media_type" {
			fail("text/plain body: %d %s", res.Status, res.Body)
		}
		req := k.Req("POST", "/core/users", strings.NewReader(e2e.MustJSONString(e2e.NewUserBody("hdr@badinput.example"))))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Ip", "999.1.1.1")
		tried++
		violation(k.Do(t, req), "x-uphold-user-ip", "format")
		req = k.Req("GET", "/core/files/not-a-uuid", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-On-Behalf-Of", "user "+uid)
		tried++
		violation(k.Do(t, req), "fileId", "format")
		if res := send("GET", "/core/files/settings?category=hologram", "", "", false); res.Status != 400 {
			fail("bad category filter: %d %s", res.Status, res.Body)
		}
		tried++
		if res := k.Do(t, k.Req("GET", "/core/nowhere", nil), e2e.DoOpts{Unrouted: true}); res.Status != 404 || res.Code() != "route_not_found" {
			fail("unknown route: %d %s", res.Status, res.Body)
		}
		tried++
		if res := k.Do(t, k.Req("PATCH", "/core/users/me", nil), e2e.DoOpts{Unrouted: true}); res.Status != 405 || res.Code() != "method_not_allowed" || res.Header.Get("Allow") != "GET, DELETE" {
			fail("wrong method: %d %s (Allow %q)", res.Status, res.Body, res.Header.Get("Allow"))
		}
		tried++
		if res := k.Do(t, k.Req("GET", "/nowhere", nil), e2e.DoOpts{Unrouted: true}); res.Status != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
			fail("unknown route outside /core: %d %s", res.Status, res.Body)
		}
		// No error body ever carries internals.
		for _, body := range k.ErrorBodies() {
			for _, s := range []string{"sql", "pgx", "goroutine", ".go:", db.DataDir, "panic"} {
				if strings.Contains(strings.ToLower(body), strings.ToLower(s)) {
					fail("error body holds %q: %s", s, body)
				}
			}
		}
	})
}
