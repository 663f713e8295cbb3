package security

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// refusedHosts are URL hosts kycd must refuse to connect to: loopback,
// private and metadata addresses in every IPv6 form that carries an IPv4
// address, IPv6's own special ranges, and the plain spellings.
var refusedHosts = []string{
	"[::7f00:1]",                             // IPv4-compatible 127.0.0.1
	"[::ffff:127.0.0.1]",                     // IPv4-mapped
	"[::ffff:0:7f00:1]",                      // SIIT
	"[2002:7f00:1::1]",                       // 6to4
	"[2002:a9fe:a9fe::1]",                    // 6to4 of the metadata address
	"[2001:0:4136:e378:8000:63bf:80ff:fffe]", // Teredo, client 127.0.0.1
	"[64:ff9b::a9fe:a9fe]",                   // NAT64 of the metadata address
	"[64:ff9b::a00:1]",                       // NAT64 of 10.0.0.1
	"[64:ff9b:1::5db8:d822]",                 // local-use NAT64
	"[2001:470:1f0b:1:0:5efe:a00:1]",         // ISATAP, 10.0.0.1
	"[fd00:ec2::254]",                        // AWS metadata over IPv6
	"[::]", "[::1]", "[fe80::1%25eth0]", "[fc00::1]", "[fec0::1]", "[ff02::1]", "[2001:db8::1]", "[3fff::1]", "[100::1]",
	"127.0.0.1", "localhost", "169.254.169.254", "10.0.0.1",
}

// TestSSRFRegistration: without --allow-private-network, every refused
// host is refused when it is registered, through the API: webhook
// endpoints (created and changed), checks' evidence links and the
// providers' base URLs; public addresses are accepted.
func TestSSRFRegistration(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--rate-limit", "0") // some 150 requests at once: no client limit
		tok := e.Tok
		res := e.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": "https://93.184.216.34/hook", "eventTypes": []string{"core."}})
		if res.Status != 201 {
			t.Fatalf("public endpoint: %d %s", res.Status, res.Body)
		}
		endpoint := res.Get("endpoint.id").(string)
		integ := []any{map[string]any{"name": "main", "apiKey": "k", "sharedSecretKey": "s", "processes": []string{"identity"}}}
		before := t.Failed()
		defer func() {
			t.Logf("security suite, SSRF corpus at registration: %d hosts x 5 registrations (webhook endpoint created and changed, evidence link, Veriff and Sumsub base URLs), failed: %v",
				len(refusedHosts), t.Failed() && !before)
		}()
		for _, h := range refusedHosts {
			u := "https://" + h + ":8443/x"
			if res := e.Call(t, "POST", "/core/webhooks/endpoints", tok, "", map[string]any{"url": u, "eventTypes": []string{"core."}}); res.Status != 400 ||
				res.Code() != "request_invalid" || !strings.Contains(string(res.Body), `"url"`) {
				t.Errorf("create endpoint %s: %d %s", u, res.Status, res.Body)
			}
			if res := e.Call(t, "PATCH", "/core/webhooks/endpoints/"+endpoint, tok, "", map[string]any{"url": u}); res.Status != 400 ||
				res.Code() != "request_invalid" || !strings.Contains(string(res.Body), `"url"`) {
				t.Errorf("change endpoint to %s: %d %s", u, res.Status, res.Body)
			}
			if res := e.Create(tok, e.User, e2e.SeedKYC(u+"/e.zip")); res.Status != 400 || !e2e.HasViolation(res, "data_download_link", "host") {
				t.Errorf("check with %s: %d %s", u, res.Status, res.Body)
			}
			if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": u, "integrations": integ}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "baseUrl") {
				t.Errorf("Veriff base URL %s: %d %s", u, res.Status, res.Body)
			}
			if res := e.Call(t, "PUT", "/kyc-connector/sumsub/config", tok, "", map[string]any{"baseUrl": u, "appToken": "a", "secret": "b"}); res.Status != 400 ||
				!strings.Contains(string(res.Body), "baseUrl") {
				t.Errorf("Sumsub base URL %s: %d %s", u, res.Status, res.Body)
			}
		}
		// Nothing refused was kept; public addresses, IPv6 ones included, are accepted.
		if res := e.Call(t, "GET", "/core/webhooks/endpoints/"+endpoint, tok, "", nil); res.Get("endpoint.url") != "https://93.184.216.34/hook" {
			t.Errorf("endpoint after refused changes: %s", res.Body)
		}
		public := "https://[2a00:1450:4001:81b::200e]:8443/x"
		if res := e.Call(t, "PATCH", "/core/webhooks/endpoints/"+endpoint, tok, "", map[string]any{"url": public}); res.Status != 200 {
			t.Errorf("change endpoint to %s: %d %s", public, res.Status, res.Body)
		}
		if res := e.Call(t, "PUT", "/kyc-connector/veriff/config", tok, "", map[string]any{"baseUrl": public, "integrations": integ}); res.Status != 200 {
			t.Errorf("Veriff base URL %s: %d %s", public, res.Status, res.Body)
		}
		if res := e.Call(t, "GET", "/kyc-connector/sumsub/config", tok, "", nil); res.Status != 404 {
			t.Errorf("a Sumsub configuration was kept: %d %s", res.Status, res.Body)
		}
		// A name that does not resolve yet is left to the download, which
		// checks each address it dials.
		if res := e.Create(tok, e.User, e2e.SeedKYC("https://evidence.invalid/e.zip")); res.Status != 202 {
			t.Errorf("check with an unresolved host: %d %s", res.Status, res.Body)
		}
	})
}

