package sumsub

import (
	"net/http"
	"testing"
)

// Worked examples of Sumsub's request signing ("Authentication",
// docs.sumsub.com; S1 is a public vector).
func TestSign(t *testing.T) {
	for _, c := range []struct {
		name, secret string
		ts           int64
		method, uri  string
		body         string
		want         string
	}{
		{"S1", "api_secret", 1712760187, "POST", "/resources/accessTokens", `{"userId":"1000","levelName":"default","ttl":60}`,
			"260c8893fb0317e8a714ce3bce9c16821649f1e27a49bd7d926fcf23942628c0"},
		{"S2", "Hej2ch71kG2kTd1iIUDZFNsO5C1lh5Gq", 1607551635, "POST", "/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600", "",
			"1e1856be1c1e1ff113e5664acac6b423ffefe04ad42ff36567622ef56f62c4b1"},
		{"S3", "Hej2ch71kG2kTd1iIUDZFNsO5C1lh5Gq", 1607551635, "get", "/resources/applicants/-;externalUserId=user-123/one", "",
			"1bb1212f32f8eb058e67f4f67939dbc9595afaa277421ccf32c4083e6a86ab06"},
		{"S4", "Hej2ch71kG2kTd1iIUDZFNsO5C1lh5Gq", 1607551635, "GET", "/resources/inspections/5b594ade0a975a36c9379e67/resources/1375349600", "",
			"646ca8f256bc942fb3307ea7d791f77a327dae5196c7426c96948b7a81e087ad"},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if got := Sign(c.secret, c.ts, c.method, c.uri, body); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// SignRequest signs the URI as sent, query included.
	r, _ := http.NewRequest("POST", "https://api.sumsub.com/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600", nil)
	SignRequest(r, "app-token", "Hej2ch71kG2kTd1iIUDZFNsO5C1lh5Gq", 1607551635, nil)
	if r.Header.Get(HeaderSig) != "1e1856be1c1e1ff113e5664acac6b423ffefe04ad42ff36567622ef56f62c4b1" || r.Header.Get(HeaderTS) != "1607551635" || r.Header.Get(HeaderAppToken) != "app-token" {
		t.Errorf("headers: %v", r.Header)
	}
}

// Webhook vectors of Sumsub's "Webhooks" documentation (docs.sumsub.com;
// W1 is a public vector).
func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"applicantId":"5cb56e8e0a975a35f333cb83","type":"applicantReviewed"}`)
	for _, c := range []struct {
		name, secret, alg, digest string
		body                      []byte
	}{
		{"W1", "SoMe_SeCrEt_KeY", "HMAC_SHA1_HEX", "f6e92ffe371718694d46e28436f76589312df8db", []byte("someText")},
		{"W2", "SoMe_SeCrEt_KeY", "HMAC_SHA256_HEX", "7f3beedce7529616a9d6bba59dc1b054a7247cef67f6acff2600864399f47fe0", []byte("someText")},
		{"W3", "webhook-secret", "HMAC_SHA256_HEX", "64fb5bbbf0e22c666b5922c9968dbd40880c433cee5b565899c850f369155dbe", body},
		{"W3 default alg", "webhook-secret", "", "64FB5BBBF0E22C666B5922C9968DBD40880C433CEE5B565899C850F369155DBE", body},
		{"W4", "webhook-secret", "HMAC_SHA512_HEX", "d439fb65337cedc97f9ebc2205e8ae8226b48e7b897d4e8865d1fa8387661ee5a9cedbe35276f91b8f4733ca0f7714caf6a0f165ea7a23eabb75cb05a14cb104", body},
	} {
		if err := VerifyWebhook(c.secret, c.alg, c.digest, c.body); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := VerifyWebhook("webhook-secret", "HMAC_SHA256_HEX", "64fb5bbbf0e22c666b5922c9968dbd40880c433cee5b565899c850f369155dbe", append(body, ' ')); err != ErrBadSignature {
		t.Errorf("altered body: %v", err)
	}
	if err := VerifyWebhook("webhook-secret", "MD5", "x", body); err == nil {
		t.Error("unknown algorithm accepted")
	}
}
