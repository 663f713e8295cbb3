package veriff

import (
	"errors"
	"net/http"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// TestWebhookEvents: decision and event webhooks become events with the
// dedupe key Veriff advises; X-AUTH-CLIENT picks the integration whose
// secret must have signed the body.
func TestWebhookEvents(t *testing.T) {
	decision := []byte(`{"status":"success","verification":{"id":"12df6045-3846-3e45-946a-14fa6136d78b","code":9001,"status":"approved","vendorData":"user-1","decisionTime":"2019-11-06T07:18:36.916Z","person":{"firstName":"SARAH"}}}`)
	event := []byte(`{"id":"f04bdb47-d3be-4b28-b028-a652feb060b5","attemptId":"e30122d1","feature":"selfid","code":7002,"action":"submitted","vendorData":"QWE123"}`)
	w, err := ParseWebhook(decision)
	if err != nil {
		t.Fatal(err)
	}
	if ev := w.Event("main"); ev.Key != "12df6045-3846-3e45-946a-14fa6136d78b|approved|2019-11-06T07:18:36.916Z" || ev.Outcome != kycd.OutcomeApproved ||
		ev.ExternalUserID != "user-1" || ev.Integration != "main" {
		t.Errorf("decision: %+v", ev)
	}
	w, err = ParseWebhook(event)
	if err != nil {
		t.Fatal(err)
	}
	if ev := w.Event("main"); ev.Key != "f04bdb47-d3be-4b28-b028-a652feb060b5|submitted|e30122d1" || ev.Outcome != "" || ev.Type != "submitted" {
		t.Errorf("event: %+v", ev)
	}
	if _, err := ParseWebhook([]byte(`{"status":"success"}`)); !errors.Is(err, ErrDataInvalid) {
		t.Errorf("empty: %v", err)
	}
	cfg := &kycd.ConnectorConfig{Integrations: []kycd.VeriffIntegration{{Name: "main", APIKey: "key-1", SharedSecretKey: "secret-1"},
		{Name: "poa", APIKey: "key-2", SharedSecretKey: "secret-2"}}}
	h := http.Header{}
	h.Set(HeaderAuthClient, "key-2")
	h.Set(HeaderSignature, Sign("secret-2", decision))
	p := &Provider{}
	if ev, err := p.Webhook(cfg, h, decision); err != nil || ev.Integration != "poa" {
		t.Errorf("signed: %+v %v", ev, err)
	}
	h.Set(HeaderAuthClient, "key-1")
	if _, err := p.Webhook(cfg, h, decision); !errors.Is(err, connector.ErrBadSignature) {
		t.Errorf("another integration's secret: %v", err)
	}
}

// FuzzParseWebhook: any body either parses into an event or is
// ErrDataInvalid; nothing panics.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"status":"success","verification":{"id":"x","status":"approved"}}`))
	f.Add([]byte(`{"id":"x","action":"started"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrDataInvalid) {
				t.Fatal(err)
			}
			return
		}
		if ev := w.Event("main"); ev.Ref == "" {
			t.Fatalf("event without a reference: %+v", ev)
		}
	})
}
