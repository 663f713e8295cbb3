package coreapi

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

func TestWalkthrough(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "acme")
		tok := k.Token(t, tn, "")

		// Countries, from ISO 3166.
		res := k.Call(t, "GET", "/core/countries", tok, "", nil)
		if res.Status != 200 || len(res.JSON["countries"].([]any)) < 240 {
			t.Fatalf("countries: %d, %d entries", res.Status, len(res.JSON["countries"].([]any)))
		}
		res = k.Call(t, "GET", "/core/countries/GB", tok, "", nil)
		if res.Get("country.name") != "United Kingdom" || res.Get("country.asset") != "GBP" || len(res.Get("country.subdivisions").([]any)) < 100 {
			t.Fatalf("GB: %s", res.Body)
		}
		if res := k.Call(t, "GET", "/core/countries/ZZ", tok, "", nil); res.Status != 404 || res.Code() != "entity_not_found" || res.Get("details.entity") != "country" {
			t.Fatalf("ZZ: %d %s", res.Status, res.Body)
		}

		// Users.
		body := e2e.NewUserBody("john.doe@example.com")
		body["phone"] = map[string]any{"number": "+447400123456", "country": "GB"}
		body["metadata"] = map[string]any{"externalId": 123}
		req := k.Req("POST", "/core/users", bytes.NewReader(e2e.MustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Ip", "203.0.113.7")
		req.Header.Set("X-Uphold-User-Country", "GB")
		res = k.Do(t, req)
		if res.Status != 201 {
			t.Fatalf("create user: %d %s", res.Status, res.Body)
		}
		uid := res.Get("user.id").(string)
		if res.Get("user.email") != "john.doe@example.com" || res.Get("user.phone.number") != "+447400123456" || res.Get("user.type") != "individual" {
			t.Fatalf("created user: %s", res.Body)
		}
		res = k.Call(t, "GET", "/core/users/me", tok, uid, nil)
		if res.Status != 200 || res.Get("user.id") != uid || res.Get("user.fullName") != "John Doe" || res.Get("user.address.city") != "Manchester" {
			t.Fatalf("get me: %d %s", res.Status, res.Body)
		}
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Uphold-Request-Id") != res.Header.Get("X-Request-Id") {
			t.Errorf("headers of a personal response: %v", res.Header)
		}
		if res := k.Call(t, "POST", "/core/users", tok, "", body); res.Status != 409 || res.Code() != "email_already_exists" {
			t.Fatalf("duplicate email: %d %s", res.Status, res.Body)
		}
		young := e2e.NewUserBody("young@example.com")
		young["birthdate"] = "2020-01-01"
		if res := k.Call(t, "POST", "/core/users", tok, "", young); res.Status != 409 || res.Code() != "date_invalid" || res.Get("details.property") != "birthdate" {
			t.Fatalf("underage: %d %s", res.Status, res.Body)
		}
		badSub := e2e.NewUserBody("sub@example.com")
		badSub["address"].(map[string]any)["subdivision"] = "US-CA"
		if res := k.Call(t, "POST", "/core/users", tok, "", badSub); res.Status != 409 || res.Code() != "subdivision_not_supported" {
			t.Fatalf("foreign subdivision: %d %s", res.Status, res.Body)
		}
		badPhone := e2e.NewUserBody("phone@example.com")
		badPhone["phone"] = map[string]any{"number": "+44123", "country": "GB"}
		if res := k.Call(t, "POST", "/core/users", tok, "", badPhone); res.Status != 409 || res.Code() != "phone_invalid" {
			t.Fatalf("bad phone: %d %s", res.Status, res.Body)
		}
		for name, c := range map[string]struct {
			edit func(map[string]any)
			code string
		}{
			"digits in name":  {func(b map[string]any) { b["fullName"] = "J0hn D0e" }, "invalid_characters"},
			"PO box":          {func(b map[string]any) { b["address"].(map[string]any)["line1"] = "P.O. Box 12" }, "po_boxes_not_allowed"},
			"unknown country": {func(b map[string]any) { b["primaryCitizenship"] = "ZZ" }, "country_not_supported"},
			"US without state": {func(b map[string]any) {
				b["address"] = map[string]any{"country": "US", "city": "Miami"}
			}, "subdivision_required"},
			"too old": {func(b map[string]any) { b["birthdate"] = "1900-01-01" }, "date_invalid"},
		} {
			b := e2e.NewUserBody(strings.ReplaceAll(name, " ", "-") + "@example.com")
			c.edit(b)
			if res := k.Call(t, "POST", "/core/users", tok, "", b); res.Status != 409 || res.Code() != c.code {
				t.Errorf("%s: %d %s, want 409 %s", name, res.Status, res.Body, c.code)
			}
		}
		big := e2e.NewUserBody("meta@example.com")
		big["metadata"] = map[string]any{"blob": strings.Repeat("x", 2000)}
		if res := k.Call(t, "POST", "/core/users", tok, "", big); res.Status != 201 || res.Get("errors.metadata.code") != "content_too_large" {
			t.Fatalf("large metadata: %d %s", res.Status, res.Body)
		}

		// Files.
		res = k.Call(t, "GET", "/core/files/settings", tok, "", nil)
		if res.Get("settings.document.maxFileSize") != float64(25_000_000) || res.Get("settings.video.maxFileSize") != float64(100_000_000) || res.Get("settings.image.maxFileSize") != float64(15_000_000) {
			t.Fatalf("settings: %s", res.Body)
		}
		res = k.Call(t, "GET", "/core/files/settings?category=image", tok, "", nil)
		if s := res.Get("settings").(map[string]any); len(s) != 1 || s["image"] == nil {
			t.Fatalf("image settings: %s", res.Body)
		}
		if res := k.Call(t, "POST", "/core/files", tok, uid, map[string]any{"category": "image", "contentType": "application/pdf"}); res.Status != 409 || res.Code() != "file_content_type_not_allowed" {
			t.Fatalf("pdf as image: %d %s", res.Status, res.Body)
		}
		fid, up := e2e.CreateFile(t, k, tok, uid, "image", "image/png")
		res = k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.Get("file.status") != "pending" || res.Get("file.download") != nil {
			t.Fatalf("pending file: %s", res.Body)
		}
		// Bytes that are not what they claim to be are refused and not kept.
		if res := e2e.Upload(t, k, up, []byte("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")); res.Status != 409 || res.Code() != "file_content_type_mismatch" {
			t.Fatalf("pdf bytes as png: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil); res.Get("file.status") != "pending" {
			t.Fatalf("refused upload changed the file: %s", res.Body)
		}
		if res := e2e.Upload(t, k, up, nil); res.Status != 409 || res.Code() != "file_too_small" {
			t.Fatalf("empty upload: %d %s", res.Status, res.Body)
		}
		content := e2e.PNGBytes("walkthrough")
		if res := e2e.Upload(t, k, up, content); res.Status != 204 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		if res := e2e.Upload(t, k, up, content); res.Status != 409 || res.Code() != "file_already_uploaded" {
			t.Fatalf("second upload: %d %s", res.Status, res.Body)
		}
		res = k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.Get("file.status") != "uploaded" {
			t.Fatalf("uploaded file: %s", res.Body)
		}
		dl, _ := url.Parse(res.Get("file.download.url").(string))
		got := k.Do(t, k.Req("GET", dl.RequestURI(), nil))
		if got.Status != 200 || !bytes.Equal(got.Body, content) || got.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("download: %d, %d bytes, %s", got.Status, len(got.Body), got.Header.Get("Content-Type"))
		}
		// A signed URL is bound to its file, tenant, purpose and expiry.
		tampered := strings.Replace(dl.RequestURI(), "s=", "s=x", 1)
		if res := k.Do(t, k.Req("GET", tampered, nil)); res.Status != 403 || res.Code() != "upload_url_invalid" {
			t.Fatalf("tampered download URL: %d %s", res.Status, res.Body)
		}
		// Raw PUT upload, and a file over its category's limit.
		fid2, up2 := e2e.CreateFile(t, k, tok, uid, "image", "image/png")
		u2, _ := url.Parse(up2)
		huge := append(e2e.PNGBytes("big"), bytes.Repeat([]byte{0}, 15_000_001)...)
		req = k.Req("PUT", u2.RequestURI(), bytes.NewReader(huge))
		req.Header.Set("Content-Type", "image/png")
		if res := k.Do(t, req); res.Status != 413 || res.Code() != "file_too_large" {
			t.Fatalf("oversized upload: %d %s", res.Status, res.Body)
		}
		req = k.Req("PUT", u2.RequestURI(), bytes.NewReader(content))
		if res := k.Do(t, req); res.Status != 204 {
			t.Fatalf("PUT upload: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/files/"+fid2, tok, uid, nil); res.Get("file.status") != "uploaded" {
			t.Fatalf("PUT-uploaded file: %s", res.Body)
		}

		// A review reason outside the document's enum: the operation
		// documents no 400, so the refusal is its documented 409, with the
		// violation, and the user stays.
		req = k.Req("DELETE", "/core/users/me", strings.NewReader(`{"review":{"reason":"bored"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-On-Behalf-Of", "user "+uid)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 409 || res.Code() != "request_invalid" ||
			res.Get("details.violations.0.property") == nil {
			t.Fatalf("bad delete reason: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/users/me", tok, uid, nil); res.Status != 200 {
			t.Fatalf("user after a refused delete: %d %s", res.Status, res.Body)
		}

		// Deleting the user.
		if res := k.Call(t, "DELETE", "/core/users/me", tok, uid, map[string]any{"review": map[string]any{"reason": "closure-per-user-request", "note": "asked"}}); res.Status != 204 {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/users/me", tok, uid, nil); res.Status != 404 || res.Get("details.entity") != "user" {
			t.Fatalf("deleted user: %d %s", res.Status, res.Body)
		}
		// Its email can be used again.
		if res := k.Call(t, "POST", "/core/users", tok, "", e2e.NewUserBody("john.doe@example.com")); res.Status != 201 {
			t.Fatalf("reuse email: %d %s", res.Status, res.Body)
		}

		// The audit trail recorded all of it and holds.
		out, err := k.CLI(t, "audit", "verify", "--json")
		if err != nil || !strings.Contains(out, `"ok": true`) {
			t.Fatalf("audit verify: %v %s", err, out)
		}
	})
}

// TestCreateUserLegacyShape: Uphold's legacy individual shape (deprecated
// citizenshipCountry, country, subdivision and partnerOnboardedAt) creates
// the same user as the current one; a partnerOnboardedAt to come is
// date_invalid.
func TestCreateUserLegacyShape(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tok := k.Token(t, k.NewTenant(t, "legacy"), "")
		body := map[string]any{"type": "individual", "email": "legacy@legacy.example", "termsOfService": "general-gb-fca",
			"citizenshipCountry": "GB", "country": "GB", "subdivision": "GB-MAN", "partnerOnboardedAt": "2024-03-13T20:20:39.000Z", "metadata": map[string]any{"externalId": 1}}
		res := k.Call(t, "POST", "/core/users", tok, "", body)
		if res.Status != 201 || res.Get("user.primaryCitizenship") != "GB" || res.Get("user.address.country") != "GB" || res.Get("user.address.subdivision") != "GB-MAN" {
			t.Fatalf("legacy user: %d %s", res.Status, res.Body)
		}
		id := res.Get("user.id").(string)
		if res := k.Call(t, "GET", "/core/users/me", tok, id, nil); res.Status != 200 || res.Get("user.email") != "legacy@legacy.example" {
			t.Errorf("read back: %d %s", res.Status, res.Body)
		}
		body["email"], body["partnerOnboardedAt"] = "later@legacy.example", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if res := k.Call(t, "POST", "/core/users", tok, "", body); res.Status != 409 || res.Code() != "date_invalid" || res.Get("details.property") != "partnerOnboardedAt" {
			t.Errorf("onboarded in the future: %d %s", res.Status, res.Body)
		}
		// The two shapes do not mix.
		body["primaryCitizenship"], body["partnerOnboardedAt"] = "GB", "2024-03-13T20:20:39.000Z"
		req := k.Req("POST", "/core/users", bytes.NewReader(e2e.MustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Ip", e2e.EndUserIP)
		if res := k.Do(t, req, e2e.DoOpts{InvalidRequest: true}); res.Status != 400 {
			t.Errorf("mixed shapes: %d %s", res.Status, res.Body)
		}
	})
}
