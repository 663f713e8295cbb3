package coreapi

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestMetadata: the metadata of the user and of the user's files, as
// Uphold documents it: revisions as ETags, 304, If-Match (412), If-None-Match
// * (409 duplicate), the size limit (413), JSON Patch (422 when an operation
// does not apply), deletion, and nothing of another user.
func TestMetadata(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "metadata")
		tok := k.Token(t, tn, "")
		u := e2e.CreateUser(t, k, tok, "meta@metadata.example")
		other := e2e.CreateUser(t, k, tok, "other@metadata.example")
		fileID, _ := e2e.CreateFile(t, k, tok, u, "image", "image/png")
		send := func(method, path, user, body, contentType string, header map[string]string) *e2e.Response {
			t.Helper()
			req := k.Req(method, path, bytes.NewReader([]byte(body)))
			if body == "" {
				req = k.Req(method, path, nil)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-On-Behalf-Of", "user "+user)
			for h, v := range header {
				req.Header.Set(h, v)
			}
			return k.Do(t, req)
		}
		for _, path := range []string{"/core/users/me/metadata", "/core/files/" + fileID + "/metadata"} {
			if res := send("GET", path, u, "", "", nil); res.Status != 404 || res.Get("details.entity") != "metadata" {
				t.Fatalf("%s before any: %d %s", path, res.Status, res.Body)
			}
			// Replacing a revision when there is none: not found, as
			// Uphold documents it for PUT.
			if res := send("PUT", path, u, `{"a": 1}`, "application/json", map[string]string{"If-Match": `"` + strings.Repeat("0", 64) + `"`}); res.Status != 404 || res.Get("details.entity") != "metadata" {
				t.Errorf("%s conditional PUT before any: %d %s", path, res.Status, res.Body)
			}
			res := send("PUT", path, u, `{"externalId": 123, "tier": "silver", "region": "eu"}`, "application/json", map[string]string{"If-None-Match": "*"})
			etag := res.Header.Get("ETag")
			if res.Status != 201 || res.Get("metadata.tier") != "silver" || len(etag) != 66 {
				t.Fatalf("%s created: %d %s %q", path, res.Status, res.Body, etag)
			}
			if res := send("PUT", path, u, `{"a": 1}`, "application/json", map[string]string{"If-None-Match": "*"}); res.Status != 409 || res.Code() != "duplicate" {
				t.Errorf("%s created twice: %d %s", path, res.Status, res.Body)
			}
			if res := send("GET", path, u, "", "", map[string]string{"If-None-Match": etag}); res.Status != 304 || res.Header.Get("ETag") != etag {
				t.Errorf("%s not modified: %d %s", path, res.Status, res.Body)
			}
			stale := `"` + strings.Repeat("0", 64) + `"`
			if res := send("PATCH", path, u, `[{"op": "add", "path": "/status", "value": "active"}]`, "application/json-patch+json", map[string]string{"If-Match": stale}); res.Status != 412 || res.Code() != "precondition_failed" {
				t.Errorf("%s stale patch: %d %s", path, res.Status, res.Body)
			}
			res = send("PATCH", path, u, `[{"op": "add", "path": "/status", "value": "active"}, {"op": "replace", "path": "/tier", "value": "gold"}, {"op": "remove", "path": "/region"}]`,
				"application/json-patch+json", map[string]string{"If-Match": etag})
			if res.Status != 200 || res.Get("metadata.status") != "active" || res.Get("metadata.tier") != "gold" || res.Get("metadata.region") != nil || res.Header.Get("ETag") == etag {
				t.Fatalf("%s patched: %d %s", path, res.Status, res.Body)
			}
			res = send("PATCH", path, u, `[{"op": "remove", "path": "/region"}]`, "application/json-patch+json", nil)
			if res.Status != 422 || res.Code() != "json_patch_failed" || res.Get("details.operation.path") != "/region" ||
				res.Get("details.reason") != "remove operation does not apply: doc is missing path: /region: missing value" {
				t.Errorf("%s patch that does not apply: %d %s", path, res.Status, res.Body)
			}
			if res := send("PUT", path, u, `{"a": "`+strings.Repeat("x", 1100)+`"}`, "application/json", nil); res.Status != 413 || res.Code() != "content_too_large" {
				t.Errorf("%s too large: %d %s", path, res.Status, res.Body)
			}
			if res := send("GET", path, u, "", "", nil); res.Status != 200 || res.Get("metadata.externalId") != float64(123) || res.Get("metadata.tier") != "gold" {
				t.Errorf("%s read: %d %s", path, res.Status, res.Body)
			}
			if res := send("DELETE", path, u, "", "", nil); res.Status != 204 {
				t.Errorf("%s deleted: %d %s", path, res.Status, res.Body)
			}
			if res := send("DELETE", path, u, "", "", nil); res.Status != 404 || res.Get("details.entity") != "metadata" {
				t.Errorf("%s deleted twice: %d %s", path, res.Status, res.Body)
			}
		}
		// Nothing of another user: neither their file, nor them by id.
		if res := send("GET", "/core/files/"+fileID+"/metadata", other, "", "", nil); res.Status != 404 || res.Get("details.entity") != "file" {
			t.Errorf("another user's file: %d %s", res.Status, res.Body)
		}
		if res := send("PUT", "/core/users/"+u+"/metadata", other, `{"a": 1}`, "application/json", nil); res.Status != 404 || res.Get("details.entity") != "user" {
			t.Errorf("another user by id: %d %s", res.Status, res.Body)
		}
		if res := send("PUT", "/core/users/"+u+"/metadata", u, `{"a": 1}`, "application/json", nil); res.Status != 201 {
			t.Errorf("the user by its own id: %d %s", res.Status, res.Body)
		}
		// The metadata scopes.
		narrow := k.Token(t, tn, "core.users:act-on-behalf-of core.users.metadata:read")
		req := k.Req("PUT", "/core/users/me/metadata", strings.NewReader(`{"a": 2}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+narrow)
		req.Header.Set("X-On-Behalf-Of", "user "+u)
		if res := k.Do(t, req); res.Status != 403 {
			t.Errorf("write without its scope: %d %s", res.Status, res.Body)
		}
	})
}
