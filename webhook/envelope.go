package webhook

import (
	"encoding/json"
	"time"

	"github.com/kycd/kycd"
)

// Envelope turns an event into the body a surface's clients expect.
type Envelope interface {
	Body(ev *kycd.Event) ([]byte, error)
}

// Uphold is the envelope of the Uphold-compatible surfaces (/core and
// /kyc-connector): {id, type, createdAt, data}.
type Uphold struct{}

// Body implements Envelope.
func (Uphold) Body(ev *kycd.Event) ([]byte, error) {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	return json.Marshal(struct {
		ID        string         `json:"id"`
		Type      string         `json:"type"`
		CreatedAt string         `json:"createdAt"`
		Data      map[string]any `json:"data"`
	}{ev.ID, ev.Type, ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), data})
}

// Upvest is the envelope of the checks surface: {id, created_at, type,
// object, webhook_id}; WebhookID names the endpoint it is delivered to.
type Upvest struct {
	WebhookID string
}

// Body implements Envelope.
func (u Upvest) Body(ev *kycd.Event) ([]byte, error) {
	object := ev.Data
	if object == nil {
		object = map[string]any{}
	}
	return json.Marshal(struct {
		ID        string         `json:"id"`
		CreatedAt string         `json:"created_at"`
		Type      string         `json:"type"`
		Object    map[string]any `json:"object"`
		WebhookID string         `json:"webhook_id"`
	}{ev.ID, ev.CreatedAt.UTC().Format(time.RFC3339Nano), ev.Type, object, u.WebhookID})
}
