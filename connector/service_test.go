package connector

import (
	"testing"

	"github.com/kycd/kycd"
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
	} {
		s := New(Config{AllowPrivate: c.allowPrivate})
		cfg := &kycd.ConnectorConfig{BaseURL: "https://before.example"}
		v := c.url
		err := s.setBaseURL(cfg, &v)
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
