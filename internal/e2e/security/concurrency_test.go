package security

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sandbox/sumsubsbx"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// burst is one kind of change sent 32 times at once against one user.
type burst struct {
	name string
	// send sends the i-th request.
	send func(i int) *e2e.Response
	// ok are the statuses of an applied change; refused, the other answers
	// a serial order may give (with the error codes allowed, "" for any
	// documented one).
	ok      int
	refused map[int][]string
	// all: every request is applied, whatever the order (the queue's
	// promise); one: exactly one is (the others find it).
	all, one bool
	// value is what the i-th request sets, and final what is stored after
	// the burst: it must be the value of an applied request.
	value func(i int) string
	final func() string
	// action is the audit action of an applied change (on the user, or on
	// the tenant when tenantWide); one entry per applied change.
	action     string
	tenantWide bool
}

// TestConcurrentChangesOfOneUser sends 32 requests of each kind of change
// at once against one user, on both databases, as a busy client would:
// every PATCH of a Core KYC process, sign codes, application creations and
// updates, checks and ingestions. No answer is a 5xx, every answer is one
// the OpenAPI document gives for its route (kycd's harness validates each)
// and one a serial order of the requests gives, the state after each burst
// is the one some serial order of the applied requests leaves (what is
// stored is the value of an applied request; requests that every order
// applies are all applied; a rule that admits one admits one), and each
// applied change has one audit entry.
func TestConcurrentChangesOfOneUser(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		// Hundreds of requests in bursts of 32: no client rate limit (a busy
		// machine stretches them past the default burst).
		c := e2e.NewConnectorEnv(t, db, "--rate-limit", "0")
		k := c.KYCEnv
		conn := db.Open(t)
		u := e2e.CreateUser(t, k.Proc, k.Tok, "busy@concurrency.example")
		const n = 32
		letters := func(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }
		patch := func(process string, body func(i int) map[string]any) func(i int) *e2e.Response {
			return func(i int) *e2e.Response { return k.Patch(u, process, body(i)) }
		}
		detail := func(key, path string) func() string {
			return func() string {
				v := k.Overview(u, key).Get("processes." + key + "." + path)
				if v == nil {
					return ""
				}
				return fmt.Sprint(v)
			}
		}
		image := k.Uploaded(u, "image")
		expires := time.Now().AddDate(3, 0, 0).Format("2006-01-02")
		verifiedAt := func(i int) string { return fmt.Sprintf("2020-01-01T00:00:%02d.000Z", i) }
		// The forms' published ids start them.
		cddForm, craForm, scsForm := "ae80271a-a3f0-453b-8dc6-36b777817217", "7a0f4229-e3de-4dfd-8f91-9b1308b2dc33", "ac33651f-f2d3-47c4-8e8d-06fb87361f5c"
		activities := []string{"cryptocurrency_investing", "metals_or_commodities_investing", "foreign_exchange_trading"}
		incomes := []string{"0-20000", "20000-30000", "30000-40000", "40000-60000"}
		investors := []string{"high_net_worth_investor", "restricted_investor"}
		countries := [][]string{{"GB"}, {"PT"}, {"DE"}, {"GB", "PT"}}
		coreRefused := map[int][]string{409: nil}

		// The /v1 client and its application, made by a burst of creations.
		v1q := "?legal_entity_uuid=" + k.Tenant.ID + "&client_uuid=" + u
		v1 := func(method, path string, body any) *e2e.Response { return k.Call(t, method, path+v1q, k.Tok, "", body) }
		info := v1("GET", "/v1/clients/kyc-level-info/", nil)
		avail, _ := info.JSON["available_levels_for_upgrade"].([]any)
		if info.Status != 200 || len(avail) == 0 {
			t.Fatalf("level info: %d %s", info.Status, info.Body)
		}
		level := avail[0].(map[string]any)["uuid"].(string)
		var app string
		appOf := func() string {
			if app == "" {
				app, _ = v1("GET", "/v1/clients/kyc-level-info/", nil).JSON["last_kyc_application_uuid"].(string)
			}
			return app
		}

		bursts := []burst{
			{name: "profile", ok: 200, refused: coreRefused, all: true, action: "kyc.profile.updated",
				send: patch("profile", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"fullName": "John " + letters(i) + " Doe"}}
				}),
				value: func(i int) string { return "John " + letters(i) + " Doe" }, final: detail("profile", "input.fullName")},
			{name: "address", ok: 200, refused: coreRefused, all: true, action: "kyc.address.updated",
				send: patch("address", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"address": map[string]any{"line1": fmt.Sprintf("%d High Street", i+1)}}}
				}),
				value: func(i int) string { return fmt.Sprintf("%d High Street", i+1) }, final: detail("address", "input.address.line1")},
			{name: "email", ok: 200, refused: coreRefused, all: true, action: "kyc.email.updated",
				send: patch("email", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"email": "busy-" + letters(i) + "@concurrency.example"}}
				}),
				value: func(i int) string { return "busy-" + letters(i) + "@concurrency.example" }, final: detail("email", "input.email")},
			{name: "phone", ok: 200, refused: coreRefused, all: true, action: "kyc.phone.updated",
				send: patch("phone", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"phone": fmt.Sprintf("+4474001234%02d", i), "country": "GB"}}
				}),
				value: func(i int) string { return fmt.Sprintf("+4474001234%02d", i) }, final: detail("phone", "input.phone")},
			{name: "identity", ok: 200, refused: coreRefused, action: "kyc.identity.updated",
				send: patch("identity", func(i int) map[string]any {
					return e2e.IdentityDoc([]string{image}, fmt.Sprintf("C0NC%04d", i), expires, "John", "Doe", "1987-01-01")
				}),
				value: func(i int) string { return fmt.Sprintf("C0NC%04d", i) }, final: detail("identity", "output.document.number")},
			{name: "proof-of-address", ok: 200, refused: coreRefused, action: "kyc.proof-of-address.updated",
				send: patch("proof-of-address", func(i int) map[string]any {
					return map[string]any{"type": "electronic-verification", "input": map[string]any{"data": map[string]any{"givenName": "John", "familyName": "Doe",
						"address": map[string]any{"country": "GB", "subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}}},
						"output": map[string]any{"provider": "sumsub", "verifiedAt": verifiedAt(i)}}
				}),
				value: verifiedAt, final: detail("proofOfAddress", "output.verifiedAt")},
			{name: "customer-due-diligence", ok: 200, refused: coreRefused, all: true, action: "kyc.customer-due-diligence.answered",
				send: patch("customer-due-diligence", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"formId": cddForm, "answers": map[string]any{"intent": map[string]any{"expected-activities": []any{activities[i%len(activities)]}}}}}
				}),
				value: func(i int) string { return fmt.Sprint([]any{activities[i%len(activities)]}) }, final: detail("customerDueDiligence", "input.answers.intent.expected-activities")},
			{name: "enhanced-due-diligence", ok: 200, refused: map[int][]string{409: {"operation_not_allowed"}}, action: "kyc.enhanced-due-diligence.updated",
				send: patch("enhanced-due-diligence", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"media": []any{map[string]any{"context": "source-of-funds-proof", "fileId": image}}}, "output": map[string]any{"verifiedAt": verifiedAt(i)}}
				}),
				value: verifiedAt, final: detail("enhancedDueDiligence", "output.verifiedAt")},
			{name: "crypto-risk-assessment", ok: 200, refused: coreRefused, all: true, action: "kyc.crypto-risk-assessment.answered",
				send: patch("crypto-risk-assessment", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"formId": craForm, "answers": map[string]any{"financial-information": map[string]any{"annual-income-range": incomes[i%len(incomes)]}}}}
				}),
				value: func(i int) string { return incomes[i%len(incomes)] }, final: detail("cryptoRiskAssessment", "input.answers.financial-information.annual-income-range")},
			{name: "self-categorization-statement", ok: 200, refused: coreRefused, action: "kyc.self-categorization-statement.answered",
				send: patch("self-categorization-statement", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"formId": scsForm, "answers": map[string]any{"investor": map[string]any{"type": investors[i%len(investors)]}}}}
				}),
				value: func(i int) string { return investors[i%len(investors)] }, final: detail("selfCategorizationStatement", "input.answers.investor.type")},
			{name: "tax-details", ok: 200, refused: coreRefused, all: true, action: "kyc.tax-details.answered",
				send: patch("tax-details", func(i int) map[string]any {
					return map[string]any{"input": map[string]any{"taxResidency": map[string]any{"countries": countries[i%len(countries)]}}}
				}),
				value: func(i int) string { return fmt.Sprint(countries[i%len(countries)]) }, final: detail("taxDetails", "input.taxResidency.countries")},
			{name: "application creation", ok: 201, refused: map[int][]string{409: {"kyc_application_exists"}}, one: true, action: "kyc-application.created", tenantWide: true,
				send: func(int) *e2e.Response {
					return v1("POST", "/v1/clients/kyc-level-info/", map[string]any{"kyc_level_uuid": level})
				},
				value: func(int) string { return level }, final: func() string {
					return fmt.Sprint(v1("GET", "/v1/kyc/"+appOf()+"/", nil).JSON["kyc_level"].(map[string]any)["uuid"])
				}},
			{name: "application update", ok: 200, refused: map[int][]string{}, all: true, action: "kyc-application.updated", tenantWide: true,
				send: func(i int) *e2e.Response {
					return v1("PATCH", "/v1/kyc/"+appOf()+"/", map[string]any{"attribute_changes": []any{map[string]any{"key": "first_name", "value": "Jane" + letters(i)}}})
				},
				value: func(i int) string { return "Jane" + letters(i) }, final: func() string {
					return fmt.Sprint(e2e.Attr(v1("GET", "/v1/kyc/"+appOf()+"/", nil), "first_name")["value"])
				}},
			{name: "send-code", ok: 201, refused: map[int][]string{}, all: true, action: "kyc.sign-code.issued",
				send: func(i int) *e2e.Response {
					return v1("POST", "/v1/signatures/send-code/", map[string]any{"object_uuid": appOf(), "provider_type": "sms", "destination": fmt.Sprintf("+4479111234%02d", i)})
				},
				value: func(i int) string { return fmt.Sprintf("+4479111234%02d", i) }, final: func() string {
					var sealed int
					if sealed = e2e.CountRows(t, db, conn, `SELECT count(*) FROM verification_codes WHERE user_id = ? AND channel = ?`, u, "sign:sms:"+appOf()); sealed != 1 {
						return fmt.Sprintf("%d codes", sealed)
					}
					return "" // the destination is sealed: checked below through the message sent
				}},
			{name: "check creation", ok: 202, refused: map[int][]string{409: {"kyc_check_exists"}}, one: true, action: "check.created", tenantWide: true,
				send: func(int) *e2e.Response {
					return k.Call(t, "POST", "/users/"+u+"/checks", k.Tok, "", e2e.SeedKYC("https://evidence.invalid/ident.zip"))
				},
				value: func(int) string { return "1" }, final: func() string {
					list := k.Call(t, "GET", "/users/"+u+"/checks", k.Tok, "", nil)
					items, _ := list.JSON["data"].([]any)
					return fmt.Sprint(len(items))
				}},
			{name: "ingestion creation", ok: 201, refused: map[int][]string{}, all: true, action: "kyc-connector.ingestion.created", tenantWide: true,
				send: func(int) *e2e.Response {
					return k.Call(t, "POST", "/kyc-connector/sumsub/ingestions", k.Tok, u, map[string]any{"applicantId": sumsubsbx.Green, "processes": []string{"profile"}})
				},
				value: func(int) string { return fmt.Sprint(n) }, final: func() string {
					list := k.Call(t, "GET", "/kyc-connector/sumsub/ingestions?perPage=100", k.Tok, u, nil)
					items, _ := list.JSON["ingestions"].([]any)
					return fmt.Sprint(len(items))
				}},
		}
		audits := func(b burst) int {
			q := `SELECT (SELECT count(*) FROM audit_pending WHERE tenant_id = ? AND action = ? AND (? OR entity_id = ?)) +
				(SELECT count(*) FROM audit_entries WHERE tenant_id = ? AND action = ? AND (? OR entity_id = ?))`
			return e2e.CountRows(t, db, conn, q, k.Tenant.ID, b.action, b.tenantWide, u, k.Tenant.ID, b.action, b.tenantWide, u)
		}
		for _, b := range bursts {
			before := audits(b)
			res := make([]*e2e.Response, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[i] = b.send(i)
				}()
			}
			close(start)
			wg.Wait()
			if slices.Contains(res, nil) {
				t.Fatalf("%s: a request failed", b.name) // do said why
			}
			var applied []string
			for i, r := range res {
				switch codes, refused := b.refused[r.Status]; {
				case r.Status == b.ok:
					applied = append(applied, b.value(i))
				case !refused:
					t.Errorf("%s %d: %d %s", b.name, i, r.Status, r.Body)
				case len(codes) > 0 && !slices.Contains(codes, r.Code()):
					t.Errorf("%s %d: %d %s, want one of %v", b.name, i, r.Status, r.Body, codes)
				}
			}
			switch {
			case b.all && len(applied) != n:
				t.Errorf("%s: %d of %d applied, want all", b.name, len(applied), n)
			case b.one && len(applied) != 1:
				t.Errorf("%s: %d of %d applied, want one", b.name, len(applied), n)
			}
			if got := audits(b) - before; got != len(applied) {
				t.Errorf("%s: %d audit entries (%s), %d changes applied", b.name, got, b.action, len(applied))
			}
			if final := b.final(); len(applied) > 0 && final != "" && !slices.Contains(applied, final) {
				t.Errorf("%s: %q is stored, the value of no applied request (%v)", b.name, final, applied)
			}
			t.Logf("%s: %d of %d applied", b.name, len(applied), n)
		}
		// The ingestions' workers then change the user at once too: each
		// finishes, its profile submitted or found applied.
		deadline := time.Now().Add(3 * time.Minute)
		for {
			list := k.Call(t, "GET", "/kyc-connector/sumsub/ingestions?perPage=100", k.Tok, u, nil)
			items, _ := list.JSON["ingestions"].([]any)
			finished := 0
			for _, it := range items {
				if it.(map[string]any)["status"] == "finished" {
					finished++
				}
			}
			if finished == n {
				for _, it := range items {
					if status := (&e2e.Response{JSON: it.(map[string]any)}).Get("result.profile.status"); status != "completed" {
						t.Errorf("ingestion result: %v", it)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d ingestions finished", finished, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
