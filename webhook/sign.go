// Package webhook is kycd's outbound events: endpoint secrets, the
// Standard Webhooks signature over the exact bytes sent, and the envelope of
// each surface. (Delivery, endpoints and logs build on it.)
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// SecretPrefix starts every signing secret, as Standard Webhooks writes them.
const SecretPrefix = "whsec_"

// NewSecret returns a new signing secret: whsec_ and 32 random bytes in base64.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// ErrSecret is a secret that is not whsec_ followed by base64 of 24 to 64 bytes.
var ErrSecret = errors.New("webhook: a secret is whsec_ followed by base64 of 24 to 64 bytes")

// CheckSecret validates a secret's form.
func CheckSecret(secret string) error {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if !strings.HasPrefix(secret, SecretPrefix) || err != nil || len(raw) < 24 || len(raw) > 64 {
		return ErrSecret
	}
	return nil
}

// Sign returns the Standard Webhooks headers of a message: webhook-id,
// webhook-timestamp and webhook-signature, which carries one v1 signature
// per secret (two while a rotated secret still overlaps), each over
// "id.timestamp.body" with the exact body bytes that are sent.
func Sign(id string, at time.Time, body []byte, secrets ...string) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no secret to sign with")
	}
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, err
		}
		sig, err := wh.Sign(id, at, body)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	return h, nil
}

// Verify checks a received message against a secret, as a receiver does
// (the timestamp must be within five minutes of now).
func Verify(secret string, body []byte, h http.Header) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(body, h)
}
