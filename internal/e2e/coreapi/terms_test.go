package coreapi

import (
	"strings"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestTermsOfService: the general terms follow the country of residence;
// listing, filtering, reading with a user's acceptances, and accepting other
// terms with every refusal reason.
func TestTermsOfService(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "terms")
		tok := k.Token(t, tn, "")

		// Creating a user checks the general terms against the country.
		pt := e2e.NewUserBody("pt@terms.example")
		pt["address"] = map[string]any{"country": "PT", "city": "Lisboa"}
		res := k.Call(t, "POST", "/core/users", tok, "", pt)
		if res.Status != 409 || res.Code() != "terms_of_service_mismatch" || res.Get("details.expected") != "general-pt-bop" {
			t.Fatalf("GB terms for a PT resident: %d %s", res.Status, res.Body)
		}
		pt["termsOfService"] = "general-pt-bop"
		res = k.Call(t, "POST", "/core/users", tok, "", pt)
		if res.Status != 201 {
			t.Fatalf("PT user: %d %s", res.Status, res.Body)
		}
		ptUser := res.Get("user.id").(string)
		kp := e2e.NewUserBody("kp@terms.example")
		kp["address"] = map[string]any{"country": "KP"}
		if res := k.Call(t, "POST", "/core/users", tok, "", kp); res.Status != 409 || res.Code() != "country_not_supported" {
			t.Errorf("restricted country: %d %s", res.Status, res.Body)
		}
		usUser := e2e.CreateUserIn(t, k, tok, "us@terms.example", "US", "US-FL", "general-us-hq")

		// Listing and filters.
		res = k.Call(t, "GET", "/core/terms-of-service", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); res.Status != 200 || len(list) != 6 {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		res = k.Call(t, "GET", "/core/terms-of-service?type=general&country=BR", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); len(list) != 1 || list[0].(map[string]any)["code"] != "general-bs-scb" {
			t.Errorf("general terms for BR: %s", res.Body)
		}
		res = k.Call(t, "GET", "/core/terms-of-service?userType=business&type=unique-account-number", tok, "", nil)
		if list := res.JSON["termsOfService"].([]any); len(list) != 0 {
			t.Errorf("business vIBAN terms: %s", res.Body)
		}
		req := k.Req("GET", "/core/terms-of-service?type=secret", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
			t.Errorf("bad type filter: %d %s", res.Status, res.Body)
		}
		// A user's view carries its acceptances.
		res = k.Call(t, "GET", "/core/terms-of-service/general-pt-bop", tok, ptUser, nil)
		if res.Status != 200 || res.Get("termsOfService.acceptedAt") == nil {
			t.Fatalf("accepted general terms: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/terms-of-service/general-pt-bop", tok, "", nil); res.Get("termsOfService.acceptedAt") != nil {
			t.Errorf("acceptedAt without a user: %s", res.Body)
		}
		// An unknown code: the answer Uphold documents for it on the
		// accept route (this one documents none).
		if res := k.Call(t, "GET", "/core/terms-of-service/general-xx", tok, "", nil); res.Status != 400 || res.Code() != "request_invalid" ||
			res.Get("details.violations.0.property") != "termsOfService" || res.Get("details.violations.0.rule") != "enum" {
			t.Errorf("unknown terms: %d %s", res.Status, res.Body)
		}

		// Accepting.
		accept := func(user, code, ip string) *e2e.Response {
			t.Helper()
			req := k.Req("POST", "/core/terms-of-service/"+code+"/accept", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-On-Behalf-Of", "user "+user)
			if ip != "" {
				req.Header.Set("X-Uphold-User-Ip", ip)
			}
			return k.Do(t, req)
		}
		reason := func(res *e2e.Response) string {
			rs, _ := res.Get("details.reasons").([]any)
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
		if res := accept(ptUser, "general-gb-fca", "198.51.100.1"); res.Status != 400 || res.Code() != "request_invalid" {
			t.Errorf("general terms: %d %s", res.Status, res.Body)
		}
		res = accept(ptUser, "unique-account-number-viban", "198.51.100.1")
		if res.Status != 201 || res.Get("termsOfService.code") != "unique-account-number-viban" || res.Get("termsOfService.acceptedAt") == nil {
			t.Fatalf("accept: %d %s", res.Status, res.Body)
		}
		if res := accept(ptUser, "unique-account-number-viban", "198.51.100.1"); res.Status != 409 || reason(res) != "terms-of-service-already-accepted" {
			t.Errorf("accept twice: %d %s", res.Status, res.Body)
		}
		res = k.Call(t, "GET", "/core/terms-of-service", tok, ptUser, nil)
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
		narrow := k.Token(t, tn, "core.terms-of-service:read core.users:act-on-behalf-of")
		req = k.Req("POST", "/core/terms-of-service/unique-account-number-viban/accept", nil)
		req.Header.Set("Authorization", "Bearer "+narrow)
		req.Header.Set("X-On-Behalf-Of", "user "+ptUser)
		if res := k.Do(t, req); res.Status != 403 {
			t.Errorf("without the accept scope: %d", res.Status)
		}
		out, err := k.CLI(t, "audit", "list", "--tenant", "terms")
		if err != nil || !strings.Contains(out, "terms.accepted") {
			t.Errorf("no audit entry for the acceptance: %v\n%s", err, out)
		}
	})
}
