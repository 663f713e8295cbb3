package security

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd/api"
	"github.com/kycd/kycd/auth"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// hostileText are the values the security suite puts in every path
// parameter, query parameter and form field: NUL characters and invalid
// UTF-8 (which PostgreSQL cannot store), an id with a NUL after it, an
// over-long id, and a few classics.
var hostileText = []string{"\x00", "a\x00b", "\xff\xfe", "0f8fad5b-d9cb-469f-a165-70867728950e\x00", strings.Repeat("9", 5000), "' OR 1=1 --", "../../etc/passwd"}

// hostileJSON are the values it puts in each string of a JSON body (as
// JSON: \u0000 is a NUL once decoded).
var hostileJSON = []string{`"\u0000"`, `"a\u0000b"`, `"\ud800"`, "\"\xff\xfe\"", `"` + strings.Repeat("9", 5000) + `"`}

// probeArea counts the cases of one area of the suite and its failures.
type probeArea struct {
	tried  int
	failed []string
}

// TestHostileInput drives every operation of kycd's OpenAPI document with
// hostile values in each path parameter, each query parameter, each string
// of its JSON body (a body built from the operation's schema, so that it
// gets past validation) and each field of the token endpoint's form: every
// answer is below 500 and matches the document (request_invalid, not
// found, refused credentials, in the surface's own format). It logs the
// cases tried and the failures per area.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--sandbox", "--rate-limit", "0")
		tn := k.NewTenant(t, "hostile", append(slices.Clone(auth.PartnerScopes), auth.AdminScopes...)...)
		tok := k.Token(t, tn, "")
		uid := e2e.CreateUser(t, k, tok, "probe@hostile.example")
		doc := openAPIDoc(t)
		areas := map[string]*probeArea{}
		var bodies, accepted []string // operations with a JSON body; those whose sample body passes validation
		send := func(area, method, path string, query url.Values, contentType string, body []byte) *e2e.Response {
			t.Helper()
			a := areas[area]
			if a == nil {
				a = &probeArea{}
				areas[area] = a
			}
			a.tried++
			target := path
			if len(query) > 0 {
				target += "?" + query.Encode()
			}
			req := k.Req(method, target, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-On-Behalf-Of", "user "+uid)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			res := k.Do(t, req, e2e.DoOpts{Hostile: true})
			if res.Status >= 500 {
				a.failed = append(a.failed, fmt.Sprintf("%s %s -> %d", method, path, res.Status))
			}
			return res
		}
		good := goodValues(tn.ID, uid)
		paths := slices.Sorted(func(yield func(string) bool) {
			for p := range doc["paths"].(map[string]any) {
				if !yield(p) {
					return
				}
			}
		})
		for _, path := range paths {
			item := doc["paths"].(map[string]any)[path].(map[string]any)
			for _, method := range []string{"get", "post", "put", "patch", "delete"} {
				op, ok := item[method].(map[string]any)
				if !ok {
					continue
				}
				M := strings.ToUpper(method)
				var pathParams, queryParams []map[string]any
				for _, raw := range append(e2e.AsArray(item["parameters"]), e2e.AsArray(op["parameters"])...) {
					p := e2e.ResolveRef(doc, e2e.AsObject(raw))
					switch p["in"] {
					case "path":
						pathParams = append(pathParams, p)
					case "query":
						queryParams = append(queryParams, p)
					}
				}
				fill := func(bad map[string]string) string {
					out := path
					for _, p := range pathParams {
						name := p["name"].(string)
						v, ok := bad[name]
						if !ok {
							v = good(name, schemaOf(doc, p))
						}
						out = strings.ReplaceAll(out, "{"+name+"}", url.PathEscape(v))
					}
					return out
				}
				query := func(bad map[string]string) url.Values {
					q := url.Values{}
					for _, p := range queryParams {
						name := p["name"].(string)
						if v, ok := bad[name]; ok {
							q.Set(name, v)
						} else if v := good(name, nil); p["required"] == true || v != "" {
							q.Set(name, good(name, schemaOf(doc, p)))
						}
					}
					return q
				}
				contentType, sampleBody := "", []byte(nil)
				if content, ok := e2e.ResolveRef(doc, e2e.AsObject(op["requestBody"]))["content"].(map[string]any); ok {
					if js, ok := content["application/json"].(map[string]any); ok {
						contentType = "application/json"
						sampleBody, _ = json.Marshal(e2e.SampleValue(doc, e2e.AsObject(js["schema"]), good, 0))
						if path == "/admin/kyc-levels" {
							// The schema's sample, then the catalog in force (it passes the checks).
							send("JSON bodies", M, path, nil, contentType, sampleBody)
							sampleBody = k.Call(t, "GET", "/admin/kyc-levels", tok, "", nil).Body
						}
					}
				}
				for _, p := range pathParams {
					for _, v := range hostileText {
						send("path parameters", M, fill(map[string]string{p["name"].(string): v}), query(nil), contentType, sampleBody)
					}
				}
				for _, p := range queryParams {
					for _, v := range hostileText {
						send("query parameters", M, fill(nil), query(map[string]string{p["name"].(string): v}), contentType, sampleBody)
					}
				}
				if contentType == "" {
					continue
				}
				bodies = append(bodies, M+" "+path)
				if res := send("JSON bodies", M, fill(nil), query(nil), contentType, sampleBody); res.Status != 400 && res.Status != 413 && res.Status != 415 {
					accepted = append(accepted, M+" "+path)
				}
				send("JSON bodies", M, fill(nil), query(nil), contentType, append([]byte(`{"\u0000":`), append(sampleBody, '}')...))
				send("JSON bodies", M, fill(nil), query(nil), contentType, bytes.Replace(sampleBody, []byte(`"`), []byte("\"\xff"), 2))
				for _, leaf := range stringLeaves(sampleBody) {
					for _, v := range hostileJSON {
						send("JSON bodies", M, fill(nil), query(nil), contentType, slices.Concat(sampleBody[:leaf[0]], []byte(v), sampleBody[leaf[1]:]))
					}
				}
			}
		}
		// The token endpoint's form, and its client id in Basic credentials.
		for _, field := range []string{"grant_type", "client_id", "client_secret", "scope"} {
			for _, v := range hostileText {
				form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tn.ClientID}, "client_secret": {tn.Secret}}
				form.Set(field, v)
				a := areas["token form"]
				if a == nil {
					a = &probeArea{}
					areas["token form"] = a
				}
				a.tried++
				req := k.Req("POST", "/core/oauth2/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if field == "client_id" {
					req = k.Req("POST", "/core/oauth2/token", strings.NewReader("grant_type=client_credentials"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(v, tn.Secret)
				}
				res := k.Do(t, req, e2e.DoOpts{Hostile: true})
				if res.Status >= 500 || (res.Status == 200 && field != "scope" && field != "grant_type") {
					a.failed = append(a.failed, fmt.Sprintf("%s %q -> %d", field, v, res.Status))
				}
			}
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range areas {
				if !yield(n) {
					return
				}
			}
		})
		total := 0
		for _, n := range names {
			a := areas[n]
			total += a.tried
			t.Logf("hostile input, %s: %d cases, %d failed", n, a.tried, len(a.failed))
			for _, f := range a.failed {
				t.Errorf("%s: %s", n, f)
			}
		}
		t.Logf("hostile input: the sample bodies of %d of the %d operations with a JSON body pass validation (their hostile strings reach the services); refused: %v",
			len(accepted), len(bodies), slices.DeleteFunc(slices.Clone(bodies), func(b string) bool { return slices.Contains(accepted, b) }))
		if total < 500 {
			t.Errorf("only %d cases tried: the walk of the document missed operations", total)
		}
	})
}

