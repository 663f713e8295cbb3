package providers

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/connector/sumsub"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// seedKYCRequest is seed 001's own example request, as the seed writes it.
func seedKYCRequest() map[string]any {
	return map[string]any{
		"type": "KYC", "check_confirmed_at": "2019-08-24T14:15:22Z", "data_download_link": "https://bucket.customer.com/ident/user3.zip",
		"document_type": "ID_CARD", "document_expiration_date": "2030-01-01", "nationality": "DE", "provider": "KYC provider", "method": "VIDEO_ID",
		"confirmed_address": map[string]any{"address_line1": "Rosenweg 221", "address_line2": "apt. 33", "postcode": "45678", "city": "Berlin",
			"state": "BE", "country": "DE"},
	}
}

// seedChecks are the checks seed 001's list shows, in its order.
var seedChecks = []map[string]any{
	{"type": "KYC", "check_confirmed_at": "2019-08-24T14:15:22Z", "data_download_link": "https://bucket.customer.com/ident/user3.zip",
		"document_type": "ID_CARD", "document_expiration_date": "2030-01-01", "nationality": "DE", "status": "PASSED", "provider": "KYC provider",
		"method": "VIDEO_ID", "confirmed_address": map[string]any{"address_line1": "Rosenweg 221", "address_line2": "apt. 33", "postcode": "45678",
			"city": "Berlin", "state": "BE", "country": "DE"}},
	{"type": "INSTRUMENT_FIT", "check_confirmed_at": "2020-08-24T14:15:22Z", "status": "PASSED", "instrument_suitability": map[string]any{"suitability": true}},
	{"type": "POR", "check_confirmed_at": "2020-08-24T14:15:22Z", "issuance_date": "2020-01-01", "data_download_link": "https: //bucket.customer.com/por/user3.zip",
		"document_type": "UTILITY_BILL", "status": "PASSED", "confirmed_address": map[string]any{"address_line1": "Rosenweg 221", "address_line2": "apt. 33",
			"postcode": "45678", "city": "Berlin", "state": "BE", "country": "DE"}},
	{"type": "COMPLIANCE", "check_confirmed_at": "2020-08-24T14:15:22Z", "status": "PASSED"},
}

// seedFields compares what a response shows against what the seed shows,
// field by field, leaving out the fields the seed's values cannot hold
// here (ids, times, links: random or the deployment's own).
func seedFields(t *testing.T, what string, got map[string]any, seed map[string]any, random ...string) {
	t.Helper()
	for k, want := range seed {
		if strings.Contains(" "+strings.Join(random, " ")+" ", " "+k+" ") {
			if got[k] == nil {
				t.Errorf("%s: no %s", what, k)
			}
			continue
		}
		if string(e2e.MustJSON(got[k])) != string(e2e.MustJSON(want)) {
			t.Errorf("%s: %s = %s, the seed shows %s", what, k, e2e.MustJSON(got[k]), e2e.MustJSON(want))
		}
	}
}

