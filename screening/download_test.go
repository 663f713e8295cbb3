package screening_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/netguard"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestDownloadGuarded: a list download goes through the SSRF guard: a
// loopback list server is never reached in any spelling (IPv4, and every IPv6
// form that carries the IPv4 address), and no version is recorded.
func TestDownloadGuarded(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintln(w, `{"id":"W1","type":"person","names":[{"full":"Zebulon Quartermaine","kind":"primary"}]}`)
	}))
	t.Cleanup(srv.Close)
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	b := netip.MustParseAddr("127.0.0.1").As4()
	hosts := []string{"127.0.0.1", "localhost"}
	for _, f := range []string{"::ffff:%02x%02x:%02x%02x", "::%02x%02x:%02x%02x", "::ffff:0:%02x%02x:%02x%02x", "2002:%02x%02x:%02x%02x::1",
		"64:ff9b::%02x%02x:%02x%02x"} {
		hosts = append(hosts, "["+fmt.Sprintf(f, b[0], b[1], b[2], b[3])+"]")
	}
	d := storetest.Databases(t)[0]
	clock := mock.NewClock(time.Now())
	f := storetest.Open(t, d, clock)
	sources := map[string]string{}
	for i, h := range hosts {
		sources[fmt.Sprintf("watch-%d", i)] = "http://" + net.JoinHostPort(h, port) + "/watch.jsonl"
		if h[0] == '[' {
			sources[fmt.Sprintf("watch-%d", i)] = "http://" + h + ":" + port + "/watch.jsonl"
		}
	}
	svc := newServiceWith(t, f, clock, sources, netguard.Policy{}.Client(5*time.Second, netguard.FollowRedirects))
	for name, u := range sources {
		if _, err := svc.Download(context.Background(), name); err == nil {
			t.Errorf("%s (%s) was downloaded", name, u)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback list server was reached %d times", n)
	}
	if vs, err := svc.Lists(context.Background()); err != nil || len(vs) != 0 {
		t.Fatalf("versions after refused downloads: %v %v", vs, err)
	}
	// Allowed explicitly (an operator's internal mirror), the same list is
	// downloaded and imported.
	allowed := newServiceWith(t, f, clock, map[string]string{"watch": srv.URL + "/watch.jsonl"},
		netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}.Client(5*time.Second, netguard.FollowRedirects))
	if res, err := allowed.Download(context.Background(), "watch"); err != nil || !res.Changed || res.Version.Entries != 1 {
		t.Fatalf("an allowed download: %+v %v", res, err)
	}
}
