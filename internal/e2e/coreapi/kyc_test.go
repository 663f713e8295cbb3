package coreapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

func jsonBody(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// TestKYCOverview: all thirteen processes with statuses that follow the
// user's data and the policy of their country, details on demand, and the
// summary.
func TestKYCOverview(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		gb := e2e.CreateUser(t, e.Proc, e.Tok, "gb@kyc.example")
		res := e.Overview(gb, "")
		procs := res.JSON["processes"].(map[string]any)
		want := map[string]string{
			"profile": "ok", "address": "ok", "email": "pending", "phone": "pending", "identity": "pending",
			"proofOfAddress": "pending", "customerDueDiligence": "pending", "enhancedDueDiligence": "exempt",
			"cryptoRiskAssessment": "pending", "selfCategorizationStatement": "pending", "taxDetails": "pending",
			"screening": "pending", "risk": "pending",
		}
		if len(procs) != 13 {
			t.Fatalf("%d processes: %s", len(procs), res.Body)
		}
		for key, status := range want {
			p := procs[key].(map[string]any)
			if p["status"] != status {
				t.Errorf("%s: %v, want %s", key, p["status"], status)
			}
			if p["verification"] != nil || p["input"] != nil {
				t.Errorf("%s detailed without asking: %v", key, p)
			}
		}
		if res.Get("processes.identity.type") != "none" || res.Get("processes.proofOfAddress.code") != "proof-of-address" {
			t.Errorf("identity/proof of address: %s", res.Body)
		}
		// Uphold's vocabulary has no requirement for an unverified email.
		if res.Get("summary.status") != "pending" || res.Get("summary.reason") != "none" {
			t.Errorf("summary: %v", res.JSON["summary"])
		}

		// Details: verification, input, rules, the form hint.
		res = e.Overview(gb, "profile,customerDueDiligence,identity")
		if res.Get("processes.profile.verification.rules.fullName.presence") != "required" ||
			res.Get("processes.profile.verification.rules.birthplace.presence") != "disallowed" ||
			res.Get("processes.profile.input.fullName") != "John Doe" {
			t.Errorf("detailed profile: %s", e2e.MustJSON(res.Get("processes.profile")))
		}
		if res.Get("processes.identity.verification.submittable") != true ||
			e2e.MustJSONString(res.Get("processes.identity.verification.dependencies")) != `["profile"]` {
			t.Errorf("detailed identity: %s", e2e.MustJSON(res.Get("processes.identity")))
		}
		if res.Get("processes.customerDueDiligence.hint.type") != "form" || res.Get("processes.customerDueDiligence.hint.formId") != nil ||
			res.Get("processes.customerDueDiligence.hint.schema.properties.intent.title") != "How will you use your account?" {
			t.Errorf("CDD hint: %s", e2e.MustJSON(res.Get("processes.customerDueDiligence.hint")))
		}
		if res.Get("processes.email.verification") != nil {
			t.Error("email detailed without asking")
		}
		// In Portuguese and German.
		req := e.Req("GET", "/core/kyc?detailed=customerDueDiligence", nil)
		req.Header.Set("Authorization", "Bearer "+e.Tok)
		req.Header.Set("X-On-Behalf-Of", "user "+gb)
		req.Header.Set("Accept-Language", "pt-PT,pt;q=0.9")
		res = e.Do(t, req)
		if title, _ := res.Get("processes.customerDueDiligence.hint.schema.properties.intent.title").(string); title == "" || title == "How will you use your account?" {
			t.Errorf("Portuguese title: %q", title)
		}
		req.Header.Set("Accept-Language", "x;;q=bad")
		if res := e.Do(t, req); res.Status != 409 || res.Code() != "locale_invalid" {
			t.Errorf("malformed locale: %d %s", res.Status, res.Body)
		}
		req = e.Req("GET", "/core/kyc?detailed=everything", nil)
		req.Header.Set("Authorization", "Bearer "+e.Tok)
		req.Header.Set("X-On-Behalf-Of", "user "+gb)
		if res := e.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
			t.Errorf("unknown detailed key: %d %s", res.Status, res.Body)
		}

		// Policy: outside general-gb-fca the crypto assessments are exempt;
		// an EU resident must declare a birthplace.
		de := e2e.CreateUserIn(t, e.Proc, e.Tok, "de@kyc.example", "DE", "DE-BE", "general-pt-bop")
		res = e.Overview(de, "profile")
		if res.Get("processes.cryptoRiskAssessment.status") != "exempt" || res.Get("processes.selfCategorizationStatement.status") != "exempt" {
			t.Errorf("DE assessments: %s", res.Body)
		}
		if res.Get("processes.profile.status") != "pending" || res.Get("processes.profile.verification.rules.birthplace.presence") != "required" {
			t.Errorf("DE profile: %s", e2e.MustJSON(res.Get("processes.profile")))
		}
		us := e2e.CreateUserIn(t, e.Proc, e.Tok, "us@kyc.example", "US", "US-FL", "general-us-hq")
		if s := e.Status(us, "taxDetails"); s != "exempt" {
			t.Errorf("US tax details: %s", s)
		}
		// Without the read scope.
		narrow := e.Token(t, e.Tenant, "core.users:act-on-behalf-of")
		if res := e.Call(t, "GET", "/core/kyc", narrow, gb, nil); res.Status != 403 {
			t.Errorf("without core.kyc:read: %d", res.Status)
		}
	})
}

