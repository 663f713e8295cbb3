package console

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"

	"github.com/kycd/kycd/internal/e2e"
)

// testIdP is an in-process OpenID Connect provider: discovery, JWKS, an
// authorization endpoint that signs in whoever the test says (no form),
// and a token endpoint that checks the client, the code and its PKCE
// verifier and answers an RS256 ID token.
type testIdP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string

	mu    sync.Mutex
	who   map[string]any // the claims of the next person to sign in
	codes map[string]idpCode
}

type idpCode struct {
	nonce, challenge, redirect string
	claims                     map[string]any
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{t: t, key: key, clientID: "kycd-console", secret: "idp-secret-" + randomID(), codes: map[string]idpCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "test-key", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != p.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", 400)
			return
		}
		p.mu.Lock()
		code := randomID()
		p.codes[code] = idpCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: p.who}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		p.mu.Lock()
		c, found := p.codes[r.FormValue("code")]
		delete(p.codes, r.FormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if id != p.clientID || secret != p.secret || !found || r.FormValue("redirect_uri") != c.redirect ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		claims := map[string]any{"iss": p.srv.URL, "sub": randomID(), "aud": p.clientID, "iat": time.Now().Unix(),
			"exp": time.Now().Add(5 * time.Minute).Unix(), "nonce": c.nonce}
		for k, v := range c.claims {
			claims[k] = v
		}
		writeJSON(w, map[string]any{"access_token": randomID(), "token_type": "Bearer", "expires_in": 300, "id_token": p.sign(claims)})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// signInAs sets who the provider signs in next.
func (p *testIdP) signInAs(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.who = claims
}

func (p *testIdP) sign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		p.t.Fatal(err)
	}
	raw, _ := json.Marshal(claims)
	sig, err := signer.Sign(raw)
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := sig.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestConsoleOIDC: a person of the company's identity provider signs in
// to the console through OpenID Connect (code flow with PKCE, an RS256 ID
// token checked against the provider's keys): a reviewer of the configured
// tenant is made with the role of their group, and the next sign-in takes
// the role the provider gives then. A person of another domain, or of the
// domain in no group when no default role is set, is refused; so is a
// callback whose state is not the browser's.
func TestConsoleOIDC(t *testing.T) {
	t.Parallel()
	db := e2e.Databases(t)[0]
	idp := newTestIdP(t)
	var tn struct{ ID string }
	(&e2e.Proc{T: t, DB: db}).CLIJSON(t, &tn, "tenant", "create", "--name", "oidc-acme")
	k := e2e.Start(t, db, "--allow-network", "127.0.0.1/32", "--console-oidc-issuer", idp.srv.URL, "--console-oidc-client-id", idp.clientID,
		"--console-oidc-client-secret", idp.secret, "--console-oidc-tenant", "oidc-acme", "--console-oidc-domain", "acme.example",
		"--console-oidc-roles", "kyc-analysts=analyst,kyc-supervisors=supervisor,kyc-audit=auditor")

	tab := e2e.NewTab(t)
	idp.signInAs(map[string]any{"email": "Dana@Acme.example", "email_verified": true, "groups": []string{"staff", "kyc-audit"}})
	e2e.Browse(t, tab, "sign in through the identity provider", chromedp.Navigate(k.Base+"/console/login"), chromedp.WaitVisible(chromedp.CSS("a.sso")),
		chromedp.Click(chromedp.CSS("a.sso")), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
	e2e.CheckPage(t, tab, "queue-oidc", "Screening queue")
	if who := e2e.Value(t, tab, "who", chromedp.Text(chromedp.CSS("form.who span"))); !strings.Contains(who, "dana@acme.example") || !strings.Contains(who, "(auditor)") {
		t.Errorf("signed in as %q", who)
	}

	// The next sign-in takes the provider's role of then.
	tab2 := e2e.NewTab(t)
	idp.signInAs(map[string]any{"email": "dana@acme.example", "email_verified": true, "groups": "kyc-supervisors"})
	e2e.Browse(t, tab2, "sign in again", chromedp.Navigate(k.Base+"/console/oidc/login"), chromedp.WaitVisible(chromedp.CSS("ul.counts")))
	if who := e2e.Value(t, tab2, "who", chromedp.Text(chromedp.CSS("form.who span"))); !strings.Contains(who, "(supervisor)") {
		t.Errorf("signed in again as %q", who)
	}

	// Refused: another domain, an unverified email, no group and no
	// default role.
	for _, claims := range []map[string]any{
		{"email": "eve@evil.example", "email_verified": true, "groups": []string{"kyc-supervisors"}},
		{"email": "mallory@acme.example", "email_verified": false, "groups": []string{"kyc-supervisors"}},
		{"email": "sam@acme.example", "email_verified": true, "groups": []string{"staff"}},
	} {
		idp.signInAs(claims)
		tab := e2e.NewTab(t)
		e2e.Browse(t, tab, "a refused sign-in", chromedp.Navigate(k.Base+"/console/oidc/login"), chromedp.WaitVisible(chromedp.CSS("p.error")))
		if text := e2e.MainText(t, tab); !strings.Contains(text, "did not allow you in") {
			t.Errorf("%v: %s", claims["email"], text)
		}
	}
	// A callback the browser did not start (no state cookie, or another
	// state) signs no one in.
	jar, _ := cookiejar.New(nil)
	c := &e2e.ConsoleClient{Base: k.Base, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	if res, _ := c.Get(t, "/console/oidc/callback?code=x&state=y"); res.StatusCode != 403 {
		t.Errorf("a forged callback: %d", res.StatusCode)
	}

	// The audit trail names the person and the role.
	var entries struct {
		Entries []struct {
			Actor, Action string
			Details       map[string]any
		}
	}
	e2e.WaitUntil(t, "the OIDC reviewer's audit entries", func() bool {
		out, err := k.CLI(t, "audit", "list", "--tenant", tn.ID, "--json", "--limit", "100")
		if err != nil {
			t.Fatal(err)
		}
		entries.Entries = nil
		_ = json.Unmarshal([]byte(out), &entries)
		seen := map[string]bool{}
		for _, e := range entries.Entries {
			seen[e.Action] = true
		}
		return seen["reviewer.created"] && seen["reviewer.role-changed"] && seen["reviewer.signed-in"]
	})
}
