package security

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestEncryptionAtRest writes marker strings into every personal field, the
// end-user context headers, metadata, a deletion note and a file, then scans
// everything kycd keeps (the SQLite file and its WAL, a PostgreSQL dump, the
// blob folder) and what it logged: no marker may appear in the clear.
func TestEncryptionAtRest(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--allow-private-network", "--evidence-allow-http")
		tn := k.NewTenant(t, "atrest")
		tok := k.Token(t, tn, "")
		markers := map[string]string{
			"email":         "qzmarkemail@example.com",
			"fullName":      "Qzmarkgiven Qzmarkfamily",
			"birthdate":     "1971-03-17",
			"line1":         "Qzmarkline1 Street",
			"line2":         "Qzmarkline2 Flat",
			"city":          "Qzmarkcity",
			"postalCode":    "ZE98 7QZ", // a valid GB postcode, unlikely anywhere else
			"phone":         "+447123456789",
			"metadata":      "qzmarkmetadata",
			"userAgent":     "QzmarkAgent/1.0",
			"origin":        "https://qzmarkorigin.example",
			"ctxCity":       "Qzmarkctxcity",
			"ip":            "198.51.100.77",
			"fileMeta":      "qzmarkfilemeta",
			"fileContent":   "qzmarkfilecontent",
			"note":          "qzmarkdeletionnote",
			"docNumber":     "QZMARKDOC77",
			"otherFunds":    "Qzmarkfunds lottery",
			"tin":           "QZMARKTIN1",
			"justification": "Qzmarkjustification text",
			"evidence":      "qzmarkevidencecontent",
			"link":          "qzmarkevidencelink",
			"levelValue":    "Qzmarklevelvalue",
		}
		body := map[string]any{
			"email": markers["email"], "termsOfService": "general-gb-fca", "primaryCitizenship": "GB",
			"fullName": markers["fullName"], "birthdate": markers["birthdate"],
			"address": map[string]any{"country": "GB", "subdivision": "GB-MAN", "city": markers["city"],
				"line1": markers["line1"], "line2": markers["line2"], "postalCode": markers["postalCode"]},
			"phone":    map[string]any{"number": markers["phone"], "country": "GB"},
			"metadata": map[string]any{"ref": markers["metadata"]},
		}
		req := k.Req("POST", "/core/users", bytes.NewReader(e2e.MustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Uphold-User-Agent", markers["userAgent"])
		req.Header.Set("X-Uphold-User-Origin", markers["origin"])
		req.Header.Set("X-Uphold-User-City", markers["ctxCity"])
		req.Header.Set("X-Uphold-User-Ip", markers["ip"])
		res := k.Do(t, req)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		uid := res.Get("user.id").(string)
		// The markers were stored: the API gives them back.
		me := k.Call(t, "GET", "/core/users/me", tok, uid, nil)
		for _, f := range []string{"email", "fullName", "birthdate", "city", "line1", "line2", "postalCode", "phone"} {
			if !strings.Contains(string(me.Body), markers[f]) {
				t.Fatalf("API does not return %s: %s", f, me.Body)
			}
		}
		res = k.Call(t, "POST", "/core/files", tok, uid, map[string]any{"category": "image", "contentType": "image/png", "metadata": map[string]any{"ref": markers["fileMeta"]}})
		if res.Status != 201 {
			t.Fatalf("file: %d %s", res.Status, res.Body)
		}
		if up := e2e.Upload(t, k, res.Get("file.upload.url").(string), e2e.PNGBytes(markers["fileContent"])); up.Status != 204 {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		// KYC process data: an identity document, a form's free-text answer,
		// tax details with a justification.
		fileID := res.Get("file.id").(string)
		kyc := func(process string, body any) {
			t.Helper()
			if r := k.Call(t, "PATCH", "/core/kyc/processes/"+process, tok, uid, body); r.Status != 200 {
				t.Fatalf("%s: %d %s", process, r.Status, r.Body)
			}
		}
		kyc("identity", map[string]any{"type": "document-submission", "input": map[string]any{"media": []any{map[string]any{"context": "photo-document-front", "fileId": fileID}}},
			"output": map[string]any{"provider": "veriff", "document": map[string]any{"type": "passport", "number": markers["docNumber"], "country": "GB"},
				"person": map[string]any{"givenName": "Qzmarkname", "familyName": "Doe", "birthdate": markers["birthdate"]}, "verifiedAt": "2020-01-01T00:00:00Z"}})
		kyc("customer-due-diligence", map[string]any{"input": map[string]any{"answers": map[string]any{"intent": map[string]any{"expected-activities": []any{"cryptocurrency_investing"}}}}})
		formID := k.Call(t, "GET", "/core/kyc?detailed=customerDueDiligence", tok, uid, nil).Get("processes.customerDueDiligence.input.formId").(string)
		kyc("customer-due-diligence", map[string]any{"input": map[string]any{"formId": formID, "answers": map[string]any{"financial-information": map[string]any{"source-of-funds": "other", "other-source-of-funds": markers["otherFunds"]}}}})
		kyc("tax-details", map[string]any{"input": map[string]any{"taxResidency": map[string]any{"countries": []any{"JP", "GB"}}}})
		kyc("tax-details", map[string]any{"input": map[string]any{"taxIdentification": map[string]any{"certify": true, "documents": []any{
			map[string]any{"country": "JP", "type": "tin", "number": markers["tin"]},
			map[string]any{"country": "GB", "type": "tin", "reason": "user-unable-to-obtain-document", "justification": markers["justification"]}}}}})
		detailed := k.Call(t, "GET", "/core/kyc?detailed=identity,customerDueDiligence,taxDetails", tok, uid, nil)
		for _, f := range []string{"docNumber", "otherFunds", "tin", "justification"} {
			if !strings.Contains(strings.ToLower(string(detailed.Body)), strings.ToLower(markers[f])) {
				t.Fatalf("the API does not return %s: %s", f, detailed.Body)
			}
		}
		// A check: what the partner sent, its link and its evidence (a zip
		// whose entry is stored, not compressed). The provider's name is not
		// personal: the audit trail names who verified an identity.
		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		zf, _ := zw.CreateHeader(&zip.FileHeader{Name: "protocol.txt", Method: zip.Store})
		zf.Write([]byte(markers["evidence"]))
		zw.Close()
		bucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(zb.Bytes()) }))
		defer bucket.Close()
		res = k.Call(t, "POST", "/users/"+uid+"/checks", tok, "", map[string]any{"type": "KYC", "check_confirmed_at": time.Now().UTC().Format(time.RFC3339),
			"data_download_link": bucket.URL + "/" + markers["link"] + ".zip", "document_type": "PASSPORT", "document_expiration_date": "2031-01-01",
			"nationality": "GB", "provider": "IDNOW", "method": "VIDEO_ID"})
		if res.Status != 202 {
			t.Fatalf("check: %d %s", res.Status, res.Body)
		}
		checkID := res.JSON["id"].(string)
		e2e.WaitUntil(t, "the check's decision", func() bool {
			return k.Call(t, "GET", "/users/"+uid+"/checks/"+checkID, tok, "", nil).JSON["status"] != "PENDING"
		})
		if c := k.Call(t, "GET", "/users/"+uid+"/checks/"+checkID, tok, "", nil); c.JSON["status"] != "PASSED" || !strings.Contains(string(c.Body), markers["link"]) {
			t.Fatalf("check: %s", c.Body)
		}
		// A KYC level application's attribute value.
		lq := "?" + url.Values{"legal_entity_uuid": {tn.ID}, "client_uuid": {uid}}.Encode()
		info := k.Call(t, "GET", "/v1/clients/kyc-level-info/"+lq, tok, "", nil)
		basic := info.JSON["available_levels_for_upgrade"].([]any)[0].(map[string]any)["uuid"]
		app := k.Call(t, "POST", "/v1/clients/kyc-level-info/"+lq, tok, "", map[string]any{"kyc_level_uuid": basic})
		if r := k.Call(t, "PATCH", "/v1/kyc/"+app.JSON["uuid"].(string)+"/"+lq, tok, "", map[string]any{"attribute_changes": []any{
			map[string]any{"key": "first_name", "value": markers["levelValue"]}}}); r.Status != 200 {
			t.Fatalf("level application: %d %s", r.Status, r.Body)
		}
		// A second user, deleted with a note.
		other := e2e.CreateUser(t, k, tok, "second@atrest.example")
		if res := k.Call(t, "DELETE", "/core/users/me", tok, other, map[string]any{"review": map[string]any{"reason": "other", "note": markers["note"]}}); res.Status != 204 {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}

		scanned := map[string][]byte{}
		if db.URL == "" {
			for _, name := range []string{"kycd.db", "kycd.db-wal", "kycd.db-shm"} {
				if raw, err := os.ReadFile(filepath.Join(db.DataDir, name)); err == nil {
					scanned[name] = raw
				}
			}
			if len(scanned["kycd.db"]) == 0 {
				t.Fatal("no SQLite file to scan")
			}
		} else {
			scanned["pg_dump"] = pgDump(t, db.URL)
		}
		n := 0
		_ = filepath.Walk(filepath.Join(db.DataDir, "blobs"), func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				raw, _ := os.ReadFile(path)
				scanned[path] = raw
				n++
			}
			return nil
		})
		if n == 0 {
			t.Fatal("no blob to scan")
		}
		// Positive control: what is not personal (the tenant's name) is found
		// in the clear, so the scan does read the stored data.
		var db0 []byte
		for _, name := range []string{"kycd.db", "kycd.db-wal", "pg_dump"} {
			db0 = append(db0, scanned[name]...)
		}
		if !bytes.Contains(db0, []byte("atrest")) {
			t.Fatal("the scan does not see the tenant's name: it reads nothing useful")
		}
		scanned["log"] = []byte(k.Stderr.String())
		scanned["stdout"] = []byte(k.Stdout.String())
		found := 0
		for where, raw := range scanned {
			lower := bytes.ToLower(raw)
			for field, m := range markers {
				if bytes.Contains(lower, bytes.ToLower([]byte(m))) {
					found++
					t.Errorf("%s holds the %s marker %q in the clear", where, field, m)
				}
			}
		}
		t.Logf("security suite, marker scan at rest: %d markers in %d places (%d bytes), %d found in the clear",
			len(markers), len(scanned), func() (n int) {
				for _, raw := range scanned {
					n += len(raw)
				}
				return n
			}(), found)
	})
}

// pgDump dumps the test's schema with pg_dump, or, where pg_dump is not
// installed, every row of every table of the schema as text.
func pgDump(t *testing.T, dbURL string) []byte {
	t.Helper()
	u, _ := url.Parse(dbURL)
	schema := u.Query().Get("search_path")
	base := *u
	q := base.Query()
	q.Del("search_path")
	base.RawQuery = q.Encode()
	if path, err := exec.LookPath("pg_dump"); err == nil {
		out, err := exec.Command(path, "--data-only", "--schema="+schema, base.String()).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		if !bytes.Contains(out, []byte("COPY "+schema+".users")) {
			t.Fatalf("pg_dump output has no users table")
		}
		return out
	}
	conn, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var out bytes.Buffer
	for _, name := range tables {
		r, err := conn.QueryContext(ctx, `SELECT t::text FROM `+schema+`."`+name+`" t`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var line string
			_ = r.Scan(&line)
			out.WriteString(line + "\n")
		}
		r.Close()
	}
	return out.Bytes()
}
