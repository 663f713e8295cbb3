package coreapi

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/internal/e2e"
)

// notApplicable are the documented error cases kycd cannot produce, with
// the reason: the report lists them apart, and counts the error cases both
// with and without them. Every other case without a trigger counts as not
// answered as documented.
var notApplicable = map[string]string{
	"DELETE /core/users/me 409 User Has Balance":              "kycd holds no balances (it is a KYC service, not a wallet)",
	"DELETE /core/users/me 409 User Has Pending Transactions": "kycd holds no transactions",
	"PATCH /core/kyc/processes/tax-details 409 Address Country Not Supported": "the tax form has no taxResidency.address: " +
		"Uphold's documents name its errors but neither its schema nor an example, so kycd's form (as the documents show it) has no address to refuse",
	"PATCH /core/kyc/processes/tax-details 409 Address Subdivision Not Supported": "the tax form has no taxResidency.address (see Address Country Not Supported)",
	"PATCH /core/kyc/processes/tax-details 409 Address Postal Code Invalid":       "the tax form has no taxResidency.address (see Address Country Not Supported)",
}

// errorCases provokes the documented error cases the walk has a trigger
// for (rateLimited and expiredTokens provoke the 429s and the expired
// tokens).
func (c *conformance) errorCases(e *e2e.ConnectorEnv, tnA e2e.Tenant, tokA string, fresh func(string) string) {
	t, k := c.t, e.Proc
	const unknown = "00000000-0000-4000-8000-000000000000"

	// Every operation: an invalid token, a token without the operation's
	// scope, a revoked client's token.
	narrow := k.Token(t, tnA, "core.webhooks:read")
	narrowWebhooks := k.Token(t, tnA, "core.kyc:read")
	tnR := k.NewTenant(t, "conformance-revoked")
	revoked := k.Token(t, tnR, "")
	if _, err := k.CLI(t, "client", "revoke", "--id", tnR.ClientID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if k.Call(t, "GET", "/core/countries", revoked, "", nil).Status == 401 {
			break
		}
	}
	for _, key := range c.order {
		x, ok := c.sample[key]
		if !ok || key == "POST /core/oauth2/token" {
			continue
		}
		for _, tc := range []struct{ tok, name string }{{"invalid", "Token Invalid"}, {revoked, "Token Revoked"}} {
			y := x
			y.tok = tc.tok
			c.errorCase(key, "401", tc.name, y)
		}
		if _, documented := c.cases[key+" 403 Token Insufficient Scopes"]; documented {
			y := x
			y.tok = narrow
			if strings.HasPrefix(key, "POST /core/webhooks") {
				y.tok = narrowWebhooks
			}
			c.errorCase(key, "403", "Token Insufficient Scopes", y)
		}
	}

	// The token endpoint.
	tokenKey := "POST /core/oauth2/token"
	basic := map[string]string{"Authorization": basicAuth(tnA)}
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"Invalid Request", url.Values{"scope": {"core.kyc:read"}}},
		{"Unsupported Grant Type", url.Values{"grant_type": {"password"}}},
		{"Invalid Grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-refresh-token"}}},
		{"Invalid Scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"core.nothing:read"}}},
	} {
		c.errorCase(tokenKey, "400", tc.name, call{body: tc.form, header: basic})
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	c.errorCase(tokenKey, "401", "Invalid Authorization Header", call{body: form, header: map[string]string{"Authorization": "Basic !!!"}})
	c.errorCase(tokenKey, "401", "Invalid Client", call{body: form, header: map[string]string{"Authorization": basicAuth(e2e.Tenant{ClientID: tnA.ClientID, Secret: "wrong"})}})

	// Countries.
	c.errorCase("GET /core/countries/{country}", "404", "Country Not Found", call{path: "/core/countries/ZZ", tok: tokA})

	// Users.
	users := "POST /core/users"
	tokU := k.Token(t, k.NewTenant(t, "conformance-user-errors"), "")
	n := 0
	userWith := func(change func(b map[string]any)) map[string]any {
		n++
		b := e2e.NewUserBody(fmt.Sprintf("refused%d@conformance.example", n))
		change(b)
		return b
	}
	addr := func(b map[string]any) map[string]any { return b["address"].(map[string]any) }
	c.errorCase(users, "400", "Invalid Request", call{tok: tokU, body: map[string]any{"email": 5}})
	for _, tc := range []struct {
		name   string
		change func(b map[string]any)
	}{
		{"Name Contains Invalid Characters", func(b map[string]any) { b["fullName"] = "J0hn <Doe>" }},
		{"User Underage", func(b map[string]any) { b["birthdate"] = time.Now().AddDate(-10, 0, 0).Format(time.DateOnly) }},
		{"User Overage", func(b map[string]any) { b["birthdate"] = "1900-01-01" }},
		{"Primary Citizenship Not Supported", func(b map[string]any) { b["primaryCitizenship"] = "KP" }},
		{"Address Country Not Supported", func(b map[string]any) { addr(b)["country"] = "KP"; delete(addr(b), "subdivision") }},
		{"Address Subdivision Not Supported", func(b map[string]any) { addr(b)["subdivision"] = "GB-XXX" }},
		{"Address Subdivision Required For Country", func(b map[string]any) {
			b["address"] = map[string]any{"country": "US", "city": "Miami"}
			b["termsOfService"] = "general-us-hq"
		}},
		{"Address PO Box Not Allowed", func(b map[string]any) { addr(b)["line1"] = "PO Box 123" }},
		{"Address Postal Code Invalid", func(b map[string]any) { addr(b)["postalCode"] = "NOT A CODE" }},
		{"Email Incorrect or Disallowed", func(b map[string]any) { b["email"] = "someone@mailinator.com" }},
		{"Phone Invalid", func(b map[string]any) { b["phone"] = map[string]any{"number": "+44000", "country": "GB"} }},
		{"Phone Country Not Supported", func(b map[string]any) { b["phone"] = map[string]any{"number": "+8502123456", "country": "KP"} }},
		{"Terms Of Service Mismatch", func(b map[string]any) { b["address"] = map[string]any{"country": "PT", "city": "Lisboa"} }},
	} {
		c.errorCase(users, "409", tc.name, call{tok: tokU, body: userWith(tc.change)})
	}
	// The legacy shape is the one that carries partnerOnboardedAt.
	c.errorCase(users, "409", "Invalid Partner Onboarded At", call{tok: tokU, body: map[string]any{"type": "individual", "email": "onboarded@conformance.example",
		"termsOfService": "general-gb-fca", "citizenshipCountry": "GB", "country": "GB", "subdivision": "GB-MAN",
		"partnerOnboardedAt": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}})
	taken := userWith(func(b map[string]any) { b["phone"] = map[string]any{"number": "+447400123999", "country": "GB"} })
	c.send(users, call{tok: tokU, body: taken})
	c.errorCase(users, "409", "Email Already Exists", call{tok: tokU, body: userWith(func(b map[string]any) { b["email"] = taken["email"] })})
	c.errorCase(users, "409", "Phone Already Exists", call{tok: tokU, body: userWith(func(b map[string]any) { b["phone"] = taken["phone"] })})
	c.errorCase(users, "409", "Missing User Context", call{tok: tokU, body: userWith(func(map[string]any) {}), plain: true})

	// The overview.
	u := fresh(tokA)
	c.errorCase("GET /core/kyc", "409", "Invalid Locale", call{tok: tokA, user: u, header: map[string]string{"Accept-Language": "not a locale!"}})

	// Processes.
	p := func(code string) string { return "PATCH /core/kyc/processes/" + code }
	for _, key := range c.order {
		if strings.HasPrefix(key, "PATCH /core/kyc/processes/") {
			c.errorCase(key, "400", "Invalid Request", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": 5}})
		}
	}
	future := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	past := "2020-01-01"
	profile := func(change func(in map[string]any)) map[string]any {
		in := map[string]any{"fullName": "John Doe", "birthdate": "1987-01-01", "primaryCitizenship": "GB",
			"address": map[string]any{"city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}}
		change(in)
		return map[string]any{"input": in}
	}
	inAddr := func(in map[string]any) map[string]any { return in["address"].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(in map[string]any)
	}{
		{"Full Name Contains Invalid Characters", func(in map[string]any) { in["fullName"] = "J0hn <Doe>" }},
		{"User Underage", func(in map[string]any) { in["birthdate"] = time.Now().AddDate(-10, 0, 0).Format(time.DateOnly) }},
		{"User Overage", func(in map[string]any) { in["birthdate"] = "1900-01-01" }},
		{"Primary Citizenship Country Not Supported", func(in map[string]any) { in["primaryCitizenship"] = "KP" }},
		{"Other Citizenships Country Not Supported", func(in map[string]any) { in["otherCitizenships"] = []string{"KP"} }},
		{"Place of Birth Country Not Supported", func(in map[string]any) { in["birthplace"] = map[string]any{"country": "KP", "town": "Pyongyang"} }},
		{"Address Subdivision Not Supported", func(in map[string]any) { inAddr(in)["subdivision"] = "GB-XXX" }},
		{"Address PO Boxes Not Allowed", func(in map[string]any) { inAddr(in)["line1"] = "PO Box 123" }},
		{"Address Postal Code Invalid", func(in map[string]any) { inAddr(in)["postalCode"] = "NOT A CODE" }},
	} {
		c.errorCase(p("profile"), "409", tc.name, call{tok: tokA, user: fresh(tokA), body: profile(tc.change)})
	}
	address := func(a map[string]any) map[string]any {
		base := map[string]any{"subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"}
		for k, v := range a {
			base[k] = v
		}
		return map[string]any{"input": map[string]any{"address": base}}
	}
	c.errorCase(p("address"), "409", "Subdivision Not Supported", call{tok: tokA, user: fresh(tokA), body: address(map[string]any{"subdivision": "GB-XXX"})})
	c.errorCase(p("address"), "409", "PO Boxes Not Allowed", call{tok: tokA, user: fresh(tokA), body: address(map[string]any{"line1": "PO Box 123"})})
	c.errorCase(p("address"), "409", "Postal Code Invalid", call{tok: tokA, user: fresh(tokA), body: address(map[string]any{"postalCode": "NOT A CODE"})})

	// Email and phone.
	u = fresh(tokA)
	c.send(p("email"), call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"email": "verified@conformance.example"}, "output": map[string]any{"verifiedAt": "2020-01-01T00:00:00.000Z"}}})
	c.errorCase(p("email"), "409", "Email Already Verified", call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"email": "verified@conformance.example"}}})
	c.errorCase(p("email"), "409", "Email Already Exists", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"email": "verified@conformance.example"}}})
	c.errorCase(p("email"), "409", "Email Incorrect or Disallowed", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"email": "someone@mailinator.com"}}})
	c.errorCase(p("email"), "409", "Verified Date Invalid", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"email": "later@conformance.example"}, "output": map[string]any{"verifiedAt": future}}})
	u = fresh(tokA)
	c.send(p("phone"), call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"phone": "+447400123777", "country": "GB"}, "output": map[string]any{"verifiedAt": "2020-01-01T00:00:00.000Z"}}})
	c.errorCase(p("phone"), "409", "Phone Already Verified", call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"phone": "+447400123777", "country": "GB"}}})
	c.errorCase(p("phone"), "409", "Phone Already Exists", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"phone": "+447400123777", "country": "GB"}}})
	c.errorCase(p("phone"), "409", "Phone Invalid", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"phone": "+44000", "country": "GB"}}})
	c.errorCase(p("phone"), "409", "Country Not Supported", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"phone": "+8502123456", "country": "KP"}}})
	c.errorCase(p("phone"), "409", "Verified Date Invalid", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"phone": "+447400123779", "country": "GB"}, "output": map[string]any{"verifiedAt": future}}})

	// Identity and proof of address, from the documents' examples.
	idKey, poaKey := p("identity"), p("proof-of-address")
	idDoc := func(u string, change func(out map[string]any)) map[string]any {
		b := exampleWith(c.op(idKey).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return e.UploadedWith(tokA, u) }).(map[string]any)
		change(b["output"].(map[string]any))
		return b
	}
	doc := func(out map[string]any) map[string]any { return out["document"].(map[string]any) }
	person := func(out map[string]any) map[string]any { return out["person"].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(out map[string]any)
	}{
		{"Document Country Not Supported", func(out map[string]any) { doc(out)["country"] = "KP" }},
		{"Document Expiration Date Invalid", func(out map[string]any) { doc(out)["expiresAt"] = past }},
		{"Given Name Contains Invalid Characters", func(out map[string]any) { person(out)["givenName"] = "J0hn <>" }},
		{"Family Name Contains Invalid Characters", func(out map[string]any) { person(out)["familyName"] = "D0e <>" }},
		{"Birthdate Invalid", func(out map[string]any) { person(out)["birthdate"] = time.Now().AddDate(0, 0, 2).Format(time.DateOnly) }},
		{"Address Country Not Supported", func(out map[string]any) { person(out)["address"] = map[string]any{"country": "KP"} }},
		{"Address Subdivision Not Supported", func(out map[string]any) {
			person(out)["address"] = map[string]any{"country": "GB", "subdivision": "GB-XXX"}
		}},
		{"Verified Date Invalid", func(out map[string]any) { out["verifiedAt"] = future }},
	} {
		u := fresh(tokA)
		c.errorCase(idKey, "409", tc.name, call{tok: tokA, user: u, body: idDoc(u, tc.change)})
	}
	u = fresh(tokA)
	c.errorCase(idKey, "404", "File Not Found", call{tok: tokA, user: u, body: exampleWith(c.op(idKey).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return unknown })})
	u = fresh(tokA)
	ok := idDoc(u, func(map[string]any) {})
	c.send(idKey, call{tok: tokA, user: u, body: ok})
	c.errorCase(idKey, "409", "Process Updates Not Allowed", call{tok: tokA, user: u, body: idDoc(u, func(map[string]any) {})})
	u = fresh(tokA)
	c.errorCase(idKey, "409", "Uphold-Verified Updates Not Allowed", call{tok: tokA, user: u, body: map[string]any{"type": "document-submission", "input": map[string]any{"media": []any{map[string]any{"context": "photo-selfie", "fileId": e.UploadedWith(tokA, u)}}}}})

	poaDoc := func(u string, change func(out map[string]any)) map[string]any {
		b := exampleWith(c.op(poaKey).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return e.UploadedWith(tokA, u) }).(map[string]any)
		change(b["output"].(map[string]any))
		return b
	}
	for _, tc := range []struct {
		name   string
		change func(out map[string]any)
	}{
		{"Given Name Contains Invalid Characters", func(out map[string]any) { person(out)["givenName"] = "J0hn <>" }},
		{"Family Name Contains Invalid Characters", func(out map[string]any) { person(out)["familyName"] = "D0e <>" }},
		{"Address Country Not Supported", func(out map[string]any) { person(out)["address"].(map[string]any)["country"] = "KP" }},
		{"Address Subdivision Not Supported", func(out map[string]any) { person(out)["address"].(map[string]any)["subdivision"] = "GB-XXX" }},
		{"Verified Date Invalid", func(out map[string]any) { out["verifiedAt"] = future }},
	} {
		u := fresh(tokA)
		c.errorCase(poaKey, "409", tc.name, call{tok: tokA, user: u, body: poaDoc(u, tc.change)})
	}
	u = fresh(tokA)
	c.errorCase(poaKey, "404", "File Not Found", call{tok: tokA, user: u, body: exampleWith(c.op(poaKey).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return unknown })})
	u = fresh(tokA)
	c.send(poaKey, call{tok: tokA, user: u, body: poaDoc(u, func(map[string]any) {})})
	c.errorCase(poaKey, "409", "Process Updates Not Allowed", call{tok: tokA, user: u, body: poaDoc(u, func(map[string]any) {})})

	// Files named but not uploaded; a user without the declared
	// information a submission needs; submissions kycd cannot verify itself.
	pending := func(u string) string { id, _ := e2e.CreateFile(t, k, tokA, u, "image", "image/png"); return id }
	for _, key := range []string{idKey, poaKey} {
		u := fresh(tokA)
		c.errorCase(key, "409", "File Invalid", call{tok: tokA, user: u, body: exampleWith(c.op(key).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return pending(u) })})
	}
	bare := c.send(users, call{tok: tokA, body: map[string]any{"email": "bare@conformance.example", "termsOfService": "general-gb-fca",
		"primaryCitizenship": "GB", "address": map[string]any{"country": "GB", "subdivision": "GB-MAN"}}}).Get("user.id").(string)
	for _, key := range []string{idKey, poaKey} {
		c.errorCase(key, "409", "Missing Declared Information", call{tok: tokA, user: bare, body: exampleWith(c.op(key).RequestExample("Update Process via Document Submission - Partner-verified"), func() string { return e.UploadedWith(tokA, bare) })})
	}
	withoutOutput := func(key, name string, u string) map[string]any {
		b := exampleWith(c.op(key).RequestExample(name), func() string { return e.UploadedWith(tokA, u) }).(map[string]any)
		delete(b, "output")
		return b
	}
	u = fresh(tokA)
	c.errorCase(idKey, "409", "Submission Type Not Allowed", call{tok: tokA, user: u, body: withoutOutput(idKey, "Update Process via Electronic Verification - Partner-verified", u)})
	u = fresh(tokA)
	c.errorCase(poaKey, "409", "Uphold-Verified Updates Not Allowed", call{tok: tokA, user: u, body: withoutOutput(poaKey, "Update Process via Document Submission - Partner-verified", u)})
	// The address: a new subdivision needs a partner-verified proof of address.
	c.errorCase(p("address"), "409", "Subdivision Update Not Allowed", call{tok: tokA, user: fresh(tokA), body: address(map[string]any{"subdivision": "GB-LND"})})
	// In the US the declared state never changes through the API, whatever
	// proof of address the user has.
	usMover := e2e.NewUserBody("us-mover@conformance.example")
	usMover["address"] = map[string]any{"country": "US", "subdivision": "US-FL", "city": "Miami", "line1": "1 Ocean Drive", "postalCode": "33139"}
	usMover["termsOfService"] = "general-us-hq"
	if id, ok := c.send(users, call{tok: tokA, body: usMover}).Get("user.id").(string); ok {
		c.errorCase(p("address"), "409", "Subdivision Update Restricted by Residence Country", call{tok: tokA, user: id,
			body: map[string]any{"input": map[string]any{"address": map[string]any{"subdivision": "US-NY", "city": "New York", "line1": "1 Broadway", "postalCode": "10004"}}}})
	}

	// Forms.
	for _, code := range []string{"customer-due-diligence", "crypto-risk-assessment", "self-categorization-statement"} {
		key := p(code)
		uv := c.op(key).RequestExample("Update Process - Uphold-verified").(map[string]any)
		in := uv["input"].(map[string]any)
		c.errorCase(key, "404", "Form Not Found", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"formId": unknown, "answers": in["answers"]}}})
		c.errorCase(key, "409", "Invalid Locale", call{tok: tokA, user: fresh(tokA), body: uv, header: map[string]string{"Accept-Language": "not a locale!"}})
		pv := exampleWith(c.op(key).RequestExample("Update Process - Partner-verified"), func() string { return "" }).(map[string]any)
		out := pv["output"].(map[string]any)
		out["verifiedAt"] = future
		c.errorCase(key, "409", "Verified Date Invalid", call{tok: tokA, user: fresh(tokA), body: pv})
		if _, ok := out["expiresAt"]; ok {
			pv = exampleWith(c.op(key).RequestExample("Update Process - Partner-verified"), func() string { return "" }).(map[string]any)
			pv["output"].(map[string]any)["expiresAt"] = "2020-01-01T00:00:00.000Z"
			c.errorCase(key, "409", "Expiration Date Invalid", call{tok: tokA, user: fresh(tokA), body: pv})
		}
		u := fresh(tokA)
		pv = exampleWith(c.op(key).RequestExample("Update Process - Partner-verified"), func() string { return "" }).(map[string]any)
		c.send(key, call{tok: tokA, user: u, body: pv})
		c.errorCase(key, "409", "Form Already Completed", call{tok: tokA, user: u, body: uv})
		if _, documented := c.cases[key+" 409 Process Updates Not Allowed"]; documented {
			c.errorCase(key, "409", "Process Updates Not Allowed", call{tok: tokA, user: u, body: pv})
		}
	}
	eddKey := p("enhanced-due-diligence")
	u = fresh(tokA)
	c.highRisk(tokA, u)
	c.errorCase(eddKey, "409", "File Invalid", call{tok: tokA, user: u, body: exampleWith(c.op(eddKey).RequestExample("Update Process - Partner-verified"), func() string { return pending(u) })})
	c.errorCase(eddKey, "404", "File Not Found", call{tok: tokA, user: u, body: exampleWith(c.op(eddKey).RequestExample("Update Process - Partner-verified"), func() string { return unknown })})
	edd := exampleWith(c.op(eddKey).RequestExample("Update Process - Partner-verified"), func() string { return e.UploadedWith(tokA, u) }).(map[string]any)
	edd["output"].(map[string]any)["verifiedAt"] = future
	c.errorCase(eddKey, "409", "Verified Date Invalid", call{tok: tokA, user: u, body: edd})
	edd["output"].(map[string]any)["verifiedAt"] = "2020-01-01T00:00:00.000Z"
	c.send(eddKey, call{tok: tokA, user: u, body: edd})
	c.errorCase(eddKey, "409", "Process Updates Not Allowed", call{tok: tokA, user: u, body: edd})

	// Tax details.
	tax := p("tax-details")
	c.errorCase(tax, "409", "Countries Country Not Supported", call{tok: tokA, user: fresh(tokA), body: map[string]any{"input": map[string]any{"taxResidency": map[string]any{"countries": []string{"KP"}}}}})
	c.errorCase(tax, "409", "Incomplete Declared Information", call{tok: tokA, user: bare, body: c.op(tax).RequestExample("Update Process - Uphold-verified")})
	us := e2e.NewUserBody("us@conformance.example")
	us["address"] = map[string]any{"country": "US", "subdivision": "US-FL", "city": "Miami", "line1": "1 Ocean Drive", "postalCode": "33139"}
	us["termsOfService"] = "general-us-hq"
	if id, ok := c.send(users, call{tok: tokA, body: us}).Get("user.id").(string); ok {
		// Tax details apply under the UK's, Portugal's and Lithuania's terms only.
		c.errorCase(tax, "409", "Process Updates Not Allowed", call{tok: tokA, user: id, body: c.op(tax).RequestExample("Update Process - Uphold-verified")})
	}
	u = fresh(tokA)
	c.send(tax, call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"taxResidency": map[string]any{"countries": []string{"GB", "PT"}}}}})
	tin := func(docs []any, signature string) call {
		in := map[string]any{"documents": docs, "certify": true}
		if signature != "" {
			in["signature"] = signature
		}
		return call{tok: tokA, user: u, body: map[string]any{"input": map[string]any{"taxIdentification": in}}}
	}
	gb := map[string]any{"country": "GB", "type": "tin", "number": "AB123456C"}
	ptTIN := map[string]any{"country": "PT", "type": "tin", "number": "123456789"}
	c.errorCase(tax, "409", "Document Number Invalid", tin([]any{gb, map[string]any{"country": "PT", "type": "tin", "number": "123456780"}}, ""))
	c.errorCase(tax, "409", "Document Reason Not Supported", tin([]any{map[string]any{"country": "GB", "type": "tin", "reason": "country-does-not-issue-document"}, ptTIN}, ""))
	c.errorCase(tax, "409", "Certification Signature Mismatch", tin([]any{gb, ptTIN}, "Someone Else"))

	// Capabilities, terms, files.
	c.errorCase("GET /core/capabilities/{capability}", "400", "Invalid Request", call{path: "/core/capabilities/not-a-capability", tok: tokA, user: fresh(tokA)})
	accept := "POST /core/terms-of-service/{termsOfService}/accept"
	acceptPath := "/core/terms-of-service/" + c.op(accept).ParamValue("termsOfService") + "/accept"
	c.errorCase(accept, "400", "Invalid Request", call{path: "/core/terms-of-service/not-terms/accept", tok: tokA, user: fresh(tokA)})
	c.errorCase(accept, "409", "Missing User Context", call{path: acceptPath, tok: tokA, user: fresh(tokA), plain: true})
	u = fresh(tokA)
	c.send(accept, call{path: acceptPath, tok: tokA, user: u})
	c.errorCase(accept, "409", "Terms of Service Already Accepted", call{path: acceptPath, tok: tokA, user: u})
	// The vIBAN terms are for individuals.
	biz := exampleWith(c.op(users).RequestExample("Create Business User"), func() string { return "" }).(map[string]any)
	biz["email"] = "business@conformance.example"
	if id, ok := c.send(users, call{tok: tokA, body: biz}).Get("user.id").(string); ok {
		c.errorCase(accept, "409", "Terms of Service Not Applicable Due to User Type Mismatch", call{path: acceptPath, tok: tokA, user: id})
	}
	// The vIBAN terms apply in GB and PT, not in Germany.
	de := e2e.NewUserBody("de@conformance.example")
	de["address"] = map[string]any{"country": "DE", "subdivision": "DE-BE", "city": "Berlin"}
	de["termsOfService"] = "general-pt-bop"
	if id, ok := c.send(users, call{tok: tokA, body: de}).Get("user.id").(string); ok {
		c.errorCase(accept, "409", "Terms of Service Not Applicable Due to Country Mismatch", call{path: acceptPath, tok: tokA, user: id})
	}

	files := "POST /core/files"
	c.errorCase(files, "400", "Invalid Request", call{tok: tokA, user: fresh(tokA), body: map[string]any{"category": 5}})
	u = fresh(tokA)
	for range kycd.MaxPendingFiles {
		e2e.CreateFile(t, k, tokA, u, "image", "image/png")
	}
	c.errorCase(files, "409", "Max Files Limit Exceeded", call{tok: tokA, user: u, body: map[string]any{"category": "image", "contentType": "image/png"}})
	c.errorCase(files, "409", "File Content Type Not Allowed", call{tok: tokA, user: fresh(tokA), body: map[string]any{"category": "image", "contentType": "application/x-msdownload"}})
	c.errorCase("GET /core/files/{fileId}", "400", "Invalid Request", call{path: "/core/files/not-a-uuid", tok: tokA, user: fresh(tokA)})
	c.errorCase("GET /core/files/{fileId}", "404", "File Not Found", call{path: "/core/files/" + unknown, tok: tokA, user: fresh(tokA)})

	// Metadata.
	u = fresh(tokA)
	meta := "/core/users/me/metadata"
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		key := m + " /core/{entity}/{entityId}/metadata"
		x := call{path: meta, tok: tokA, user: u}
		if m == "PATCH" {
			x.body, x.contentType = []any{map[string]any{"op": "add", "path": "/a", "value": 1}}, "application/json-patch+json"
		}
		c.errorCase(key, "404", "Metadata Not Found", x)
		x.path = "/core/files/" + unknown + "/metadata"
		c.errorCase(key, "404", "Entity Not Found", x)
	}
	put := "PUT /core/{entity}/{entityId}/metadata"
	c.errorCase(put, "404", "Metadata Not Found", call{path: meta, tok: tokA, user: fresh(tokA), body: map[string]any{"a": 1}, header: map[string]string{"If-Match": `"` + strings.Repeat("0", 64) + `"`}})
	c.errorCase(put, "404", "Entity Not Found", call{path: "/core/files/" + unknown + "/metadata", tok: tokA, user: u, body: map[string]any{"a": 1}})
	c.errorCase(put, "400", "Invalid Request", call{path: meta, tok: tokA, user: u, body: []any{1}})
	c.errorCase(put, "413", "Metadata Payload Too Large", call{path: meta, tok: tokA, user: u, body: map[string]any{"a": strings.Repeat("x", 2000)}})
	c.send(put, call{path: meta, tok: tokA, user: u, body: map[string]any{"externalId": 123}})
	c.errorCase(put, "409", "Metadata Already Exists", call{path: meta, tok: tokA, user: u, body: map[string]any{"a": 1}, header: map[string]string{"If-None-Match": "*"}})
	stale := `"` + strings.Repeat("0", 64) + `"`
	c.errorCase(put, "412", "Metadata Precondition Failed", call{path: meta, tok: tokA, user: u, body: map[string]any{"a": 1}, header: map[string]string{"If-Match": stale}})
	patchKey := "PATCH /core/{entity}/{entityId}/metadata"
	jp := func(ops ...map[string]any) []any {
		out := []any{}
		for _, o := range ops {
			out = append(out, o)
		}
		return out
	}
	c.errorCase(patchKey, "400", "Invalid Request", call{path: meta, tok: tokA, user: u, body: jp(map[string]any{"op": "nonsense", "path": "/a"}), contentType: "application/json-patch+json"})
	c.errorCase(patchKey, "412", "Metadata Precondition Failed", call{path: meta, tok: tokA, user: u, body: jp(map[string]any{"op": "add", "path": "/a", "value": 1}), contentType: "application/json-patch+json", header: map[string]string{"If-Match": stale}})
	c.errorCase(patchKey, "413", "Metadata Payload Too Large", call{path: meta, tok: tokA, user: u, body: jp(map[string]any{"op": "add", "path": "/a", "value": strings.Repeat("x", 2000)}), contentType: "application/json-patch+json"})
	c.errorCase(patchKey, "422", "Replace Operation Path Not Found", call{path: meta, tok: tokA, user: u, body: jp(map[string]any{"op": "replace", "path": "/items/10", "value": 1}), contentType: "application/json-patch+json"})
	c.errorCase(patchKey, "422", "Remove Operation Path Not Found", call{path: meta, tok: tokA, user: u, body: jp(map[string]any{"op": "remove", "path": "/region"}), contentType: "application/json-patch+json"})
	c.errorCase("DELETE /core/{entity}/{entityId}/metadata", "412", "Metadata Precondition Failed", call{path: meta, tok: tokA, user: u, header: map[string]string{"If-Match": stale}})
	c.errorCase("GET /core/{entity}/{entityId}/metadata", "400", "Invalid Request", call{path: "/core/users/me/metadata", tok: tokA, user: u, header: map[string]string{"If-None-Match": "not-a-revision"}})
	c.errorCase("DELETE /core/{entity}/{entityId}/metadata", "400", "Invalid Request", call{path: "/core/users/me/metadata", tok: tokA, user: u, header: map[string]string{"If-Match": "not-a-revision"}})

	// KYC Connector.
	for _, prov := range []string{"sumsub", "veriff"} {
		key := "GET /kyc-connector/" + prov + "/ingestions/{ingestionId}"
		u := fresh(e.Tok)
		c.errorCase(key, "400", "Invalid Request", call{path: "/kyc-connector/" + prov + "/ingestions/not-a-uuid", tok: e.Tok, user: u})
		c.errorCase(key, "404", strings.ToUpper(prov[:1])+prov[1:]+" Ingestion Not Found", call{path: "/kyc-connector/" + prov + "/ingestions/" + unknown, tok: e.Tok, user: u})
	}
	tnV := k.NewTenant(t, "conformance-veriff-errors")
	tokV := k.Token(t, tnV, "")
	c.errorCase("GET /kyc-connector/veriff/config", "404", "Veriff Config Not Found", call{tok: tokV})
	veriff := "POST /kyc-connector/veriff/ingestions"
	ingest := c.op(veriff).RequestExample("Create Veriff Ingestion")
	c.errorCase(veriff, "409", "Kyc Connector Not Configured", call{tok: tokV, user: fresh(tokV), body: ingest})
	c.errorCase("PUT /kyc-connector/veriff/config", "400", "Invalid Provider Config", call{tok: tokV, body: map[string]any{"integrations": "none"}})
	c.send("PUT /kyc-connector/veriff/config", call{tok: tokV, body: c.op("PUT /kyc-connector/veriff/config").RequestExample("Set Veriff Config With Multiple Integrations")})
	c.errorCase(veriff, "409", "Ingestion Not Supported By Provider Config", call{tok: tokV, user: fresh(tokV), body: map[string]any{"processes": []string{"proof-of-address"},
		"sessions": []any{map[string]any{"processes": []string{"proof-of-address"}, "sessionId": "550e8400-e29b-41d4-a716-446655440001", "integrationName": "integration-def456"}}}})
	c.errorCase(veriff, "409", "Ingestion Process Not Resolvable", call{tok: tokV, user: fresh(tokV), body: map[string]any{"processes": []string{"identity", "address"},
		"sessions": []any{map[string]any{"processes": []string{"identity"}, "sessionId": "550e8400-e29b-41d4-a716-446655440003", "integrationName": "integration-abc123"}}}})
	session := map[string]any{"processes": []string{"identity"}, "sessionId": "550e8400-e29b-41d4-a716-446655440002", "integrationName": "integration-abc123"}
	c.errorCase(veriff, "409", "Duplicate Session", call{tok: tokV, user: fresh(tokV), body: map[string]any{"processes": []string{"identity"}, "sessions": []any{session, session}}})
}

