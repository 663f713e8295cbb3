package coreapi

import (
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestDisposableEmail: a throwaway mail service's address (the policy data's
// list) is refused as Uphold documents it, 409 email_incorrect_or_disallowed,
// when a user (individual or business) is created and in the email process.
func TestDisposableEmail(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tok := k.Token(t, k.NewTenant(t, "disposable"), "")
		refused := func(what string, res *e2e.Response) {
			t.Helper()
			if res.Status != 409 || res.Code() != "email_incorrect_or_disallowed" || res.Get("message") != "The email is incorrect or disallowed" {
				t.Errorf("%s: %d %s", what, res.Status, res.Body)
			}
		}
		refused("individual", k.Call(t, "POST", "/core/users", tok, "", e2e.NewUserBody("someone@mailinator.com")))
		refused("subdomain", k.Call(t, "POST", "/core/users", tok, "", e2e.NewUserBody("someone@inbox.guerrillamail.com")))
		refused("business", k.Call(t, "POST", "/core/users", tok, "", map[string]any{"type": "business", "email": "acme@yopmail.com",
			"termsOfService": "general-gb-fca", "country": "GB", "legalEntityType": "partnership"}))
		u := e2e.CreateUser(t, k, tok, "real@disposable.example")
		refused("email process", k.Call(t, "PATCH", "/core/kyc/processes/email", tok, u, map[string]any{"input": map[string]any{"email": "Someone@Mailinator.com"}}))
		res := k.Call(t, "PATCH", "/core/kyc/processes/email", tok, u, map[string]any{"input": map[string]any{"email": "other@disposable.example"}, "output": map[string]any{"verifiedAt": "2020-01-01T00:00:00.000Z"}})
		if res.Status != 200 {
			t.Errorf("a real address: %d %s", res.Status, res.Body)
		}
	})
}