// openAPIDoc is kycd's OpenAPI document as JSON values.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	raw, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// goodValues returns the value a parameter gets when another one is the
// hostile one: the tenant and the user where a parameter names them, a
// value its schema accepts otherwise.
func goodValues(tenantID, userID string) func(name string, schema map[string]any) string {
	return func(name string, schema map[string]any) string {
		switch name {
		case "legal_entity_uuid", "tenantId":
			return tenantID
		case "client_uuid", "user_id", "userId":
			return userID
		}
		if schema == nil {
			return ""
		}
		if e := e2e.AsArray(schema["enum"]); len(e) > 0 {
			return fmt.Sprint(e[0])
		}
		switch schema["type"] {
		case "integer", "number":
			if m, ok := schema["minimum"].(float64); ok {
				return fmt.Sprint(m)
			}
			return "1"
		case "boolean":
			return "true"
		}
		switch schema["format"] {
		case "date-time":
			return time.Now().UTC().Format(time.RFC3339)
		case "date":
			return "1990-01-01"
		}
		return uuid.NewString()
	}
}

// stringLeaves returns the byte ranges of the JSON strings that are
// values (not property names) in a JSON document.
func stringLeaves(body []byte) [][2]int {
	dec := json.NewDecoder(bytes.NewReader(body))
	var out [][2]int
	var stack []bool // true: in an object, expecting a name
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, true)
			case '[':
				stack = append(stack, false)
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if len(stack) > 0 && stack[len(stack)-1] && isName(body, dec.InputOffset()) {
				continue
			}
			// The token starts after any separator the decoder skipped.
			s := int(start) + bytes.IndexByte(body[start:], '"')
			out = append(out, [2]int{s, int(dec.InputOffset())})
		}
	}
}

