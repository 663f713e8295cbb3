package main

import (
	"strings"
	"testing"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestTermsOfService: the general terms follow the country of residence;
// listing, filtering, reading with a user's acceptances, and accepting other
// terms with every refusal reason.
func TestTermsOfService(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		k := start(t, db)
		tn := k.newTenant(t, "terms")
		tok := k.token(t, tn, "")

		// Creating a user checks the general terms against the country.
		pt := newUserBody("pt@terms.example")
		pt["address"] = map[string]any{"country": "PT", "city": "Lisboa"}
		res := k.call(t, "POST", "/core/users", tok, "", pt)
		if res.Status != 409 || res.code() != "terms_of_service_mismatch" || res.get("details.expected") != "general-pt-bop" {
			t.Fatalf("GB terms for a PT resident: %d %s", res.Status, res.Body)
		}
		pt["termsOfService"] = "general-pt-bop"
		res = k.call(t, "POST", "/core/users", tok, "", pt)
		if res.Status != 201 {
			t.Fatalf("PT user: %d %s", res.Status, res.Body)
		}
		ptUser := res.get("user.id").(string)
		kp := newUserBody("kp@terms.example")
		kp["address"] = map[string]any{"country": "KP"}
		if res := k.call(t, "POST", "/core/users", tok, "", kp); res.Status != 409 || res.code() != "country_not_supported" {
			t.Errorf("restricted country: %d %s", res.Status, res.Body)
		}
		usUser := createUserIn(t, k, tok, "us@terms.example", "US", "US-FL", "general-us-hq")

		// Listing and filters.
		res = k.call(t, "GET", "/core/terms-of-service", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); res.Status != 200 || len(list) != 6 {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		res = k.call(t, "GET", "/core/terms-of-service?type=general&country=BR", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); len(list) != 1 || list[0].(map[string]any)["code"] != "general-bs-scb" {
			t.Errorf("general terms for BR: %s", res.Body)
		}
		res = k.call(t, "GET", "/core/terms-of-service?userType=business&type=unique-account-number", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); len(list) != 0 {
			t.Errorf("business vIBAN terms: %s", res.Body)
		}
		req := k.req("GET", "/core/terms-of-service?type=secret", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res := k.do(t, req, doOpts{invalidRequest: true}); res.Status != 400 {
			t.Errorf("bad type filter: %d %s", res.Status, res.Body)
		}
		// A user's view carries its acceptances.
		res = k.call(t, "GET", "/core/terms-of-service/general-pt-bop", tok, ptUser, nil)
		if res.Status != 200 || res.get("termsOfService.acceptedAt") == nil {
			t.Fatalf("accepted general terms: %d %s", res.Status, res.Body)
		}
		if res := k.call(t, "GET", "/core/terms-of-service/general-pt-bop", tok, "", nil); res.get("termsOfService.acceptedAt") != nil {
			t.Errorf("acceptedAt without a user: %s", res.Body)
		}
		// An unknown code: the answer Uphold documents for it on the
		// accept route (this one documents none).
		if res := k.call(t, "GET", "/core/terms-of-service/general-xx", tok, "", nil); res.Status != 400 || res.code() != "request_invalid" ||
			res.get("details.violations.0.property") != "termsOfService" || res.get("details.violations.0.rule") != "enum" {
			t.Errorf("unknown terms: %d %s", res.Status, res.Body)
		}

		// Accepting.
		accept := func(user, code, ip string) *response {
			t.Helper()
			req := k.req("POST", "/core/terms-of-service/"+code+"/accept", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-On-Behalf-Of", "user "+user)
			if ip != "" {
				req.Header.Set("X-Uphold-User-Ip", ip)
			}
			return k.do(t, req)
		}
		reason := func(res *response) string {
			rs, _ := res.get("details.reasons").([]any)
			if len(rs) != 1 {
				return ""
			}
			return rs[0].(string)
		}
		if res := accept(ptUser, "unique-account-number-viban", ""); res.Status != 409 || reason(res) != "missing-user-ip-header" {
			t.Errorf("no IP: %d %s", res.Status, res.Body)
		}
		if res := accept(usUser, "unique-account-number-viban", "198.51.100.1"); res.Status != 409 || reason(res) != "terms-of-service-not-applicable" {
			t.Errorf("US resident: %d %s", res.Status, res.Body)
		}
		if res := accept(ptUser, "general-gb-fca", "198.51.100.1"); res.Status != 400 || res.code() != "request_invalid" {
			t.Errorf("general terms: %d %s", res.Status, res.Body)
		}
		res = accept(ptUser, "unique-account-number-viban", "198.51.100.1")
		if res.Status != 201 || res.get("termsOfService.code") != "unique-account-number-viban" || res.get("termsOfService.acceptedAt") == nil {
			t.Fatalf("accept: %d %s", res.Status, res.Body)
		}
		if res := accept(ptUser, "unique-account-number-viban", "198.51.100.1"); res.Status != 409 || reason(res) != "terms-of-service-already-accepted" {
			t.Errorf("accept twice: %d %s", res.Status, res.Body)
		}
		res = k.call(t, "GET", "/core/terms-of-service", tok, ptUser, nil)
		accepted := 0
		for _, e := range res.JSON["termsOfService"].([]any) {
			if e.(map[string]any)["acceptedAt"] != nil {
				accepted++
			}
		}
		if accepted != 2 {
			t.Errorf("%d accepted terms, want 2: %s", accepted, res.Body)
		}
		// Without the accept scope.
		narrow := k.token(t, tn, "core.terms-of-service:read core.users:act-on-behalf-of")
		req = k.req("POST", "/core/terms-of-service/unique-account-number-viban/accept", nil)
		req.Header.Set("Authorization", "Bearer "+narrow)
		req.Header.Set("X-On-Behalf-Of", "user "+ptUser)
		if res := k.do(t, req); res.Status != 403 {
			t.Errorf("without the accept scope: %d", res.Status)
		}
		out, err := k.cli(t, "audit", "list", "--tenant", "terms")
		if err != nil || !strings.Contains(out, "terms.accepted") {
			t.Errorf("no audit entry for the acceptance: %v\n%s", err, out)
		}
	})
}

func createUserIn(t *testing.T, k *kycdProc, tok, email, country, subdivision, terms string) string {
	t.Helper()
	b := newUserBody(email)
	b["address"] = map[string]any{"country": country, "subdivision": subdivision}
	b["termsOfService"] = terms
	res := k.call(t, "POST", "/core/users", tok, "", b)
	if res.Status != 201 {
		t.Fatalf("create %s user: %d %s", country, res.Status, res.Body)
	}
	return res.get("user.id").(string)
}
