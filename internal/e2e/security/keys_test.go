package security

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kycd/kycd/internal/e2e"
	"github.com/kycd/kycd/sqlstore/storetest"
	"github.com/kycd/kycd/vault"
)

// TestMasterKeyRotation: a new master key is added, every stored key is
// wrapped again under it and the earlier key is retired; personal data and
// files written before still read back, the audit chain still verifies, and
// the earlier key alone no longer opens anything. Retiring before rewrapping
// is refused and leaves the key file as it was.
func TestMasterKeyRotation(t *testing.T) {
	t.Parallel()
	e2e.ForEachDB(t, func(t *testing.T, db storetest.Database) {
		k := e2e.Start(t, db)
		tn := k.NewTenant(t, "rotating")
		tok := k.Token(t, tn, "")
		res := k.Call(t, "POST", "/core/users", tok, "", e2e.NewUserBody("rotate@example.com"))
		if res.Status != 201 {
			t.Fatalf("create user: %d %s", res.Status, res.Body)
		}
		uid := res.Get("user.id").(string)
		fid, up := e2e.CreateFile(t, k, tok, uid, "image", "image/png")
		content := e2e.PNGBytes("rotation")
		if res := e2e.Upload(t, k, up, content); res.Status != 204 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		k.Stop(t)

		path := filepath.Join(db.DataDir, "master-key.json")
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		oldKey := filepath.Join(t.TempDir(), "old-master-key.json")
		if err := os.WriteFile(oldKey, before, 0o600); err != nil {
			t.Fatal(err)
		}
		type info struct {
			Primary    uint32   `json:"primary"`
			Keys       []uint32 `json:"keys"`
			Stored     int      `json:"stored"`
			NeedRewrap int      `json:"needRewrap"`
			Tenants    int      `json:"tenants"`
			System     int      `json:"system"`
		}
		var first, added, stale, rewrapped, fresh, retired info
		k.CLIJSON(t, &first, "keys", "info")
		if len(first.Keys) != 1 || first.NeedRewrap != 0 || first.Stored < 3 { // the tenant, the URL and audit chain keys
			t.Fatalf("before: %+v", first)
		}
		k.CLIJSON(t, &added, "keys", "add-master")
		if len(added.Keys) != 2 || added.Primary == first.Primary || !slices.Contains(added.Keys, first.Primary) {
			t.Fatalf("added: %+v", added)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode: %v %v", fi.Mode(), err)
		}
		k.CLIJSON(t, &stale, "keys", "info")
		if stale.Primary != added.Primary || stale.NeedRewrap != stale.Stored {
			t.Fatalf("after adding: %+v", stale)
		}
		// Retiring the earlier key now would lose everything: refused.
		withTwo, _ := os.ReadFile(path)
		if _, err := k.CLI(t, "keys", "retire-master"); !errors.Is(err, vault.ErrWrappedUnderRetiredKey) {
			t.Fatalf("retire before rewrap: %v", err)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, withTwo) {
			t.Fatal("a refused retirement changed the key file")
		}
		k.CLIJSON(t, &rewrapped, "keys", "rewrap")
		if rewrapped.Tenants < 1 || rewrapped.System < 2 || rewrapped.Primary != added.Primary {
			t.Fatalf("rewrap: %+v", rewrapped)
		}
		k.CLIJSON(t, &fresh, "keys", "info")
		if fresh.NeedRewrap != 0 || fresh.Stored != stale.Stored {
			t.Fatalf("after rewrap: %+v", fresh)
		}
		k.CLIJSON(t, &retired, "keys", "retire-master")
		if len(retired.Keys) != 1 || retired.Keys[0] != added.Primary {
			t.Fatalf("retired: %+v", retired)
		}
		// The earlier key alone opens nothing any more.
		if _, err := k.CLI(t, "tenant", "list", "--master-key-file", oldKey); err == nil {
			t.Error("kycd opened with the retired master key")
		}
		// A key command never makes a master key.
		if _, err := k.CLI(t, "keys", "add-master", "--master-key-file", filepath.Join(t.TempDir(), "none.json")); err == nil {
			t.Error("add-master without a key file succeeded")
		}

		// Everything written before reads back under the new key.
		k = e2e.Start(t, db)
		tok = k.Token(t, tn, "")
		if me := k.Call(t, "GET", "/core/users/me", tok, uid, nil); me.Status != 200 || me.Get("user.fullName") != "John Doe" || me.Get("user.email") != "rotate@example.com" {
			t.Fatalf("user after rotation: %d %s", me.Status, me.Body)
		}
		res = k.Call(t, "GET", "/core/files/"+fid, tok, uid, nil)
		dl, _ := url.Parse(res.Get("file.download.url").(string))
		if got := k.Do(t, k.Req("GET", dl.RequestURI(), nil)); got.Status != 200 || !bytes.Equal(got.Body, content) {
			t.Fatalf("file after rotation: %d, %d bytes", got.Status, len(got.Body))
		}
		// The rewrap is on the tenant's trail, and the chain (its MAC key was
		// rewrapped too) verifies.
		var list struct {
			Entries []struct {
				Action string `json:"action"`
			} `json:"entries"`
		}
		e2e.WaitUntil(t, "the rewrap on the audit trail", func() bool {
			k.CLIJSON(t, &list, "audit", "list", "--tenant", tn.ID)
			return slices.ContainsFunc(list.Entries, func(e struct {
				Action string `json:"action"`
			}) bool {
				return e.Action == "tenant.keys-rewrapped"
			})
		})
		var rep struct {
			OK bool `json:"ok"`
		}
		k.CLIJSON(t, &rep, "audit", "verify")
		if !rep.OK {
			t.Fatal("audit chain broken after the rotation")
		}
	})
}
