package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/webhook"
)

// Webhooks is the webhook service: endpoints and the pull feed.
type Webhooks interface {
	CreateEndpoint(ctx context.Context, tenantID string, req webhook.EndpointRequest) (*kycd.WebhookEndpoint, string, error)
	UpdateEndpoint(ctx context.Context, tenantID, id string, req webhook.EndpointRequest) (*kycd.WebhookEndpoint, error)
	RotateSecret(ctx context.Context, tenantID, id string, overlap time.Duration) (*kycd.WebhookEndpoint, string, error)
	Replay(ctx context.Context, tenantID, endpointID string, since time.Time, afterEventID string) (int, error)
	Resend(ctx context.Context, tenantID, endpointID, deliveryID string) (string, error)
	SendTest(ctx context.Context, tenantID, endpointID string) (string, error)
	Events(ctx context.Context, tenantID string, after int64, limit int) ([]*kycd.Event, []int64, error)
}

// endpointView is an endpoint as the API shows it (its secret only when
// it was just made).
type endpointView struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Description    string    `json:"description"`
	EventTypes     []string  `json:"eventTypes"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabledReason,omitempty"`
	Bundle         bool      `json:"bundle"`
	Secret         string    `json:"secret,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func viewEndpoint(e *kycd.WebhookEndpoint, secret string) endpointView {
	return endpointView{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, Bundle: e.Bundle, Secret: secret, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

type endpointRequest struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"eventTypes"`
	Enabled     *bool    `json:"enabled"`
	Bundle      *bool    `json:"bundle"`
}

func (r endpointRequest) service() webhook.EndpointRequest {
	return webhook.EndpointRequest{URL: r.URL, Description: r.Description, EventTypes: r.EventTypes, Enabled: r.Enabled, Bundle: r.Bundle}
}

func tenantOf(r *http.Request) string { return principalFrom(r.Context()).TenantID }

func (s *Server) handleCreateEndpoint() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[endpointRequest](s, w, r, "create-webhook-endpoint-request")
		if err != nil {
			return err
		}
		e, secret, err := s.webhooks.CreateEndpoint(r.Context(), tenantOf(r), req.service())
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"endpoint": viewEndpoint(e, secret)})
		return nil
	}
}

func (s *Server) handleListEndpoints() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.webhookStore.FindWebhookEndpoints(r.Context(), tenantOf(r))
		if err != nil {
			return err
		}
		views := make([]endpointView, 0, len(list))
		for _, e := range list {
			views = append(views, viewEndpoint(e, ""))
		}
		encode(w, http.StatusOK, map[string]any{"endpoints": views})
		return nil
	}
}

func (s *Server) handleGetEndpoint() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		e, err := s.webhookStore.FindWebhookEndpoint(r.Context(), tenantOf(r), id)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"endpoint": viewEndpoint(e, "")})
		return nil
	}
}

func (s *Server) handleUpdateEndpoint() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		req, err := decode[endpointRequest](s, w, r, "update-webhook-endpoint-request")
		if err != nil {
			return err
		}
		e, err := s.webhooks.UpdateEndpoint(r.Context(), tenantOf(r), id, req.service())
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"endpoint": viewEndpoint(e, "")})
		return nil
	}
}

func (s *Server) handleDeleteEndpoint() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		if err := s.webhookStore.DeleteWebhookEndpoint(r.Context(), tenantOf(r), id, kycd.EndpointDeleted(id)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleRotateSecret() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		req, err := decode[struct {
			OverlapSeconds *int `json:"overlapSeconds"`
		}](s, w, r, "rotate-webhook-secret-request")
		if err != nil {
			return err
		}
		overlap := 24 * time.Hour
		if req.OverlapSeconds != nil {
			overlap = time.Duration(*req.OverlapSeconds) * time.Second
		}
		e, secret, err := s.webhooks.RotateSecret(r.Context(), tenantOf(r), id, overlap)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"endpoint": viewEndpoint(e, secret)})
		return nil
	}
}

