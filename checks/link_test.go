package checks

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/netguard"
)

// TestCheckLink: a download link whose host is, or resolves to, an address
// the guard refuses (in any IPv6 spelling of it) is refused when the check
// is created; a name that does not resolve yet is left to the download.
func TestCheckLink(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "evidence.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		case "rebind.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("::ffff:0:7f00:1")}, nil
		}
		return nil, errors.New("no such host")
	}
	s := New(Config{Guard: netguard.Policy{Lookup: lookup}})
	for link, rule := range map[string]string{
		"https://evidence.example/e.zip":                       "",
		"https://later.example/e.zip":                          "",
		"https://[2a00:1450:4001:81b::200e]/e.zip":             "",
		"https://rebind.example/e.zip":                         "host",
		"https://[::7f00:1]:8443/e.zip":                        "host",
		"https://[2002:7f00:1::1]/e.zip":                       "host",
		"https://[::ffff:0:7f00:1]/e.zip":                      "host",
		"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/e.zip": "host",
		"https://[64:ff9b::a9fe:a9fe]/e.zip":                   "host",
		"https://[fd00:ec2::254]/e.zip":                        "host",
		"https://10.0.0.1/e.zip":                               "host",
		"http://evidence.example/e.zip":                        "scheme",
	} {
		err := s.checkLink(t.Context(), link)
		var e *kycd.Error
		switch {
		case rule == "" && err != nil:
			t.Errorf("%s: %v", link, err)
		case rule != "" && (!errors.As(err, &e) || len(e.Violations) != 1 || e.Violations[0].Rule != rule || e.Violations[0].Property != "data_download_link"):
			t.Errorf("%s: %v, want a %s violation", link, err, rule)
		}
	}
}
