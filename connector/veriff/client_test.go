package veriff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycd/kycd/netguard"
)

const (
	session = "12df6045-3846-3e45-946a-14fa6136d78b"
	apiKey  = "api-key"
)

// decisionJSON is Veriff's documented approved decision, trimmed.
const decisionJSON = `{"status": "success", "verification": {"id": "12df6045-3846-3e45-946a-14fa6136d78b",
 "attemptId": "00bca969-b53a-4fad-b065-874d41a7b2b8", "code": 9001, "status": "approved", "reason": null, "reasonCode": null,
 "person": {"firstName": "SARAH", "lastName": "MORGAN", "dateOfBirth": "1967-03-30", "gender": null, "idNumber": null,
   "addresses": [{"fullAddress": "1234 Snowy Ridge Road, Indiana, 56789 USA", "parsedAddress": {"city": null, "state": "Indiana", "street": "1234 Snowy Ridge Road", "country": "USA", "postcode": "56789", "houseNumber": "null"}}]},
 "document": {"type": "DRIVERS_LICENSE", "number": "MORGA753116SM9IJ", "country": "GB", "validFrom": null, "validUntil": "2022-04-20"},
 "vendorData": "12345678", "decisionTime": "2019-11-06T07:18:36.916Z", "riskLabels": [], "newFieldVeriffAdded": {"x": 1}},
 "technicalData": {"ip": "186.153.67.122"}}`

// fake is a Veriff API that checks signatures like the real one.
func fake(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, id string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		id := parts[2] // /v1/sessions/{id}/... or /v1/media/{id}
		if r.Header.Get(HeaderAuthClient) != apiKey || r.Header.Get(HeaderSignature) != Sign(secret, []byte(id)) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"status": "fail", "code": "1102", "message": "Mandatory parameters are missing from the request."}`)
			return
		}
		handler(w, r, id)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDecisionAndMedia(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
	srv := fake(t, func(w http.ResponseWriter, r *http.Request, id string) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/decision"):
			io.WriteString(w, decisionJSON)
		case strings.HasSuffix(r.URL.Path, "/media"):
			io.WriteString(w, `{"status": "success", "images": [{"id": "d69a07cf-4434-4d36-be6c-d22af7dc01fb", "context": "document-front", "mimetype": "image/jpeg", "size": "245760"}], "videos": []}`)
		default:
			w.Header().Set("Content-Type", "image/jpeg") // the header lies; the bytes decide
			w.Write(png)
		}
	})
	c := NewClient(srv.URL, apiKey, secret, srv.Client())
	d, err := c.Decision(context.Background(), session)
	if err != nil {
		t.Fatal(err)
	}
	v := d.Verification
	if v == nil || v.Status != "approved" || v.Code != 9001 || *v.Person.FirstName != "SARAH" || *v.Document.Number != "MORGA753116SM9IJ" ||
		*v.Person.Addresses[0].ParsedAddress.Country != "USA" || v.Person.Gender != nil {
		t.Fatalf("decision: %+v", v)
	}
	m, err := c.Media(context.Background(), session)
	if err != nil || len(m.Images) != 1 || m.Images[0].Size.String() != "245760" {
		t.Fatalf("media: %+v %v", m, err)
	}
	rc, ct, err := c.Download(context.Background(), m.Images[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || ct != "image/png" || !bytes.Equal(body, png) {
		t.Fatalf("download: %q %v", ct, err)
	}
	c.MaxMediaBytes = 10
	if _, _, err := c.Download(context.Background(), m.Images[0].ID); !errors.Is(err, ErrMediaTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	// A wrong secret: Veriff answers 401, a client error.
	bad := NewClient(srv.URL, apiKey, "wrong", srv.Client())
	var ce *ClientError
	if _, err := bad.Decision(context.Background(), session); !errors.As(err, &ce) || ce.Status != 401 || ce.Code != "1102" {
		t.Errorf("bad signature: %v", err)
	}
}

func TestErrorsAndRetries(t *testing.T) {
	var calls atomic.Int32
	srv := fake(t, func(w http.ResponseWriter, r *http.Request, id string) {
		n := calls.Add(1)
		switch id {
		case "flaky":
			if n < 3 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			io.WriteString(w, `{"status": "success", "verification": null}`)
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "busy":
			w.Header().Set("Retry-After", "42")
			w.WriteHeader(http.StatusTooManyRequests)
		case "garbled":
			io.WriteString(w, `{"status": "success", "verification": {"code": "not a number"`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"status": "fail", "code": "1818", "message": "Session not found"}`)
		}
	})
	c := NewClient(srv.URL, apiKey, secret, srv.Client())
	c.Backoff = time.Millisecond
	ctx := context.Background()
	if d, err := c.Decision(ctx, "flaky"); err != nil || d.Verification != nil {
		t.Errorf("retried server errors: %+v %v", d, err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3", calls.Load())
	}
	calls.Store(0)
	if _, err := c.Decision(ctx, "down"); err == nil || calls.Load() != 3 {
		t.Errorf("persistent server error: %v after %d calls", err, calls.Load())
	}
	var rl *RateLimited
	if _, err := c.Decision(ctx, "busy"); !errors.As(err, &rl) || rl.RetryAfter != 42*time.Second {
		t.Errorf("429: %v", err)
	}
	if _, err := c.Decision(ctx, "garbled"); !errors.Is(err, ErrDataInvalid) {
		t.Errorf("malformed JSON: %v", err)
	}
	var ce *ClientError
	calls.Store(0)
	if _, err := c.Decision(ctx, "missing"); !errors.As(err, &ce) || ce.Status != 404 || calls.Load() != 1 {
		t.Errorf("404 (not retried): %v after %d calls", err, calls.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	retryAfter := netguard.RetryAfter
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"5": 5 * time.Second, "": time.Minute, "soon": time.Minute,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}
