package cases

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestBusinessUser: Uphold's business-user example creates a business, which
// has an account (itself, terms of service, files, metadata, its events) but
// no KYC processes (kycd runs no business verification): the KYC routes
// refuse it, every capability is disabled as user-type-not-supported, and
// terms for individuals are refused as Uphold documents.
func TestBusinessUser(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		e2e.JSONLImporter(t, k, "orgs")(`{"id":"O1","type":"organization","names":[{"full":"Quillfeather Holdings Ltd","kind":"primary"}]}`)
		tn := k.NewTenant(t, "business")
		tok := k.Token(t, tn, "")

		// Uphold's "Create Business User" example, as the document gives it.
		example := map[string]any{"type": "business", "email": "acme-corp@uphold.com", "termsOfService": "general-gb-fca",
			"country": "GB", "subdivision": "GB-MAN", "legalEntityType": "private-limited-company", "metadata": map[string]any{"externalId": 123}}
		res := k.Call(t, "POST", "/core/users", tok, "", example)
		if res.Status != 201 || res.Get("user.type") != "business" || res.Get("user.address.country") != "GB" ||
			res.Get("user.address.subdivision") != "GB-MAN" || res.Get("user.primaryCitizenship") != nil || res.Get("errors") != nil {
			t.Fatalf("business example: %d %s", res.Status, res.Body)
		}
		biz := res.Get("user.id").(string)
		if res := k.Call(t, "GET", "/core/users/me", tok, biz, nil); res.Status != 200 || res.Get("user.type") != "business" || res.Get("user.email") != "acme-corp@uphold.com" {
			t.Errorf("the business: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/users/me/metadata", tok, biz, nil); res.Status != 200 || res.Get("metadata.externalId") != float64(123) {
			t.Errorf("the business's metadata: %d %s", res.Status, res.Body)
		}
		// Its screening job (every user's creation queues one) ends without
		// an error: a business has no KYC process, but is screened (as an
		// organization, once it has a name to screen). The list's import
		// may queue a second one (it screens users not yet screened), so
		// every screening job is awaited.
		raw := db.Open(t)
		e2e.WaitUntil(t, "the business's screening jobs", func() bool {
			return e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind = 'screen_user' AND state = 'completed'`) >= 1 &&
				e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind IN ('screen_user', 'screening_delta', 'screening_batch')
					AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0
		})
		if n := e2e.CountRows(t, db, raw, `SELECT count(*) FROM river_job WHERE kind = 'screen_user' AND (state <> 'completed' OR attempt > 1)`); n != 0 {
			t.Errorf("%d screening jobs failed or still waiting", n)
		}
		// The console shows the business's file, without KYC processes.
		rv := k.NewReviewer(t, tn.ID, "analyst@business.example", "analyst")
		if res, body := e2e.NewConsoleClient(t, k.Base, rv.Email, rv.Password, rv.Code(t)).Get(t, "/console/users/"+biz); res.StatusCode != 200 ||
			!strings.Contains(body, "A business user: kycd runs no KYC process") || !strings.Contains(body, "acme-corp@uphold.com") {
			t.Errorf("the business's file in the console: %d %s", res.StatusCode, body)
		}

		// Refusals: a business shape without its legal form, in a country
		// kycd onboards nobody from, or with the wrong terms.
		without := map[string]any{"type": "business", "email": "nolegal@business.example", "termsOfService": "general-gb-fca", "country": "GB"}
		req := k.Req("POST", "/core/users", bytes.NewReader(e2e.MustJSON(without)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Uphold-User-Ip", e2e.EndUserIP)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 || res.Code() != "request_invalid" {
			t.Errorf("no legalEntityType: %d %s", res.Status, res.Body)
		}
		for name, tc := range map[string]struct {
			change func(b map[string]any)
			code   string
		}{
			"restricted country":       {func(b map[string]any) { b["country"] = "KP"; delete(b, "subdivision") }, "country_not_supported"},
			"unknown subdivision":      {func(b map[string]any) { b["subdivision"] = "GB-XXX" }, "subdivision_not_supported"},
			"terms of another country": {func(b map[string]any) { b["country"], b["subdivision"] = "PT", "PT-11" }, "terms_of_service_mismatch"},
		} {
			b := map[string]any{"type": "business", "email": "refused@business.example", "termsOfService": "general-gb-fca",
				"country": "GB", "subdivision": "GB-MAN", "legalEntityType": "partnership"}
			tc.change(b)
			if res := k.Call(t, "POST", "/core/users", tok, "", b); res.Status != 409 || res.Code() != tc.code {
				t.Errorf("%s: %d %s, want 409 %s", name, res.Status, res.Body, tc.code)
			}
		}

		// No KYC processes: the overview and every update are refused.
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/core/kyc", nil},
			{"PATCH", "/core/kyc/processes/profile", map[string]any{"input": map[string]any{"fullName": "Acme Corp"}}},
			{"PATCH", "/core/kyc/processes/email", map[string]any{"input": map[string]any{"email": "acme-corp@uphold.com"}}},
		} {
			if res := k.Call(t, tc.method, tc.path, tok, biz, tc.body); res.Status != 409 || res.Code() != "operation_not_allowed" || !e2e.HasReason(res, "user-type-not-supported") {
				t.Errorf("%s %s for a business: %d %s", tc.method, tc.path, res.Status, res.Body)
			}
		}
		res = k.Call(t, "GET", "/core/capabilities", tok, biz, nil)
		caps, _ := res.Get("capabilities").([]any)
		if res.Status != 200 || len(caps) == 0 {
			t.Fatalf("capabilities: %d %s", res.Status, res.Body)
		}
		for _, c := range caps {
			c := c.(map[string]any)
			if c["enabled"] != false || !slices.Equal(toStrings(c["restrictions"]), []string{"user-type-not-supported"}) || len(toStrings(c["requirements"])) != 0 {
				t.Errorf("capability for a business: %v", c)
			}
		}
		if res := k.Call(t, "GET", "/core/capabilities/trades", tok, biz, nil); res.Status != 200 || res.Get("capability.enabled") != false {
			t.Errorf("trades for a business: %d %s", res.Status, res.Body)
		}

		// Terms: the vIBAN's are for individuals only.
		if res := k.Call(t, "POST", "/core/terms-of-service/unique-account-number-viban/accept", tok, biz, nil); res.Status != 409 ||
			!e2e.HasReason(res, "terms-of-service-not-applicable") || res.Get("message") != "The terms of service cannot be accepted by users of type 'business'" {
			t.Errorf("vIBAN terms for a business: %d %s", res.Status, res.Body)
		}

		// Files.
		if id, _ := e2e.CreateFile(t, k, tok, biz, "document", "application/pdf"); id == "" {
			t.Error("no file for a business")
		}

		// The event of its creation carries the business as Uphold's
		// user-webhook-event shows one.
		found := false
		for _, ev := range k.Call(t, "GET", "/core/events?limit=1000", tok, "", nil).Get("events").([]any) {
			ev := ev.(map[string]any)
			if e2e.WalkJSON(ev, []string{"data", "user", "id"}) == biz && ev["type"] == "core.user.created" {
				found = e2e.WalkJSON(ev, []string{"data", "user", "type"}) == "business"
			}
		}
		if !found {
			t.Error("no core.user.created event of type business")
		}
		if res := k.Call(t, "DELETE", "/core/users/me", tok, biz, map[string]any{"review": map[string]any{"reason": "business-decision"}}); res.Status != 204 {
			t.Errorf("delete the business: %d %s", res.Status, res.Body)
		}
	})
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
