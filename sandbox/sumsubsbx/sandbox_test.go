package sumsubsbx

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/kycd/kycd/connector/sumsub"
)

const (
	token  = "sbx:app-token"
	secret = "app-secret"
)

// TestClientAgainstSandbox: the client reads the sandbox as it reads Sumsub.
func TestClientAgainstSandbox(t *testing.T) {
	srv := httptest.NewServer(New(map[string]string{token: secret}))
	defer srv.Close()
	c := sumsub.NewClient(srv.URL, token, secret, srv.Client())
	ctx := context.Background()

	a, err := c.Applicant(ctx, Green)
	if err != nil || a.Review.ReviewResult.ReviewAnswer != "GREEN" || a.Info.IDDocs[0].IDDocType != "PASSPORT" || a.InspectionID == "" {
		t.Fatalf("green applicant: %+v %v", a, err)
	}
	if a, err := c.Applicant(ctx, Red); err != nil || a.Review.ReviewResult.ReviewRejectType != "FINAL" {
		t.Errorf("red applicant: %+v %v", a, err)
	}
	if a, err := c.Applicant(ctx, Pending); err != nil || a.Review.ReviewStatus != "pending" {
		t.Errorf("pending applicant: %+v %v", a, err)
	}
	imported, err := c.ImportShareToken(ctx, ShareGreen)
	if err != nil || imported.ID == Green || imported.Review.ReviewResult.ReviewAnswer != "GREEN" {
		t.Fatalf("import: %+v %v", imported, err)
	}
	imgs, err := c.Images(ctx, imported.ID)
	if err != nil || len(imgs) != 3 {
		t.Fatalf("images: %+v %v", imgs, err)
	}
	rc, ct, err := c.DownloadImage(ctx, imported.InspectionID, imgs[0].ID.String())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || ct != "image/png" || len(body) == 0 {
		t.Fatalf("download: %q %v", ct, err)
	}
	var ce *sumsub.ClientError
	if _, err := c.ImportShareToken(ctx, "_act-expired"); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("expired share token: %v", err)
	}
	if _, err := c.Applicant(ctx, "000000000000000000000000"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Errorf("unknown applicant: %v", err)
	}
	if _, err := sumsub.NewClient(srv.URL, token, "wrong", srv.Client()).Applicant(ctx, Green); !errors.As(err, &ce) || ce.ErrorCode != 4003 {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := sumsub.NewClient(srv.URL, "other", secret, srv.Client()).Applicant(ctx, Green); !errors.As(err, &ce) || ce.ErrorCode != 4001 {
		t.Errorf("unknown app token: %v", err)
	}
}
