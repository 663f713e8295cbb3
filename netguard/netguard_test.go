package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
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
		// IPv6 forms that carry an IPv4 address, judged by what they carry.
		{"::7f00:1", false, true},        // IPv4-compatible loopback
		{"::a9fe:a9fe", false, false},    // IPv4-compatible metadata
		{"::a00:1", false, true},         // IPv4-compatible 10.0.0.1
		{"::5db8:d822", true, true},      // IPv4-compatible public
		{"::ffff:0:7f00:1", false, true}, // SIIT loopback
		{"::ffff:0:a9fe:a9fe", false, false},
		{"::ffff:0:5db8:d822", true, true},
		{"::ffff:a00:1", false, true}, // IPv4-mapped 10.0.0.1
		{"::ffff:5db8:d822", true, true},
		{"2002:7f00:1::1", false, true},                        // 6to4 of loopback
		{"2002:a9fe:a9fe::1", false, false},                    // 6to4 of the metadata address
		{"2002:c0a8:101::1", false, true},                      // 6to4 of 192.168.1.1
		{"2002:6440:1::1", false, true},                        // 6to4 of carrier-grade NAT
		{"2002:e000:1::1", false, true},                        // 6to4 of multicast: refused unless private networks are allowed
		{"2002:5db8:d822::1", true, true},                      // 6to4 of a public address
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false, true},  // Teredo, client 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:5601:5601", false, false}, // Teredo, client 169.254.169.254
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", false, true},  // Teredo, client 10.0.0.1
		{"2001:0:4136:e378:8000:63bf:a247:27dd", true, true},   // Teredo, client 93.184.216.34
		{"64:ff9b::a00:1", false, true},                        // NAT64 of 10.0.0.1
		{"64:ff9b::5db8:d822", true, true},                     // NAT64 of a public address
		{"64:ff9b:1::5db8:d822", false, true},                  // local-use NAT64: a local range
		{"64:ff9b:1:abcd::a9fe:a9fe", false, false},            // local-use NAT64 (/96) of the metadata address
		{"64:ff9b:1:a9fe:a9:fe00::", false, false},             // local-use NAT64 (/48) of the metadata address
		{"2001:470:1f0b:1:0:5efe:7f00:1", false, true},         // ISATAP, 127.0.0.1
		{"2001:470:1f0b:1:200:5efe:a9fe:a9fe", false, false},
		{"2001:470:1f0b:1:200:5efe:5db8:d822", true, true},
		// IPv6's own special ranges.
		{"::", false, false},
		{"fe80::1%eth0", false, true},
		{"fd12:3456::1", false, true},
		{"fec0::1", false, true},  // site-local
		{"ff02::1", false, false}, // multicast
		{"ff05::1:3", false, false},
		{"ff01::1", false, false},         // interface-local multicast
		{"2001:db8::1", false, true},      // documentation
		{"2001:db8::1%eth0", false, true}, // zoned: judged without its zone
		{"2002:7f00:1::1%eth0", false, true},
		{"3fff::1", false, true},    // documentation
		{"100::1", false, true},     // discard-only
		{"2001:2::1", false, true},  // benchmarking
		{"2001:20::1", false, true}, // ORCHIDv2
		{"5f00::1", false, true},    // SRv6 SIDs
		{"4000::1", false, true},    // outside global unicast
		{"2a00:1450:4001:81b::200e", true, true},
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

// FuzzAllowed: no spelling of an address (zoned, IPv4-mapped or carried
// in any IPv6 form) is allowed when the address it leads to is loopback,
// private, link-local or metadata; a zone never changes the judgement.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "fe80::1%eth0", "::7f00:1", "2002:7f00:1::1",
		"::ffff:0:7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b:1:a9fe:a9:fe00::", "2001:470:1f0b:1:0:5efe:7f00:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		strict, open := Policy{}, Policy{AllowPrivate: true}
		bad := func(a netip.Addr) bool {
			a = a.WithZone("").Unmap()
			return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() || slices.Contains(metadata, a)
		}
		allowed := strict.Allowed(ip) == nil
		if allowed && bad(ip) {
			t.Fatalf("%s allowed", s)
		}
		for _, c := range Embedded(ip) {
			if allowed && bad(c.Addr) {
				t.Fatalf("%s allowed, but it carries %s (%s)", s, c.Addr, c.Form)
			}
			if slices.Contains(metadata, c.Addr) && open.Allowed(ip) == nil {
				t.Fatalf("%s carries the metadata address %s (%s) and is allowed with private networks", s, c.Addr, c.Form)
			}
		}
		if z := ip.WithZone("eth0"); ip.Is6() && (strict.Allowed(z) == nil) != allowed {
			t.Fatalf("%s and %s judged differently", ip, z)
		}
	})
}

