package e2e

import (
	"net/url"
	"testing"
)

// ReviewableApplication makes a client's application for the entry level
// through the /v1 API (personal information, a phone signed with the
// sandbox's code, the legal documents) and sends it to review.
func ReviewableApplication(t *testing.T, e *LevelsEnv) string {
	t.Helper()
	info := e.V1("GET", "/v1/clients/kyc-level-info/", nil)
	avail, _ := info.JSON["available_levels_for_upgrade"].([]any)
	if info.Status != 200 || len(avail) == 0 {
		t.Fatalf("level info: %d %s", info.Status, info.Body)
	}
	res := e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": avail[0].(map[string]any)["uuid"]})
	if res.Status != 201 {
		t.Fatalf("create an application: %d %s", res.Status, res.Body)
	}
	app := res.JSON["uuid"].(string)
	if res := e.Patch(app, map[string]any{"first_name": "Jane", "last_name": "Queuedoe", "birth_date": "1985-02-03", "citizenship": "GB",
		"email": "jane@queues.example"}); res.Status != 200 {
		t.Fatalf("personal information: %d %s", res.Status, res.Body)
	}
	if res := e.Patch(app, map[string]any{"phone": "+447911123456"}, "sms_sign_code", "111111"); res.Status != 200 {
		t.Fatalf("signed phone: %d %s", res.Status, res.Body)
	}
	legal := func(key string) string {
		docs := e.Call(t, "GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {e.Tenant.ID}, "client_type": {"individual"}, "key": {key}}.Encode(), e.Tok, "", nil)
		results, _ := docs.JSON["results"].([]any)
		if docs.Status != 200 || len(results) == 0 {
			t.Fatalf("legal documents: %d %s", docs.Status, docs.Body)
		}
		return results[0].(map[string]any)["uuid"].(string)
	}
	if res := e.Patch(app, map[string]any{"terms_and_conditions": legal("terms_and_conditions"), "privacy_policy": legal("privacy_policy")}); res.Status != 200 {
		t.Fatalf("legal documents: %d %s", res.Status, res.Body)
	}
	if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 || res.JSON["status"] != "in_review" {
		t.Fatalf("send to review: %d %s", res.Status, res.Body)
	}
	return app
}