// isName reports whether the string that ends at end is followed by a
// colon: a property name.
func isName(body []byte, end int64) bool {
	rest := bytes.TrimLeft(body[end:], " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}

// schemaOf returns a parameter's schema.
func schemaOf(doc, p map[string]any) map[string]any {
	return e2e.ResolveRef(doc, e2e.AsObject(p["schema"]))
}

// TestCrossTenantMatrix walks every operation of kycd's OpenAPI document
// with tenant bravo's token (every scope) aimed at tenant alpha: alpha's
// user in X-On-Behalf-Of, user_id and client_uuid, alpha's tenant in
// legal_entity_uuid and tenantId, alpha's file and webhook endpoint in
// fileId and endpointId (other ids are unknown ones). Every operation that
// names something of alpha's is refused (4xx; the lists of a user's
// ingestions, for which Uphold documents no 404, are empty), and no answer of any
// operation carries alpha's data (its user's email, its endpoint's URL);
// alpha's user and endpoint are unchanged afterwards.
func TestCrossTenantMatrix(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db, "--sandbox", "--rate-limit", "0")
		all := append(slices.Clone(auth.PartnerScopes), auth.AdminScopes...)
		a, b := k.NewTenant(t, "alpha", all...), k.NewTenant(t, "bravo", all...)
		ta, tb := k.Token(t, a, ""), k.Token(t, b, "")
		// A listing of the test users' name, so that alpha's user has a
		// case; alpha's endpoint before its user, so that it has a delivery
		// (refused: sandbox mode reaches loopback only).
		e2e.JSONLImporter(t, k, "matrix")(`{"id":"M1","type":"person","names":[{"full":"DOE, John","kind":"primary"}],"birthDates":[{"year":1987,"month":1,"day":1}]}`)
		hook := "https://93.184.216.34/alpha-matrix-hook"
		res := k.Call(t, "POST", "/core/webhooks/endpoints", ta, "", map[string]any{"url": hook, "eventTypes": []string{"core."}})
		if res.Status != 201 {
			t.Fatalf("alpha's endpoint: %d %s", res.Status, res.Body)
		}
		ea := res.Get("endpoint.id").(string)
		ua := e2e.CreateUser(t, k, ta, "alice@alpha-matrix.example")
		e2e.CreateUser(t, k, tb, "bob@bravo-matrix.example")
		fa, _ := e2e.CreateFile(t, k, ta, ua, "document", "application/pdf")
		var ca, da string
		e2e.WaitUntil(t, "alpha's case and delivery", func() bool {
			if cases := e2e.AsArray(k.Call(t, "GET", "/admin/cases?userId="+ua, ta, "", nil).JSON["cases"]); len(cases) > 0 {
				ca, _ = e2e.AsObject(cases[0])["id"].(string)
			}
			if ds := e2e.AsArray(k.Call(t, "GET", "/core/webhooks/endpoints/"+ea+"/deliveries", ta, "", nil).JSON["deliveries"]); len(ds) > 0 {
				da, _ = e2e.AsObject(ds[0])["id"].(string)
			}
			return ca != "" && da != ""
		})
		alpha := map[string]string{"user_id": ua, "client_uuid": ua, "legal_entity_uuid": a.ID, "tenantId": a.ID, "fileId": fa, "endpointId": ea,
			"id": ca, "deliveryId": da, "entityId": ua}
		markers := []string{"alice@alpha-matrix.example", hook}

		doc := openAPIDoc(t)
		good := goodValues(b.ID, "")
		tried, aimed := 0, 0
		var failed []string
		for _, path := range slices.Sorted(maps.Keys(doc["paths"].(map[string]any))) {
			item := doc["paths"].(map[string]any)[path].(map[string]any)
			for _, method := range []string{"get", "post", "put", "patch", "delete"} {
				op, ok := item[method].(map[string]any)
				if !ok {
					continue
				}
				target, q, atAlpha := path, url.Values{}, false
				for _, rawp := range append(e2e.AsArray(item["parameters"]), e2e.AsArray(op["parameters"])...) {
					p := e2e.ResolveRef(doc, e2e.AsObject(rawp))
					name, _ := p["name"].(string)
					v, ofAlpha := alpha[name]
					if !ofAlpha {
						v = good(name, schemaOf(doc, p))
					}
					switch p["in"] {
					case "path":
						target = strings.ReplaceAll(target, "{"+name+"}", url.PathEscape(v))
					case "query":
						if !ofAlpha && p["required"] != true {
							continue
						}
						q.Set(name, v)
					case "header":
						ofAlpha = name == "X-On-Behalf-Of"
					default:
						continue
					}
					atAlpha = atAlpha || ofAlpha
				}
				if len(q) > 0 {
					target += "?" + q.Encode()
				}
				var body []byte
				if content, ok := e2e.ResolveRef(doc, e2e.AsObject(op["requestBody"]))["content"].(map[string]any); ok {
					if js, ok := content["application/json"].(map[string]any); ok {
						body, _ = json.Marshal(e2e.SampleValue(doc, e2e.AsObject(js["schema"]), good, 0))
					}
				}
				req := k.Req(strings.ToUpper(method), target, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tb)
				req.Header.Set("X-On-Behalf-Of", "user "+ua)
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				tried++
				res := k.Do(t, req, e2e.DoOpts{Hostile: true, Unavailable: path == "/readyz"})
				// Uphold documents no 404 for the lists of a user's
				// ingestions: another tenant's user has none.
				emptyList := strings.HasSuffix(path, "/ingestions") && method == "get" && res.Status == 200 && len(e2e.AsArray(res.JSON["ingestions"])) == 0
				if atAlpha {
					aimed++
					if res.Status < 400 && !emptyList {
						failed = append(failed, fmt.Sprintf("%s %s -> %d", req.Method, target, res.Status))
					}
				}
				for _, m := range markers {
					if strings.Contains(string(res.Body), m) {
						failed = append(failed, fmt.Sprintf("%s %s -> %d carries alpha's %q", req.Method, target, res.Status, m))
					}
				}
			}
		}
		t.Logf("cross-tenant matrix: %d operations with bravo's token, %d of them aimed at alpha's data, %d failed", tried, aimed, len(failed))
		for _, f := range failed {
			t.Error(f)
		}
		if res := k.Call(t, "GET", "/core/users/me", ta, ua, nil); res.Status != 200 || res.Get("user.email") != "alice@alpha-matrix.example" {
			t.Errorf("alpha's user after the matrix: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "GET", "/core/webhooks/endpoints/"+ea, ta, "", nil); res.Status != 200 || res.Get("endpoint.url") != hook {
			t.Errorf("alpha's endpoint after the matrix: %d %s", res.Status, res.Body)
		}
	})
}
