package netguard

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	strict, open := Policy{}, Policy{AllowPrivate: true}
	for _, c := range []struct {
		ip           string
		strict, open bool
	}{
		{"93.184.216.34", true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"192.168.1.1", false, true},
		{"fc00::1", false, true},
		{"169.254.1.1", false, true},
		{"fe80::1", false, true},
		{"169.254.169.254", false, false},
		{"fd00:ec2::254", false, false},
		{"::ffff:127.0.0.1", false, true},
		{"::ffff:169.254.169.254", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of the metadata address
		{"64:ff9b::7f00:1", false, true},     // NAT64 of loopback
		{"0.0.0.0", false, false},
		{"100.64.0.1", false, true},
		{"224.0.0.1", false, false},
		{"198.51.100.7", false, true},
	} {
		ip := netip.MustParseAddr(c.ip)
		if got := strict.Allowed(ip) == nil; got != c.strict {
			t.Errorf("strict %s: allowed=%v, want %v", c.ip, got, c.strict)
		}
		if got := open.Allowed(ip) == nil; got != c.open {
			t.Errorf("allow-private %s: allowed=%v, want %v", c.ip, got, c.open)
		}
	}
}

// TestDialTimeChecks: loopback is refused when dialing by address and by
// name (checked after resolution), and through a redirect; allowed when
// private networks are.
func TestDialTimeChecks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/final", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	strict := Policy{}.Client(5*time.Second, FollowRedirects)
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		_, err := strict.Get(u)
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("GET %s: %v, want ErrBlocked", u, err)
		}
	}
	open := Policy{AllowPrivate: true}.Client(5*time.Second, FollowRedirects)
	res, err := open.Get(srv.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "ok" || res.Request.URL.Path != "/final" {
		t.Errorf("followed redirect: %q %s", body, res.Request.URL)
	}
	noRedirects := Policy{AllowPrivate: true}.Client(5*time.Second, NoRedirects)
	res, err = noRedirects.Get(srv.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Errorf("without redirects: %d", res.StatusCode)
	}
}

func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		if (Policy{}).Allowed(ip) == nil && (ip.Unmap().IsLoopback() || ip.Unmap().IsPrivate()) {
			t.Fatalf("%s allowed", s)
		}
	})
}

// Networks the operator allows are reachable although private; the rest
// of the private space and the metadata addresses stay refused.
func TestAllowedNetworks(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32"), netip.MustParsePrefix("169.254.0.0/16")}}
	for ip, ok := range map[string]bool{"127.0.0.2": true, "127.0.0.1": false, "10.0.0.1": false, "169.254.1.1": true, "169.254.169.254": false, "8.8.8.8": true} {
		if err := p.Allowed(netip.MustParseAddr(ip)); (err == nil) != ok {
			t.Errorf("%s: %v", ip, err)
		}
	}
}
