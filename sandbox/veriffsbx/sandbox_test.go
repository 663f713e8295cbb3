package veriffsbx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kycd/kycd/connector/veriff"
)

const (
	apiKey = "api-key"
	secret = "shared-secret"
)

// TestClientAgainstSandbox: the client reads the sandbox's sessions as it
// would read Veriff's.
func TestClientAgainstSandbox(t *testing.T) {
	sb := New(map[string]string{apiKey: secret})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c := veriff.NewClient(srv.URL, apiKey, secret, srv.Client())
	ctx := context.Background()

	d, err := c.Decision(ctx, Approved)
	if err != nil || d.Verification == nil || d.Verification.Status != "approved" || d.Verification.Code != 9001 ||
		*d.Verification.Person.FirstName != "SARAH" || *d.Verification.Document.Country != "GB" {
		t.Fatalf("approved: %+v %v", d, err)
	}
	if d, err := c.Decision(ctx, Declined); err != nil || d.Verification.Status != "declined" || *d.Verification.ReasonCode != 102 {
		t.Errorf("declined: %+v %v", d, err)
	}
	if d, err := c.Decision(ctx, Undecided); err != nil || d.Verification != nil {
		t.Errorf("undecided: %+v %v", d, err)
	}
	if p, err := c.Person(ctx, Approved); err != nil || *p.LastName != "MORGAN" || *p.Nationality != "GB" {
		t.Errorf("person: %+v %v", p, err)
	}
	m, err := c.Media(ctx, Approved)
	if err != nil || len(m.Images) != 3 {
		t.Fatalf("media: %+v %v", m, err)
	}
	rc, ct, err := c.Download(ctx, m.Images[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || ct != "image/png" || len(body) == 0 {
		t.Fatalf("download: %q %v", ct, err)
	}
	var ce *veriff.ClientError
	if _, err := c.Decision(ctx, "00000000-0000-4000-8000-000000000000"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Errorf("unknown session: %v", err)
	}
	if _, err := veriff.NewClient(srv.URL, apiKey, "wrong-secret", srv.Client()).Decision(ctx, Approved); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := veriff.NewClient(srv.URL, "other-key", secret, srv.Client()).Decision(ctx, Approved); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("unknown integration: %v", err)
	}

	// A session created through the API, declined by its vendorData.
	payload := `{"verification":{"person":{"firstName":"Jane","lastName":"Roe"},"vendorData":"declined"}}`
	req, _ := http.NewRequest("POST", srv.URL+"/v1/sessions", strings.NewReader(payload))
	veriff.SignRequest(req, apiKey, secret, []byte(payload))
	res, err := srv.Client().Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("create session: %v %v", res, err)
	}
	var created struct {
		Verification struct{ ID string } `json:"verification"`
	}
	_ = jsonDecode(res, &created)
	if d, err := c.Decision(ctx, created.Verification.ID); err != nil || d.Verification.Status != "declined" || *d.Verification.Person.LastName != "ROE" {
		t.Errorf("created session: %+v %v", d, err)
	}
}

func jsonDecode(res *http.Response, v any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}
