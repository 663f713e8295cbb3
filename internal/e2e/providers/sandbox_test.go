package providers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/internal/cli"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sandbox/veriffsbx"
)

// TestProviderSandboxesMounted: `serve --sandbox` serves the Veriff and
// Sumsub sandboxes at /sandbox/veriff and /sandbox/sumsub with credentials
// it keeps in the data folder (and prints), and the clients read them.
func TestProviderSandboxesMounted(t *testing.T) {
	t.Parallel()
	db := e2e.Databases(t)[0]
	k := e2e.Start(t, db, "--sandbox")
	raw, err := os.ReadFile(filepath.Join(db.DataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds cli.SandboxCredentials
	if err := json.Unmarshal(raw, &creds); err != nil || creds.VeriffAPIKey == "" || creds.VeriffSharedSecret == "" {
		t.Fatalf("credentials: %s %v", raw, err)
	}
	c := veriff.NewClient(k.Base+"/sandbox/veriff", creds.VeriffAPIKey, creds.VeriffSharedSecret, nil)
	d, err := c.Decision(context.Background(), veriffsbx.Approved)
	if err != nil || d.Verification == nil || d.Verification.Status != "approved" {
		t.Fatalf("decision through the mounted sandbox: %+v %v", d, err)
	}
	// Sumsub signs the request URI as sent: behind the mount point it still
	// includes /sandbox/sumsub, and the sandbox checks it that way.
	sc := sumsub.NewClient(k.Base+"/sandbox/sumsub", creds.SumsubAppToken, creds.SumsubSecret, nil)
	if a, err := sc.ImportShareToken(context.Background(), sumsubsbx.ShareGreen); err != nil || a.Review.ReviewResult.ReviewAnswer != "GREEN" {
		t.Fatalf("import through the mounted sandbox: %+v %v", a, err)
	}
}