// rateLimited provokes every operation's 429 through kycd's real limiter:
// a second kycd node on the same database (API only) that lets each client
// and each address one request per 100 seconds. One harmless call per
// client (and one token request) empties its buckets; each operation's
// first example call then answers 429.
func (c *conformance) rateLimited(e *e2e.ConnectorEnv) {
	k2 := e2e.Start(c.t, e.DB, "--workers", "0", "--rate-limit", "0.01", "--rate-burst", "1")
	drained := map[string]bool{}
	for _, key := range c.order {
		x, ok := c.sample[key]
		if _, documented := c.cases[key+" 429 Too Many Requests"]; !ok || !documented {
			continue
		}
		x.base = k2.Base
		drain := x.tok
		if key == "POST /core/oauth2/token" {
			drain = "address"
		}
		if !drained[drain] {
			drained[drain] = true
			if drain == "address" {
				c.send(key, x)
			} else {
				c.send("GET /core/countries", call{tok: x.tok, base: k2.Base})
			}
		}
		c.errorCase(key, "429", "Too Many Requests", x)
	}
}

// expiredTokens calls every operation with a token whose lifetime is over:
// the sandbox clock moves past it (last, as it moves every tenant's time).
func (c *conformance) expiredTokens(e *e2e.ConnectorEnv) {
	if res := e.Call(c.t, "POST", "/sandbox/clock", e.Tok, "", map[string]any{"advance": "25h"}); res.Status != 200 {
		c.t.Fatalf("advance clock: %d %s", res.Status, res.Body)
	}
	for _, key := range c.order {
		if x, ok := c.sample[key]; ok && key != "POST /core/oauth2/token" {
			c.errorCase(key, "401", "Token Expired", x)
		}
	}
}