// TestKYCProfileAndContact: profile updates with their rules and 409s,
// and email and phone verified by the partner.
func TestKYCProfileAndContact(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		de := e2e.CreateUserIn(t, e.Proc, e.Tok, "de@profile.example", "DE", "DE-BE", "general-pt-bop")
		// The seed's profile update, with a disallowed field: ignored with a warning.
		res := e.Patch(de, "profile", jsonBody(t, `{"input": {"fullName": "Hans Peter Müller", "birthdate": "1980-05-17",
			"birthplace": {"country": "DE", "town": "Köln"}, "primaryCitizenship": "DE",
			"address": {"city": "Berlin", "line1": "Unter den Linden 1", "postalCode": "10117"}}}`))
		if res.Status != 200 || res.Get("profile.status") != "ok" || res.Get("profile.input.birthplace.town") != "Köln" ||
			res.Get("profile.input.address.postalCode") != "10117" || res.Get("profile.verification.model") != "none" {
			t.Fatalf("profile: %d %s", res.Status, res.Body)
		}
		gb := e2e.CreateUser(t, e.Proc, e.Tok, "gb@profile.example")
		res = e.Patch(gb, "profile", jsonBody(t, `{"input": {"birthplace": {"country": "GB", "town": "Leeds"}}}`))
		if res.Status != 200 || res.Get("warnings.input") == nil || res.Get("profile.input.birthplace") != nil {
			t.Errorf("disallowed birthplace: %d %s", res.Status, res.Body)
		}
		for _, c := range []struct {
			name, body, code, property string
		}{
			{"underage", `{"input": {"birthdate": "` + time.Now().AddDate(-17, 0, 0).Format("2006-01-02") + `"}}`, "date_invalid", "input.birthdate"},
			{"overage", `{"input": {"birthdate": "1900-01-01"}}`, "date_invalid", "input.birthdate"},
			{"invalid characters", `{"input": {"fullName": "John D0e"}}`, "invalid_characters", "input.fullName"},
			{"citizenship", `{"input": {"primaryCitizenship": "XX"}}`, "country_not_supported", "input.primaryCitizenship"},
			{"postal code", `{"input": {"address": {"postalCode": "12345"}}}`, "postal_code_invalid", "input.address.postalCode"},
			{"P.O. box", `{"input": {"address": {"line1": "P.O. Box 123"}}}`, "po_boxes_not_allowed", ""},
		} {
			res := e.Patch(gb, "profile", jsonBody(t, c.body))
			if res.Status != 409 || res.Code() != c.code || (c.property != "" && res.Get("details.property") != c.property) {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		// A subdivision: checked against ISO 3166-2 when first declared, then
		// changed only with a partner-verified proof of address.
		nb := e2e.NewUserBody("nosub@profile.example")
		nb["address"] = map[string]any{"country": "GB", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}
		nosub := e.Call(t, "POST", "/core/users", e.Tok, "", nb).Get("user.id").(string)
		if res := e.Patch(nosub, "profile", jsonBody(t, `{"input": {"address": {"subdivision": "GB-ZZZ"}}}`)); res.Status != 409 ||
			res.Code() != "subdivision_not_supported" || res.Get("details.property") != "input.address.subdivision" {
			t.Errorf("unknown subdivision: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(nosub, "profile", jsonBody(t, `{"input": {"address": {"subdivision": "GB-LND"}}}`)); res.Get("profile.input.address.subdivision") != "GB-LND" {
			t.Errorf("first subdivision: %s", res.Body)
		}
		if res := e.Patch(nosub, "profile", jsonBody(t, `{"input": {"address": {"subdivision": "GB-MAN"}}}`)); res.Get("profile.input.address.subdivision") != "GB-LND" ||
			res.Get("warnings.input") == nil || res.Get("profile.verification.rules.address.rules.subdivision.editable") != false {
			t.Errorf("locked subdivision on the profile: %s", res.Body)
		}
		if res := e.Patch(nosub, "address", jsonBody(t, `{"input": {"address": {"subdivision": "GB-MAN"}}}`)); res.Status != 409 ||
			!e2e.HasReason(res, "subdivision-update-non-authoritative-proof-of-address") {
			t.Errorf("locked subdivision on the address process: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(gb, "profile", jsonBody(t, `{"input": {"birthdate": "1990-01-01"}}`)); res.Get("profile.input.birthdate") != "1990-01-01" {
			t.Errorf("birthdate update: %s", res.Body)
		}
		if th := e.Patch(gb, "profile", jsonBody(t, `{"input": {"birthdate": "`+time.Now().AddDate(-17, 0, 0).Format("2006-01-02")+`"}}`)).Get("details.threshold.limit"); th != float64(18) {
			t.Errorf("underage threshold: %v", th)
		}
		// A name of one word breaks the schema.
		req := e.Req("PATCH", "/core/kyc/processes/profile", strings.NewReader(`{"input": {"fullName": "Madonna"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.Tok)
		req.Header.Set("X-On-Behalf-Of", "user "+gb)
		if res := e.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 || res.Code() != "request_invalid" {
			t.Errorf("one-word name: %d %s", res.Status, res.Body)
		}
		// Address process.
		if res := e.Patch(gb, "address", jsonBody(t, `{"input": {"address": {"city": "Leeds", "postalCode": "LS1 4AP", "line1": "2 Park Row"}}}`)); res.Status != 200 ||
			res.Get("address.input.address.city") != "Leeds" {
			t.Errorf("address: %d %s", res.Status, res.Body)
		}
		// Email and phone, partner-verified.
		res = e.Patch(gb, "email", jsonBody(t, `{"input": {"email": "john.doe@profile.example"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		if res.Status != 200 || res.Get("email.status") != "ok" || res.Get("email.verification.model") != "partner-verified" {
			t.Fatalf("email: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(gb, "email", jsonBody(t, `{"input": {"email": "john.doe@profile.example"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || !e2e.HasReason(res, "email-already-verified") {
			t.Errorf("email again: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(de, "email", jsonBody(t, `{"input": {"email": "john.doe@profile.example"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || res.Code() != "email_already_exists" {
			t.Errorf("email of another user: %d %s", res.Status, res.Body)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if res := e.Patch(de, "email", jsonBody(t, `{"input": {"email": "hans@profile.example"}, "output": {"verifiedAt": "`+future+`"}}`)); res.Status != 409 || res.Code() != "date_invalid" || res.Get("details.property") != "output.verifiedAt" {
			t.Errorf("future verifiedAt: %d %s", res.Status, res.Body)
		}
		if me := e.Call(t, "GET", "/core/users/me", e.Tok, gb, nil); me.Get("user.email") != "john.doe@profile.example" {
			t.Errorf("the user's email did not change: %s", me.Body)
		}
		res = e.Patch(gb, "phone", jsonBody(t, `{"input": {"phone": "+447400123456", "country": "GB"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		if res.Status != 200 || res.Get("phone.status") != "ok" || res.Get("phone.input.phone") != "+447400123456" {
			t.Fatalf("phone: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(gb, "phone", jsonBody(t, `{"input": {"phone": "+447400123456", "country": "GB"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || !e2e.HasReason(res, "phone-already-verified") {
			t.Errorf("phone again: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(de, "phone", jsonBody(t, `{"input": {"phone": "+4412", "country": "GB"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || res.Code() != "phone_invalid" {
			t.Errorf("invalid phone: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(de, "phone", jsonBody(t, `{"input": {"phone": "+447400123456", "country": "GB"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || res.Code() != "phone_already_exists" {
			t.Errorf("phone of another user: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(de, "phone", jsonBody(t, `{"input": {"phone": "+447400123457", "country": "XX"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || res.Code() != "country_not_supported" {
			t.Errorf("phone country: %d %s", res.Status, res.Body)
		}
		// Without a mail server, kycd cannot verify an email itself.
		if res := e.Patch(de, "email", jsonBody(t, `{"input": {"email": "hans@profile.example"}}`)); res.Status != 409 || !e2e.HasReason(res, "permission-denied") {
			t.Errorf("platform email without SMTP: %d %s", res.Status, res.Body)
		}
		// Events: each status change once.
		ev := strings.Join(e.Events(gb), " ")
		if !strings.Contains(ev, "core.kyc.email.status-changed=ok") || !strings.Contains(ev, "core.kyc.phone.status-changed=ok") || !strings.HasPrefix(ev, "core.user.created") {
			t.Errorf("events: %s", ev)
		}
	})
}

// TestKYCOneTimeCodes: in sandbox mode kycd "sends" codes to an outbox; the
// code verifies the email, wrong codes count, codes are single-use and expire.
func TestKYCOneTimeCodes(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db, "--sandbox")
		u := e2e.CreateUser(t, e.Proc, e.Tok, "otp@kyc.example")
		res := e.Patch(u, "email", jsonBody(t, `{"input": {"email": "otp@kyc.example"}}`))
		if res.Status != 200 || res.Get("email.status") != "pending" || res.Get("email.verification.model") != "uphold-verified" {
			t.Fatalf("platform email: %d %s", res.Status, res.Body)
		}
		code := e.SandboxCode(t, "otp@kyc.example")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		res = e.Call(t, "POST", "/core/kyc/processes/email/verify", e.Tok, u, map[string]any{"code": wrong})
		if res.Status != 409 || res.Code() != "code_invalid" || res.Get("details.attemptsLeft") != float64(4) {
			t.Errorf("wrong code: %d %s", res.Status, res.Body)
		}
		res = e.Call(t, "POST", "/core/kyc/processes/email/verify", e.Tok, u, map[string]any{"code": code})
		if res.Status != 200 || res.Get("email.status") != "ok" || res.Get("email.output.verifiedAt") == nil {
			t.Fatalf("right code: %d %s", res.Status, res.Body)
		}
		if res := e.Call(t, "POST", "/core/kyc/processes/email/verify", e.Tok, u, map[string]any{"code": code}); res.Status != 409 || !e2e.HasReason(res, "verification-code-used") {
			t.Errorf("code reused: %d %s", res.Status, res.Body)
		}
		// Phone: five wrong codes exhaust it; an expired code is refused.
		e.Patch(u, "phone", jsonBody(t, `{"input": {"phone": "+447400123499", "country": "GB"}}`))
		code = e.SandboxCode(t, "+447400123499")
		if code == wrong {
			wrong = "222222"
		}
		for range 5 {
			e.Call(t, "POST", "/core/kyc/processes/phone/verify", e.Tok, u, map[string]any{"code": wrong})
		}
		if res := e.Call(t, "POST", "/core/kyc/processes/phone/verify", e.Tok, u, map[string]any{"code": code}); res.Status != 409 || !e2e.HasReason(res, "verification-code-attempts-exceeded") {
			t.Errorf("after five wrong codes: %d %s", res.Status, res.Body)
		}
		e.Patch(u, "phone", jsonBody(t, `{"input": {"phone": "+447400123499", "country": "GB"}}`))
		code = e.SandboxCode(t, "+447400123499")
		e.Advance(t, "11m")
		if res := e.Call(t, "POST", "/core/kyc/processes/phone/verify", e.Tok, u, map[string]any{"code": code}); res.Status != 409 || res.Code() != "code_expired" {
			t.Errorf("expired code: %d %s", res.Status, res.Body)
		}
		// The code never reaches the logs.
		if strings.Contains(e.Stderr.String(), code) {
			t.Error("a one-time code was logged")
		}
	})
}

// seed002 and seed004 are the requests of seeds 002 and 004, exactly.
const (
	seed002 = `{"input": {"formId": "ae80271a-a3f0-453b-8dc6-36b777817217", "answers": {"intent": {"expected-activities": ["cryptocurrency_investing", "deposit_withdraw_crypto"]}}}}`
	seed004 = `{"input": {"formId": "7a0f4229-e3de-4dfd-8f91-9b1308b2dc33", "answers": {"financial-information": {"annual-income-range": "20000-30000"}}}}`
)

// TestKYCCustomerDueDiligence walks the CDD form: the seed's first step,
// partial answers, the conditional "other" question, a reset from an earlier
// step, resuming by formId, evaluation to a score, and enhanced due
// diligence that a high score requires.
func TestKYCCustomerDueDiligence(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		e.ImportTestList(t) // the risk is approved once the user is screened
		u := e2e.CreateUser(t, e.Proc, e.Tok, "cdd@kyc.example")
		res := e.Patch(u, "customer-due-diligence", jsonBody(t, seed002))
		formID := "ae80271a-a3f0-453b-8dc6-36b777817217"
		if res.Status != 200 || res.Get("customerDueDiligence.status") != "pending" || res.Get("customerDueDiligence.input.formId") != formID ||
			res.Get("customerDueDiligence.hint.formId") != formID || res.Get("customerDueDiligence.hint.type") != "form" ||
			res.Get("customerDueDiligence.hint.uiSchema.type") != "Categorization" ||
			res.Get("customerDueDiligence.input.answers.intent") == nil {
			t.Fatalf("seed 002: %d %s", res.Status, res.Body)
		}
		// Another formId while this one is in progress cannot be resumed.
		res = e.Patch(u, "customer-due-diligence", jsonBody(t, `{"input": {"formId": "00000000-0000-4000-8000-000000000000", "answers": {"intent": {"expected-activities": ["cryptocurrency_investing"]}}}}`))
		if res.Status != 404 || res.Get("details.entity") != "form" {
			t.Errorf("unknown form: %d %s", res.Status, res.Body)
		}
		step := func(answers string) *e2e.Response {
			t.Helper()
			return e.Patch(u, "customer-due-diligence", jsonBody(t, `{"input": {"formId": "`+formID+`", "answers": `+answers+`}}`))
		}
		// A later step before its turn, invalid values, two steps at once.
		if res := step(`{"intent": {"expected-activities": ["gambling"]}}`); res.Status != 400 || !strings.Contains(string(res.Body), "input.answers.intent.expected-activities") {
			t.Errorf("invalid value: %d %s", res.Status, res.Body)
		}
		req := e.Req("PATCH", "/core/kyc/processes/customer-due-diligence", strings.NewReader(`{"input": {"formId": "`+formID+`", "answers": {"intent": {}, "financial-information": {}}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.Tok)
		req.Header.Set("X-On-Behalf-Of", "user "+u)
		if res := e.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
			t.Errorf("two steps: %d %s", res.Status, res.Body)
		}
		// Partial answers of step two are kept; the conditional question follows "other".
		res = step(`{"financial-information": {"source-of-funds": "other"}}`)
		if res.Status != 200 || res.Get("customerDueDiligence.status") != "pending" {
			t.Fatalf("partial step: %d %s", res.Status, res.Body)
		}
		res = step(`{"financial-information": {"annual-income-range": "0-20000", "expected-annual-deposits-range": "120000-or-more"}}`)
		if res.Get("customerDueDiligence.status") != "pending" || res.Get("customerDueDiligence.input.answers.financial-information.source-of-funds") != "other" {
			t.Fatalf("without the conditional answer: %s", res.Body)
		}
		// Reset: answering the first step again drops the second.
		res = step(`{"intent": {"expected-activities": ["cryptocurrency_investing", "deposit_withdraw_crypto"]}}`)
		if res.Get("customerDueDiligence.input.answers.financial-information") != nil || res.Get("customerDueDiligence.status") != "pending" {
			t.Fatalf("reset: %s", res.Body)
		}
		// Resume by formId from the overview.
		if id := e.Overview(u, "customerDueDiligence").Get("processes.customerDueDiligence.hint.formId"); id != formID {
			t.Errorf("overview formId: %v", id)
		}
		step(`{"financial-information": {"source-of-funds": "other", "annual-income-range": "0-20000", "expected-annual-deposits-range": "120000-or-more"}}`)
		res = step(`{"financial-information": {"other-source-of-funds": "Lottery winnings"}}`)
		if res.Status != 200 || res.Get("customerDueDiligence.status") != "running" || res.Get("customerDueDiligence.hint") != nil {
			t.Fatalf("last answer: %d %s", res.Status, res.Body)
		}
		if res := step(`{"intent": {"expected-activities": ["cryptocurrency_investing"]}}`); res.Status != 409 {
			t.Errorf("update while running: %d %s", res.Status, res.Body)
		}
		if s := e.WaitStatus(u, "customerDueDiligence"); s != "ok" {
			t.Fatalf("CDD after evaluation: %s", s)
		}
		res = e.Overview(u, "customerDueDiligence,enhancedDueDiligence,risk")
		if res.Get("processes.customerDueDiligence.output.score") != "high" || res.Get("processes.customerDueDiligence.output.expiresAt") == nil ||
			res.Get("processes.enhancedDueDiligence.status") != "pending" || res.Get("processes.risk.status") != "pending" {
			t.Fatalf("after a high score: %s", res.Body)
		}
		if res := step(`{"intent": {"expected-activities": ["cryptocurrency_investing"]}}`); res.Status != 409 || !e2e.HasReason(res, "form-already-completed") {
			t.Errorf("completed form: %d %s", res.Status, res.Body)
		}
		// Enhanced due diligence: the file must exist, belong to the user and be uploaded.
		pending, _ := e2e.CreateFile(t, e.Proc, e.Tok, u, "document", "application/pdf")
		edd := func(fileID string) *e2e.Response {
			return e.Patch(u, "enhanced-due-diligence", jsonBody(t, `{"input": {"media": [{"context": "source-of-funds-proof", "fileId": "`+fileID+`"}]}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		}
		if res := edd(pending); res.Status != 409 || res.Code() != "file_invalid" {
			t.Errorf("pending file: %d %s", res.Status, res.Body)
		}
		if res := edd("57a3ecf2-5404-4654-9ece-feb504a69f86"); res.Status != 404 || res.Get("details.entity") != "file" {
			t.Errorf("unknown file: %d %s", res.Status, res.Body)
		}
		other := e2e.CreateUser(t, e.Proc, e.Tok, "other@kyc.example")
		if res := edd(e.Uploaded(other, "document")); res.Status != 404 {
			t.Errorf("another user's file: %d %s", res.Status, res.Body)
		}
		if res := edd(e.Uploaded(u, "document")); res.Status != 200 || res.Get("enhancedDueDiligence.status") != "ok" {
			t.Fatalf("EDD: %d %s", res.Status, res.Body)
		}
		if s := e.Status(u, "risk"); s != "ok" {
			t.Errorf("risk after EDD: %s", s)
		}
		ev := strings.Join(e.Events(u), " ")
		for _, want := range []string{"core.kyc.customer-due-diligence.status-changed=running", "core.kyc.customer-due-diligence.status-changed=ok",
			"core.kyc.enhanced-due-diligence.status-changed=pending", "core.kyc.enhanced-due-diligence.status-changed=ok", "core.kyc.risk.status-changed=ok"} {
			if !strings.Contains(ev, want) {
				t.Errorf("no %s in %s", want, ev)
			}
		}
		// A low score leaves enhanced due diligence exempt; a new form may start without formId.
		low := e2e.CreateUser(t, e.Proc, e.Tok, "low@kyc.example")
		r1 := e.Patch(low, "customer-due-diligence", jsonBody(t, `{"input": {"answers": {"intent": {"expected-activities": ["cryptocurrency_investing"]}}}}`))
		id, _ := r1.Get("customerDueDiligence.input.formId").(string)
		if id == "" || id == formID {
			t.Fatalf("new form id: %s", r1.Body)
		}
		e.Patch(low, "customer-due-diligence", jsonBody(t, `{"input": {"formId": "`+id+`", "answers": {"financial-information": {"source-of-funds": "salary", "annual-income-range": "40000-60000", "expected-annual-deposits-range": "0-8000"}}}}`))
		if s := e.WaitStatus(low, "customerDueDiligence"); s != "ok" {
			t.Fatalf("low CDD: %s", s)
		}
		if res := e.Overview(low, "customerDueDiligence"); res.Get("processes.customerDueDiligence.output.score") != "low" || res.Get("processes.enhancedDueDiligence.status") != "exempt" {
			t.Errorf("low score: %s", res.Body)
		}
		if res := e.Patch(low, "enhanced-due-diligence", jsonBody(t, `{"input": {"media": [{"context": "source-of-funds-proof", "fileId": "`+e.Uploaded(low, "document")+`"}]}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`)); res.Status != 409 || !e2e.HasReason(res, "kyc-process-status-exempt") {
			t.Errorf("EDD when exempt: %d %s", res.Status, res.Body)
		}
		// Partner-verified CDD with the spec's example body.
		p := e2e.CreateUser(t, e.Proc, e.Tok, "partner@kyc.example")
		res = e.Patch(p, "customer-due-diligence", jsonBody(t, `{"input": {"answers": {"financial-profile": {"expected-activities": ["cryptocurrency_investing"], "source-of-funds": "salary", "annual-income-range": "40000-60000-GBP", "savings-and-investments-range": "0-5000-GBP", "employment-status": "employed", "employment-industry": "Engineering", "employment-occupation": "Galactic Vibe Curator"}}}, "output": {"score": "low", "expiresAt": "`+time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)+`", "verifiedAt": "2023-01-01T00:00:00.000Z"}}`))
		if res.Status != 200 || res.Get("customerDueDiligence.status") != "ok" || res.Get("customerDueDiligence.verification.model") != "partner-verified" {
			t.Fatalf("partner CDD: %d %s", res.Status, res.Body)
		}
		res = e.Patch(p, "customer-due-diligence", jsonBody(t, `{"input": {"answers": {"x": {}}}, "output": {"score": "low", "expiresAt": "2020-01-01T00:00:00.000Z", "verifiedAt": "2019-01-01T00:00:00.000Z"}}`))
		if res.Status != 409 || res.Code() != "date_invalid" || res.Get("details.property") != "output.expiresAt" {
			t.Errorf("expired partner CDD: %d %s", res.Status, res.Body)
		}
	})
}

// TestKYCCryptoRiskAssessment: the seed's first step, a rejection, the
// cooldown refusal, the retry once the (sandbox) clock passed the cooldown,
// an approval, and exemption outside the UK.
func TestKYCCryptoRiskAssessment(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db, "--sandbox")
		u := e2e.CreateUser(t, e.Proc, e.Tok, "cra@kyc.example")
		res := e.Patch(u, "crypto-risk-assessment", jsonBody(t, seed004))
		formID := "7a0f4229-e3de-4dfd-8f91-9b1308b2dc33"
		if res.Status != 200 || res.Get("cryptoRiskAssessment.status") != "pending" || res.Get("cryptoRiskAssessment.hint.formId") != formID ||
			res.Get("cryptoRiskAssessment.input.answers.financial-information.annual-income-range") != "20000-30000" {
			t.Fatalf("seed 004: %d %s", res.Status, res.Body)
		}
		answer := func(id, answers string) *e2e.Response {
			t.Helper()
			return e.Patch(u, "crypto-risk-assessment", jsonBody(t, `{"input": {"formId": "`+id+`", "answers": `+answers+`}}`))
		}
		res = answer(formID, `{"attitude-towards-risk": {"willingness-to-fluctuations": "strongly_disagree"}}`)
		if res.Get("cryptoRiskAssessment.status") != "running" {
			t.Fatalf("last answer: %s", res.Body)
		}
		if s := e.WaitStatus(u, "cryptoRiskAssessment"); s != "pending" {
			t.Fatalf("after a rejection: %s", s)
		}
		res = e.Overview(u, "cryptoRiskAssessment")
		retryAt, _ := res.Get("processes.cryptoRiskAssessment.output.attempts.retryAt").(string)
		if res.Get("processes.cryptoRiskAssessment.output.result") != "rejected" || res.Get("processes.cryptoRiskAssessment.output.attempts.used") != float64(1) ||
			res.Get("processes.cryptoRiskAssessment.output.attempts.maximum") != float64(5) || retryAt == "" {
			t.Fatalf("rejected output: %s", e2e.MustJSON(res.Get("processes.cryptoRiskAssessment")))
		}
		if at, _ := time.Parse(time.RFC3339Nano, retryAt); time.Until(at) < 23*time.Hour {
			t.Errorf("cooldown ends at %s: under 24 hours", retryAt)
		}
		caps := e.Call(t, "GET", "/core/capabilities/trades", e.Tok, u, nil)
		if !strings.Contains(string(caps.Body), "crypto-risk-assessment-form-not-valid") || caps.Get("capability.enabled") != false {
			t.Errorf("trades during the cooldown: %s", caps.Body)
		}
		// During the cooldown a new attempt is refused.
		res = answer("11111111-1111-4111-8111-111111111111", `{"financial-information": {"annual-income-range": "40000-60000"}}`)
		if res.Status != 409 || !e2e.HasReason(res, "kyc-process-update-not-allowed") || res.Get("details.retryAt") != retryAt {
			t.Fatalf("during the cooldown: %d %s", res.Status, res.Body)
		}
		e.Advance(t, "25h")
		// A formId that names no form of the user's is unknown; the
		// completed form's is completed; none starts a new attempt.
		if res := answer("11111111-1111-4111-8111-111111111111", `{"financial-information": {"annual-income-range": "40000-60000"}}`); res.Status != 404 || res.Get("details.entity") != "form" {
			t.Errorf("an unknown formId: %d %s", res.Status, res.Body)
		}
		if res := answer(formID, `{"financial-information": {"annual-income-range": "40000-60000"}}`); res.Status != 409 || !e2e.HasReason(res, "form-already-completed") {
			t.Errorf("the completed form: %d %s", res.Status, res.Body)
		}
		res = e.Patch(u, "crypto-risk-assessment", jsonBody(t, `{"input": {"answers": {"financial-information": {"annual-income-range": "40000-60000"}}}}`))
		newID, _ := res.Get("cryptoRiskAssessment.input.formId").(string)
		if res.Status != 200 || res.Get("cryptoRiskAssessment.status") != "pending" || newID == "" || newID == formID {
			t.Fatalf("after the cooldown: %d %s", res.Status, res.Body)
		}
		answer(newID, `{"attitude-towards-risk": {"willingness-to-fluctuations": "agree"}}`)
		if s := e.WaitStatus(u, "cryptoRiskAssessment"); s != "ok" {
			t.Fatalf("second attempt: %s", s)
		}
		res = e.Overview(u, "cryptoRiskAssessment")
		if res.Get("processes.cryptoRiskAssessment.output.result") != "approved" || res.Get("processes.cryptoRiskAssessment.output.attempts.used") != float64(2) {
			t.Errorf("approved: %s", e2e.MustJSON(res.Get("processes.cryptoRiskAssessment")))
		}
		if res := answer(formID, `{"financial-information": {"annual-income-range": "40000-60000"}}`); res.Status != 409 {
			t.Errorf("after approval: %d %s", res.Status, res.Body)
		}
		// The last allowed failure is final.
		f := e2e.CreateUser(t, e.Proc, e.Tok, "final@kyc.example")
		for i := range 5 {
			res := e.Patch(f, "crypto-risk-assessment", jsonBody(t, `{"input": {"answers": {"financial-information": {"annual-income-range": "0-20000"}}}}`))
			id, _ := res.Get("cryptoRiskAssessment.input.formId").(string)
			e.Patch(f, "crypto-risk-assessment", jsonBody(t, `{"input": {"formId": "`+id+`", "answers": {"attitude-towards-risk": {"willingness-to-fluctuations": "disagree"}}}}`))
			e.WaitStatus(f, "cryptoRiskAssessment")
			if i < 4 {
				e.Advance(t, "25h")
			}
		}
		res = e.Overview(f, "cryptoRiskAssessment")
		if res.Get("processes.cryptoRiskAssessment.status") != "failed" || res.Get("processes.cryptoRiskAssessment.output.attempts.used") != float64(5) ||
			res.Get("processes.cryptoRiskAssessment.output.attempts.retryAt") != nil || res.Get("summary.status") != "restricted" {
			t.Fatalf("final failure: %s", res.Body)
		}
		e.Advance(t, "25h")
		if res := e.Patch(f, "crypto-risk-assessment", jsonBody(t, seed004)); res.Status != 409 || !e2e.HasReason(res, "kyc-process-update-not-allowed") {
			t.Errorf("after the final failure: %d %s", res.Status, res.Body)
		}
		// Outside general-gb-fca the assessment is exempt and refuses updates.
		pt := e2e.CreateUserIn(t, e.Proc, e.Tok, "pt@cra.example", "PT", "PT-11", "general-pt-bop")
		if res := e.Patch(pt, "crypto-risk-assessment", jsonBody(t, seed004)); res.Status != 409 || !e2e.HasReason(res, "kyc-process-status-exempt") {
			t.Errorf("exempt: %d %s", res.Status, res.Body)
		}
	})
}

// TestKYCIdentity: the spec's partner-verified identity, every refusal
// (file_invalid, entity_not_found, date_invalid, country_not_supported,
// invalid_characters, missing declared information, platform-verified
// without a provider), and the outcomes that fail the process: duplicate,
// underage, data-mismatch.
func TestKYCIdentity(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		u := e2e.CreateUser(t, e.Proc, e.Tok, "id@kyc.example")
		front, back, selfie := e.Uploaded(u, "image"), e.Uploaded(u, "image"), e.Uploaded(u, "image")
		expires := time.Now().AddDate(3, 0, 0).Format("2006-01-02")
		ok := e2e.IdentityDoc([]string{front, back, selfie}, "7700225VH", expires, "John", "Doe", "1987-01-01")
		for _, c := range []struct {
			name   string
			change func(b map[string]any)
			status int
			code   string
			prop   string
		}{
			{"pending file", func(b map[string]any) {
				id, _ := e2e.CreateFile(t, e.Proc, e.Tok, u, "image", "image/png")
				b["input"].(map[string]any)["media"].([]any)[0].(map[string]any)["fileId"] = id
			}, 409, "file_invalid", ""},
			{"unknown file", func(b map[string]any) {
				b["input"].(map[string]any)["media"].([]any)[0].(map[string]any)["fileId"] = "470b2192-893f-4ce6-9daa-816d4c319a84"
			}, 404, "entity_not_found", ""},
			{"expired document", func(b map[string]any) {
				b["output"].(map[string]any)["document"].(map[string]any)["expiresAt"] = "2020-03-13"
			}, 409, "date_invalid", "output.document.expiresAt"},
			{"document country", func(b map[string]any) {
				b["output"].(map[string]any)["document"].(map[string]any)["country"] = "XX"
			}, 409, "country_not_supported", "output.document.country"},
			{"given name", func(b map[string]any) {
				b["output"].(map[string]any)["person"].(map[string]any)["givenName"] = "J0hn"
			}, 409, "invalid_characters", "output.person.givenName"},
			{"future verification", func(b map[string]any) {
				b["output"].(map[string]any)["verifiedAt"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			}, 409, "date_invalid", "output.verifiedAt"},
			{"address subdivision", func(b map[string]any) {
				b["output"].(map[string]any)["person"].(map[string]any)["address"] = map[string]any{"country": "GB", "subdivision": "GB-ZZZ"}
			}, 409, "subdivision_not_supported", "output.person.address.subdivision"},
			{"platform-verified", func(b map[string]any) { delete(b, "output") }, 409, "operation_not_allowed", ""},
		} {
			b := jsonBody(t, e2e.MustJSONString(ok))
			c.change(b)
			res := e.Patch(u, "identity", b)
			if res.Status != c.status || res.Code() != c.code || (c.prop != "" && res.Get("details.property") != c.prop) {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		res := e.Patch(u, "identity", ok)
		if res.Status != 200 || res.Get("identity.status") != "ok" || res.Get("identity.type") != "document-submission" ||
			res.Get("identity.verification.model") != "partner-verified" || res.Get("identity.output.document.number") != "7700225VH" ||
			e2e.MustJSONString(res.Get("identity.verification.dependencies")) != `["profile"]` {
			t.Fatalf("identity: %d %s", res.Status, res.Body)
		}
		// A verified identity freezes the name and birthdate.
		res = e.Patch(u, "profile", jsonBody(t, `{"input": {"fullName": "Jane Roe"}}`))
		if res.Status != 200 || res.Get("profile.input.fullName") != "John Doe" || res.Get("warnings.input") == nil {
			t.Errorf("frozen name: %d %s", res.Status, res.Body)
		}
		// The same document for another user of the tenant: duplicate.
		twin := e2e.CreateUser(t, e.Proc, e.Tok, "twin@kyc.example")
		res = e.Patch(twin, "identity", e2e.IdentityDoc([]string{e.Uploaded(twin, "image")}, "7700 225 vh", expires, "John", "Doe", "1987-01-01"))
		if res.Status != 200 || res.Get("identity.status") != "failed" || res.Get("identity.output.reason") != "duplicate" {
			t.Fatalf("duplicate: %d %s", res.Status, res.Body)
		}
		if ov := e.Overview(twin, ""); ov.Get("summary.status") != "blocked" || ov.Get("processes.risk.status") != "failed" {
			t.Errorf("after a duplicate: %s", ov.Body)
		}
		// Another tenant may hold the same document.
		tn2 := e.NewTenant(t, "kyc-other")
		tok2 := e.Token(t, tn2, "")
		u2 := e2e.CreateUser(t, e.Proc, tok2, "id@kyc.example")
		f2, url2 := e2e.CreateFile(t, e.Proc, tok2, u2, "image", "image/png")
		e2e.Upload(t, e.Proc, url2, e2e.PNGBytes("x"))
		if res := e.Call(t, "PATCH", "/core/kyc/processes/identity", tok2, u2, e2e.IdentityDoc([]string{f2}, "7700225VH", expires, "John", "Doe", "1987-01-01")); res.Get("identity.status") != "ok" {
			t.Errorf("same document in another tenant: %s", res.Body)
		}
		// Someone else's document: data-mismatch; an underage person: underage.
		mis := e2e.CreateUser(t, e.Proc, e.Tok, "mismatch@kyc.example")
		res = e.Patch(mis, "identity", e2e.IdentityDoc([]string{e.Uploaded(mis, "image")}, "111", expires, "Richard", "Roe", "1987-01-01"))
		if res.Get("identity.status") != "failed" || res.Get("identity.output.reason") != "data-mismatch" {
			t.Errorf("data mismatch: %s", res.Body)
		}
		young := time.Now().AddDate(-16, 0, 0).Format("2006-01-02")
		res = e.Patch(mis, "identity", e2e.IdentityDoc([]string{e.Uploaded(mis, "image")}, "222", expires, "John", "Doe", young))
		if res.Get("identity.status") != "failed" || res.Get("identity.output.reason") != "underage" {
			t.Errorf("underage: %s", res.Body)
		}
		// Electronic verification, with the spec's example body.
		ev := e2e.CreateUser(t, e.Proc, e.Tok, "ev@kyc.example")
		res = e.Patch(ev, "identity", jsonBody(t, `{"type": "electronic-verification", "input": {"data": {"givenName": "John", "familyName": "Doe", "birthdate": "1987-01-01", "citizenshipCountry": "GB", "address": {"country": "GB", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}}}, "output": {"provider": "onfido", "verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		if res.Status != 200 || res.Get("identity.status") != "ok" || res.Get("identity.type") != "electronic-verification" {
			t.Errorf("electronic verification: %d %s", res.Status, res.Body)
		}
		// Declared information is required first.
		bare := e2e.NewUserBody("bare@kyc.example")
		delete(bare, "fullName")
		delete(bare, "birthdate")
		bareID := e.Call(t, "POST", "/core/users", e.Tok, "", bare).Get("user.id").(string)
		res = e.Patch(bareID, "identity", e2e.IdentityDoc([]string{e.Uploaded(bareID, "image")}, "333", expires, "John", "Doe", "1987-01-01"))
		if res.Status != 409 || !e2e.HasReason(res, "missing-name") || !e2e.HasReason(res, "missing-birthdate") {
			t.Errorf("missing declared information: %d %s", res.Status, res.Body)
		}
		res = e.Patch(bareID, "proof-of-address", jsonBody(t, `{"type": "electronic-verification", "input": {"data": {"givenName": "John", "familyName": "Doe", "address": {"country": "GB", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}}}, "output": {"provider": "sumsub", "verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		if res.Status != 409 || !e2e.HasReason(res, "missing-name") {
			t.Errorf("proof of address without a name: %d %s", res.Status, res.Body)
		}
	})
}

// TestKYCProofOfAddress: both submission types with the spec's examples,
// and the mismatches that fail the process.
func TestKYCProofOfAddress(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		u := e2e.CreateUser(t, e.Proc, e.Tok, "poa@kyc.example")
		doc := func(given, postal string) map[string]any {
			return jsonBody(t, `{"type": "document-submission", "input": {"media": [{"context": "address-proof", "fileId": "`+e.Uploaded(u, "document")+`"}]},
				"output": {"provider": "sumsub", "person": {"givenName": "`+given+`", "familyName": "Doe", "address": {"country": "GB", "subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "line2": "Northern Quarter", "postalCode": "`+postal+`"}}, "verifiedAt": "2020-01-01T00:00:00.000Z"}}`)
		}
		if res := e.Patch(u, "proof-of-address", doc("Richard", "M4 1AA")); res.Get("proofOfAddress.status") != "failed" || res.Get("proofOfAddress.output.reason") != "name-mismatch" {
			t.Errorf("name mismatch: %s", res.Body)
		}
		if res := e.Patch(u, "proof-of-address", doc("John", "M1 1AE")); res.Get("proofOfAddress.status") != "failed" || res.Get("proofOfAddress.output.reason") != "address-mismatch" {
			t.Errorf("address mismatch: %s", res.Body)
		}
		res := e.Patch(u, "proof-of-address", doc("John", "m41aa"))
		if res.Status != 200 || res.Get("proofOfAddress.status") != "ok" || res.Get("proofOfAddress.output.reason") != nil {
			t.Fatalf("proof of address: %d %s", res.Status, res.Body)
		}
		res = e.Patch(u, "proof-of-address", jsonBody(t, `{"type": "electronic-verification", "input": {"data": {"givenName": "John", "familyName": "Doe", "address": {"country": "GB", "subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "line2": "Northern Quarter", "postalCode": "M4 1AA"}}}, "output": {"provider": "sumsub", "verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		// A proof of address that is ok is not submitted again (Uphold's
		// "Process Updates Not Allowed"), nor offered for submission.
		if res.Status != 409 || !e2e.HasReason(res, "kyc-process-update-not-allowed") {
			t.Errorf("a second proof of address: %d %s", res.Status, res.Body)
		}
		if ov := e.Overview(u, "proofOfAddress"); ov.Get("processes.proofOfAddress.verification.submittable") != false {
			t.Errorf("submittable when ok: %s", e2e.MustJSON(ov.Get("processes.proofOfAddress")))
		}
		// With a partner-verified proof of address the subdivision may change.
		if res := e.Patch(u, "address", jsonBody(t, `{"input": {"address": {"subdivision": "GB-SLF"}}}`)); res.Status != 200 || res.Get("address.input.address.subdivision") != "GB-SLF" {
			t.Errorf("subdivision after a proof of address: %d %s", res.Status, res.Body)
		}
		// Dependencies: with an incomplete profile the process cannot be updated.
		de := e2e.CreateUserIn(t, e.Proc, e.Tok, "de@poa.example", "DE", "DE-BE", "general-pt-bop")
		e.Patch(de, "profile", jsonBody(t, `{"input": {"address": {"city": "Berlin", "line1": "Unter den Linden 1", "postalCode": "10117"}}}`))
		res = e.Patch(de, "proof-of-address", jsonBody(t, `{"type": "electronic-verification", "input": {"data": {"givenName": "John", "familyName": "Doe", "address": {"country": "DE", "city": "Berlin", "line1": "Unter den Linden 1", "postalCode": "10117"}}}, "output": {"provider": "sumsub", "verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		if res.Status != 409 || !e2e.HasReason(res, "kyc-process-update-not-allowed") {
			t.Errorf("dependency not met (no birthplace): %d %s", res.Status, res.Body)
		}
		if ov := e.Overview(de, "proofOfAddress"); ov.Get("processes.proofOfAddress.verification.submittable") != false {
			t.Errorf("submittable with an unmet dependency: %s", e2e.MustJSON(ov.Get("processes.proofOfAddress")))
		}
	})
}

// TestKYCSelfCategorizationAndTaxDetails: the self-categorization form with
// its conditional questions and rejection; the tax details form with TIN
// checksums, reasons, signature and the per-country hint.
func TestKYCSelfCategorizationAndTaxDetails(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		u := e2e.CreateUser(t, e.Proc, e.Tok, "scs@kyc.example")
		res := e.Patch(u, "self-categorization-statement", jsonBody(t, `{"input": {"formId": "ac33651f-f2d3-47c4-8e8d-06fb87361f5c", "answers": {"investor": {"type": "high_net_worth_investor"}}}}`))
		if res.Status != 200 || res.Get("selfCategorizationStatement.status") != "pending" {
			t.Fatalf("SCS first answer: %d %s", res.Status, res.Body)
		}
		scs := func(answers string) *e2e.Response {
			return e.Patch(u, "self-categorization-statement", jsonBody(t, `{"input": {"formId": "ac33651f-f2d3-47c4-8e8d-06fb87361f5c", "answers": `+answers+`}}`))
		}
		// The conditional questions of a high net worth investor must be answered first.
		if res := scs(`{"declaration": {"accepts-risk": true}}`); res.Status != 400 {
			t.Errorf("declaration before the conditional questions: %d %s", res.Status, res.Body)
		}
		scs(`{"investor": {"annual-income-above-100000": "no", "net-assets-above-250000": "no"}}`)
		if res := scs(`{"declaration": {"accepts-risk": true}}`); res.Get("selfCategorizationStatement.status") != "running" {
			t.Fatalf("SCS complete: %s", res.Body)
		}
		if s := e.WaitStatus(u, "selfCategorizationStatement"); s != "pending" {
			t.Fatalf("a high net worth investor with neither: %s", s)
		}
		if out := e.Overview(u, "selfCategorizationStatement").Get("processes.selfCategorizationStatement.output"); e2e.MustJSONString(out) == "null" ||
			out.(map[string]any)["result"] != "rejected" {
			t.Errorf("rejected SCS: %v", out)
		}

		// Tax details: residency first; the hint then asks one TIN per country.
		res = e.Patch(u, "tax-details", jsonBody(t, `{"input": {"taxResidency": {"countries": ["GB", "PT"]}}}`))
		if res.Status != 200 || res.Get("taxDetails.status") != "pending" || res.Get("taxDetails.input.taxResidency") == nil {
			t.Fatalf("tax residency: %d %s", res.Status, res.Body)
		}
		docs := res.Get("taxDetails.hint.schema.properties.taxIdentification.properties.documents")
		if docs == nil || !strings.Contains(e2e.MustJSONString(docs), `"const":"PT"`) || docs.(map[string]any)["minItems"] != float64(2) {
			t.Errorf("per-country hint: %s", e2e.MustJSONString(docs))
		}
		// The per-country hint is the user's own: another user's hint is untouched.
		other := e2e.CreateUser(t, e.Proc, e.Tok, "notax@kyc.example")
		if d := e.Overview(other, "taxDetails").Get("processes.taxDetails.hint.schema.properties.taxIdentification.properties.documents.allOf"); d != nil {
			t.Errorf("another user's hint has per-country documents: %v", d)
		}
		tax := func(docs, extra string) *e2e.Response {
			return e.Patch(u, "tax-details", jsonBody(t, `{"input": {"taxIdentification": {"documents": `+docs+`, "certify": true`+extra+`}}}`))
		}
		for _, c := range []struct {
			name, docs, extra, code, prop string
			status                        int
		}{
			{"bad NIF", `[{"country": "GB", "type": "tin", "number": "AB123456C"}, {"country": "PT", "type": "tin", "number": "123456780"}]`, "", "document_number_invalid", "input.taxIdentification.documents[1].number", 409},
			{"GB issues TINs", `[{"country": "GB", "type": "tin", "reason": "country-does-not-issue-document"}, {"country": "PT", "type": "tin", "number": "123456789"}]`, "", "document_reason_not_supported", "input.taxIdentification.documents[0].reason", 409},
			{"signature", `[{"country": "GB", "type": "tin", "number": "AB123456C"}, {"country": "PT", "type": "tin", "number": "123456789"}]`, `, "signature": "Someone Else"`, "certification_signature_mismatch", "input.taxIdentification.signature", 409},
			{"missing country", `[{"country": "GB", "type": "tin", "number": "AB123456C"}]`, "", "request_invalid", "", 400},
		} {
			res := tax(c.docs, c.extra)
			if res.Status != c.status || res.Code() != c.code || (c.prop != "" && res.Get("details.property") != c.prop) {
				t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
			}
		}
		// A reason that needs a justification without one leaves the step incomplete.
		res = tax(`[{"country": "GB", "type": "tin", "reason": "user-unable-to-obtain-document"}, {"country": "PT", "type": "tin", "number": "123456789"}]`, "")
		if res.Status != 200 || res.Get("taxDetails.status") != "pending" {
			t.Errorf("no justification: %d %s", res.Status, res.Body)
		}
		res = tax(`[{"country": "GB", "type": "tin", "reason": "user-unable-to-obtain-document", "justification": "Not yet issued"}, {"country": "PT", "type": "tin", "number": "123 456 789"}]`, `, "signature": "john doe"`)
		if res.Status != 200 || res.Get("taxDetails.status") != "running" {
			t.Fatalf("tax details: %d %s", res.Status, res.Body)
		}
		if s := e.WaitStatus(u, "taxDetails"); s != "ok" {
			t.Fatalf("tax details evaluated: %s", s)
		}
		// Tax details can be kept up to date: a new residency starts a new declaration.
		res = e.Patch(u, "tax-details", jsonBody(t, `{"input": {"taxResidency": {"countries": ["DE"]}}}`))
		if res.Status != 200 || res.Get("taxDetails.status") != "pending" {
			t.Fatalf("new residency: %d %s", res.Status, res.Body)
		}
		if res := tax(`[{"country": "DE", "type": "tin", "number": "86095742718"}]`, ""); res.Code() != "document_number_invalid" {
			t.Errorf("bad Steuer-ID: %s", res.Body)
		}
		if res := tax(`[{"country": "DE", "type": "tin", "number": "86095742719"}]`, ""); res.Get("taxDetails.status") != "running" {
			t.Errorf("good Steuer-ID: %s", res.Body)
		}
	})
}

// TestKYCCapabilities: capabilities follow the processes, with Uphold's
// requirement and restriction codes.
func TestKYCCapabilities(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		u := e2e.CreateUserIn(t, e.Proc, e.Tok, "caps@kyc.example", "US", "US-FL", "general-us-hq")
		e.Patch(u, "profile", jsonBody(t, `{"input": {"address": {"city": "Miami", "line1": "1 Ocean Drive", "postalCode": "33139"}}}`))
		// A US resident's profile needs the details form of the country.
		ov := e.Overview(u, "profile")
		if ov.Get("processes.profile.status") != "pending" || ov.Get("processes.profile.hint.schema.properties.identification") == nil {
			t.Fatalf("US profile without details: %s", e2e.MustJSON(ov.Get("processes.profile")))
		}
		if res := e.Patch(u, "profile", jsonBody(t, `{"input": {"details": {"identification": {"ssn": "666-12-3456"}}}}`)); res.Status != 409 ||
			res.Code() != "document_number_invalid" || res.Get("details.property") != "input.details.identification.ssn" {
			t.Errorf("invalid SSN: %d %s", res.Status, res.Body)
		}
		if res := e.Patch(u, "profile", jsonBody(t, `{"input": {"details": {"identification": {"ssn": "123-45-6789"}}}}`)); res.Get("profile.status") != "pending" ||
			res.Get("profile.input.details.identification.ssn") != "123-45-6789" {
			t.Errorf("partial details: %s", res.Body)
		}
		if res := e.Patch(u, "profile", jsonBody(t, `{"input": {"details": {"identification": {"occupation": "Engineer"}}}}`)); res.Get("profile.status") != "ok" || res.Get("profile.hint") != nil {
			t.Fatalf("complete details: %s", res.Body)
		}
		res := e.Call(t, "GET", "/core/capabilities", e.Tok, u, nil)
		if res.Status != 200 {
			t.Fatalf("capabilities: %d %s", res.Status, res.Body)
		}
		var trades map[string]any
		for _, c := range res.JSON["capabilities"].([]any) {
			if c.(map[string]any)["code"] == "trades" {
				trades = c.(map[string]any)
			}
		}
		reqs := e2e.MustJSONString(trades["requirements"])
		for _, want := range []string{"user-must-submit-identity", "user-must-submit-customer-due-diligence", "user-must-submit-proof-of-address"} {
			if !strings.Contains(reqs, want) {
				t.Errorf("trades requirements lack %s: %s", want, reqs)
			}
		}
		// The unverified email has no name among Uphold's requirements: it
		// holds the capability back as the user's status.
		if strings.Contains(reqs, "email") || !strings.Contains(e2e.MustJSONString(trades["restrictions"]), "user-status-not-valid") {
			t.Errorf("US trades with an unverified email: %v", trades)
		}
		if strings.Contains(reqs, "crypto-risk-assessment") || trades["enabled"] != false {
			t.Errorf("US trades: %v", trades)
		}
		// Complete every required process partner-verified: enabled.
		e.Patch(u, "email", jsonBody(t, `{"input": {"email": "caps@kyc.example"}, "output": {"verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		expires := time.Now().AddDate(3, 0, 0).Format("2006-01-02")
		e.Patch(u, "identity", e2e.IdentityDoc([]string{e.Uploaded(u, "image")}, "C0PS123", expires, "John", "Doe", "1987-01-01"))
		e.Patch(u, "proof-of-address", jsonBody(t, `{"type": "electronic-verification", "input": {"data": {"givenName": "John", "familyName": "Doe", "address": {"country": "US", "subdivision": "US-FL", "city": "Miami", "line1": "1 Ocean Drive", "postalCode": "33139"}}}, "output": {"provider": "sumsub", "verifiedAt": "2020-01-01T00:00:00.000Z"}}`))
		e.Patch(u, "customer-due-diligence", jsonBody(t, `{"input": {"answers": {"financial-profile": {"source-of-funds": "salary"}}}, "output": {"score": "low", "expiresAt": "`+time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)+`", "verifiedAt": "2023-01-01T00:00:00.000Z"}}`))
		res = e.Call(t, "GET", "/core/capabilities/trades", e.Tok, u, nil)
		if res.Status != 200 || res.Get("capability.enabled") != true || e2e.MustJSONString(res.Get("capability.requirements")) != "[]" {
			t.Errorf("trades after KYC: %d %s", res.Status, res.Body)
		}
		if ov := e.Overview(u, ""); ov.Get("summary.status") != "pending" || ov.Get("summary.reason") != "user-must-submit-phone-number" {
			t.Errorf("summary: %v", ov.JSON["summary"])
		}
		if res := e.Call(t, "GET", "/core/capabilities/teleport", e.Tok, u, nil); res.Status != 400 {
			t.Errorf("unknown capability: %d %s", res.Status, res.Body)
		}
		// Uphold's capabilities kycd has no product for: disabled.
		for _, code := range []string{"card-withdrawals", "apple-pay-withdrawals", "paypal-withdrawals", "venmo-withdrawals", "cards", "apple-pay", "paypal", "venmo", "unique-account-number-viban"} {
			res := e.Call(t, "GET", "/core/capabilities/"+code, e.Tok, u, nil)
			if res.Status != 200 || res.Get("capability.code") != code || res.Get("capability.enabled") != false || e2e.MustJSONString(res.Get("capability.restrictions")) != `["temporarily-disabled"]` {
				t.Errorf("%s: %d %s", code, res.Status, res.Body)
			}
		}
	})
}

// TestKYCConcurrentFormSteps: form steps of many users at the same time,
// two answers of one user's step among them, through the HTTP API on both
// databases (on PostgreSQL they share statements and reads; on SQLite
// transactions): every request succeeds, no answer is lost (the second of a
// user's two concurrent answers is recomputed over the first), each user
// keeps their own answers, and each answer saved is audited.
func TestKYCConcurrentFormSteps(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db)
		const users = 8
		ids, forms := make([]string, users), make([]string, users)
		for i := range ids {
			ids[i] = e2e.CreateUser(t, e.Proc, e.Tok, fmt.Sprintf("steps-%d@kyc.example", i))
			res := e.Patch(ids[i], "customer-due-diligence", jsonBody(t, `{"input": {"answers": {"intent": {"expected-activities": ["cryptocurrency_investing"]}}}}`))
			id, _ := res.Get("customerDueDiligence.input.formId").(string)
			if res.Status != 200 || id == "" {
				t.Fatalf("first step: %d %s", res.Status, res.Body)
			}
			forms[i] = id
		}
		sources := []string{"salary", "inheritance", "profits_own_business"}
		incomes := []string{"0-20000", "20000-30000", "40000-60000"}
		answer := func(i int, question, value string) map[string]any {
			return jsonBody(t, `{"input": {"formId": "`+forms[i]+`", "answers": {"financial-information": {"`+question+`": "`+value+`"}}}}`)
		}
		results := make([]*e2e.Response, 2*users)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for k := range results {
			i := k % users
			body := answer(i, "source-of-funds", sources[i%len(sources)])
			if k >= users {
				body = answer(i, "annual-income-range", incomes[i%len(incomes)])
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[k] = e.Patch(ids[i], "customer-due-diligence", body)
			}()
		}
		close(start)
		wg.Wait()
		for k, res := range results {
			if res.Status != 200 || res.Get("customerDueDiligence.status") != "pending" {
				t.Errorf("step %d: %d %s", k, res.Status, res.Body)
			}
		}
		for i, u := range ids {
			res := e.Overview(u, "customerDueDiligence")
			fin := "processes.customerDueDiligence.input.answers.financial-information."
			if res.Get(fin+"source-of-funds") != sources[i%len(sources)] || res.Get(fin+"annual-income-range") != incomes[i%len(incomes)] ||
				res.Get("processes.customerDueDiligence.input.formId") != forms[i] {
				t.Errorf("user %d: %s", i, e2e.MustJSON(res.Get("processes.customerDueDiligence.input")))
			}
			// One audit entry per saved step: the first step and both answers.
			q := `SELECT (SELECT count(*) FROM audit_pending WHERE entity_id = ? AND action = ?) + (SELECT count(*) FROM audit_entries WHERE entity_id = ? AND action = ?)`
			if db.URL != "" {
				q = `SELECT (SELECT count(*) FROM audit_pending WHERE entity_id = $1 AND action = $2) + (SELECT count(*) FROM audit_entries WHERE entity_id = $3 AND action = $4)`
			}
			var n int
			if err := db.Open(t).QueryRow(q, u, "kyc.customer-due-diligence.answered", u, "kyc.customer-due-diligence.answered").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("user %d: %d audit entries of CDD steps, want 3", i, n)
			}
		}
	})
}

// TestKYCCryptoRiskAssessmentDocumented: Uphold's OpenAPI document's
// Uphold-verified example names the same formId as seed 004 with another
// first step (decision-making): it starts the form's second version, whose
// seven questions the document's fully detailed overview answers, and the
// document's answers are approved; seed 004's first step still starts the
// first version (TestKYCCryptoRiskAssessment), and a new process shows the
// document's form.
func TestKYCCryptoRiskAssessmentDocumented(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		e := e2e.NewKYCEnv(t, db, "--sandbox")
		const formID = "7a0f4229-e3de-4dfd-8f91-9b1308b2dc33"
		u := e2e.CreateUser(t, e.Proc, e.Tok, "cra-documented@kyc.example")
		res := e.Overview(u, "cryptoRiskAssessment")
		if props, _ := res.Get("processes.cryptoRiskAssessment.hint.schema.properties").(map[string]any); props["decision-making"] == nil {
			t.Errorf("a new process's hint: %s", e2e.MustJSON(res.Get("processes.cryptoRiskAssessment")))
		}
		steps := [][2]string{{"decision-making", `{"who-makes-investment-decisions": "i_decide"}`}, {"loss-tolerance", `{"acceptable-loss": "full_loss_possible"}`},
			{"volatility-understanding", `{"expected-price-behaviour": "highly_volatile"}`}, {"liquidity-awareness", `{"selling-timeline": "may_be_delayed"}`},
			{"regulatory-protection", `{"compensation-coverage": "no_coverage"}`}, {"portfolio-allocation", `{"share-of-net-assets": "small_share"}`},
			{"complexity-acknowledgement", `{"product-mechanics": "complex_and_risky"}`}}
		for i, s := range steps {
			res := e.Patch(u, "crypto-risk-assessment", jsonBody(t, `{"input": {"formId": "`+formID+`", "answers": {"`+s[0]+`": `+s[1]+`}}}`))
			want := "pending"
			if i == len(steps)-1 {
				want = "running"
			}
			if res.Status != 200 || res.Get("cryptoRiskAssessment.status") != want || res.Get("cryptoRiskAssessment.input.formId") != formID {
				t.Fatalf("step %s: %d %s", s[0], res.Status, res.Body)
			}
			if i == 0 {
				props, _ := res.Get("cryptoRiskAssessment.hint.schema.properties").(map[string]any)
				if props["decision-making"] == nil || props["loss-tolerance"] == nil || props["financial-information"] != nil {
					t.Errorf("the hint after the document's first step: %s", res.Body)
				}
			}
		}
		if s := e.WaitStatus(u, "cryptoRiskAssessment"); s != "ok" {
			t.Fatalf("the document's answers: %s", s)
		}
		res = e.Overview(u, "cryptoRiskAssessment")
		if res.Get("processes.cryptoRiskAssessment.output.result") != "approved" ||
			res.Get("processes.cryptoRiskAssessment.input.answers.complexity-acknowledgement.product-mechanics") != "complex_and_risky" {
			t.Errorf("approved: %s", e2e.MustJSON(res.Get("processes.cryptoRiskAssessment")))
		}
		// A wrong answer to the document's questions is a rejection.
		w := e2e.CreateUser(t, e.Proc, e.Tok, "cra-documented-wrong@kyc.example")
		for i, s := range steps {
			if i == 1 {
				s[1] = `{"acceptable-loss": "capital_protected"}`
			}
			e.Patch(w, "crypto-risk-assessment", jsonBody(t, `{"input": {"formId": "`+formID+`", "answers": {"`+s[0]+`": `+s[1]+`}}}`))
		}
		e.WaitStatus(w, "cryptoRiskAssessment")
		if res := e.Overview(w, "cryptoRiskAssessment"); res.Get("processes.cryptoRiskAssessment.output.result") != "rejected" {
			t.Errorf("capital protected: %s", e2e.MustJSON(res.Get("processes.cryptoRiskAssessment")))
		}
	})
}
