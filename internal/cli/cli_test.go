package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/netguard"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestShutdownStepNamed: a shutdown that runs out of time says which part
// of kycd did not stop, and stays the deadline's error.
func TestShutdownStepNamed(t *testing.T) {
	t.Parallel()
	if err := shutdownStep("job workers", nil); err != nil {
		t.Errorf("a step that stopped: %v", err)
	}
	err := shutdownStep("job workers", context.DeadlineExceeded)
	if err == nil || err.Error() != "shutdown: job workers: context deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a step past the deadline: %v", err)
	}
}

// TestOutboundClientsGuarded: every outbound HTTP client kycd wires
// (webhook deliveries, evidence downloads, the Sumsub and Veriff API
// clients) refuses at dial time a real loopback listener, however its
// address is spelled; the listener is never reached.
func TestOutboundClientsGuarded(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := fmt.Sprint(srv.Listener.Addr().(*net.TCPAddr).Port)
	b := netip.MustParseAddr("127.0.0.1").As4()
	teredo := netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, 0x41, 0x36, 0xe3, 0x78, 0x80, 0, 0x63, 0xbf, ^b[0], ^b[1], ^b[2], ^b[3]})
	for _, db := range storetest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			getenv := func(name string) string {
				return map[string]string{"KYCD_DATA_DIR": db.DataDir, "KYCD_DATABASE_URL": db.URL, "KYCD_DB_MAX_CONNS": "4"}[name]
			}
			var o options
			fs := newFlags("test", getenv, io.Discard)
			fs.common(&o)
			if err := fs.parse(nil); err != nil {
				t.Fatal(err)
			}
			a, err := openApp(t.Context(), o, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			clients := map[string]*http.Client{
				"webhook deliveries": a.webhooks.HTTP, "evidence downloads": a.checks.HTTP,
				"Sumsub": a.providers[kycd.ProviderSumsub].(*sumsub.Provider).HTTP, "Veriff": a.providers[kycd.ProviderVeriff].(*veriff.Provider).HTTP,
			}
			tried, failed := 0, 0
			for name, c := range clients {
				for _, h := range []string{"::ffff:127.0.0.1", "::7f00:1", "::ffff:0:7f00:1", "2002:7f00:1::1", "64:ff9b::7f00:1", teredo.String(), "127.0.0.1", "localhost"} {
					u := "http://" + net.JoinHostPort(h, port) + "/"
					tried++
					res, err := c.Get(u)
					if err == nil {
						res.Body.Close()
					}
					if !errors.Is(err, netguard.ErrBlocked) {
						failed++
						t.Errorf("%s, GET %s: %v, want netguard.ErrBlocked", name, u, err)
					}
				}
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the loopback listener was reached %d times", n)
			}
			t.Logf("SSRF, outbound clients at dial time: %d cases (%d clients), %d failed, the loopback listener reached %d times", tried, len(clients), failed, hits.Load())
		})
	}
}
