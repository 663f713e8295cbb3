// Package sumsub is the KYC Connector's Sumsub side: request signing and
// webhook verification as Sumsub's API defines them (the client that reads
// applicants, and the mapper to kycd's vocabulary, build on these).
package sumsub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
)

// Request signing headers.
const (
	HeaderAppToken = "X-App-Token"
	HeaderTS       = "X-App-Access-Ts"
	HeaderSig      = "X-App-Access-Sig"
)

// Sign returns X-App-Access-Sig: the lowercase hex HMAC-SHA256, keyed with
// the app token's secret, of the timestamp (Unix seconds), the upper-case
// method, the request URI exactly as sent (path and query) and the raw body.
func Sign(secret string, ts int64, method, requestURI string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte(strings.ToUpper(method)))
	m.Write([]byte(requestURI))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignRequest sets the three authentication headers of a request whose body
// is body (nil for none).
func SignRequest(r *http.Request, appToken, secret string, ts int64, body []byte) {
	r.Header.Set(HeaderAppToken, appToken)
	r.Header.Set(HeaderTS, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderSig, Sign(secret, ts, r.Method, r.URL.RequestURI(), body))
}

// Webhook signature headers.
const (
	HeaderDigest    = "X-Payload-Digest"
	HeaderDigestAlg = "X-Payload-Digest-Alg"
)

// ErrBadSignature is a webhook whose digest does not match.
var ErrBadSignature = errors.New("sumsub: webhook signature does not match")

// VerifyWebhook checks X-Payload-Digest, the hex HMAC of the raw body keyed
// with the webhook's secret, with the algorithm of X-Payload-Digest-Alg
// (HMAC_SHA256_HEX when absent; HMAC_SHA1_HEX and HMAC_SHA512_HEX too).
func VerifyWebhook(secret, alg, digest string, body []byte) error {
	var h func() hash.Hash
	switch alg {
	case "", "HMAC_SHA256_HEX":
		h = sha256.New
	case "HMAC_SHA512_HEX":
		h = sha512.New
	case "HMAC_SHA1_HEX":
		h = sha1.New
	default:
		return errors.New("sumsub: unknown webhook digest algorithm " + strconv.Quote(alg))
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	want := m.Sum(nil)
	got, err := hex.DecodeString(strings.ToLower(digest))
	if err != nil || !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	return nil
}