// TestEmbedded: each IPv6 form yields the IPv4 address it carries.
func TestEmbedded(t *testing.T) {
	for s, want := range map[string]string{
		"::ffff:127.0.0.1":                     "IPv4-mapped 127.0.0.1",
		"::ffff:0:7f00:1":                      "SIIT 127.0.0.1",
		"::7f00:1":                             "IPv4-compatible 127.0.0.1",
		"64:ff9b::a9fe:a9fe":                   "NAT64 169.254.169.254",
		"2002:c0a8:101::1":                     "6to4 192.168.1.1",
		"2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo 127.0.0.1",
		"fe80::200:5efe:a00:1":                 "ISATAP 10.0.0.1",
		"64:ff9b:1:a9fe:a9:fe00::":             "NAT64 (/48) 169.254.169.254, NAT64 (/56) 254.169.254.0, NAT64 (/64) 169.254.0.0, NAT64 (/96) 0.0.0.0",
		"::1":                                  "",
		"::":                                   "",
		"127.0.0.1":                            "",
		"2001:db8::1":                          "",
	} {
		var got []string
		for _, c := range Embedded(netip.MustParseAddr(s)) {
			got = append(got, c.Form+" "+c.Addr.String())
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("%s carries %q, want %q", s, strings.Join(got, ", "), want)
		}
	}
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

// TestDialTimeSpellings: at dial time, every spelling of a loopback
// address is refused, on real loopback listeners: by the client (directly
// and through a redirect from an allowed address) and by the dialer the
// mail sender uses. The listeners are real: the same spellings connect
// where the policy allows them.
func TestDialTimeSpellings(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	first := httptest.NewServer(ok) // 127.0.0.1
	defer first.Close()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	second := &httptest.Server{Listener: ln, Config: &http.Server{Handler: ok}}
	second.Start()
	defer second.Close()
	port := func(s *httptest.Server) string { return strconv.Itoa(s.Listener.Addr().(*net.TCPAddr).Port) }
	// spellings of 127.0.0.<last> in every form that carries an IPv4 address.
	spellings := func(last byte) []string {
		v4 := netip.AddrFrom4([4]byte{127, 0, 0, last})
		b := v4.As4()
		var out []string
		for _, f := range []string{"::ffff:%02x%02x:%02x%02x", "::%02x%02x:%02x%02x", "::ffff:0:%02x%02x:%02x%02x", "2002:%02x%02x:%02x%02x::1",
			"64:ff9b::%02x%02x:%02x%02x", "64:ff9b:1:abcd::%02x%02x:%02x%02x", "2001:470:1f0b:1:0:5efe:%02x%02x:%02x%02x"} {
			out = append(out, fmt.Sprintf(f, b[0], b[1], b[2], b[3]))
		}
		teredo := netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, 0x41, 0x36, 0xe3, 0x78, 0x80, 0, 0x63, 0xbf, ^b[0], ^b[1], ^b[2], ^b[3]})
		return append(out, teredo.String())
	}
	get := func(c *http.Client, u string) (string, error) {
		res, err := c.Get(u)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return string(body), err
	}
	strict := Policy{}
	for _, s := range spellings(1) {
		addr := net.JoinHostPort(s, port(first))
		for name, c := range map[string]*http.Client{"following": strict.Client(5*time.Second, FollowRedirects), "not following": strict.Client(5*time.Second, NoRedirects)} {
			if _, err := get(c, "http://"+addr+"/"); !errors.Is(err, ErrBlocked) {
				t.Errorf("client %s redirects, GET %s: %v, want ErrBlocked", name, addr, err)
			}
		}
		if conn, err := strict.Dialer().DialContext(t.Context(), "tcp", addr); !errors.Is(err, ErrBlocked) {
			if conn != nil {
				conn.Close()
			}
			t.Errorf("dial %s: %v, want ErrBlocked", addr, err)
		}
	}
	// Redirects from an allowed address to another spelled in any form.
	allowFirst := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}.Client(5*time.Second, FollowRedirects)
	for _, s := range append(spellings(2), "127.0.0.2") {
		to := "http://" + net.JoinHostPort(s, port(second)) + "/"
		if _, err := get(allowFirst, first.URL+"/?to="+to); !errors.Is(err, ErrBlocked) {
			t.Errorf("redirect to %s: %v, want ErrBlocked", to, err)
		}
	}
	// The listeners answer where the policy allows them.
	open := Policy{AllowPrivate: true}.Client(5*time.Second, FollowRedirects)
	if body, err := get(open, "http://"+net.JoinHostPort("::ffff:127.0.0.1", port(first))+"/"); err != nil || body != "ok" {
		t.Errorf("allowed, [::ffff:127.0.0.1]: %q %v", body, err)
	}
	allowAll := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}}.Client(5*time.Second, FollowRedirects)
	if body, err := get(allowAll, first.URL+"/?to=http://"+net.JoinHostPort("::ffff:127.0.0.2", port(second))+"/"); err != nil || body != "ok" {
		t.Errorf("allowed redirect to [::ffff:127.0.0.2]: %q %v", body, err)
	}
}

