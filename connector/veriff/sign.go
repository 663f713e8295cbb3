// Package veriff is the KYC Connector's Veriff side: request signing and
// webhook verification as Veriff's API defines them (the client that reads
// sessions, and the mapper to kycd's vocabulary, build on these).
package veriff

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// Headers of requests and webhooks (newer deliveries use the vrf- names).
const (
	HeaderAuthClient       = "X-AUTH-CLIENT"
	HeaderSignature        = "X-HMAC-SIGNATURE"
	HeaderVrfAuthClient    = "vrf-auth-client"
	HeaderVrfSignature     = "vrf-hmac-signature"
	HeaderVrfIntegrationID = "vrf-integration-id"
)

// Sign returns X-HMAC-SIGNATURE: the lowercase hex HMAC-SHA256, keyed with
// the integration's shared secret, of the payload: the raw body of a POST or
// PATCH, the id in the path (session id, media id) of a GET or DELETE.
func Sign(sharedSecret string, payload []byte) string {
	m := hmac.New(sha256.New, []byte(sharedSecret))
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// SignRequest sets the authentication headers of a request whose signed
// payload is payload.
func SignRequest(r *http.Request, apiKey, sharedSecret string, payload []byte) {
	r.Header.Set(HeaderAuthClient, apiKey)
	r.Header.Set(HeaderSignature, Sign(sharedSecret, payload))
	r.Header.Set("Content-Type", "application/json")
}

// ErrBadSignature is a webhook whose signature does not match.
var ErrBadSignature = errors.New("veriff: webhook signature does not match")

// VerifyWebhook checks a webhook's signature (X-HMAC-SIGNATURE, or
// vrf-hmac-signature) over the raw body against each active secret (more
// than one during a rotation).
func VerifyWebhook(h http.Header, body []byte, secrets ...string) error {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		sig = h.Get(HeaderVrfSignature)
	}
	got, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(sig)))
	if err != nil || len(got) == 0 {
		return ErrBadSignature
	}
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			return nil
		}
	}
	return ErrBadSignature
}

// AuthClient returns the API key a webhook names (X-AUTH-CLIENT or
// vrf-auth-client): which integration's secrets to try.
func AuthClient(h http.Header) string {
	if v := h.Get(HeaderAuthClient); v != "" {
		return v
	}
	return h.Get(HeaderVrfAuthClient)
}