// handleListEvents is the pull feed: the tenant's events in the order they
// were dispatched, after a cursor (the last event's `next`).
func (s *Server) handleListEvents() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := queryParams{q: r.URL.Query()}
		after, limit := p.int("after", 0, 0, 0), int(p.int("limit", 100, 1, 1000))
		if err := p.err(); err != nil {
			return err
		}
		events, seqs, err := s.webhooks.Events(r.Context(), tenantOf(r), after, limit)
		if err != nil {
			return err
		}
		// Each event exactly as a webhook delivery carries it.
		out := make([]json.RawMessage, 0, len(events))
		for _, ev := range events {
			body, err := webhook.EnvelopeFor(ev.Type, "").Body(ev)
			if err != nil {
				return err
			}
			out = append(out, body)
		}
		next := strconv.FormatInt(after, 10)
		if len(seqs) > 0 {
			next = strconv.FormatInt(seqs[len(seqs)-1], 10)
		}
		encode(w, http.StatusOK, map[string]any{"events": out, "next": next})
		return nil
	}
}

// deliveryView is a delivery in an endpoint's log.
type deliveryView struct {
	ID          string    `json:"id"`
	EventID     string    `json:"eventId"`
	EventType   string    `json:"eventType"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	LastAttempt any       `json:"lastAttempt,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func (s *Server) handleListDeliveries() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tenant := tenantOf(r)
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		if _, err := s.webhookStore.FindWebhookEndpoint(r.Context(), tenant, id); err != nil {
			return err
		}
		p := queryParams{q: r.URL.Query()}
		limit := int(p.int("limit", 50, 1, 500))
		if err := p.err(); err != nil {
			return err
		}
		list, err := s.webhookStore.FindDeliveries(r.Context(), tenant, id, r.URL.Query().Get("before"), limit)
		if err != nil {
			return err
		}
		views := make([]deliveryView, 0, len(list))
		for _, d := range list {
			v := deliveryView{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
			if d.Attempts > 0 {
				v.LastAttempt = map[string]any{"status": d.LastStatus, "latencyMs": d.LastLatencyMS, "response": d.LastResponse, "error": d.LastError}
			}
			views = append(views, v)
		}
		resp := map[string]any{"deliveries": views}
		if len(list) == limit {
			resp["next"] = list[len(list)-1].ID
		}
		encode(w, http.StatusOK, resp)
		return nil
	}
}

func (s *Server) handleResendDelivery() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		endpoint, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		delivery, err := pathID(r, "deliveryId", "delivery")
		if err != nil {
			return err
		}
		id, err := s.webhooks.Resend(r.Context(), tenantOf(r), endpoint, delivery)
		if err != nil {
			return err
		}
		encode(w, http.StatusAccepted, map[string]any{"delivery": map[string]any{"id": id}})
		return nil
	}
}

func (s *Server) handleReplay() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Since        *time.Time `json:"since"`
			AfterEventID string     `json:"afterEventId"`
		}](s, w, r, "replay-webhook-events-request")
		if err != nil {
			return err
		}
		var since time.Time
		if req.Since != nil {
			since = *req.Since
		}
		n, err := s.webhooks.Replay(r.Context(), tenantOf(r), id, since, req.AfterEventID)
		if err != nil {
			return err
		}
		encode(w, http.StatusAccepted, map[string]any{"deliveries": n})
		return nil
	}
}

func (s *Server) handleSendTest() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		endpoint, err := pathID(r, "endpointId", "webhook-endpoint")
		if err != nil {
			return err
		}
		id, err := s.webhooks.SendTest(r.Context(), tenantOf(r), endpoint)
		if err != nil {
			return err
		}
		encode(w, http.StatusAccepted, map[string]any{"delivery": map[string]any{"id": id}})
		return nil
	}
}
