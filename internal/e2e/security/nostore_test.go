package security

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestNoStoreOnEverySurface walks the surfaces with a user's data in them
// (Core, KYC Connector, checks, KYC levels, admin, sandbox), their answers
// and their errors: every response says Cache-Control: no-store, but the
// list of countries', which carries no personal data and may be kept an hour.
func TestNoStoreOnEverySurface(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewConnectorEnv(t, db) // the sandbox tenant: every scope, levels, the Sumsub sandbox
		var walked []string
		want := func(name string, res *e2e.Response, status int) *e2e.Response {
			t.Helper()
			walked = append(walked, name)
			if res.Status != status {
				t.Fatalf("%s: %d %s", name, res.Status, res.Body)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
			}
			return res
		}
		get := func(path, user string) *e2e.Response {
			t.Helper()
			return e.Call(t, "GET", path, e.Tok, user, nil)
		}
		missing := uuid.NewString()

		// Core.
		u := want("create a user", e.Call(t, "POST", "/core/users", e.Tok, "", e2e.NewUserBody("cache@nostore.example")), 201).Get("user.id").(string)
		want("the user", get("/core/users/me", u), 200)
		want("an unknown user", get("/core/users/me", missing), 404)
		want("a country", get("/core/countries/PT", ""), 200)
		if cc := get("/core/countries", "").Header.Get("Cache-Control"); cc != "private, max-age=3600" {
			t.Errorf("the countries: Cache-Control %q", cc)
		}

		// KYC Connector: an ingestion holds the provider's name, birth date and document.
		created := want("create an ingestion", e.Call(t, "POST", "/kyc-connector/sumsub/ingestions", e.Tok, u,
			map[string]any{"shareToken": sumsubsbx.ShareGreen}), 201)
		id := created.Get("ingestion.id").(string)
		e.Await(u, "sumsub", id)
		if res := want("an ingestion", get("/kyc-connector/sumsub/ingestions/"+id, u), 200); res.Get("ingestion.result.profile.data.fullName") == nil {
			t.Errorf("the ingestion carries no personal data to protect: %s", res.Body)
		}
		want("the ingestions", get("/kyc-connector/sumsub/ingestions", u), 200)
		want("an unknown ingestion", get("/kyc-connector/sumsub/ingestions/"+missing, u), 404)
		want("the Sumsub configuration", get("/kyc-connector/sumsub/config", ""), 200)
		req := e.Req("GET", "/kyc-connector/nobody", nil)
		req.Header.Set("Authorization", "Bearer "+e.Tok)
		want("an unknown connector route", e.Do(t, req, e2e.DoOpts{Unrouted: true}), 404)

		// Checks.
		check := want("create a check", e.Call(t, "POST", "/users/"+u+"/checks", e.Tok, "", map[string]any{"type": "INSTRUMENT_FIT",
			"check_confirmed_at": time.Now().UTC().Format(time.RFC3339), "instrument_suitability": map[string]any{"suitability": true}}), 202)
		want("a check", get("/users/"+u+"/checks/"+check.JSON["id"].(string), ""), 200)
		want("the checks", get("/users/"+u+"/checks", ""), 200)
		want("an unknown check", get("/users/"+u+"/checks/"+missing, ""), 404)

		// KYC levels and applications.
		q := "?legal_entity_uuid=" + e.Tenant.ID + "&client_uuid=" + u
		info := want("level info", get("/v1/clients/kyc-level-info/"+q, ""), 200)
		levels, _ := info.JSON["available_levels_for_upgrade"].([]any)
		if len(levels) == 0 {
			t.Fatalf("no level to apply for: %s", info.Body)
		}
		app := want("create an application", e.Call(t, "POST", "/v1/clients/kyc-level-info/"+q, e.Tok, "",
			map[string]any{"kyc_level_uuid": levels[0].(map[string]any)["uuid"]}), 201).JSON["uuid"].(string)
		want("an application", get("/v1/kyc/"+app+"/"+q, ""), 200)
		want("an unknown application", get("/v1/kyc/"+missing+"/"+q, ""), 404)

		// Admin and sandbox.
		admin := e.ClientToken(t, e.Tenant.ID, "officer", "admin.kyc-applications:read,admin.audit:read")
		want("the review queue", e.Call(t, "GET", "/admin/kyc-applications", admin, "", nil), 200)
		want("the audit trail", e.Call(t, "GET", "/admin/audit", admin, "", nil), 200)
		want("the sandbox's messages", get("/sandbox/messages", ""), 200)
		want("an unknown route", e.Do(t, e.Req("GET", "/nowhere", nil), e2e.DoOpts{Unrouted: true}), 404)
		if len(walked) < 20 || !strings.Contains(strings.Join(walked, ","), "an application") {
			t.Errorf("walked only %v", walked)
		}
	})
}
