package sumsub

import (
	"errors"
	"net/http"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// TestWebhookEvents: Sumsub's documented payloads become events with the
// dedupe key Sumsub advises and the verdict of applicantReviewed; the
// provider refuses a forged or unsigned webhook.
func TestWebhookEvents(t *testing.T) {
	green := []byte(`{"applicantId":"5cb56e8e0a975a35f333cb83","inspectionId":"5cb56e8e0a975a35f333cb84","correlationId":"req-a260b669","externalUserId":"user-123","levelName":"basic-kyc-level","type":"applicantReviewed","reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed","createdAtMs":"2020-02-21 13:23:19.321"}`)
	red := []byte(`{"applicantId":"5cb744200a975a67ed1798a4","externalUserId":"user-456","type":"applicantReviewed","reviewResult":{"reviewAnswer":"RED","rejectLabels":["FORGERY"],"reviewRejectType":"FINAL"},"reviewStatus":"completed","createdAtMs":"2020-02-21 13:23:19.001"}`)
	pending := []byte(`{"applicantId":"66f1f52c27a518786597c113","type":"applicantPending","reviewStatus":"pending","createdAtMs":"2024-09-23 23:10:24.704"}`)
	for _, c := range []struct {
		body    []byte
		key     string
		outcome string
	}{
		{green, "5cb56e8e0a975a35f333cb83|applicantReviewed|2020-02-21 13:23:19.321", kycd.OutcomeApproved},
		{red, "5cb744200a975a67ed1798a4|applicantReviewed|2020-02-21 13:23:19.001", kycd.OutcomeRejected},
		{pending, "66f1f52c27a518786597c113|applicantPending|2024-09-23 23:10:24.704", ""},
	} {
		w, err := ParseWebhook(c.body)
		if err != nil {
			t.Fatal(err)
		}
		if ev := w.Event(); ev.Key != c.key || ev.Outcome != c.outcome || ev.Ref != w.ApplicantID || ev.ExternalUserID != w.ExternalUserID {
			t.Errorf("event %+v", ev)
		}
	}
	if _, err := ParseWebhook([]byte(`{"type":"applicantReviewed"}`)); !errors.Is(err, ErrDataInvalid) {
		t.Errorf("no applicant: %v", err)
	}
	p := &Provider{}
	cfg := &kycd.ConnectorConfig{WebhookSecret: "webhook-secret"}
	h := http.Header{}
	h.Set(HeaderDigest, WebhookDigest("webhook-secret", green))
	h.Set(HeaderDigestAlg, "HMAC_SHA256_HEX")
	if ev, err := p.Webhook(cfg, h, green); err != nil || ev.Outcome != kycd.OutcomeApproved {
		t.Errorf("signed: %+v %v", ev, err)
	}
	if _, err := p.Webhook(cfg, h, red); !errors.Is(err, connector.ErrBadSignature) {
		t.Errorf("another body: %v", err)
	}
	if _, err := p.Webhook(&kycd.ConnectorConfig{}, h, green); !errors.Is(err, connector.ErrBadSignature) {
		t.Errorf("no webhook secret configured: %v", err)
	}
}

// FuzzParseWebhook: any body either parses into an event or is
// ErrDataInvalid; nothing panics.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"applicantId":"a","type":"applicantReviewed","reviewStatus":"completed","reviewResult":{"reviewAnswer":"GREEN"}}`))
	f.Add([]byte(`{"applicantId":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrDataInvalid) {
				t.Fatal(err)
			}
			return
		}
		if ev := w.Event(); ev.Ref == "" || ev.Key == "" {
			t.Fatalf("event without a reference: %+v", ev)
		}
	})
}
