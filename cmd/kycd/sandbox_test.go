package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycd/kycd/connector/veriff"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestVeriffSandboxMounted: `serve --sandbox` serves the Veriff sandbox at
// /sandbox/veriff with an integration whose credentials it keeps in the data
// folder (and prints), and the Veriff client reads it.
func TestVeriffSandboxMounted(t *testing.T) {
	db := storetest.Databases(t)[0]
	k := start(t, db, "--sandbox")
	raw, err := os.ReadFile(filepath.Join(db.DataDir, "sandbox-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds sandboxCredentials
	if err := json.Unmarshal(raw, &creds); err != nil || creds.VeriffAPIKey == "" || creds.VeriffSharedSecret == "" {
		t.Fatalf("credentials: %s %v", raw, err)
	}
	c := veriff.NewClient(k.base+"/sandbox/veriff", creds.VeriffAPIKey, creds.VeriffSharedSecret, nil)
	d, err := c.Decision(context.Background(), veriff.SandboxApproved)
	if err != nil || d.Verification == nil || d.Verification.Status != "approved" {
		t.Fatalf("decision through the mounted sandbox: %+v %v", d, err)
	}
}
