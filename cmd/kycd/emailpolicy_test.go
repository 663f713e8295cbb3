package main

import (
	"testing"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestDisposableEmail: a throwaway mail service's address (the policy data's
// list) is refused as Uphold documents it, 409 email_incorrect_or_disallowed,
// when a user (individual or business) is created and in the email process.
func TestDisposableEmail(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		k := start(t, db)
		tok := k.token(t, k.newTenant(t, "disposable"), "")
		refused := func(what string, res *response) {
			t.Helper()
			if res.Status != 409 || res.code() != "email_incorrect_or_disallowed" || res.get("message") != "The email is incorrect or disallowed" {
				t.Errorf("%s: %d %s", what, res.Status, res.Body)
			}
		}
		refused("individual", k.call(t, "POST", "/core/users", tok, "", newUserBody("someone@mailinator.com")))
		refused("subdomain", k.call(t, "POST", "/core/users", tok, "", newUserBody("someone@inbox.guerrillamail.com")))
		refused("business", k.call(t, "POST", "/core/users", tok, "", map[string]any{"type": "business", "email": "acme@yopmail.com",
			"termsOfService": "general-gb-fca", "country": "GB", "legalEntityType": "partnership"}))
		u := createUser(t, k, tok, "real@disposable.example")
		refused("email process", k.call(t, "PATCH", "/core/kyc/processes/email", tok, u, map[string]any{"input": map[string]any{"email": "Someone@Mailinator.com"}}))
		res := k.call(t, "PATCH", "/core/kyc/processes/email", tok, u, map[string]any{"input": map[string]any{"email": "other@disposable.example"}, "output": map[string]any{"verifiedAt": "2020-01-01T00:00:00.000Z"}})
		if res.Status != 200 {
			t.Errorf("a real address: %d %s", res.Status, res.Body)
		}
	})
}
