package connector

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/netguard"
)

// TestBaseURL: a configuration's baseUrl must be https, unless the operator
// allows private networks (then http too); "" restores the default.
func TestBaseURL(t *testing.T) {
	for _, c := range []struct {
		url          string
		allowPrivate bool
		want         string // "" with ok=false: refused
		ok           bool
	}{
		{"https://api.sumsub.example/", false, "https://api.sumsub.example", true},
		{"http://127.0.0.1:8080/sandbox/sumsub", false, "", false},
		{"http://127.0.0.1:8080/sandbox/sumsub", true, "http://127.0.0.1:8080/sandbox/sumsub", true},
		{"ftp://files.example", true, "", false},
		{"https://user:pw@api.example", false, "", false},
		{"https://api.example?x=1", false, "", false},
		{"not a url", true, "", false},
		{"", false, "", true},
		// Hosts are judged as dials are, in every spelling.
		{"https://[::7f00:1]:8443/x", false, "", false},
		{"https://[2002:7f00:1::1]/x", false, "", false},
		{"https://[::ffff:0:a00:1]/x", false, "", false},
		{"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", false, "", false},
		{"https://[64:ff9b::a9fe:a9fe]/x", true, "", false},
		{"https://internal.example/x", false, "", false},
		{"https://[2a00:1450:4001:81b::200e]/x", false, "https://[2a00:1450:4001:81b::200e]/x", true},
	} {
		lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
			if host == "internal.example" {
				return []netip.Addr{netip.MustParseAddr("fd00::7")}, nil
			}
			return nil, errors.New("no such host")
		}
		s := New(Config{Guard: netguard.Policy{AllowPrivate: c.allowPrivate, Lookup: lookup}})
		cfg := &kycd.ConnectorConfig{BaseURL: "https://before.example"}
		v := c.url
		err := s.setBaseURL(t.Context(), cfg, &v)
		if (err == nil) != c.ok || (c.ok && cfg.BaseURL != c.want) {
			t.Errorf("%q (private %v): %v, base %q", c.url, c.allowPrivate, err, cfg.BaseURL)
		}
		if err != nil && kycd.ErrorCode(err) != kycd.ERequestInvalid {
			t.Errorf("%q: code %s", c.url, kycd.ErrorCode(err))
		}
	}
	if Mask("4e0a1234") != "4e0a****" || Mask("abc") != "****" {
		t.Error("mask")
	}
}
