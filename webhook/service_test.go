package webhook

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/netguard"
)

// TestCheckURL: endpoint URLs that are not https, carry credentials, or
// reach loopback, private, link-local or metadata addresses (in any
// spelling, or through DNS) are refused at registration.
func TestCheckURL(t *testing.T) {
	dns := map[string][]netip.Addr{
		"hooks.example":    {netip.MustParseAddr("93.184.216.34")},
		"internal.example": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")},
		"v6.example":       {netip.MustParseAddr("::1")},
		"6to4.example":     {netip.MustParseAddr("2002:7f00:1::1")},
	}
	s := &Service{Guard: netguard.Policy{Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := dns[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}}}
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example/kycd", true},
		{"https://93.184.216.34/kycd", true},
		{"http://hooks.example/kycd", false},
		{"ftp://hooks.example/kycd", false},
		{"https://user:pw@hooks.example/", false},
		{"https://internal.example/", false},
		{"https://v6.example/", false},
		{"https://127.0.0.1/", false},
		{"https://[::1]/", false},
		{"https://[::ffff:127.0.0.1]/", false},
		{"https://[fe80::1]/", false},
		{"https://169.254.169.254/latest/meta-data", false},
		{"https://192.168.1.10/", false},
		{"https://2130706433/", false}, // 127.0.0.1 as a decimal
		{"https://0177.0.0.1/", false}, // octal
		{"https://0x7f.0.0.1/", false}, // hex
		{"https://6to4.example/", false},
		{"https://[::7f00:1]/x", false},                             // IPv4-compatible
		{"https://[2002:7f00:1::1]/x", false},                       // 6to4
		{"https://[::ffff:0:7f00:1]/x", false},                      // SIIT
		{"https://[64:ff9b::7f00:1]/x", false},                      // NAT64
		{"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", false}, // Teredo
		{"https://[fe80::1%25eth0]/x", false},                       // zoned link-local
		{"https://[2a00:1450:4001:81b::200e]/x", true},
		{"https://unknown.example/", false},
		{"/relative", false},
	} {
		err := s.CheckURL(context.Background(), c.url)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.url, err)
		}
		if err != nil && kycd.ErrorCode(err) != kycd.ERequestInvalid {
			t.Errorf("%s: code %s", c.url, kycd.ErrorCode(err))
		}
	}
	// Where private networks are allowed, http and loopback are too.
	s.Guard.AllowPrivate = true
	if err := s.CheckURL(context.Background(), "http://127.0.0.1:8080/hook"); err != nil {
		t.Errorf("loopback with private networks allowed: %v", err)
	}
	if err := s.CheckURL(context.Background(), "https://169.254.169.254/"); err == nil {
		t.Error("a metadata address is refused always")
	}
}

// TestSchedule: retries follow the schedule (Standard Webhooks' example,
// about three days in all), then stop.
func TestSchedule(t *testing.T) {
	s := &Service{}
	var total time.Duration
	n := 0
	for attempt := 1; ; attempt++ {
		d, ok := s.NextRetry(attempt)
		if !ok {
			break
		}
		total += d
		n++
	}
	if first, _ := s.NextRetry(1); first != 5*time.Second || n != len(DefaultSchedule) || total < 60*time.Hour || total > 80*time.Hour {
		t.Errorf("%d retries over %s", n, total)
	}
	s.Schedule = []time.Duration{time.Millisecond}
	if _, ok := s.NextRetry(2); ok {
		t.Error("a retry past a custom schedule")
	}
}

// TestSubscribes: exact names and prefixes ending with a dot.
func TestSubscribes(t *testing.T) {
	e := &kycd.WebhookEndpoint{EventTypes: []string{"core.kyc.", "core.user.created"}}
	for typ, want := range map[string]bool{"core.kyc.identity.status-changed": true, "core.user.created": true,
		"core.user.deleted": false, "core.kycx": false, "kyc-connector.sumsub.ingestion.created": false} {
		if e.Subscribes(typ) != want {
			t.Errorf("%s: %v", typ, !want)
		}
	}
	at := time.Now()
	past, future := at.Add(-time.Hour), at.Add(time.Hour)
	e.Secrets = []kycd.WebhookSecret{{Secret: "new"}, {Secret: "old", ExpiresAt: &future}, {Secret: "gone", ExpiresAt: &past}}
	if got := e.ActiveSecrets(at); len(got) != 2 || got[0] != "new" || got[1] != "old" {
		t.Errorf("active secrets: %v", got)
	}
}
