package veriff

import (
	"net/http"
	"testing"
)

const secret = "abcdef12-abcd-abcd-abcd-abcdef012345"

// The worked examples of Veriff's documentation ("HMAC Authentication and
// Endpoint Security", devdocs.veriff.com).
func TestSign(t *testing.T) {
	v1 := `{"verification":{"callback":"https://veriff.com","person":{"firstName":"John","lastName":"Smith"},"document":{"type":"PASSPORT","country":"EE"},"vendorData":"unique id of a user","timestamp":"2016-05-19T08:30:25.597Z"}}`
	if got := Sign(secret, []byte(v1)); got != "6af6d95822e19e9cc707aec55395d8d363ba2c7bc4625bc04ebeca0c7bf8cd67" {
		t.Errorf("V1: %s", got)
	}
	if got := Sign(secret, []byte("aea9ba6d-1b47-47fc-a4fc-f72b6d3584a7")); got != "895cb3fd31139d89aeb7b263682e15479ab57651e70591256ad2c14fde4950dd" {
		t.Errorf("V2: %s", got)
	}
	r, _ := http.NewRequest("GET", "https://stationapi.veriff.com/v1/sessions/aea9ba6d-1b47-47fc-a4fc-f72b6d3584a7/decision", nil)
	SignRequest(r, "api-key", secret, []byte("aea9ba6d-1b47-47fc-a4fc-f72b6d3584a7"))
	if r.Header.Get(HeaderSignature) != "895cb3fd31139d89aeb7b263682e15479ab57651e70591256ad2c14fde4950dd" || r.Header.Get(HeaderAuthClient) != "api-key" {
		t.Errorf("headers: %v", r.Header)
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"id":"f04bdb47-d3be-4b28-b028-a652feb060b5","action":"submitted"}`)
	h := http.Header{}
	h.Set(HeaderVrfSignature, Sign(secret, body))
	h.Set(HeaderVrfAuthClient, "api-key")
	if err := VerifyWebhook(h, body, "old-secret", secret); err != nil {
		t.Errorf("vrf- headers during a rotation: %v", err)
	}
	if AuthClient(h) != "api-key" {
		t.Errorf("auth client: %q", AuthClient(h))
	}
	if err := VerifyWebhook(h, append(body, ' '), secret); err != ErrBadSignature {
		t.Errorf("altered body: %v", err)
	}
	if err := VerifyWebhook(http.Header{}, body, secret); err != ErrBadSignature {
		t.Errorf("no signature: %v", err)
	}
}
