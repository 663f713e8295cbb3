// Package netguard makes kycd's outbound HTTP safe to point at addresses
// that tenants and end users choose (webhook endpoints, evidence download
// links, provider base URLs, SMS gateways): every connection is checked at
// dial time, on the IP address actually dialed, after DNS resolution, so a
// hostname that resolves (or re-resolves, as in DNS rebinding) to a private,
// loopback, link-local or cloud metadata address is refused, and so is every
// redirect that leads there. CheckHost applies the same judgement when an
// address is registered (a webhook endpoint, an evidence link, a provider's
// base URL). IPv6 addresses that carry an IPv4 address (IPv4-mapped and
// -compatible, SIIT, NAT64, 6to4, Teredo, ISATAP) are judged by what they
// carry too (Embedded). The operator may allow private networks
// (--allow-private-network) or some of them (--allow-network); --sandbox
// allows loopback only.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// ErrBlocked is returned (wrapped) for a connection to a refused address.
var ErrBlocked = errors.New("netguard: address not allowed")

// ErrRedirect is returned (wrapped) for a redirect the client refuses to
// follow: to another scheme than http(s), from https to http, or a sixth.
var ErrRedirect = errors.New("netguard: redirect refused")

// ErrUnresolved is returned (wrapped) by CheckHost for a name that resolves
// to no address.
var ErrUnresolved = errors.New("netguard: host does not resolve")

// Policy says which addresses outbound connections may reach.
type Policy struct {
	// AllowPrivate allows private, loopback and link-local addresses (but
	// never the cloud metadata addresses).
	AllowPrivate bool
	// AllowLoopback allows loopback addresses only (127.0.0.0/8, ::1): the
	// sandbox's own fakes, not the operator's private networks.
	AllowLoopback bool
	// Allow lists networks allowed even when private ones are not (an
	// internal object store the operator trusts); never the metadata
	// addresses.
	Allow []netip.Prefix
	// Lookup resolves a host name for CheckHost (the system resolver when
	// nil); dials always use the system resolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// metadata are the cloud instance metadata endpoints: refused always.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, ...
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// special are ranges that are never public destinations (besides those
// netip names: loopback, private, link-local, multicast, unspecified).
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),   // documentation
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("100:0:0:1::/64"), // dummy prefix
	netip.MustParsePrefix("2001:2::/48"),    // benchmarking
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID (deprecated)
	netip.MustParsePrefix("2001:20::/28"),   // ORCHIDv2
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("3fff::/20"),      // documentation
	netip.MustParsePrefix("5f00::/16"),      // SRv6 SIDs
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use IPv4/IPv6 translation
}

// global is IPv6's global unicast space: an IPv6 address outside it that
// carries no IPv4 address is not a public destination.
var global = netip.MustParsePrefix("2000::/3")

// Carried is an IPv4 address an IPv6 address carries, and the form that
// carries it.
type Carried struct {
	Form string
	Addr netip.Addr
}

// The IPv6 forms that carry an IPv4 address.
var (
	mapped     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped, ::ffff:a.b.c.d
	siit       = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated, ::ffff:0:a.b.c.d
	compatible = netip.MustParsePrefix("::/96")           // IPv4-compatible, ::a.b.c.d (deprecated)
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")  // NAT64 local-use prefix
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4: 2002:a.b.c.d::/48
	teredo     = netip.MustParsePrefix("2001::/32")       // Teredo: the client's address, inverted, in the last 32 bits
)

// Embedded returns the IPv4 addresses an IPv6 address carries: in the
// IPv4-mapped, SIIT, IPv4-compatible, NAT64 (well-known and local-use),
// 6to4, Teredo (the client) and ISATAP forms. A local-use NAT64 address
// may carry its IPv4 address at any of the places RFC 6052 defines for a
// prefix of /48 to /96: each is returned. An IPv4 address carries none.
// Allowed judges an address by itself and by every address it carries.
func Embedded(ip netip.Addr) []Carried {
	ip = ip.WithZone("")
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	v4 := func(i, j, k, l int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[j], b[k], b[l]}) }
	var out []Carried
	switch {
	case mapped.Contains(ip):
		out = append(out, Carried{"IPv4-mapped", v4(12, 13, 14, 15)})
	case siit.Contains(ip):
		out = append(out, Carried{"SIIT", v4(12, 13, 14, 15)})
	case compatible.Contains(ip) && !ip.IsUnspecified() && !ip.IsLoopback():
		out = append(out, Carried{"IPv4-compatible", v4(12, 13, 14, 15)})
	case nat64.Contains(ip):
		out = append(out, Carried{"NAT64", v4(12, 13, 14, 15)})
	case nat64Local.Contains(ip):
		// RFC 6052 section 2.2; bits 64 to 71 (byte 8) are always zero.
		out = append(out, Carried{"NAT64 (/48)", v4(6, 7, 9, 10)}, Carried{"NAT64 (/56)", v4(7, 9, 10, 11)},
			Carried{"NAT64 (/64)", v4(9, 10, 11, 12)}, Carried{"NAT64 (/96)", v4(12, 13, 14, 15)})
	case sixToFour.Contains(ip):
		out = append(out, Carried{"6to4", v4(2, 3, 4, 5)})
	case teredo.Contains(ip):
		out = append(out, Carried{"Teredo", netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})})
	}
	// ISATAP: an interface identifier of 0000:5efe or 0200:5efe (any
	// prefix, 6to4's included) followed by the IPv4 address.
	if (b[8]|0x02) == 0x02 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe {
		out = append(out, Carried{"ISATAP", v4(12, 13, 14, 15)})
	}
	return out
}

