package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
)

// The known-answer vector of the Standard Webhooks specification.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignKnownAnswer(t *testing.T) {
	h, err := Sign(vectorID, time.Unix(1614265330, 0), []byte(vectorBody), vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("webhook-signature") != vectorSig || h.Get("webhook-id") != vectorID || h.Get("webhook-timestamp") != "1614265330" {
		t.Fatalf("headers: %v", h)
	}
}

// TestSignVerify: what kycd signs, the Standard Webhooks verifier accepts,
// with either secret during a rotation; an altered body or an old message
// is refused.
func TestSignVerify(t *testing.T) {
	old, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := NewSecret()
	if CheckSecret(old) != nil || old == cur {
		t.Fatalf("secrets: %q %q", old, cur)
	}
	body := []byte(`{"id":"e1","type":"core.kyc.identity.status-changed","createdAt":"2026-01-01T00:00:00.000Z","data":{"status":"ok","userId":"u1"}}`)
	h, err := Sign("msg_1", time.Now(), body, cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures during a rotation", n)
	}
	for _, s := range []string{cur, old} {
		if err := Verify(s, body, h); err != nil {
			t.Errorf("verify with a rotation secret: %v", err)
		}
	}
	if err := Verify(cur, append(body, ' '), h); err == nil {
		t.Error("an altered body verified")
	}
	stale, _ := Sign("msg_2", time.Now().Add(-time.Hour), body, cur)
	if err := Verify(cur, body, stale); err == nil {
		t.Error("an hour-old message verified")
	}
	for _, bad := range []string{"secret", "whsec_short", "whsec_!!!!"} {
		if CheckSecret(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEnvelopes(t *testing.T) {
	ev := &kycd.Event{ID: "e1", Type: kycd.EventProcessStatusChanged(kycd.ProcessIdentity), CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC),
		Data: map[string]any{"status": "ok", "userId": "u1"}}
	raw, err := Uphold{}.Body(ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"id":"e1","type":"core.kyc.identity.status-changed","createdAt":"2026-01-02T03:04:05.006Z","data":{"status":"ok","userId":"u1"}}` {
		t.Errorf("Uphold envelope: %s", raw)
	}
	raw, _ = Upvest{WebhookID: "wh1"}.Body(&kycd.Event{ID: "e2", Type: "USER_CHECK.PASSED", CreatedAt: ev.CreatedAt, Data: map[string]any{"id": "c1"}})
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m["webhook_id"] != "wh1" || m["created_at"] != "2026-01-02T03:04:05.006Z" || m["object"].(map[string]any)["id"] != "c1" {
		t.Errorf("Upvest envelope: %s", raw)
	}
}
