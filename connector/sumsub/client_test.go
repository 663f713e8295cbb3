package sumsub

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	token  = "sbx:app-token"
	secret = "app-secret"
)

// applicantJSON is the documented approved applicant, trimmed.
const applicantJSON = `{"id": "5cb56e8e0a975a35f333cb83", "inspectionId": "5b594ade0a975a36c9379e67", "externalUserId": "user-123", "type": "individual",
 "info": {"firstName": "CHRISTIAN", "lastName": "SMITH", "dob": "1989-07-16", "country": "CAN",
  "addresses": [{"street": "22 MOUNT STREET", "state": "Ontario", "town": "TORONTO", "postCode": "M5A1L2", "country": "CAN"}],
  "idDocs": [{"idDocType": "PASSPORT", "country": "CAN", "number": "1234567890", "dob": "1989-07-16", "validUntil": "2030-01-01"}]},
 "fixedInfo": {"firstName": "Christian", "gender": "M", "nationality": "CAN"},
 "review": {"levelName": "basic-kyc-level", "reviewStatus": "completed", "reviewResult": {"reviewAnswer": "GREEN"}}, "newField": [1, 2]}`

// fake is a Sumsub API that checks signatures like the real one (and the
// timestamp's freshness).
func fake(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, _ := strconv.ParseInt(r.Header.Get(HeaderTS), 10, 64)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(HeaderAppToken) != token || r.Header.Get(HeaderSig) != Sign(secret, ts, r.Method, r.RequestURI, body) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"description": "Invalid signature", "code": 401, "errorCode": 4003, "errorName": "app-token-signature-mismatch"}`)
			return
		}
		if d := time.Since(time.Unix(ts, 0)); d > time.Minute || d < -time.Minute {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"description": "Request expired", "code": 401, "errorCode": 4004}`)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClient(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	srv := fake(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/resources/applicants/-/import":
			if r.URL.Query().Get("shareToken") != "_act-sbx-share" {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"description": "Invalid share token", "code": 401, "errorCode": 4001}`)
				return
			}
			io.WriteString(w, applicantJSON)
		case strings.HasSuffix(r.URL.Path, "/one") && !strings.Contains(r.URL.Path, "000000000000000000000000"):
			io.WriteString(w, applicantJSON)
		case strings.HasSuffix(r.URL.Path, "/metadata/resources"):
			io.WriteString(w, `{"items": [{"id": "449741312", "idDocDef": {"country": "CAN", "idDocType": "PASSPORT"}, "reviewResult": {"reviewAnswer": "GREEN"}, "deactivated": false}]}`)
		case strings.HasPrefix(r.URL.Path, "/resources/inspections/"):
			w.Header().Set("Content-Type", "image/png; charset=utf-8") // the bytes decide
			w.Write(jpeg)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"description": "Applicant not found", "code": 404}`)
		}
	})
	c := NewClient(srv.URL, token, secret, srv.Client())
	ctx := context.Background()
	a, err := c.Applicant(ctx, "5cb56e8e0a975a35f333cb83")
	if err != nil || a.Review.ReviewResult.ReviewAnswer != "GREEN" || a.Info.IDDocs[0].Number != "1234567890" || a.Info.Addresses[0].Country != "CAN" || a.FixedInfo.Gender != "M" {
		t.Fatalf("applicant: %+v %v", a, err)
	}
	if a, err := c.ImportShareToken(ctx, "_act-sbx-share"); err != nil || a.ID != "5cb56e8e0a975a35f333cb83" {
		t.Errorf("import: %+v %v", a, err)
	}
	var ce *ClientError
	if _, err := c.ImportShareToken(ctx, "expired"); !errors.As(err, &ce) || ce.Status != 401 || ce.ErrorCode != 4001 {
		t.Errorf("bad share token: %v", err)
	}
	imgs, err := c.Images(ctx, a.ID)
	if err != nil || len(imgs) != 1 || imgs[0].ID.String() != "449741312" {
		t.Fatalf("images: %+v %v", imgs, err)
	}
	rc, ct, err := c.DownloadImage(ctx, a.InspectionID, imgs[0].ID.String())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || ct != "image/jpeg" || !bytes.Equal(body, jpeg) {
		t.Errorf("download: %q %v", ct, err)
	}
	if _, err := c.Applicant(ctx, "000000000000000000000000"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Errorf("unknown applicant: %v", err)
	}
	// A wrong secret and a clock far off are 401s.
	if _, err := NewClient(srv.URL, token, "wrong", srv.Client()).Applicant(ctx, a.ID); !errors.As(err, &ce) || ce.ErrorCode != 4003 {
		t.Errorf("wrong secret: %v", err)
	}
	skewed := NewClient(srv.URL, token, secret, srv.Client())
	skewed.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	if _, err := skewed.Applicant(ctx, a.ID); !errors.As(err, &ce) || ce.ErrorCode != 4004 {
		t.Errorf("skewed clock: %v", err)
	}
}

func TestRetriesAndLimits(t *testing.T) {
	var calls atomic.Int32
	srv := fake(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case strings.Contains(r.URL.Path, "flaky") && n < 2:
			w.WriteHeader(http.StatusInternalServerError)
		case strings.Contains(r.URL.Path, "busy"):
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"description": "Too many requests", "code": 429}`)
		case strings.Contains(r.URL.Path, "garbled"):
			io.WriteString(w, `{"id": 5`)
		default:
			io.WriteString(w, applicantJSON)
		}
	})
	c := NewClient(srv.URL, token, secret, srv.Client())
	c.SetBackoff(2, time.Millisecond)
	ctx := context.Background()
	if _, err := c.Applicant(ctx, "flaky"); err != nil || calls.Load() != 2 {
		t.Errorf("retried 500: %v after %d calls", err, calls.Load())
	}
	var rl *RateLimited
	if _, err := c.Applicant(ctx, "busy"); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("429: %v", err)
	}
	if _, err := c.Applicant(ctx, "garbled"); !errors.Is(err, ErrDataInvalid) {
		t.Errorf("malformed JSON: %v", err)
	}
	c.MaxImageBytes = 4
	if _, _, err := c.DownloadImage(ctx, "i", "1"); err == nil {
		t.Error("an image over the cap was accepted")
	}
}