// TestCheckHost: registration judges literals and resolved names alike,
// with the same classifier as dials.
func TestCheckHost(t *testing.T) {
	dns := map[string][]netip.Addr{
		"public.example":   {netip.MustParseAddr("93.184.216.34")},
		"mixed.example":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2002:a00:1::1")},
		"compat.example":   {netip.MustParseAddr("::7f00:1")},
		"teredo.example":   {netip.MustParseAddr("2001:0:4136:e378:8000:63bf:80ff:fffe")},
		"v6public.example": {netip.MustParseAddr("2a00:1450:4001:81b::200e")},
	}
	p := Policy{Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := dns[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}}
	for host, want := range map[string]error{
		"public.example": nil, "v6public.example": nil, "93.184.216.34": nil, "2a00:1450:4001:81b::200e": nil,
		"mixed.example": ErrBlocked, "compat.example": ErrBlocked, "teredo.example": ErrBlocked,
		"::7f00:1": ErrBlocked, "2002:7f00:1::1": ErrBlocked, "::ffff:0:7f00:1": ErrBlocked, "fe80::1%eth0": ErrBlocked,
		"64:ff9b::a9fe:a9fe": ErrBlocked, "nowhere.example": ErrUnresolved,
	} {
		if err := p.CheckHost(t.Context(), host); !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", host, err, want)
		}
	}
}

// TestAllowLoopback: the sandbox's policy reaches loopback only: not the
// private networks, not link-local, not metadata, in no spelling that
// carries them; the networks the operator names are allowed besides.
func TestAllowLoopback(t *testing.T) {
	t.Parallel()
	p := Policy{AllowLoopback: true, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true}, {"127.0.0.2", true}, {"::1", true}, {"::ffff:127.0.0.1", true}, {"10.0.0.1", true},
		{"10.0.1.1", false}, {"192.168.1.10", false}, {"172.16.0.1", false}, {"fd00::1", false}, {"fe80::1", false},
		{"169.254.169.254", false}, {"::ffff:192.168.1.10", false}, {"64:ff9b::c0a8:10a", false}, {"0.0.0.0", false},
	} {
		if err := p.Allowed(netip.MustParseAddr(c.addr)); (err == nil) != c.ok {
			t.Errorf("%s: %v, want allowed %v", c.addr, err, c.ok)
		}
	}
	if !p.Local() || (Policy{}).Local() {
		t.Error("Local")
	}
}
