package providers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestLevels walks seed 003's flow through HTTP on both databases: level
// info, an application for the entry level, attributes of every type in
// parts with their wrong values refused, a signed attribute with codes
// (wrong, expired, reused, the sandbox's), a legal document, send to
// review, a return to pending with corrections and a second review,
// approval, the next level with reference data and a document made of
// uploaded files, a rejection, and a new application after it; other
// tenants see nothing; decisions are audited.
func TestLevels(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := e2e.NewLevelsEnv(t, db)
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "client@levels.example")
		officer := k.NewClient(t, k.Tenant.ID, "officer", "admin.kyc-applications:read,admin.kyc-applications:review,admin.audit:read")
		e.Admin = k.Token(t, officer, "")
		// The sandbox ingests Sumsub approvals by itself: a liveness
		// check's verdict must not be taken for one (its applicant is the
		// sandbox's default person).
		if res := k.Call(t, "GET", "/kyc-connector/sumsub/config", k.Tok, "", nil); res.Get("config.autoIngest") != true && res.JSON["autoIngest"] != true {
			t.Fatalf("sumsub config: %d %s", res.Status, res.Body)
		}

		// Level info: the entry level only.
		info := e.V1("GET", "/v1/clients/kyc-level-info/", nil)
		avail, _ := info.JSON["available_levels_for_upgrade"].([]any)
		if info.Status != 200 || info.JSON["allowed_to_create_kyc_application"] != true || len(avail) != 1 || info.JSON["last_kyc_application_uuid"] != nil {
			t.Fatalf("level info: %d %s", info.Status, info.Body)
		}
		basic := avail[0].(map[string]any)["uuid"].(string)
		catalog := k.Call(t, "GET", "/admin/kyc-levels", e.Admin, "", nil)
		levelsList, _ := catalog.JSON["levels"].([]any)
		if len(levelsList) != 3 {
			t.Fatalf("catalog: %s", catalog.Body)
		}
		standard := levelsList[1].(map[string]any)["uuid"].(string)
		if res := e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": standard}); res.Status != 409 || res.Code() != "kyc_level_not_available" {
			t.Errorf("standard first: %d %s", res.Status, res.Body)
		}
		res := e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": basic})
		if res.Status != 201 || res.JSON["status"] != "new" || e2e.Attr(res, "phone")["sign_providers"] == nil {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		app := res.JSON["uuid"].(string)
		if res := e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": basic}); res.Status != 409 {
			t.Errorf("second application: %d %s", res.Status, res.Body)
		}
		if info := e.V1("GET", "/v1/clients/kyc-level-info/", nil); info.JSON["allowed_to_create_kyc_application"] != false || info.JSON["last_kyc_application_uuid"] != app {
			t.Errorf("level info in progress: %s", info.Body)
		}

		// Wrong values for every type: all refused at once, nothing saved.
		res = e.Patch(app, map[string]any{"first_name": 42, "birth_date": "17.05.1980", "citizenship": "XX", "email": "not-an-email",
			"phone": "+49 1", "terms_and_conditions": "not-a-uuid", "source_of_funds": "salary"})
		for _, want := range []string{"first_name:type", "birth_date:format", "citizenship:country_code", "email:format", "phone:phone",
			"terms_and_conditions:legal_document", "source_of_funds:unknown_attribute"} {
			p, rule, _ := strings.Cut(want, ":")
			if res.Status != 400 || !e2e.HasViolation(res, p, rule) {
				t.Errorf("wrong %s: %d %s", want, res.Status, res.Body)
			}
		}
		// In parts: the personal information.
		res = e.Patch(app, map[string]any{"first_name": " Jane ", "last_name": "Doe", "birth_date": "1985-02-03", "citizenship": "gb", "email": "Jane@Example.COM"})
		if res.Status != 200 || e2e.Attr(res, "first_name")["value"] != "Jane" || e2e.Attr(res, "citizenship")["value"] != "GB" || e2e.Attr(res, "email")["value"] != "Jane@example.com" {
			t.Fatalf("personal information: %d %s", res.Status, res.Body)
		}
		// The phone needs a signature.
		if res := e.Patch(app, map[string]any{"phone": "+447911123456"}); res.Status != 409 || res.Code() != "sign_code_required" {
			t.Errorf("unsigned phone: %d %s", res.Status, res.Body)
		}
		send := func() {
			t.Helper()
			res := e.V1("POST", "/v1/signatures/send-code/", map[string]any{"object_uuid": app, "provider_type": "sms", "destination": "+447911123456"})
			if res.Status != 201 || res.JSON["destination"] != "*********3456" {
				t.Fatalf("send code: %d %s", res.Status, res.Body)
			}
		}
		send()
		code := k.SandboxCode(t, "+447911123456")
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		if res := e.Patch(app, map[string]any{"phone": "+447911123456"}, "sms_sign_code", wrong); res.Status != 409 || res.Code() != "code_invalid" || res.JSON["attempts_left"] != 4.0 {
			t.Errorf("wrong code: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"phone": "+44 7911 123456"}, "sms_sign_code", code); res.Status != 200 || e2e.Attr(res, "phone")["value"] != "+447911123456" {
			t.Fatalf("signed phone: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"phone": "+447911123457"}, "sms_sign_code", code); res.Status != 409 || res.Code() != "code_used" {
			t.Errorf("reused code: %d %s", res.Status, res.Body)
		}
		send()
		code = k.SandboxCode(t, "+447911123456")
		k.Advance(t, "11m")
		e.Tok = k.Tok
		e.Admin = k.Token(t, officer, "") // tokens age with the clock
		if res := e.Patch(app, map[string]any{"phone": "+447911123457"}, "sms_sign_code", code); res.Status != 409 || res.Code() != "code_expired" {
			t.Errorf("expired code: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"phone": "+447911123457"}, "sms_sign_code", "111111"); res.Status != 200 {
			t.Errorf("sandbox code: %d %s", res.Status, res.Body)
		}
		// Five wrong guesses use a code up.
		send()
		code = k.SandboxCode(t, "+447911123456")
		for i := range 5 {
			if res := e.Patch(app, map[string]any{"phone": "+447911123456"}, "sms_sign_code", wrongOf(code, i)); res.Status != 409 || res.Code() != "code_invalid" {
				t.Errorf("wrong guess %d: %d %s", i, res.Status, res.Body)
			}
		}
		if res := e.Patch(app, map[string]any{"phone": "+447911123456"}, "sms_sign_code", code); res.Status != 409 || res.Code() != "code_attempts_exceeded" {
			t.Errorf("right code after five wrong ones: %d %s", res.Status, res.Body)
		}
		// A legal document the client read: its current uuid.
		docs := e.Call(t, "GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_type": {"individual"}, "key": {"terms_and_conditions"}}.Encode(), k.Tok, "", nil)
		results, _ := docs.JSON["results"].([]any)
		if docs.Status != 200 || len(results) != 1 {
			t.Fatalf("legal documents: %d %s", docs.Status, docs.Body)
		}
		terms := results[0].(map[string]any)["uuid"].(string)
		privacy := e.Call(t, "GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {k.Tenant.ID}, "key": {"privacy_policy"}}.Encode(), k.Tok, "", nil).
			JSON["results"].([]any)[0].(map[string]any)["uuid"].(string)
		if res := e.Patch(app, map[string]any{"terms_and_conditions": privacy}); res.Status != 400 || !e2e.HasViolation(res, "terms_and_conditions", "legal_document") {
			t.Errorf("another legal document: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 409 || res.Code() != "kyc_application_incomplete" {
			t.Errorf("incomplete: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"terms_and_conditions": terms, "privacy_policy": privacy}); res.Status != 200 {
			t.Fatalf("legal documents: %d %s", res.Status, res.Body)
		}
		if a := e.V1("GET", "/v1/kyc/"+app+"/attributes/terms_and_conditions/", nil); a.Status != 200 || a.JSON["value"] != terms || a.Get("legal_document.uuid") != terms {
			t.Errorf("attribute: %d %s", a.Status, a.Body)
		}

		// Review: returned with corrections, corrected, approved.
		if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 || res.JSON["status"] != "in_review" {
			t.Fatalf("send to review: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"last_name": "Roe"}); res.Status != 409 || res.Code() != "kyc_application_not_editable" {
			t.Errorf("change in review: %d %s", res.Status, res.Body)
		}
		queue := k.Call(t, "GET", "/admin/kyc-applications", e.Admin, "", nil)
		if apps, _ := queue.JSON["applications"].([]any); queue.Status != 200 || len(apps) != 1 {
			t.Fatalf("queue: %d %s", queue.Status, queue.Body)
		}
		if res := e.Decide(app, map[string]any{"status": "pending", "reviewer": "officer-7", "reason": "name unreadable"}); res.Status != 400 || !e2e.HasViolation(res, "corrections", "minProperties") {
			t.Errorf("return without corrections: %d %s", res.Status, res.Body)
		}
		res = e.Decide(app, map[string]any{"status": "pending", "reviewer": "officer-7", "reason": "The first name differs from the ID",
			"corrections": map[string]any{"first_name": "Give the first name as on your ID"}})
		if res.Status != 200 || res.JSON["status"] != "pending" || len(res.JSON["reviews"].([]any)) != 1 {
			t.Fatalf("return: %d %s", res.Status, res.Body)
		}
		got := e.V1("GET", "/v1/kyc/"+app+"/", nil)
		if got.JSON["status"] != "pending" || e2e.Attr(got, "first_name")["correction"] != "Give the first name as on your ID" || got.JSON["reviews"] != nil {
			t.Errorf("pending application: %s", got.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 409 || !strings.Contains(string(res.Body), "first_name") {
			t.Errorf("uncorrected: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app, map[string]any{"first_name": "Janet"}); res.Status != 200 || e2e.Attr(res, "first_name")["correction"] != nil {
			t.Fatalf("correction: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app+"/send-to-review/", nil); res.Status != 200 {
			t.Fatalf("second review: %d %s", res.Status, res.Body)
		}
		if res := e.Decide(app, map[string]any{"status": "approved", "reviewer": "officer-7", "reason": "Documents match"}); res.Status != 200 || res.JSON["status"] != "approved" {
			t.Fatalf("approve: %d %s", res.Status, res.Body)
		}
		if res := e.Decide(app, map[string]any{"status": "rejected", "reviewer": "officer-7", "reason": "again"}); res.Status != 409 {
			t.Errorf("decide twice: %d %s", res.Status, res.Body)
		}
		info = e.V1("GET", "/v1/clients/kyc-level-info/", nil)
		if held, _ := info.JSON["kyc_levels"].([]any); len(held) != 1 || info.JSON["allowed_to_create_kyc_application"] != true ||
			info.Get("available_levels_for_upgrade") == nil || info.JSON["available_levels_for_upgrade"].([]any)[0].(map[string]any)["uuid"] != standard {
			t.Fatalf("level info after approval: %s", info.Body)
		}

		// The next level: reference data and a document of uploaded files.
		res = e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": standard})
		if res.Status != 201 {
			t.Fatalf("standard: %d %s", res.Status, res.Body)
		}
		app2 := res.JSON["uuid"].(string)
		defs := e.Call(t, "GET", "/v1/attributes/source_of_funds/definitions/?legal_entity_uuid="+k.Tenant.ID, k.Tok, "", nil)
		if defs.Status != 200 || defs.JSON["count"].(float64) < 2 {
			t.Fatalf("definitions: %d %s", defs.Status, defs.Body)
		}
		if res := e.Patch(app2, map[string]any{"source_of_funds": "lottery"}); res.Status != 400 || !e2e.HasViolation(res, "source_of_funds", "enum") {
			t.Errorf("unknown choice: %d %s", res.Status, res.Body)
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("files", "front.png")
		fw.Write(e2e.PNGBytes("id card front"))
		mw.Close()
		req := k.Req("POST", "/v1/documents/files/"+e.Q(), &mp)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+k.Tok)
		up := k.Do(t, req)
		files, _ := up.JSON["files"].([]any)
		if up.Status != 201 || len(files) != 1 || files[0].(map[string]any)["content_type"] != "image/png" {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		fileID := files[0].(map[string]any)["uuid"].(string)
		doc := e.V1("POST", "/v1/documents/", map[string]any{"attribute_key": "id_card_front_side", "files": []string{fileID}})
		if doc.Status != 201 || doc.JSON["attribute_key"] != "id_card_front_side" {
			t.Fatalf("document: %d %s", doc.Status, doc.Body)
		}
		docID := doc.JSON["uuid"].(string)
		if res := e.V1("POST", "/v1/documents/", map[string]any{"attribute_key": "id_card_front_side", "files": []string{e.Client}}); res.Status != 400 {
			t.Errorf("document of another's file: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app2, map[string]any{"id_card_back_side": docID}); res.Status != 400 || !e2e.HasViolation(res, "id_card_back_side", "document") {
			t.Errorf("document of another key: %d %s", res.Status, res.Body)
		}
		res = e.Patch(app2, map[string]any{"source_of_funds": "salary", "employment_status": "employed", "id_card_front_side": docID,
			"country_of_residence": "GB", "city": "Manchester", "street": "1 High Street", "postal_code": "M4 1AA"})
		if res.Status != 200 || e2e.Attr(res, "id_card_front_side")["value"] != docID {
			t.Fatalf("standard attributes: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app2, map[string]any{"sumsub_liveness_check_token": "x"}); res.Status != 400 || !e2e.HasViolation(res, "sumsub_liveness_check_token", "read_only") {
			t.Errorf("liveness set by the client: %d %s", res.Status, res.Body)
		}
		// Liveness: a Sumsub token bound to this client, kept while it is
		// fresh enough, renewed on demand; its verdict lands in verification.
		got = e.V1("GET", "/v1/kyc/"+app2+"/", nil)
		live := e2e.Attr(got, "sumsub_liveness_check_token")
		token, _ := live["value"].(string)
		if !strings.HasPrefix(token, "_act-sbx-") || live["expires_at"] == nil || live["additional_info"] == nil {
			t.Fatalf("liveness token: %s", got.Body)
		}
		if info := e.SumsubGet("/_sandbox/accessTokens/" + token); info["userId"] != e.Client || info["levelName"] != "liveness" {
			t.Errorf("token binding: %v", info)
		}
		if again := e2e.Attr(e.V1("GET", "/v1/kyc/"+app2+"/", nil), "sumsub_liveness_check_token"); again["value"] != token {
			t.Errorf("fresh token replaced: %v", again)
		}
		renewed := e.V1("GET", "/v1/kyc/"+app2+"/attributes/sumsub_liveness_check_token/", nil, "ttl_renew", "true", "ttl_max", "900")
		if renewed.Status != 200 || renewed.JSON["value"] == token || renewed.JSON["value"] == nil {
			t.Errorf("renewed token: %d %s", renewed.Status, renewed.Body)
		}
		if res := e.V1("GET", "/v1/kyc/"+app2+"/", nil, "sumsub_liveness_check_token.ttl_min", "7200"); e2e.Attr(res, "sumsub_liveness_check_token")["value"] == renewed.JSON["value"] {
			t.Errorf("a token ending within ttl_min was kept: %s", res.Body)
		}
		if res := e.V1("GET", "/v1/kyc/"+app2+"/", nil, "empty_volatile_fields", "true"); e2e.Attr(res, "sumsub_liveness_check_token")["value"] != nil {
			t.Errorf("volatile fields shown: %s", res.Body)
		}
		if res := e.Invalid("GET", "/v1/kyc/"+app2+"/attributes/sumsub_liveness_check_token/", nil, "ttl_renew", "maybe"); res.Status != 400 {
			t.Errorf("bad ttl_renew: %d %s", res.Status, res.Body)
		}
		// Sumsub's verdicts: the diagnostics are the value, where seed 003
		// reads them; a new check (ttl_renew) brings a token again.
		applicant := e.SumsubGet("/resources/applicants/-;externalUserId=" + e.Client + "/one")
		const note = "There is no available data to recognize from image"
		e.SumsubPost("/resources/applicants/"+applicant["id"].(string)+"/status/testCompleted", map[string]any{"reviewAnswer": "RED",
			"reviewRejectType": "RETRY", "clientComment": note})
		var diag map[string]any
		e2e.WaitUntil(t, "the liveness rejection", func() bool {
			diag = e2e.Attr(e.V1("GET", "/v1/kyc/"+app2+"/", nil), "sumsub_liveness_check_token")
			_, done := diag["value"].(map[string]any)
			return done
		})
		if sumsub, _ := diag["value"].(map[string]any)["verification"].(map[string]any)["sumsub"].(map[string]any); sumsub["verificator"] != "sumsub" ||
			sumsub["status"] != "rejected" || sumsub["client_note"] != note || diag["expires_at"] != nil {
			t.Errorf("liveness diagnostics: %v", diag)
		}
		if again := e.V1("GET", "/v1/kyc/"+app2+"/", nil, "empty_volatile_fields", "true"); e2e.Attr(again, "sumsub_liveness_check_token")["value"] == nil {
			t.Errorf("diagnostics taken for a volatile field: %s", again.Body)
		}
		retry := e.V1("GET", "/v1/kyc/"+app2+"/attributes/sumsub_liveness_check_token/", nil, "ttl_renew", "true")
		if tok, _ := retry.JSON["value"].(string); !strings.HasPrefix(tok, "_act-sbx-") || retry.JSON["verification"] != nil {
			t.Errorf("a new liveness check: %s", retry.Body)
		}
		e.SumsubPost("/resources/applicants/"+applicant["id"].(string)+"/status/testCompleted", map[string]any{"reviewAnswer": "GREEN"})
		e2e.WaitUntil(t, "the liveness verdict", func() bool {
			a := e.V1("GET", "/v1/kyc/"+app2+"/attributes/sumsub_liveness_check_token/", nil)
			return a.Get("value.verification.sumsub.status") == "approved" && a.Get("verification.sumsub.status") == "approved"
		})
		// The approval of the liveness applicant was not ingested: the
		// sandbox's default person did not reach the Core processes.
		if list := k.Call(t, "GET", "/kyc-connector/sumsub/ingestions?perPage=100", k.Tok, e.Client, nil); list.Status != 200 || len(list.JSON["ingestions"].([]any)) != 0 {
			t.Errorf("the liveness approval was ingested: %s", list.Body)
		}
		if ov := k.Call(t, "GET", "/core/kyc", k.Tok, e.Client, nil); ov.Get("processes.identity.status") != "pending" {
			t.Errorf("identity after the liveness approval: %s", ov.Body)
		}
		back := e.V1("POST", "/v1/documents/", map[string]any{"attribute_key": "id_card_back_side", "files": []string{fileID}})
		if res := e.Patch(app2, map[string]any{"id_card_back_side": back.JSON["uuid"]}); res.Status != 200 {
			t.Fatalf("back side: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app2+"/send-to-review/", nil); res.Status != 200 {
			t.Fatalf("standard to review: %d %s", res.Status, res.Body)
		}
		if res := e.Decide(app2, map[string]any{"status": "rejected", "reviewer": "officer-9", "reason": "Document forged"}); res.Status != 200 || res.JSON["status"] != "rejected" {
			t.Fatalf("reject: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(app2, map[string]any{"city": "Leeds"}); res.Status != 409 {
			t.Errorf("change after rejection: %d %s", res.Status, res.Body)
		}
		// Rejected is final: a new application is needed, and allowed.
		res = e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": standard})
		if res.Status != 201 || res.JSON["uuid"] == app2 {
			t.Fatalf("new application after rejection: %d %s", res.Status, res.Body)
		}
		app3 := res.JSON["uuid"].(string)
		// Another client's liveness token is its own.
		if tok3 := e2e.Attr(e.V1("GET", "/v1/kyc/"+app3+"/", nil), "sumsub_liveness_check_token")["value"].(string); tok3 == token ||
			e.SumsubGet("/_sandbox/accessTokens/" + tok3)["userId"] != e.Client {
			t.Errorf("a new application's token: %s", tok3)
		}
		res = e.Patch(app3, map[string]any{"source_of_funds": "salary", "employment_status": "employed", "id_card_front_side": docID,
			"id_card_back_side": back.JSON["uuid"], "country_of_residence": "GB", "city": "Manchester", "street": "2 High Street", "postal_code": "M4 1AA"})
		if res.Status != 200 {
			t.Fatalf("third application: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app3+"/send-to-review/", nil); res.Status != 200 {
			t.Fatalf("third to review: %d %s", res.Status, res.Body)
		}
		needsIdentity := func() bool {
			return strings.Contains(string(k.Call(t, "GET", "/core/capabilities", k.Tok, e.Client, nil).Body), "user-must-submit-identity")
		}
		if !needsIdentity() {
			t.Error("capabilities: no identity needed before the standard level")
		}
		if res := e.Decide(app3, map[string]any{"status": "approved", "reviewer": "officer-9", "reason": "All good"}); res.Status != 200 {
			t.Fatalf("approve standard: %d %s", res.Status, res.Body)
		}
		// The approval reaches the Core processes: profile, address and a
		// partner-verified identity; the overview agrees with the level.
		e2e.WaitUntil(t, "the Core submission", func() bool {
			return k.Call(t, "GET", "/admin/kyc-applications/"+app3, e.Admin, "", nil).Get("core_processes.identity") == "submitted"
		})
		ov := k.Call(t, "GET", "/core/kyc?detailed=identity", k.Tok, e.Client, nil)
		if ov.Get("processes.identity.status") != "ok" || ov.Get("processes.identity.output.provider") != "kycd-level-review" ||
			ov.Get("processes.identity.input.data.givenName") != "Janet" || ov.Get("processes.address.status") != "ok" {
			t.Errorf("overview after the standard level: %s", ov.Body)
		}
		if me := k.Call(t, "GET", "/core/users/me", k.Tok, e.Client, nil); me.Get("user.fullName") != "Janet Doe" || me.Get("user.address.line1") != "2 High Street" {
			t.Errorf("the user after the levels: %s", me.Body)
		}
		// Capabilities agree with the level: the identity is no longer asked for.
		if needsIdentity() {
			t.Error("capabilities still ask for an identity after the standard level")
		}

		// The enhanced level signs its declaration and its sending to review.
		info = e.V1("GET", "/v1/clients/kyc-level-info/", nil)
		enhanced := info.JSON["available_levels_for_upgrade"].([]any)[0].(map[string]any)["uuid"].(string)
		res = e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": enhanced})
		if res.Status != 201 {
			t.Fatalf("enhanced: %d %s", res.Status, res.Body)
		}
		app4 := res.JSON["uuid"].(string)
		proof := e.V1("POST", "/v1/documents/", map[string]any{"attribute_key": "proof_of_address", "files": []string{fileID}})
		funds := e.V1("POST", "/v1/documents/", map[string]any{"attribute_key": "proof_of_funds", "files": []string{fileID}})
		decl := e.Call(t, "GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {k.Tenant.ID}, "key": {"declaration_of_truth"}}.Encode(), k.Tok, "", nil).
			JSON["results"].([]any)[0].(map[string]any)["uuid"].(string)
		enh := map[string]any{"proof_of_address": proof.JSON["uuid"], "proof_of_funds": funds.JSON["uuid"], "annual_income": "25k_75k",
			"politically_exposed": "no", "declaration_of_truth": decl}
		if res := e.Patch(app4, enh); res.Status != 409 || res.Code() != "sign_code_required" || !strings.Contains(string(res.Body), "declaration_of_truth") {
			t.Errorf("unsigned declaration: %d %s", res.Status, res.Body)
		}
		// One email code signs it (the declaration takes sms or email).
		if res := e.V1("POST", "/v1/signatures/send-code/", map[string]any{"object_uuid": app4, "provider_type": "email"}); res.Status != 201 {
			t.Fatalf("email code: %d %s", res.Status, res.Body)
		}
		emailCode := k.SandboxCode(t, "Jane@example.com")
		if res := e.Patch(app4, enh, "email_sign_code", emailCode); res.Status != 200 {
			t.Fatalf("signed declaration: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app4+"/send-to-review/", nil); res.Status != 409 || res.Code() != "sign_code_required" {
			t.Errorf("unsigned review: %d %s", res.Status, res.Body)
		}
		if res := e.V1("POST", "/v1/kyc/"+app4+"/send-to-review/", nil, "sms_sign_code", "111111"); res.Status != 200 {
			t.Fatalf("signed review: %d %s", res.Status, res.Body)
		}
		// Sandbox: the status changes directly (here: approved), with the
		// same effects as a reviewer's approval: the proof of address.
		if res := e.V1("POST", "/v1/sandbox/kyc/"+app4+"/status/", map[string]any{"status": "approved"}); res.Status != 200 || res.JSON["status"] != "approved" {
			t.Errorf("sandbox status: %d %s", res.Status, res.Body)
		}
		e2e.WaitUntil(t, "the proof of address", func() bool {
			return k.Call(t, "GET", "/core/kyc", k.Tok, e.Client, nil).Get("processes.proofOfAddress.status") == "ok"
		})
		if info := e.V1("GET", "/v1/clients/kyc-level-info/", nil); len(info.JSON["kyc_levels"].([]any)) != 3 || info.JSON["allowed_to_create_kyc_application"] != false {
			t.Errorf("level info at the top: %s", info.Body)
		}
		// One code signs every attribute of its provider in a request: a
		// catalog of the sandbox tenant with two SMS-signed attributes.
		current := k.Call(t, "GET", "/admin/kyc-levels", e.Admin, "", nil).JSON
		current["attributes"].(map[string]any)["backup_phone"] = map[string]any{"type": "phone", "title": "Backup phone", "signProviders": []any{"sms"}}
		phonesLevel := map[string]any{"uuid": "7d1c9a2e-0000-4000-8000-0000000000aa", "name": "Phones", "order": 9, "upgradesFrom": []any{},
			"steps": []any{map[string]any{"title": "Phones", "questions": []any{map[string]any{"title": "Phone", "attribute": "phone", "required": true},
				map[string]any{"title": "Backup", "attribute": "backup_phone", "required": true}}}}}
		dropped := map[string]any{}
		for k2, v := range current {
			dropped[k2] = v
		}
		dropped["levels"] = []any{phonesLevel}
		two := current
		two["levels"] = append(current["levels"].([]any), phonesLevel)
		writer := k.ClientToken(t, k.Tenant.ID, "levels-writer", "admin.kyc-levels:write")
		if res := k.Call(t, "PUT", "/admin/kyc-levels", writer, "", dropped); res.Status != 409 || res.Code() != "kyc_level_in_use" {
			t.Errorf("dropping levels in use: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/admin/kyc-levels", writer, "", two); res.Status != 200 {
			t.Fatalf("catalog: %d %s", res.Status, res.Body)
		}
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "phones@levels.example")
		res = e.V1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": "7d1c9a2e-0000-4000-8000-0000000000aa"})
		if res.Status != 201 {
			t.Fatalf("phones application: %d %s", res.Status, res.Body)
		}
		phones := res.JSON["uuid"].(string)
		if res := e.V1("POST", "/v1/signatures/send-code/", map[string]any{"object_uuid": phones, "provider_type": "sms", "destination": "+447911123499"}); res.Status != 201 {
			t.Fatalf("send code: %d %s", res.Status, res.Body)
		}
		one := k.SandboxCode(t, "+447911123499")
		res = e.Patch(phones, map[string]any{"phone": "+447911123499", "backup_phone": "+447911123498"}, "sms_sign_code", one)
		if res.Status != 200 || e2e.Attr(res, "backup_phone")["value"] != "+447911123498" {
			t.Errorf("one code for two attributes: %d %s", res.Status, res.Body)
		}

		// Every status change was announced.
		feed := k.Call(t, "GET", "/core/events?limit=1000", k.Tok, "", nil)
		if n := strings.Count(string(feed.Body), `"type":"kyc-application.status-changed"`); n < 12 {
			t.Errorf("status events: %d", n)
		}

		// Bad requests and other tenants.
		if res := e.Invalid("PATCH", "/v1/kyc/"+app+"/", map[string]any{"attribute_changes": "first_name"}); res.Status != 400 {
			t.Errorf("malformed changes: %d %s", res.Status, res.Body)
		}
		otherTok := k.Token(t, k.NewTenant(t, "other-levels"), "")
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/"+e.Q(), otherTok, "", nil); res.Status != 404 || res.Get("entity") != "legal-entity" {
			t.Errorf("another tenant's legal entity: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/admin/kyc-applications/"+app, otherTok, "", nil); res.Status != 403 {
			t.Errorf("admin route without the scope: %d %s", res.Status, res.Body)
		}
		otherTenant := k.NewTenant(t, "other-levels-2")
		otherTok2 := k.Token(t, otherTenant, "")
		otherClient := e2e.CreateUser(t, k.Proc, otherTok2, "client2@levels.example")
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/?"+url.Values{"legal_entity_uuid": {otherTenant.ID}, "client_uuid": {otherClient}}.Encode(), otherTok2, "", nil); res.Status != 404 ||
			res.Get("entity") != "kyc-application" {
			t.Errorf("another tenant's application: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "POST", "/admin/kyc-applications/"+app+"/decision", otherTok2, "", map[string]any{"status": "approved", "reviewer": "x", "reason": "y"}); res.Status != 403 {
			t.Errorf("decision without the scope: %d %s", res.Status, res.Body)
		}
		other := e2e.CreateUser(t, k.Proc, k.Tok, "other@levels.example")
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/?"+url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_uuid": {other}}.Encode(), k.Tok, "", nil); res.Status != 404 {
			t.Errorf("another client's application: %d %s", res.Status, res.Body)
		}
		// Seed 003's own reads name the application alone: it identifies
		// its legal entity and client. Another tenant's token still finds
		// nothing, and a client_uuid given must be the application's.
		named := k.Call(t, "GET", "/admin/kyc-applications/"+app, e.Admin, "", nil)
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/", k.Tok, "", nil); res.Status != 200 || res.JSON["uuid"] != app || res.JSON["client_uuid"] != named.JSON["client_uuid"] ||
			res.JSON["legal_entity_uuid"] != k.Tenant.ID {
			t.Errorf("the application without legal_entity_uuid and client_uuid: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/attributes/first_name/", k.Tok, "", nil); res.Status != 200 || res.JSON["key"] != "first_name" {
			t.Errorf("an attribute without legal_entity_uuid and client_uuid: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/", otherTok2, "", nil); res.Status != 404 || res.Get("entity") != "kyc-application" {
			t.Errorf("another tenant's application by its uuid alone: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/v1/kyc/"+app+"/?client_uuid="+other, k.Tok, "", nil); res.Status != 404 {
			t.Errorf("another client named without the legal entity: %d %s", res.Status, res.Body)
		}
		// The query parameters and the path's uuid, malformed: reported
		// together (the legal entity is optional where the application
		// identifies it; where it does not, it is required).
		req = k.Req("GET", "/v1/kyc/not-a-uuid/?client_uuid=nope", nil)
		req.Header.Set("Authorization", "Bearer "+k.Tok)
		if res := k.Do(t, req); res.Status != 400 || e2e.HasViolation(res, "legal_entity_uuid", "required") ||
			!e2e.HasViolation(res, "client_uuid", "format") || !e2e.HasViolation(res, "uuid", "format") {
			t.Errorf("bad query: %d %s", res.Status, res.Body)
		}
		req = k.Req("GET", "/v1/clients/kyc-level-info/?client_uuid=nope", nil)
		req.Header.Set("Authorization", "Bearer "+k.Tok)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 || !e2e.HasViolation(res, "legal_entity_uuid", "required") ||
			!e2e.HasViolation(res, "client_uuid", "format") {
			t.Errorf("bad level info query: %d %s", res.Status, res.Body)
		}
		// Every decision is on the audit trail with its reviewer and reason.
		audit := k.Call(t, "GET", "/admin/audit?limit=1000", e.Admin, "", nil)
		if n := strings.Count(string(audit.Body), `"action":"kyc-application.reviewed"`); n != 4 || !strings.Contains(string(audit.Body), "officer-9") {
			t.Errorf("audited decisions: %d", n)
		}
	})
}

// TestTenantLevels: a tenant replaces the built-in levels with its own
// catalog (checked as a whole first); its clients see its levels, other
// tenants keep the built-in ones.
func TestTenantLevels(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.NewKYCEnv(t, db)
		admin := k.ClientToken(t, k.Tenant.ID, "levels-admin", "admin.kyc-levels:write,admin.kyc-applications:read")
		own := map[string]any{"version": 1,
			"attributes": map[string]any{"nickname": map[string]any{"type": "text", "title": "Nickname", "maxLength": 20},
				"motto": map[string]any{"type": "text", "title": "Motto", "signProviders": []any{"sms"}}},
			"referenceData": map[string]any{}, "legalDocuments": []any{},
			"levels": []any{map[string]any{"uuid": "7d1c9a2e-0000-4000-8000-000000000001", "name": "Starter", "order": 1, "upgradesFrom": []any{},
				"steps": []any{map[string]any{"title": "About you", "questions": []any{map[string]any{"title": "Nickname", "attribute": "nickname", "required": true},
					map[string]any{"title": "Motto", "attribute": "motto", "required": false}}}}}}}
		broken := map[string]any{"version": 1, "attributes": map[string]any{}, "levels": []any{map[string]any{"uuid": "7d1c9a2e-0000-4000-8000-000000000002",
			"name": "Broken", "order": 1, "upgradesFrom": []any{}, "steps": []any{map[string]any{"title": "S", "questions": []any{
				map[string]any{"title": "Q", "attribute": "missing", "required": true}}}}}}}
		if res := k.Call(t, "PUT", "/admin/kyc-levels", admin, "", broken); res.Status != 400 || !strings.Contains(string(res.Body), "unknown attribute") {
			t.Errorf("broken catalog: %d %s", res.Status, res.Body)
		}
		// Bad types: at the top, violations of the documented schema; deeper,
		// the catalog's own words (never Go's).
		put := func(body string) *e2e.Response {
			req := k.Req("PUT", "/admin/kyc-levels", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/json")
			return k.Do(t, req, e2e.DoOpts{InvalidRequest: true})
		}
		if res := put(`{"version": "one", "attributes": {}, "levels": []}`); res.Status != 400 || !e2e.HasViolation(res, "version", "type") {
			t.Errorf("a catalog of the wrong shape: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/admin/kyc-levels", admin, "", map[string]any{"version": 1, "attributes": map[string]any{},
			"levels": []any{map[string]any{"order": "first"}}}); res.Status != 400 ||
			!strings.Contains(string(res.Body), "levels.order must be an integer") || strings.Contains(string(res.Body), "Go ") {
			t.Errorf("a catalog that does not decode: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/admin/kyc-levels", k.Tok, "", own); res.Status != 403 {
			t.Errorf("without the scope: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PUT", "/admin/kyc-levels", admin, "", own); res.Status != 200 {
			t.Fatalf("own catalog: %d %s", res.Status, res.Body)
		}
		user := e2e.CreateUser(t, k.Proc, k.Tok, "starter@levels.example")
		q := "?" + url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_uuid": {user}}.Encode()
		info := k.Call(t, "GET", "/v1/clients/kyc-level-info/"+q, k.Tok, "", nil)
		if avail := info.JSON["available_levels_for_upgrade"].([]any); len(avail) != 1 || avail[0].(map[string]any)["name"] != "Starter" {
			t.Fatalf("own levels: %s", info.Body)
		}
		res := k.Call(t, "POST", "/v1/clients/kyc-level-info/"+q, k.Tok, "", map[string]any{"kyc_level_uuid": "7d1c9a2e-0000-4000-8000-000000000001"})
		if res.Status != 201 || e2e.Attr(res, "nickname") == nil {
			t.Fatalf("own level application: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PATCH", "/v1/kyc/"+res.JSON["uuid"].(string)+"/"+q, k.Tok, "", map[string]any{"attribute_changes": []any{
			map[string]any{"key": "nickname", "value": strings.Repeat("x", 21)}}}); res.Status != 400 || !e2e.HasViolation(res, "nickname", "maxLength") {
			t.Errorf("own attribute rule: %d %s", res.Status, res.Body)
		}
		// Outside sandbox mode the sandbox's code signs nothing, and with no
		// SMS sender configured no code can be sent.
		starter := res.JSON["uuid"].(string)
		if res := k.Call(t, "PATCH", "/v1/kyc/"+starter+"/"+q+"&sms_sign_code=111111", k.Tok, "", map[string]any{"attribute_changes": []any{
			map[string]any{"key": "motto", "value": "carpe diem"}}}); res.Status != 409 || res.Code() != "code_invalid" {
			t.Errorf("sandbox code outside sandbox mode: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "POST", "/v1/signatures/send-code/"+q, k.Tok, "", map[string]any{"object_uuid": starter, "provider_type": "sms",
			"destination": "+447911123456"}); res.Status != 409 || res.Code() != "sign_provider_unavailable" {
			t.Errorf("no SMS sender: %d %s", res.Status, res.Body)
		}
		// A replaced catalog (a shorter nickname, a new required question)
		// applies to new applications; the open one keeps the questionnaire
		// it was created with, in the client's view and the review queue.
		own["attributes"].(map[string]any)["nickname"].(map[string]any)["maxLength"] = 10
		own["attributes"].(map[string]any)["city"] = map[string]any{"type": "text", "title": "City"}
		steps := own["levels"].([]any)[0].(map[string]any)["steps"].([]any)
		steps[0].(map[string]any)["questions"] = append(steps[0].(map[string]any)["questions"].([]any),
			map[string]any{"title": "City", "attribute": "city", "required": true})
		if res := k.Call(t, "PUT", "/admin/kyc-levels", admin, "", own); res.Status != 200 {
			t.Fatalf("second catalog: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PATCH", "/v1/kyc/"+starter+"/"+q, k.Tok, "", map[string]any{"attribute_changes": []any{
			map[string]any{"key": "nickname", "value": strings.Repeat("x", 15)}}}); res.Status != 200 || e2e.Attr(res, "city") != nil {
			t.Errorf("the open application under its own catalog: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "POST", "/v1/kyc/"+starter+"/send-to-review/"+q, k.Tok, "", nil); res.Status != 200 {
			t.Errorf("send to review without the new question: %d %s", res.Status, res.Body)
		}
		queue := k.Call(t, "GET", "/admin/kyc-applications?status=in_review", admin, "", nil)
		if queue.Status != 200 || !strings.Contains(string(queue.Body), starter) || strings.Contains(string(queue.Body), `"city"`) {
			t.Errorf("the review queue: %d %s", queue.Status, queue.Body)
		}
		second := e2e.CreateUser(t, k.Proc, k.Tok, "second@levels.example")
		q2 := "?" + url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_uuid": {second}}.Encode()
		res = k.Call(t, "POST", "/v1/clients/kyc-level-info/"+q2, k.Tok, "", map[string]any{"kyc_level_uuid": "7d1c9a2e-0000-4000-8000-000000000001"})
		if res.Status != 201 || e2e.Attr(res, "city") == nil {
			t.Fatalf("a new application under the second catalog: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "PATCH", "/v1/kyc/"+res.JSON["uuid"].(string)+"/"+q2, k.Tok, "", map[string]any{"attribute_changes": []any{
			map[string]any{"key": "nickname", "value": strings.Repeat("x", 15)}}}); res.Status != 400 || !e2e.HasViolation(res, "nickname", "maxLength") {
			t.Errorf("the second catalog's rule: %d %s", res.Status, res.Body)
		}

		// Another tenant still has the built-in levels.
		other := k.NewTenant(t, "builtin")
		otherTok := k.Token(t, other, "")
		ou := e2e.CreateUser(t, k.Proc, otherTok, "builtin@levels.example")
		oi := k.Call(t, "GET", "/v1/clients/kyc-level-info/?"+url.Values{"legal_entity_uuid": {other.ID}, "client_uuid": {ou}}.Encode(), otherTok, "", nil)
		if avail := oi.JSON["available_levels_for_upgrade"].([]any); len(avail) != 1 || avail[0].(map[string]any)["name"] != "Basic" {
			t.Errorf("another tenant's levels: %s", oi.Body)
		}
	})
}

// wrongOf returns a six-digit code other than code.
func wrongOf(code string, i int) string {
	w := fmt.Sprintf("%06d", 100000+i)
	if w == code {
		w = fmt.Sprintf("%06d", 200000+i)
	}
	return w
}

// TestLevelsFourEyes: under the tenant's four-eyes setting an application's
// approval or rejection through the admin API is proposed and waits for a
// second reviewer: the application stays in review with the proposal in
// its view and no status event; the proposer deciding again is refused
// (409 problem, four-eyes-same-reviewer); another reviewer's other
// decision drops the proposal (both reviews kept, audited as disputed); a
// second reviewer's same decision approves it (the status event, both
// reviewers in the reviews and the audit entry). A return for corrections
// by another reviewer drops a proposal and takes effect at once; so does
// any decision once four eyes is turned off.
func TestLevelsFourEyes(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e, k := e2e.NewLevelsEnv(t, db)
		if out, err := k.CLI(t, "tenant", "settings", "--tenant", k.Tenant.ID, "--four-eyes", "on"); err != nil || !strings.Contains(out, "four eyes on") {
			t.Fatalf("tenant settings: %q %v", out, err)
		}
		officer := k.NewClient(t, k.Tenant.ID, "four-eyes-officer", "admin.kyc-applications:read,admin.kyc-applications:review,admin.audit:read")
		e.Admin = k.Token(t, officer, "")
		// statuses are the statuses an application's status events
		// announced, oldest first.
		statuses := func(app string) []string {
			t.Helper()
			var out []string
			events, _ := k.Call(t, "GET", "/core/events?limit=1000", k.Tok, "", nil).Get("events").([]any)
			for _, ev := range events {
				ev := ev.(map[string]any)
				if ev["type"] == "kyc-application.status-changed" && e2e.WalkJSON(ev, []string{"data", "kycApplication", "uuid"}) == app {
					out = append(out, e2e.WalkJSON(ev, []string{"data", "kycApplication", "status"}).(string))
				}
			}
			return out
		}
		decide := func(app, status, reviewer string, corrections map[string]any) *e2e.Response {
			t.Helper()
			body := map[string]any{"status": status, "reviewer": reviewer, "reason": "Checked " + status + "."}
			if corrections != nil {
				body["corrections"] = corrections
			}
			return e.Decide(app, body)
		}
		reviews := func(res *e2e.Response) []string {
			var out []string
			list, _ := res.JSON["reviews"].([]any)
			for _, r := range list {
				r := r.(map[string]any)
				out = append(out, fmt.Sprint(r["decision"], " ", r["reviewer"], " ", r["four_eyes"]))
			}
			return out
		}

		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "approved@four-eyes.example")
		app := e2e.ReviewableApplication(t, e)
		res := decide(app, "approved", "a.officer", nil)
		if res.Status != 200 || res.JSON["status"] != "in_review" || res.Get("proposal.reviewer") != "a.officer" || res.Get("proposal.decision") != "approved" ||
			res.Get("proposal.four_eyes") != "proposed" || res.Get("proposal.reason") != "Checked approved." || res.JSON["reviews"] != nil || res.JSON["decided_at"] != nil {
			t.Fatalf("a proposed approval: %d %s", res.Status, res.Body)
		}
		if got := k.Call(t, "GET", "/admin/kyc-applications/"+app, e.Admin, "", nil); got.Get("proposal.reviewer") != "a.officer" {
			t.Errorf("the proposal in the admin view: %s", got.Body)
		}
		if got := e.V1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "in_review" || got.JSON["proposal"] != nil {
			t.Errorf("the proposed application as the client sees it: %s", got.Body)
		}
		for _, again := range []struct{ status, reviewer string }{{"approved", " A.Officer"}, {"pending", "a.officer"}} {
			var corrections map[string]any
			if again.status == "pending" {
				corrections = map[string]any{"first_name": "As on the ID."}
			}
			res := decide(app, again.status, again.reviewer, corrections)
			if res.Status != 409 || res.Code() != "operation_not_allowed" || !strings.Contains(string(res.Body), "four-eyes-same-reviewer") ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("the proposer deciding %s again: %d %s", again.status, res.Status, res.Body)
			}
		}
		res = decide(app, "rejected", "b.officer", nil)
		if res.Status != 200 || res.JSON["status"] != "in_review" || res.JSON["proposal"] != nil ||
			!slices.Equal(reviews(res), []string{"approved a.officer proposed", "rejected b.officer disputed"}) {
			t.Fatalf("a disputed approval: %d %s", res.Status, res.Body)
		}
		if res := decide(app, "approved", "a.officer", nil); res.Status != 200 || res.Get("proposal.reviewer") != "a.officer" {
			t.Fatalf("proposed anew: %d %s", res.Status, res.Body)
		}
		res = decide(app, "approved", "b.officer", nil)
		if res.Status != 200 || res.JSON["status"] != "approved" || res.JSON["proposal"] != nil || res.JSON["decided_at"] == nil ||
			!slices.Equal(reviews(res), []string{"approved a.officer proposed", "rejected b.officer disputed", "approved a.officer proposed", "approved b.officer confirmed"}) {
			t.Fatalf("a confirmed approval: %d %s", res.Status, res.Body)
		}
		if got := e.V1("GET", "/v1/kyc/"+app+"/", nil); got.JSON["status"] != "approved" {
			t.Errorf("the approved application as the client sees it: %s", got.Body)
		}
		// One status event for the confirmation, none for the proposals
		// or the dispute.
		e2e.WaitUntil(t, "the approval's status event", func() bool { return slices.Contains(statuses(app), "approved") })
		if got := statuses(app); !slices.Equal(got, []string{"new", "in_review", "approved"}) {
			t.Errorf("the application's status events: %v", got)
		}

		// A return for corrections by another reviewer drops the proposal
		// and returns the application at once.
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "returned@four-eyes.example")
		second := e2e.ReviewableApplication(t, e)
		if res := decide(second, "rejected", "a.officer", nil); res.Status != 200 || res.Get("proposal.decision") != "rejected" {
			t.Fatalf("a proposed rejection: %d %s", res.Status, res.Body)
		}
		res = decide(second, "pending", "b.officer", map[string]any{"first_name": "As on the ID."})
		if res.Status != 200 || res.JSON["status"] != "pending" || res.JSON["proposal"] != nil ||
			!slices.Equal(reviews(res), []string{"rejected a.officer proposed", "pending b.officer disputed"}) || e2e.Attr(res, "first_name")["correction"] != "As on the ID." {
			t.Fatalf("a return disputing the proposal: %d %s", res.Status, res.Body)
		}

		// A proposal left when four eyes is turned off is dropped, on
		// record, by the next decision, which takes effect alone.
		e.Client = e2e.CreateUser(t, k.Proc, k.Tok, "off@four-eyes.example")
		third := e2e.ReviewableApplication(t, e)
		if res := decide(third, "approved", "a.officer", nil); res.Status != 200 || res.Get("proposal.reviewer") != "a.officer" {
			t.Fatalf("a proposal before four eyes is turned off: %d %s", res.Status, res.Body)
		}
		if out, err := k.CLI(t, "tenant", "settings", "--tenant", k.Tenant.ID, "--four-eyes", "off"); err != nil || !strings.Contains(out, "four eyes off") {
			t.Fatalf("tenant settings: %q %v", out, err)
		}
		res = decide(third, "rejected", "a.officer", nil)
		if res.Status != 200 || res.JSON["status"] != "rejected" || res.JSON["proposal"] != nil ||
			!slices.Equal(reviews(res), []string{"approved a.officer proposed", "rejected a.officer <nil>"}) {
			t.Fatalf("a decision after four eyes is turned off: %d %s", res.Status, res.Body)
		}

		// The audit trail: the proposals, the dispute, the confirmation
		// naming both reviewers.
		audit := k.Call(t, "GET", "/admin/audit?limit=1000", e.Admin, "", nil)
		actor := "client:" + officer.ClientID
		for _, w := range []struct{ action, key, value string }{
			{"kyc-application.proposed", "reviewer", "a.officer"},
			{"kyc-application.proposed", "decision", "approved"},
			{"kyc-application.disputed", "reviewer", "b.officer"},
			{"kyc-application.disputed", "proposer", "a.officer"},
			{"kyc-application.reviewed", "fourEyes", "confirmed"},
			{"kyc-application.reviewed", "proposer", "a.officer"},
			{"kyc-application.reviewed", "status", "approved"},
			{"kyc-application.reviewed", "status", "pending"},
		} {
			if !e2e.HasAuditEntry(audit, actor, w.action, w.key, w.value) {
				t.Errorf("no %s audit entry with %s %s: %s", w.action, w.key, w.value, audit.Body)
			}
		}
	})
}