// Allowed reports whether a connection to ip is allowed. An IPv6 address
// that carries IPv4 addresses (Embedded) is allowed only when it and every
// address it carries are: ::ffff:0:7f00:1, ::7f00:1, 2002:7f00:1::1 and
// 2001:0:4136:e378:8000:63bf:80ff:fffe are all loopback.
func (p Policy) Allowed(ip netip.Addr) error {
	// A zone says which interface, not where to: netip's prefixes never
	// contain a zoned address, so judge the address without it.
	ip = ip.WithZone("").Unmap()
	carried := Embedded(ip)
	all := append([]netip.Addr{ip}, addrs(carried)...)
	for i, a := range all {
		if err := never(a, i > 0); err != nil {
			return via(err, ip, carried, i)
		}
	}
	if p.AllowPrivate || p.allowListed(ip) || (p.AllowLoopback && ip.IsLoopback()) {
		return nil
	}
	if err := private(ip, len(carried) > 0); err != nil {
		return err
	}
	for i, c := range carried {
		if p.allowListed(c.Addr) {
			continue
		}
		if err := private(c.Addr, false); err != nil {
			return via(err, ip, carried, i+1)
		}
	}
	return nil
}

func addrs(cs []Carried) []netip.Addr {
	out := make([]netip.Addr, len(cs))
	for i, c := range cs {
		out[i] = c.Addr
	}
	return out
}

// via says which carried address made ip refused (i is its index in ip
// followed by the carried addresses; 0 is ip itself).
func via(err error, ip netip.Addr, carried []Carried, i int) error {
	if i == 0 {
		return err
	}
	c := carried[i-1]
	return fmt.Errorf("%w (%s carries it as %s)", err, ip, c.Form)
}

func (p Policy) allowListed(ip netip.Addr) bool {
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return true
		}
	}
	return false
}

// never refuses what no policy allows: metadata addresses, and addresses
// that are no destination at all (a carried address that is none is
// refused by private instead: the places a local-use NAT64 address may
// carry its IPv4 address in are mostly zeros).
func never(ip netip.Addr, carried bool) error {
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%w: %s is a cloud metadata address", ErrBlocked, ip)
		}
	}
	if !carried && notDestination(ip) {
		return fmt.Errorf("%w: %s is not a destination", ErrBlocked, ip)
	}
	return nil
}

func notDestination(ip netip.Addr) bool {
	return !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast()
}

// private refuses loopback, private, link-local and reserved addresses
// (allowed when the operator allows private networks). carries says the
// address carries an IPv4 address, which is then what judges it.
func private(ip netip.Addr, carries bool) error {
	switch {
	case notDestination(ip):
		return fmt.Errorf("%w: %s is not a destination", ErrBlocked, ip)
	case ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a private, loopback or link-local address", ErrBlocked, ip)
	}
	for _, s := range special {
		if s.Contains(ip) {
			return fmt.Errorf("%w: %s is in the reserved range %s", ErrBlocked, ip, s)
		}
	}
	if ip.Is6() && !global.Contains(ip) && !carries {
		return fmt.Errorf("%w: %s is outside IPv6's global unicast space", ErrBlocked, ip)
	}
	return nil
}

// Local reports whether the policy allows addresses that are not public
// (private networks, or loopback only): a test or sandbox setup, where
// plain http URLs are accepted too.
func (p Policy) Local() bool { return p.AllowPrivate || p.AllowLoopback }

// CheckHost checks, at registration, a host kycd is asked to connect to
// later (a URL's Hostname: a name or an IP literal): it refuses (ErrBlocked)
// a host that is, or resolves to, an address the policy refuses, and
// returns ErrUnresolved for a name that resolves to nothing. Each dial is
// checked again (DNS can change).
func (p Policy) CheckHost(ctx context.Context, host string) error {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lookup := p.Lookup
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if addrs, err = lookup(ctx, host); err != nil || len(addrs) == 0 {
			return fmt.Errorf("%w: %s", ErrUnresolved, host)
		}
	}
	for _, a := range addrs {
		if err := p.Allowed(a); err != nil {
			return err
		}
	}
	return nil
}

// Dialer returns a dialer that refuses connections the policy does not allow.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		// Control runs for each address actually dialed, after resolution.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlocked, address)
			}
			return p.Allowed(ap.Addr())
		},
	}
}

// Transport returns an HTTP transport whose every connection goes through
// the policy's dialer. It ignores proxy settings from the environment: a
// proxy would dial on kycd's behalf, past the check.
func (p Policy) Transport() *http.Transport {
	d := p.Dialer()
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
		// Provider APIs are few hosts that many workers call at once.
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Redirects says whether a client follows redirects.
type Redirects int

const (
	// NoRedirects returns the redirect response itself (webhook delivery).
	NoRedirects Redirects = iota
	// FollowRedirects follows up to five, each dial checked again.
	FollowRedirects
)

// Client returns an HTTP client with the policy's transport, a timeout for
// the whole exchange, and the given redirect behaviour.
func (p Policy) Client(timeout time.Duration, r Redirects) *http.Client {
	c := &http.Client{Transport: p.Transport(), Timeout: timeout}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if r == NoRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) >= 5 {
			return fmt.Errorf("%w: more than 5 redirects", ErrRedirect)
		}
		if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
			return fmt.Errorf("%w: to a %q URL", ErrRedirect, req.URL.Scheme)
		}
		if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
			return fmt.Errorf("%w: from https to %s", ErrRedirect, req.URL.Scheme)
		}
		return nil
	}
	return c
}

// RetryAfter reads an answer's Retry-After (seconds or an HTTP date); a
// minute when absent or unreadable. Provider calls and webhook deliveries
// both wait by it.
func RetryAfter(v string, now time.Time) time.Duration {
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return time.Minute
}
