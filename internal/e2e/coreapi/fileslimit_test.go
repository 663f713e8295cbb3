package coreapi

import (
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestPendingFilesLimit: a user may reserve MaxPendingFiles uploads at once;
// the next reservation is Uphold's 409 max_files_limit_exceeded, and
// uploading one frees its place.
func TestPendingFilesLimit(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tok := k.Token(t, k.NewTenant(t, "files-limit"), "")
		u := e2e.CreateUser(t, k, tok, "many@files.example")
		var first string
		for i := range kycd.MaxPendingFiles {
			if _, url := e2e.CreateFile(t, k, tok, u, "image", "image/png"); i == 0 {
				first = url
			}
		}
		body := map[string]any{"category": "image", "contentType": "image/png"}
		if res := k.Call(t, "POST", "/core/files", tok, u, body); res.Status != 409 || res.Code() != "max_files_limit_exceeded" ||
			res.Get("message") != "The maximum number of allowed files has been exceeded" {
			t.Fatalf("one reservation too many: %d %s", res.Status, res.Body)
		}
		// Another user has places of its own.
		e2e.CreateFile(t, k, tok, e2e.CreateUser(t, k, tok, "other@files.example"), "image", "image/png")
		if res := e2e.Upload(t, k, first, e2e.PNGBytes("first")); res.Status >= 300 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		if res := k.Call(t, "POST", "/core/files", tok, u, body); res.Status != 201 {
			t.Errorf("after an upload: %d %s", res.Status, res.Body)
		}
	})
}
