package veriff

import (
	"encoding/json"

	"github.com/kycd/kycd"
)

// Webhook is the part of a Veriff webhook kycd acts on: a decision webhook
// (its verification) or an event webhook (started, submitted).
type Webhook struct {
	Verification *struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		VendorData   string `json:"vendorData"`
		DecisionTime string `json:"decisionTime"`
	} `json:"verification"`
	// Event webhooks.
	ID         string `json:"id"`
	AttemptID  string `json:"attemptId"`
	Action     string `json:"action"`
	VendorData string `json:"vendorData"`
}

// ParseWebhook reads a webhook body (its personal data is not kept).
func ParseWebhook(body []byte) (*Webhook, error) {
	var w Webhook
	if err := json.Unmarshal(body, &w); err != nil || (w.Verification == nil && (w.ID == "" || w.Action == "")) ||
		(w.Verification != nil && w.Verification.ID == "") {
		return nil, ErrDataInvalid
	}
	return &w, nil
}

// Event returns the webhook as a provider event, deduplicated by session,
// status and decision time (decisions) or session, action and attempt
// (events), as Veriff advises.
func (w *Webhook) Event(integration string) *kycd.ProviderEvent {
	if v := w.Verification; v != nil {
		ev := &kycd.ProviderEvent{Provider: kycd.ProviderVeriff, Key: v.ID + "|" + v.Status + "|" + v.DecisionTime, Type: "decision",
			Ref: v.ID, Integration: integration, ExternalUserID: v.VendorData}
		switch v.Status {
		case "approved":
			ev.Outcome = kycd.OutcomeApproved
		case "declined":
			ev.Outcome = kycd.OutcomeRejected
		}
		return ev
	}
	return &kycd.ProviderEvent{Provider: kycd.ProviderVeriff, Key: w.ID + "|" + w.Action + "|" + w.AttemptID, Type: w.Action,
		Ref: w.ID, Integration: integration, ExternalUserID: w.VendorData}
}
