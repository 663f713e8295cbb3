package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// forEachDB runs fn on every database of the suite, in parallel.
func forEachDB(t *testing.T, fn func(t *testing.T, db storetest.Database)) {
	for _, db := range testDatabases(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, db)
		})
	}
}

// forEachDBAtOnce runs fn on every database at the same time, within t's
// own turn among the parallel tests: for the crash tests, which mostly wait
// on their kycd child processes (kills, restarts, rescues). forEachDB's
// parallel subtests would queue for a turn again behind every other test,
// so that these started last and their waits ended the package's run with
// a core idle; started with their parent, their waits overlap other tests'
// work.
func forEachDBAtOnce(t *testing.T, fn func(t *testing.T, db storetest.Database)) {
	var wg sync.WaitGroup
	for _, db := range testDatabases(t) {
		wg.Go(func() { t.Run(db.Name, func(t *testing.T) { fn(t, db) }) })
	}
	wg.Wait()
}

// testDatabases returns the suite's databases (storetest.Databases), the
// SQLite one already migrated: its file is a copy of one migrated once for
// the whole test binary, instead of every kycd applying each migration to
// an empty file again (under -race a good part of a short test's CPU). The
// migrations from an empty file still run: here once, and in sqlstore's
// tests.
func testDatabases(t *testing.T) []storetest.Database {
	t.Helper()
	dbs := storetest.Databases(t)
	for _, db := range dbs {
		if db.URL != "" {
			continue
		}
		migratedSQLite.once.Do(migrateSQLiteTemplate)
		if migratedSQLite.err != nil {
			t.Fatal(migratedSQLite.err)
		}
		for _, name := range migratedSQLite.files {
			raw, err := os.ReadFile(filepath.Join(migratedSQLite.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(db.DataDir, name), raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dbs
}

// migratedSQLite is the SQLite database testDatabases copies: its folder
// and the files to copy (the database, and its WAL if one is left).
var migratedSQLite struct {
	once  sync.Once
	dir   string
	files []string
	err   error
}

func migrateSQLiteTemplate() {
	m := &migratedSQLite
	if m.dir, m.err = os.MkdirTemp("", "kycd-migrated-"); m.err != nil {
		return
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: m.dir, Clock: &kycd.OffsetClock{}})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		m.err = fmt.Errorf("the migrated SQLite template: %w", err)
		return
	}
	for _, name := range []string{"kycd.db", "kycd.db-wal"} {
		if _, err := os.Stat(filepath.Join(m.dir, name)); err == nil {
			m.files = append(m.files, name)
		}
	}
}

func newUserBody(email string) map[string]any {
	return map[string]any{
		"email": email, "termsOfService": "general-gb-fca", "primaryCitizenship": "GB",
		"fullName": "John Doe", "birthdate": "1987-01-01",
		"address": map[string]any{"country": "GB", "subdivision": "GB-MAN", "city": "Manchester", "line1": "1 High Street", "postalCode": "M4 1AA"},
	}
}

// createUser creates a user and returns its id.
func createUser(t *testing.T, k *kycdProc, token, email string) string {
	t.Helper()
	res := k.call(t, "POST", "/core/users", token, "", newUserBody(email))
	if res.Status != 201 {
		t.Fatalf("create user: %d %s", res.Status, res.Body)
	}
	return res.get("user.id").(string)
}

// pngBytes returns a valid 1x1 PNG carrying text in a tEXt chunk.
func pngBytes(text string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	chunk("IHDR", []byte{0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0})
	chunk("tEXt", []byte("Comment\x00"+text))
	chunk("IDAT", []byte{0x78, 0x9c, 0x62, 0x60, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, 0x03, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// createFile reserves a file for a user and returns its id and upload URL.
func createFile(t *testing.T, k *kycdProc, token, userID, category, contentType string) (string, string) {
	t.Helper()
	res := k.call(t, "POST", "/core/files", token, userID, map[string]any{"category": category, "contentType": contentType})
	if res.Status != 201 {
		t.Fatalf("create file: %d %s", res.Status, res.Body)
	}
	return res.get("file.id").(string), res.get("file.upload.url").(string)
}

// upload sends content to a signed upload URL as a multipart form.
func upload(t *testing.T, k *kycdProc, uploadURL string, content []byte) *response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("key", "ignored-form-field")
	fw, _ := mw.CreateFormFile("file", "evidence.bin")
	fw.Write(content)
	mw.Close()
	u, _ := url.Parse(uploadURL)
	req := k.req("POST", u.RequestURI(), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return k.do(t, req)
}

func TestWalkthrough(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		k := start(t, db)
		tn := k.newTenant(t, "acme")
		tok := k.token(t, tn, "")

		// Countries, from ISO 3166.
		res := k.call(t, "GET", "/core/countries", tok, "", nil)
		if res.Status != 200 || len(res.JSON["countries"].([]any)) < 240 {
			t.Fatalf("countries: %d, %d entries", res.Status, len(res.JSON["countries"].([]any)))
		}
		res = k.call(t, "GET", "/core/countries/GB", tok, "", nil)
		if res.get("country.name") != "United Kingdom" || res.get("country.asset") != "GBP" || len(res.get("country.subdivisions").([]any)) < 100 {
			t.Fatalf("GB: %s", res.Body)
		}
		if res := k.call(t, "GET", "/core/countries/ZZ", tok, "", nil); res.Status != 404 || res.code() != "entity_not_found" || res.get("details.entity") != "country" {
			t.Fatalf("ZZ: %d %s", res.Status, res.Body)
		}

		// Users.
		body := newUserBody("john.doe@example.com")
		body["phone"] = map[string]any{"number": "+447400123456", "country": "GB"}
		body["metadata"] = map[string]any{"externalId": 123}
		req := k.req("POST", "/core/users", bytes.NewReader(mustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Ip", "203.0.113.7")
		req.Header.Set("X-Uphold-User-Country", "GB")
		res = k.do(t, req)
		if res.Status != 201 {
			t.Fatalf("create user: %d %s", res.Status, res.Body)
		}
		uid := res.get("user.id").(string)
		if res.get("user.email") != "john.doe@example.com" || res.get("user.phone.number") != "+447400123456" || res.get("user.type") != "individual" {
			t.Fatalf("created user: %s", res.Body)
		}
		res = k.call(t, "GET", "/core/users/me", tok, uid, nil)
		if res.Status != 200 || res.get("user.id") != uid || res.get("user.fullName") != "John Doe" || res.get("user.address.city") != "Manchester" {
			t.Fatalf("get me: %d %s", res.Status, res.Body)
		}
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Uphold-Request-Id") != res.Header.Get("X-Request-Id") {
			t.Errorf("headers of a personal response: %v", res.Header)
		}
		if res := k.call(t, "POST", "/core/users", tok, "", body); res.Status != 409 || res.code() != "email_already_exists" {
			t.Fatalf("duplicate email: %d %s", res.Status, res.Body)
		}
		young := newUserBody("young@example.com")
		young["birthdate"] = "2020-01-01"
		if res := k.call(t, "POST", "/core/users", tok, "", young); res.Status != 409 || res.code() != "date_invalid" || res.get("details.property") != "birthdate" {
			t.Fatalf("underage: %d %s", res.Status, res.Body)
		}
		badSub := newUserBody("sub@example.com")
		badSub["address"].(map[string]any)["subdivision"] = "US-CA"
		if res := k.call(t, "POST", "/core/users", tok, "", badSub); res.Status != 409 || res.code() != "subdivision_not_supported" {
			t.Fatalf("foreign subdivision: %d %s", res.Status, res.Body)
		}
		badPhone := newUserBody("phone@example.com")
		badPhone["phone"] = map[string]any{"number": "+44123", "country": "GB"}
		if res := k.call(t, "POST", "/core/users", tok, "", badPhone); res.Status != 409 || res.code() != "phone_invalid" {
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
			b := newUserBody(strings.ReplaceAll(name, " ", "-") + "@example.com")
			c.edit(b)
			if res := k.call(t, "POST", "/core/users", tok, "", b); res.Status != 409 || res.code() != c.code {
				t.Errorf("%s: %d %s, want 409 %s", name, res.Status, res.Body, c.code)
			}
		}
		big := newUserBody("meta@example.com")
		big["metadata"] = map[string]any{"blob": strings.Repeat("x", 2000)}
		if res := k.call(t, "POST", "/core/users", tok, "", big); res.Status != 201 || res.get("errors.metadata.code") != "content_too_large" {
			t.Fatalf("large metadata: %d %s", res.Status, res.Body)
		}

		// Files.
		res = k.call(t, "GET", "/core/files/settings", tok, "", nil)
		if res.get("settings.document.maxFileSize") != float64(25_000_000) || res.get("settings.video.maxFileSize") != float64(100_000_000) || res.get("settings.image.maxFileSize") != float64(15_000_000) {
			t.Fatalf("settings: %s", res.Body)
		}
		res = k.call(t, "GET", "/core/files/settings?category=image", tok, "", nil)
		if s := res.get("settings").(map[string]any); len(s) != 1 || s["image"] == nil {
			t.Fatalf("image settings: %s", res.Body)
		}
		if res := k.call(t, "POST", "/core/files", tok, uid, map[string]any{"category": "image", "contentType": "application/pdf"}); res.Status != 409 || res.code() != "file_content_type_not_allowed" {
			t.Fatalf("pdf as image: %d %s", res.Status, res.Body)
		}
		fid, up := createFile(t, k, tok, uid, "image", "image/png")
		res = k.call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.get("file.status") != "pending" || res.get("file.download") != nil {
			t.Fatalf("pending file: %s", res.Body)
		}
		// Bytes that are not what they claim to be are refused and not kept.
		if res := upload(t, k, up, []byte("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")); res.Status != 409 || res.code() != "file_content_type_mismatch" {
			t.Fatalf("pdf bytes as png: %d %s", res.Status, res.Body)
		}
		if res := k.call(t, "GET", "/core/files/"+fid, tok, uid, nil); res.get("file.status") != "pending" {
			t.Fatalf("refused upload changed the file: %s", res.Body)
		}
		if res := upload(t, k, up, nil); res.Status != 409 || res.code() != "file_too_small" {
			t.Fatalf("empty upload: %d %s", res.Status, res.Body)
		}
		content := pngBytes("walkthrough")
		if res := upload(t, k, up, content); res.Status != 204 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		if res := upload(t, k, up, content); res.Status != 409 || res.code() != "file_already_uploaded" {
			t.Fatalf("second upload: %d %s", res.Status, res.Body)
		}
		res = k.call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		if res.get("file.status") != "uploaded" {
			t.Fatalf("uploaded file: %s", res.Body)
		}
		dl, _ := url.Parse(res.get("file.download.url").(string))
		got := k.do(t, k.req("GET", dl.RequestURI(), nil))
		if got.Status != 200 || !bytes.Equal(got.Body, content) || got.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("download: %d, %d bytes, %s", got.Status, len(got.Body), got.Header.Get("Content-Type"))
		}
		// A signed URL is bound to its file, tenant, purpose and expiry.
		tampered := strings.Replace(dl.RequestURI(), "s=", "s=x", 1)
		if res := k.do(t, k.req("GET", tampered, nil)); res.Status != 403 || res.code() != "upload_url_invalid" {
			t.Fatalf("tampered download URL: %d %s", res.Status, res.Body)
		}
		// Raw PUT upload, and a file over its category's limit.
		fid2, up2 := createFile(t, k, tok, uid, "image", "image/png")
		u2, _ := url.Parse(up2)
		huge := append(pngBytes("big"), bytes.Repeat([]byte{0}, 15_000_001)...)
		req = k.req("PUT", u2.RequestURI(), bytes.NewReader(huge))
		req.Header.Set("Content-Type", "image/png")
		if res := k.do(t, req); res.Status != 413 || res.code() != "file_too_large" {
			t.Fatalf("oversized upload: %d %s", res.Status, res.Body)
		}
		req = k.req("PUT", u2.RequestURI(), bytes.NewReader(content))
		if res := k.do(t, req); res.Status != 204 {
			t.Fatalf("PUT upload: %d %s", res.Status, res.Body)
		}
		if res := k.call(t, "GET", "/core/files/"+fid2, tok, uid, nil); res.get("file.status") != "uploaded" {
			t.Fatalf("PUT-uploaded file: %s", res.Body)
		}

		// A review reason outside the document's enum: the operation
		// documents no 400, so the refusal is its documented 409, with the
		// violation, and the user stays.
		req = k.req("DELETE", "/core/users/me", strings.NewReader(`{"review":{"reason":"bored"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-On-Behalf-Of", "user "+uid)
		if res := k.do(t, req, doOpts{invalidRequest: true}); res.Status != 409 || res.code() != "request_invalid" ||
			res.get("details.violations.0.property") == nil {
			t.Fatalf("bad delete reason: %d %s", res.Status, res.Body)
		}
		if res := k.call(t, "GET", "/core/users/me", tok, uid, nil); res.Status != 200 {
			t.Fatalf("user after a refused delete: %d %s", res.Status, res.Body)
		}

		// Deleting the user.
		if res := k.call(t, "DELETE", "/core/users/me", tok, uid, map[string]any{"review": map[string]any{"reason": "closure-per-user-request", "note": "asked"}}); res.Status != 204 {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		if res := k.call(t, "GET", "/core/users/me", tok, uid, nil); res.Status != 404 || res.get("details.entity") != "user" {
			t.Fatalf("deleted user: %d %s", res.Status, res.Body)
		}
		// Its email can be used again.
		if res := k.call(t, "POST", "/core/users", tok, "", newUserBody("john.doe@example.com")); res.Status != 201 {
			t.Fatalf("reuse email: %d %s", res.Status, res.Body)
		}

		// The audit trail recorded all of it and holds.
		out, err := k.cli(t, "audit", "verify", "--json")
		if err != nil || !strings.Contains(out, `"ok": true`) {
			t.Fatalf("audit verify: %v %s", err, out)
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestCreateUserLegacyShape: Uphold's legacy individual shape (deprecated
// citizenshipCountry, country, subdivision and partnerOnboardedAt) creates
// the same user as the current one; a partnerOnboardedAt to come is
// date_invalid.
func TestCreateUserLegacyShape(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db storetest.Database) {
		k := start(t, db)
		tok := k.token(t, k.newTenant(t, "legacy"), "")
		body := map[string]any{"type": "individual", "email": "legacy@legacy.example", "termsOfService": "general-gb-fca",
			"citizenshipCountry": "GB", "country": "GB", "subdivision": "GB-MAN", "partnerOnboardedAt": "2024-03-13T20:20:39.000Z", "metadata": map[string]any{"externalId": 1}}
		res := k.call(t, "POST", "/core/users", tok, "", body)
		if res.Status != 201 || res.get("user.primaryCitizenship") != "GB" || res.get("user.address.country") != "GB" || res.get("user.address.subdivision") != "GB-MAN" {
			t.Fatalf("legacy user: %d %s", res.Status, res.Body)
		}
		id := res.get("user.id").(string)
		if res := k.call(t, "GET", "/core/users/me", tok, id, nil); res.Status != 200 || res.get("user.email") != "legacy@legacy.example" {
			t.Errorf("read back: %d %s", res.Status, res.Body)
		}
		body["email"], body["partnerOnboardedAt"] = "later@legacy.example", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if res := k.call(t, "POST", "/core/users", tok, "", body); res.Status != 409 || res.code() != "date_invalid" || res.get("details.property") != "partnerOnboardedAt" {
			t.Errorf("onboarded in the future: %d %s", res.Status, res.Body)
		}
		// The two shapes do not mix.
		body["primaryCitizenship"], body["partnerOnboardedAt"] = "GB", "2024-03-13T20:20:39.000Z"
		req := k.req("POST", "/core/users", bytes.NewReader(mustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Ip", testEndUserIP)
		if res := k.do(t, req, doOpts{invalidRequest: true}); res.Status != 400 {
			t.Errorf("mixed shapes: %d %s", res.Status, res.Body)
		}
	})
}
