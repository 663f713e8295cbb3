package e2e

import (
	"testing"
)

// CreateUserIn creates a user resident in a country and subdivision who accepted the
// given terms of service, and returns its id.
func CreateUserIn(t *testing.T, k *Proc, tok, email, country, subdivision, terms string) string {
	t.Helper()
	b := NewUserBody(email)
	b["address"] = map[string]any{"country": country, "subdivision": subdivision}
	b["termsOfService"] = terms
	res := k.Call(t, "POST", "/core/users", tok, "", b)
	if res.Status != 201 {
		t.Fatalf("create %s user: %d %s", country, res.Status, res.Body)
	}
	return res.Get("user.id").(string)
}
