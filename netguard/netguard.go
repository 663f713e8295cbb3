// Package netguard makes kycd's outbound HTTP safe to point at addresses
// that tenants and end users choose (webhook endpoints, evidence download
// links, provider base URLs, SMS gateways): every connection is checked at
// dial time, on the IP address actually dialed, after DNS resolution, so a
// hostname that resolves (or re-resolves, as in DNS rebinding) to a private,
// loopback, link-local or cloud metadata address is refused, and so is every
// redirect that leads there. The operator may allow private networks
// (--allow-private-network, implied by --sandbox).
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

// Policy says which addresses outbound connections may reach.
type Policy struct {
	// AllowPrivate allows private, loopback and link-local addresses (but
	// never the cloud metadata addresses).
	AllowPrivate bool
	// Allow lists networks allowed even when private ones are not (an
	// internal object store the operator trusts); never the metadata
	// addresses.
	Allow []netip.Prefix
}

// metadata are the cloud instance metadata endpoints: refused always.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, ...
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// special are ranges that are never public destinations.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), // documentation
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Allowed reports whether a connection to ip is allowed.
func (p Policy) Allowed(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(ip) {
		// NAT64: judge the IPv4 address it carries.
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%w: %s is a cloud metadata address", ErrBlocked, ip)
		}
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a destination", ErrBlocked, ip)
	case p.AllowPrivate:
		return nil
	}
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return nil
		}
	}
	switch {
	case ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is a private, loopback or link-local address", ErrBlocked, ip)
	}
	for _, s := range special {
		if s.Contains(ip) {
			return fmt.Errorf("%w: %s is in the reserved range %s", ErrBlocked, ip, s)
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