// TestSSRFEvidenceRedirect: at dial time, a redirect from an evidence host
// kycd may reach (--allow-network) to loopback spelled in any IPv6 form
// that carries it is refused: the check fails with
// evidence_download_refused and the loopback listener is never reached.
func TestSSRFEvidenceRedirect(t *testing.T) {
	t.Parallel()
	var inside atomic.Int64
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside.Add(1)
		w.Write(e2e.EvidenceZip(t, [2]string{"ident/protocol.txt", "video ident protocol"}))
	}))
	t.Cleanup(loop.Close)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	bucket := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})}}
	bucket.Start()
	t.Cleanup(bucket.Close)
	port := fmt.Sprint(loop.Listener.Addr().(*net.TCPAddr).Port)
	b := netip.MustParseAddr("127.0.0.1").As4()
	teredo := netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, 0x41, 0x36, 0xe3, 0x78, 0x80, 0, 0x63, 0xbf, ^b[0], ^b[1], ^b[2], ^b[3]})
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--allow-network", "127.0.0.2/32", "--evidence-allow-http", "--evidence-retries", "300ms")
		hosts := []string{"::ffff:127.0.0.1", "::7f00:1", "::ffff:0:7f00:1", "2002:7f00:1::1", "64:ff9b::7f00:1", teredo.String(), "127.0.0.1"}
		failed := 0
		for _, h := range hosts {
			to := "http://" + net.JoinHostPort(h, port) + "/ident.zip"
			res := e.Decided(e.User, e2e.SeedKYC(bucket.URL+"/r?to="+url.QueryEscape(to)))
			if code, _ := e2e.ReasonOf(res); res.JSON["status"] != "FAILED" || code != "evidence_download_refused" {
				failed++
				t.Errorf("redirect to %s: %s", to, res.Body)
			}
		}
		if n := inside.Load(); n != 0 {
			t.Errorf("the loopback listener was reached %d times", n)
		}
		t.Logf("SSRF, evidence redirects: %d cases, %d failed, the loopback listener reached %d times", len(hosts), failed, inside.Load())
	})
}

// TestSandboxPrivateNetworks: with --sandbox, outbound connections may reach
// loopback (the sandbox's own fakes) but not the operator's private
// networks: a webhook endpoint, a check's evidence link and a provider's
// base URL at 10.0.1.1, 192.168.1.10 or fd00::1 are refused when they are
// registered; the networks named with --allow-network (given twice, one of
// them IPv6) are allowed, and so is loopback.
func TestSandboxPrivateNetworks(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewChecksEnv(t, db, "--sandbox", "--allow-network", "10.0.0.0/24", "--allow-network", "fd00:1::/64")
		integ := []any{map[string]any{"name": "main", "apiKey": "k", "sharedSecretKey": "s", "processes": []string{"identity"}}}
		register := func(host string) (endpoint, evidence, baseURL int) {
			u := "https://" + host + ":8443/x"
			endpoint = e.Call(t, "POST", "/core/webhooks/endpoints", e.Tok, "", map[string]any{"url": u, "eventTypes": []string{"core."}}).Status
			user := e.User // a user's next check waits for its last: one user per accepted link
			if evidence = e.Create(e.Tok, user, e2e.SeedKYC(u+"/e.zip")).Status; evidence == 202 {
				e.User = e.NewUser(uuid.NewString() + "@sandbox.example")
			}
			baseURL = e.Call(t, "PUT", "/kyc-connector/veriff/config", e.Tok, "", map[string]any{"baseUrl": u, "integrations": integ}).Status
			return
		}
		for _, h := range []string{"10.0.1.1", "192.168.1.10", "[fd00::1]", "172.16.0.1", "[64:ff9b::a00:101]"} {
			if ep, ev, base := register(h); ep != 400 || ev != 400 || base != 400 {
				t.Errorf("%s in sandbox mode: endpoint %d, evidence link %d, base URL %d; want 400 each", h, ep, ev, base)
			}
		}
		for _, h := range []string{"10.0.0.1", "[fd00:1::1]", "127.0.0.1", "[::1]"} {
			if ep, ev, base := register(h); ep != 201 || ev != 202 || base != 200 {
				t.Errorf("%s in sandbox mode, allowed: endpoint %d, evidence link %d, base URL %d; want 201, 202, 200", h, ep, ev, base)
			}
		}
	})
}