// TestSeedReplay replays seed 001's and seed 003's own example requests in
// their order, as a client reading only the seeds would (on a sandbox
// kycd, whose evidence bucket, Sumsub and sign codes stand in for the
// partner's), and checks the answers against what the seeds show. Where a
// seed's value cannot be sent as written, the seed says why: a check
// confirmed in 2019 is older than its 24 months, its bucket is the
// partner's, its POR link has a space in it.
func TestSeedReplay(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		c := e2e.NewConnectorEnv(t, db, "--allow-private-network")
		k := c.KYCEnv
		rc := e2e.NewReceiver(t)
		if res := k.Call(t, "POST", "/core/webhooks/endpoints", k.Tok, "", map[string]any{"url": rc.URL, "eventTypes": []string{"USER_CHECK."}}); res.Status != 201 {
			t.Fatalf("endpoint: %d %s", res.Status, res.Body)
		}

		// Seed 001: a user created with the seed's data and nothing else.
		res := k.Call(t, "POST", "/core/users", k.Tok, "", map[string]any{"email": "user3@seed.example", "termsOfService": "general-pt-bop",
			"primaryCitizenship": "DE", "address": map[string]any{"country": "DE"}})
		if res.Status != 201 {
			t.Fatalf("user: %d %s", res.Status, res.Body)
		}
		user := res.Get("user.id").(string)
		checksPath := "/users/" + user + "/checks"
		// The request as written: refused by the seed's own rule.
		if res := k.Call(t, "POST", checksPath, k.Tok, "", seedKYCRequest()); res.Status != 400 || !e2e.HasViolation(res, "check_confirmed_at", "date_max_age") {
			t.Errorf("the seed's request as written: %d %s", res.Status, res.Body)
		}
		confirmed := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		at := func(seed string) string { // the seed's time of day, on a recent day
			s, _ := time.Parse(time.RFC3339, seed)
			return time.Date(confirmed.Year(), confirmed.Month(), confirmed.Day(), s.Hour(), s.Minute(), s.Second(), 0, time.UTC).AddDate(0, 0, -1).Format(time.RFC3339)
		}
		evidence := k.Base + "/sandbox/evidence/"
		kyc := seedKYCRequest()
		kyc["check_confirmed_at"], kyc["data_download_link"] = at("2019-08-24T14:15:22Z"), evidence+"ident.zip"
		res = k.Call(t, "POST", checksPath, k.Tok, "", kyc)
		if res.Status != 202 || len(res.JSON) != 1 || !uuidLike(res.JSON["id"]) {
			t.Fatalf("the seed's KYC check: %d %s (the seed shows {\"id\"})", res.Status, res.Body)
		}
		kycID := res.JSON["id"].(string)
		e := &e2e.ChecksEnv{Proc: k.Proc, T: t, Tok: k.Tok}
		got := e.Await(user, kycID)
		seedFields(t, "the KYC check", got.JSON, seedChecks[0], "check_confirmed_at", "data_download_link")
		if got.JSON["id"] != kycID || got.JSON["user_id"] != user || got.JSON["check_confirmed_at"] != kyc["check_confirmed_at"] {
			t.Errorf("the KYC check: %s", got.Body)
		}

		// The other checks of the seed's list, recorded as its items show them.
		fit := map[string]any{"type": "INSTRUMENT_FIT", "check_confirmed_at": at("2020-08-24T14:15:22Z"), "instrument_suitability": map[string]any{"suitability": true}}
		por := map[string]any{"type": "POR", "check_confirmed_at": at("2020-08-24T14:15:22Z"), "issuance_date": confirmed.AddDate(0, 0, -30).Format(time.DateOnly),
			"data_download_link": evidence + "por.zip", "document_type": "UTILITY_BILL", "confirmed_address": seedChecks[2]["confirmed_address"]}
		officerTok := k.ClientToken(t, k.Tenant.ID, "compliance", "checks:compliance")
		compliance := map[string]any{"type": "COMPLIANCE", "check_confirmed_at": at("2020-08-24T14:15:22Z")}
		ids := []string{kycID}
		for i, body := range []map[string]any{fit, por, compliance} {
			tok := k.Tok
			if i == 2 {
				tok = officerTok
			}
			res := k.Call(t, "POST", checksPath, tok, "", body)
			if res.Status != 202 || len(res.JSON) != 1 {
				t.Fatalf("%s check: %d %s", body["type"], res.Status, res.Body)
			}
			ids = append(ids, res.JSON["id"].(string))
			e.Await(user, res.JSON["id"].(string))
		}
		list := k.Call(t, "GET", checksPath, k.Tok, "", nil)
		data, _ := list.JSON["data"].([]any)
		if list.Status != 200 || len(list.JSON) != 1 || len(data) != len(seedChecks) {
			t.Fatalf("the list: %d %s", list.Status, list.Body)
		}
		for i, item := range data {
			m := item.(map[string]any)
			seedFields(t, "list item "+seedChecks[i]["type"].(string), m, seedChecks[i], "check_confirmed_at", "data_download_link", "issuance_date")
			if m["id"] != ids[i] || m["user_id"] != user {
				t.Errorf("list item %d: %v", i, m)
			}
		}

		// The USER_CHECK.PASSED event of the KYC check, in the seed's envelope.
		var passed map[string]any
		e2e.WaitUntil(t, "the KYC check's PASSED event", func() bool {
			for _, ev := range rc.Events() {
				if obj, _ := ev["object"].(map[string]any); ev["type"] == "USER_CHECK.PASSED" && obj["id"] == kycID {
					passed = ev
					return true
				}
			}
			return false
		})
		if len(passed) != 5 || passed["id"] == nil || passed["created_at"] == nil || passed["webhook_id"] == nil {
			t.Errorf("the event's envelope: %v", passed)
		}
		seedFields(t, "the event's object", passed["object"].(map[string]any), map[string]any{"check_confirmed_at": kyc["check_confirmed_at"],
			"data_download_link": kyc["data_download_link"], "document_expiration_date": "2030-01-01", "document_type": "ID_CARD", "id": kycID,
			"user_id": user, "method": "VIDEO_ID", "nationality": "DE", "provider": "KYC provider", "status": "PASSED", "type": "KYC"})

		// Seed 003, in its order.
		client := e2e.CreateUser(t, k.Proc, k.Tok, "client@seed.example")
		q := func(extra ...string) string {
			v := url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_uuid": {client}}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return "?" + v.Encode()
		}
		v1 := func(method, path string, body any) *e2e.Response {
			t.Helper()
			return k.Call(t, method, path, k.Tok, "", body)
		}
		changes := func(kv ...any) map[string]any {
			var list []any
			for i := 0; i+1 < len(kv); i += 2 {
				list = append(list, map[string]any{"key": kv[i], "value": kv[i+1]})
			}
			return map[string]any{"attribute_changes": list}
		}
		// Get client's KYC level.
		info := v1("GET", "/v1/clients/kyc-level-info/"+q(), nil)
		levels, _ := info.JSON["available_levels_for_upgrade"].([]any)
		if info.Status != 200 || info.JSON["allowed_to_create_kyc_application"] != true || len(levels) == 0 || info.JSON["last_kyc_application_uuid"] != nil {
			t.Fatalf("level info: %d %s", info.Status, info.Body)
		}
		// Create KYC application: the questionnaire.
		app := v1("POST", "/v1/clients/kyc-level-info/"+q(), map[string]any{"kyc_level_uuid": levels[0].(map[string]any)["uuid"]})
		if app.Status != 201 || app.JSON["kyc_steps"] == nil {
			t.Fatalf("create: %d %s", app.Status, app.Body)
		}
		basic := app.JSON["uuid"].(string)
		// Update KYC application, in parts.
		if res := v1("PATCH", "/v1/kyc/"+basic+"/"+q(), changes("first_name", "Jane", "last_name", "Doe", "birth_date", "1985-02-03",
			"citizenship", "GB", "email", "jane@seed.example")); res.Status != 200 {
			t.Fatalf("update: %d %s", res.Status, res.Body)
		}
		// Legal document: its uuid is the value.
		for _, key := range []string{"terms_and_conditions", "privacy_policy"} {
			docs := v1("GET", "/v1/legal_documents/?"+url.Values{"legal_entity_uuid": {k.Tenant.ID}, "client_type": {"individual"}, "key": {key}}.Encode(), nil)
			results, _ := docs.JSON["results"].([]any)
			if docs.Status != 200 || len(results) != 1 {
				t.Fatalf("legal document %s: %d %s", key, docs.Status, docs.Body)
			}
			if res := v1("PATCH", "/v1/kyc/"+basic+"/"+q(), changes(key, results[0].(map[string]any)["uuid"])); res.Status != 200 {
				t.Fatalf("legal document %s: %d %s", key, res.Status, res.Body)
			}
		}
		// Client signature: send a code, then the sandbox's code signs.
		if res := v1("POST", "/v1/signatures/send-code/"+q(), map[string]any{"legal_entity_uuid": k.Tenant.ID, "object_uuid": basic, "provider_type": "sms",
			"destination": "+447911123456"}); res.Status != 201 {
			t.Fatalf("send code: %d %s", res.Status, res.Body)
		}
		if res := v1("PATCH", "/v1/kyc/"+basic+"/"+q("sms_sign_code", "111111"), changes("phone", "+447911123456")); res.Status != 200 {
			t.Fatalf("signed phone: %d %s", res.Status, res.Body)
		}
		// Send KYC application to review; the sandbox's status function approves it.
		if res := v1("POST", "/v1/kyc/"+basic+"/send-to-review/"+q(), nil); res.Status != 200 || res.JSON["status"] != "in_review" {
			t.Fatalf("send to review: %d %s", res.Status, res.Body)
		}
		if res := v1("POST", "/v1/sandbox/kyc/"+basic+"/status/"+q(), map[string]any{"status": "approved"}); res.Status != 200 {
			t.Fatalf("sandbox status: %d %s", res.Status, res.Body)
		}
		if res := v1("GET", "/v1/kyc/"+basic+"/", nil); res.Status != 200 || res.JSON["status"] != "approved" {
			t.Fatalf("review result: %d %s", res.Status, res.Body)
		}

		// The next level: reference data, documents, the liveness check.
		info = v1("GET", "/v1/clients/kyc-level-info/"+q(), nil)
		levels, _ = info.JSON["available_levels_for_upgrade"].([]any)
		if len(levels) == 0 || info.JSON["last_kyc_application_uuid"] != basic {
			t.Fatalf("level info after the first level: %s", info.Body)
		}
		app = v1("POST", "/v1/clients/kyc-level-info/"+q(), map[string]any{"kyc_level_uuid": levels[0].(map[string]any)["uuid"]})
		if app.Status != 201 {
			t.Fatalf("create: %d %s", app.Status, app.Body)
		}
		standard := app.JSON["uuid"].(string)
		defs := v1("GET", "/v1/attributes/source_of_funds/definitions/?legal_entity_uuid="+k.Tenant.ID, nil)
		choices, _ := defs.JSON["results"].([]any)
		if defs.Status != 200 || len(choices) == 0 {
			t.Fatalf("definitions: %d %s", defs.Status, defs.Body)
		}
		// Document: upload the file, make a document of it, put it in the
		// value (the back side with the same picture, as the seed says).
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("files", "id-card.png")
		fw.Write(e2e.PNGBytes("id card"))
		mw.Close()
		req := k.Req("POST", "/v1/documents/files/"+q(), &mp)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+k.Tok)
		up := k.Do(t, req)
		files, _ := up.JSON["files"].([]any)
		if up.Status != 201 || len(files) != 1 {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		fileID := files[0].(map[string]any)["uuid"]
		var docs []any
		for _, key := range []string{"id_card_front_side", "id_card_back_side"} {
			doc := v1("POST", "/v1/documents/"+q(), map[string]any{"attribute_key": key, "files": []any{fileID}})
			if doc.Status != 201 {
				t.Fatalf("document %s: %d %s", key, doc.Status, doc.Body)
			}
			docs = append(docs, doc.JSON["uuid"])
		}
		if res := v1("PATCH", "/v1/kyc/"+standard+"/"+q(), changes("country_of_residence", "GB", "city", "Manchester", "street", "1 High Street",
			"postal_code", "M4 1AA", "id_card_front_side", docs[0], "id_card_back_side", docs[1], "employment_status", "employed",
			"source_of_funds", choices[0].(map[string]any)["value"])); res.Status != 200 {
			t.Fatalf("update: %d %s", res.Status, res.Body)
		}
		// SumSub liveness check: the seed's read, without the legal
		// entity and client, with its options.
		liveness := func(res *e2e.Response) map[string]any {
			t.Helper()
			for _, s := range res.JSON["kyc_steps"].([]any) {
				if s := s.(map[string]any); s["title"] == "Liveness check" {
					for _, q := range s["questions"].([]any) {
						if q := q.(map[string]any); q["title"] == "SumSub liveness check token" {
							return q["attribute"].(map[string]any)
						}
					}
				}
			}
			t.Fatalf("no Liveness check step with a SumSub liveness check token question: %s", res.Body)
			return nil
		}
		read := v1("GET", "/v1/kyc/"+standard+"/?"+url.Values{"empty_volatile_fields": {"false"}, "sumsub_liveness_check_token.ttl_min": {"600"},
			"sumsub_liveness_check_token.ttl_max": {"3600"}, "sumsub_liveness_check_token.ttl_renew": {"false"}}.Encode(), nil)
		live := liveness(read)
		token, _ := live["value"].(string)
		if read.Status != 200 || token == "" || live["additional_info"].(map[string]any)["email"] != "jane@seed.example" ||
			live["additional_info"].(map[string]any)["phone"] != "+447911123456" {
			t.Fatalf("the liveness token: %d %s", read.Status, read.Body)
		}
		one := v1("GET", "/v1/kyc/"+standard+"/attributes/sumsub_liveness_check_token/?ttl_min=600&ttl_max=3600&ttl_renew=false", nil)
		if one.Status != 200 || one.JSON["value"] != token || one.Get("additional_info.email") != "jane@seed.example" || one.Get("additional_info.phone") != "+447911123456" {
			t.Errorf("the liveness attribute: %d %s", one.Status, one.Body)
		}
		// Sumsub reviews the liveness check (the sandbox's review, with the
		// seed's note), and the application goes to review. The client's
		// ID card went to Sumsub too (through its SDK): its diagnostics
		// are the document's.
		applicant := c.SumsubGet("/resources/applicants/-;externalUserId=" + client + "/one")
		const note = "There is no available data to recognize from image"
		addIDDoc(t, c, applicant["id"].(string), map[string]any{"idDocType": "ID_CARD", "idDocSubType": "FRONT_SIDE", "country": "GBR"}, e2e.PNGBytes("id card"))
		c.SumsubPost("/resources/applicants/"+applicant["id"].(string)+"/status/testCompleted", map[string]any{"reviewAnswer": "RED",
			"reviewRejectType": "RETRY", "clientComment": note})
		e2e.WaitUntil(t, "the liveness diagnostics", func() bool {
			_, done := liveness(v1("GET", "/v1/kyc/"+standard+"/", nil))["value"].(map[string]any)
			return done
		})
		if res := v1("POST", "/v1/kyc/"+standard+"/send-to-review/"+q(), nil); res.Status != 200 {
			t.Fatalf("send to review: %d %s", res.Status, res.Body)
		}
		// Get KYC application review result: the diagnostics where the seed reads them.
		result := v1("GET", "/v1/kyc/"+standard+"/", nil)
		sumsub, _ := liveness(result)["value"].(map[string]any)["verification"].(map[string]any)["sumsub"].(map[string]any)
		if result.JSON["status"] != "in_review" || sumsub["verificator"] != "sumsub" || sumsub["status"] != "rejected" || sumsub["client_note"] != note {
			t.Errorf("the review result's diagnostics: %s", result.Body)
		}
		// For some documents, Sumsub's document diagnostics.
		var front map[string]any
		for _, s := range result.JSON["kyc_steps"].([]any) {
			for _, q := range s.(map[string]any)["questions"].([]any) {
				if a := q.(map[string]any)["attribute"].(map[string]any); a["key"] == "id_card_front_side" {
					front = a
				}
			}
		}
		value, _ := front["value"].(map[string]any)
		if docDiag, _ := value["verification"].(map[string]any)["sumsub"].(map[string]any); value["uuid"] != docs[0] || docDiag["verificator"] != "sumsub" ||
			docDiag["status"] != "ignored" || docDiag["client_note"] != note {
			t.Errorf("the ID card's diagnostics: %v", front)
		}
		if res := v1("POST", "/v1/sandbox/kyc/"+standard+"/status/"+q(), map[string]any{"status": "pending"}); res.Status != 200 || res.JSON["status"] != "pending" {
			t.Errorf("sandbox status: %d %s", res.Status, res.Body)
		}
		if res := v1("GET", "/v1/kyc/"+standard+"/", nil); res.JSON["status"] != "pending" {
			t.Errorf("review result: %s", res.Body)
		}
	})
}

// addIDDoc adds a document image to a Sumsub sandbox applicant, as
// Sumsub's SDK does (Add ID document: multipart metadata and content).
func addIDDoc(t *testing.T, c *e2e.ConnectorEnv, applicantID string, metadata map[string]any, content []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("metadata", string(e2e.MustJSON(metadata)))
	fw, _ := mw.CreateFormFile("content", "document.png")
	fw.Write(content)
	mw.Close()
	req := c.Req("POST", "/sandbox/sumsub/resources/applicants/"+applicantID+"/info/idDoc", bytes.NewReader(b.Bytes()))
	sumsub.SignRequest(req, c.Creds.SumsubAppToken, c.Creds.SumsubSecret, time.Now().Unix(), b.Bytes())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Image-Id") == "" {
		t.Fatalf("add ID document: %d", res.StatusCode)
	}
}

func uuidLike(v any) bool {
	s, ok := v.(string)
	return ok && len(s) == 36 && strings.Count(s, "-") == 4
}
