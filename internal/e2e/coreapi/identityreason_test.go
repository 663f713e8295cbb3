package coreapi

import (
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestIdentityRejectedReason: a provider's rejection reopens an identity it
// verified with a reason Uphold documents for the identity's type, and the
// overview stays valid against Uphold's kyc-overview schema. Uphold documents
// provider-verification-rejected for a document submission only: an
// electronic verification the provider rejects keeps no reason (it had
// provider-verification-rejected, outside the documented enum, before).
// The rejection is the Sumsub sandbox's, sent to kycd as its webhook.
func TestIdentityRejectedReason(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewConnectorEnv(t, db)
		docs, err := loadUpholdDocs()
		if err != nil {
			t.Fatalf("Uphold's OpenAPI documents are needed: %v", err)
		}
		core := docs[0]
		idKey := "PATCH /core/kyc/processes/identity"
		var op *e2e.UpholdOp
		for _, o := range core.Operations() {
			if o.Key() == idKey {
				op = o
			}
		}
		for _, tc := range []struct {
			example, reason string
		}{
			{"Update Process via Document Submission - Partner-verified", "provider-verification-rejected"},
			{"Update Process via Electronic Verification - Partner-verified", ""},
		} {
			u := e2e.CreateUser(t, e.Proc, e.Tok, "rejected-"+tc.reason+"@identity.example")
			body := exampleWith(op.RequestExample(tc.example), func() string { return e.UploadedWith(e.Tok, u) }).(map[string]any)
			body["output"].(map[string]any)["provider"] = "sumsub" // verified by Sumsub, which rejects it below
			if res := e.Call(t, "PATCH", "/core/kyc/processes/identity", e.Tok, u, body); res.Status != 200 || res.Get("identity.status") != "ok" {
				t.Fatalf("%s: %d %s", tc.example, res.Status, res.Body)
			}
			applicant, _ := e.NewApplicantFor(u, "John", "Doe", "1987-01-01", "")
			e.Script("sumsub", "/resources/applicants/"+applicant+"/status/testCompleted", map[string]any{"reviewAnswer": "RED"})
			var ov *e2e.Response
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				ov = e.Overview(u, "identity")
				if ov.Get("processes.identity.status") == "pending" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: the rejection did not reopen the identity: %s", tc.example, ov.Body)
				}
			}
			got, _ := ov.Get("processes.identity.output.reason").(string)
			if got != tc.reason {
				t.Errorf("%s rejected: output.reason %q, want %q", tc.example, got, tc.reason)
			}
			if err := core.Validate("/components/schemas/kyc-overview", ov.Body); err != nil {
				t.Errorf("%s rejected: the overview is not Uphold's: %v\n%s", tc.example, err, ov.Body)
			}
			if tc.reason == "" {
				// The old value is one the schema refuses: this test fails
				// if it returns.
				old := ov.JSON
				old["processes"].(map[string]any)["identity"].(map[string]any)["output"].(map[string]any)["reason"] = "provider-verification-rejected"
				if core.Validate("/components/schemas/kyc-overview", e2e.MustJSON(old)) == nil {
					t.Error("Uphold's schema accepts provider-verification-rejected for an electronic verification: the check proves nothing")
				}
			}
		}
	})
}
