package sumsub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/kycd/kycd"
)

// Webhook is the part of a Sumsub webhook kycd acts on (Sumsub's webhooks
// carry no personal data; kycd reads the applicant through the API).
type Webhook struct {
	ApplicantID    string `json:"applicantId"`
	InspectionID   string `json:"inspectionId"`
	CorrelationID  string `json:"correlationId"`
	ExternalUserID string `json:"externalUserId"`
	Type           string `json:"type"`
	LevelName      string `json:"levelName"`
	ReviewStatus   string `json:"reviewStatus"`
	ReviewResult   struct {
		ReviewAnswer     string `json:"reviewAnswer"`
		ReviewRejectType string `json:"reviewRejectType"`
		ClientComment    string `json:"clientComment"`
	} `json:"reviewResult"`
	CreatedAtMs string `json:"createdAtMs"`
	SandboxMode bool   `json:"sandboxMode"`
}

// ParseWebhook reads a webhook body; an applicant id and a type are required.
func ParseWebhook(body []byte) (*Webhook, error) {
	var w Webhook
	if err := json.Unmarshal(body, &w); err != nil || w.ApplicantID == "" || w.Type == "" {
		return nil, ErrDataInvalid
	}
	return &w, nil
}

// Event returns the webhook as a provider event: its dedupe key is the
// applicant, type and creation time (Sumsub's own advice), and its outcome
// the final verdict of applicantReviewed.
func (w *Webhook) Event() *kycd.ProviderEvent {
	key := w.CreatedAtMs
	if key == "" {
		key = w.CorrelationID
	}
	ev := &kycd.ProviderEvent{Provider: kycd.ProviderSumsub, Key: w.ApplicantID + "|" + w.Type + "|" + key, Type: w.Type,
		Ref: w.ApplicantID, ExternalUserID: w.ExternalUserID, Level: w.LevelName}
	if w.Type == "applicantReviewed" && w.ReviewStatus == "completed" {
		ev.Note = w.ReviewResult.ClientComment
		switch w.ReviewResult.ReviewAnswer {
		case "GREEN":
			ev.Outcome = kycd.OutcomeApproved
		case "RED":
			ev.Outcome = kycd.OutcomeRejected
		}
	}
	return ev
}

// WebhookDigest is the X-Payload-Digest of a body (HMAC_SHA256_HEX), as
// Sumsub (and the sandbox) sign webhooks.
func WebhookDigest(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return strings.ToLower(hex.EncodeToString(m.Sum(nil)))
}
