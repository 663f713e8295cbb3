package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
)

// TestUserErasure: the records of closed users are erased, by the operator
// (kycd users erase --closed-before) or by the retention sweep once
// --user-retention has passed: the user's rows and file contents go, the
// tenant's trail records it, and users closed later or still open stay.
func TestUserErasure(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "erasing")
		tok := k.Token(t, tn, "")
		newUser := func(email string) (string, string) {
			t.Helper()
			res := k.Call(t, "POST", "/core/users", tok, "", e2e.NewUserBody(email))
			if res.Status != 201 {
				t.Fatalf("create user: %d %s", res.Status, res.Body)
			}
			uid := res.Get("user.id").(string)
			fid, up := e2e.CreateFile(t, k, tok, uid, "image", "image/png")
			if res := e2e.Upload(t, k, up, e2e.PNGBytes("erasure "+email)); res.Status != 204 {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			if res := k.Call(t, "PATCH", "/core/kyc/processes/customer-due-diligence", tok, uid,
				map[string]any{"input": map[string]any{"answers": map[string]any{"intent": map[string]any{"expected-activities": []any{"cryptocurrency_investing"}}}}}); res.Status != 200 {
				t.Fatalf("CDD step: %d %s", res.Status, res.Body)
			}
			return uid, fid
		}
		closeUser := func(uid string) {
			t.Helper()
			if res := k.Call(t, "DELETE", "/core/users/me", tok, uid, map[string]any{"review": map[string]any{"reason": "closure-per-user-request"}}); res.Status != 204 {
				t.Fatalf("close: %d %s", res.Status, res.Body)
			}
		}
		blobs := func() int {
			n := 0
			_ = filepath.Walk(filepath.Join(db.DataDir, "blobs"), func(_ string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					n++
				}
				return nil
			})
			return n
		}
		raw := db.Open(t)
		rowsOf := func(uid string) int {
			return e2e.CountRows(t, db, raw, `SELECT count(*) FROM users WHERE id = ?`, uid) +
				e2e.CountRows(t, db, raw, `SELECT count(*) FROM files WHERE user_id = ?`, uid) +
				e2e.CountRows(t, db, raw, `SELECT count(*) FROM kyc_processes WHERE user_id = ?`, uid) +
				e2e.CountRows(t, db, raw, `SELECT count(*) FROM terms_acceptances WHERE user_id = ?`, uid)
		}
		early, _ := newUser("early@example.com")
		late, _ := newUser("late@example.com")
		open, openFile := newUser("open@example.com")
		closeUser(early)
		time.Sleep(20 * time.Millisecond)
		cutoff := time.Now().UTC() // given with its fraction of a second: RFC 3339 allows it
		time.Sleep(20 * time.Millisecond)
		closeUser(late)
		if rowsOf(early) < 4 || blobs() != 3 {
			t.Fatalf("before: %d rows, %d blobs", rowsOf(early), blobs())
		}
		if _, err := k.CLI(t, "users", "erase"); err == nil {
			t.Error("users erase without --closed-before ran")
		}
		var out struct {
			Erased int `json:"erased"`
		}
		k.CLIJSON(t, &out, "users", "erase", "--closed-before", cutoff.Format(time.RFC3339Nano))
		if out.Erased != 1 || rowsOf(early) != 0 || rowsOf(late) == 0 || rowsOf(open) == 0 || blobs() != 2 {
			t.Fatalf("operator erasure: %d erased; rows early %d late %d open %d; %d blobs", out.Erased, rowsOf(early), rowsOf(late), rowsOf(open), blobs())
		}
		k.CLIJSON(t, &out, "users", "erase", "--closed-before", cutoff.Format(time.RFC3339Nano))
		if out.Erased != 0 {
			t.Errorf("second erasure: %d", out.Erased)
		}
		// The retention sweep: at start, every user closed more than a
		// millisecond ago goes; the open user and their file stay.
		k.Stop(t)
		k = e2e.Start(t, db, "--user-retention", "1ms")
		e2e.WaitUntil(t, "the retention sweep", func() bool { return rowsOf(late) == 0 })
		if rowsOf(open) < 4 || blobs() != 1 {
			t.Fatalf("after the sweep: open user's rows %d, %d blobs", rowsOf(open), blobs())
		}
		tok = k.Token(t, tn, "")
		if res := k.Call(t, "GET", "/core/files/"+openFile, tok, open, nil); res.Status != 200 || res.Get("file.status") != "uploaded" {
			t.Fatalf("the open user's file: %d %s", res.Status, res.Body)
		}
		var list struct {
			Entries []struct {
				Action   string `json:"action"`
				EntityID string `json:"entityId"`
				Actor    string `json:"actor"`
			} `json:"entries"`
		}
		e2e.WaitUntil(t, "user.erased on the trail", func() bool {
			k.CLIJSON(t, &list, "audit", "list", "--tenant", tn.ID, "--limit", "1000")
			n := 0
			for _, e := range list.Entries {
				if e.Action == "user.erased" && (e.EntityID == early || e.EntityID == late) {
					n++
				}
			}
			return n == 2
		})
		// The operator erased the early user, the retention job the late one:
		// each entry names who did it.
		for _, e := range list.Entries {
			switch {
			case e.Action == "user.erased" && e.EntityID == early && e.Actor != "cli:kycd":
				t.Errorf("the operator's erasure was made by %q, want cli:kycd", e.Actor)
			case e.Action == "user.erased" && e.EntityID == late && e.Actor != "system:user_erase":
				t.Errorf("the retention job's erasure was made by %q, want system:user_erase", e.Actor)
			}
		}
		if strings.Contains(k.Stderr.String(), "late@example.com") {
			t.Error("an erased user's email was logged")
		}
	})
}
