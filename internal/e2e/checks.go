package e2e

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// EvidenceZip returns a zip of the given entries (name → content).
func EvidenceZip(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ChecksEnv is a kycd with a tenant, a user whose profile is complete (a
// resident of Berlin, as in seed 001) and a webhook receiver of check events.
type ChecksEnv struct {
	*Proc
	T         *testing.T
	Tenant    Tenant
	Tok, User string
	Spare     string
	Receiver  *Receiver
}

// NewChecksEnv starts kycd on db with a tenant and a user whose profile is complete.
func NewChecksEnv(t *testing.T, db storetest.Database, flags ...string) *ChecksEnv {
	k := Start(t, db, flags...)
	tn := k.NewTenant(t, "checks")
	e := &ChecksEnv{Proc: k, T: t, Tenant: tn, Tok: k.Token(t, tn, "")}
	e.User = e.NewUser("hans@checks.example")
	return e
}

// NewUser creates a user of the tenant with seed 001's complete profile.
func (e *ChecksEnv) NewUser(email string) string {
	t := e.T
	u := CreateUserIn(t, e.Proc, e.Tok, email, "DE", "DE-BE", "general-pt-bop")
	res := e.Call(t, "PATCH", "/core/kyc/processes/profile", e.Tok, u, map[string]any{"input": map[string]any{
		"fullName": "Hans Peter Müller", "birthdate": "1980-05-17", "birthplace": map[string]any{"country": "DE", "town": "Köln"},
		"address": map[string]any{"city": "Berlin", "line1": "Rosenweg 221", "line2": "apt. 33", "postalCode": "45678"}}})
	if res.Status != 200 || res.Get("profile.status") != "ok" {
		t.Fatalf("profile: %d %s", res.Status, res.Body)
	}
	return u
}

// SeedKYC is seed 001's KYC check, confirmed an hour ago, with the link.
func SeedKYC(link string) map[string]any {
	return map[string]any{
		"type": "KYC", "check_confirmed_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "data_download_link": link,
		"document_type": "ID_CARD", "document_expiration_date": "2030-01-01", "nationality": "DE", "provider": "KYC provider",
		"method": "VIDEO_ID", "confirmed_address": SeedAddress(),
	}
}

// SeedAddress is seed 001's confirmed address.
func SeedAddress() map[string]any {
	return map[string]any{"address_line1": "Rosenweg 221", "address_line2": "apt. 33", "postcode": "45678", "city": "Berlin", "state": "BE", "country": "DE"}
}

// Create records a check of a user with a token.
func (e *ChecksEnv) Create(tok, user string, body map[string]any) *Response {
	e.T.Helper()
	return e.Call(e.T, "POST", "/users/"+user+"/checks", tok, "", body)
}

// Decided records a check and waits for its decision.
func (e *ChecksEnv) Decided(user string, body map[string]any) *Response {
	e.T.Helper()
	res := e.Create(e.Tok, user, body)
	if res.Status != 202 {
		e.T.Fatalf("create check: %d %s", res.Status, res.Body)
	}
	return e.Await(user, res.JSON["id"].(string))
}

// Await polls a check until it is decided.
func (e *ChecksEnv) Await(user, id string) *Response {
	e.T.Helper()
	var res *Response
	deadline := time.Now().Add(60 * time.Second)
	for {
		res = e.Call(e.T, "GET", "/users/"+user+"/checks/"+id, e.Tok, "", nil)
		if res.Status != 200 {
			e.T.Fatalf("get check: %d %s", res.Status, res.Body)
		}
		if res.JSON["status"] != "PENDING" {
			return res
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("check %s still pending: %s", id, res.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ReasonOf returns the first failure reason's code and details.
func ReasonOf(res *Response) (string, map[string]any) {
	rs, _ := res.JSON["failure_reasons"].([]any)
	if len(rs) == 0 {
		return "", nil
	}
	r := rs[0].(map[string]any)
	d, _ := r["details"].(map[string]any)
	return r["code"].(string), d
}

// HasViolation reports whether a problem names a property and rule.
func HasViolation(res *Response, prop, rule string) bool {
	vs, _ := res.JSON["violations"].([]any)
	for _, v := range vs {
		m, _ := v.(map[string]any)
		if m["property"] == prop && m["rule"] == rule {
			return true
		}
	}
	return false
}

// BlobFiles returns the contents of the blobs kept under a kind of key
// (tenants/<tenant>/<kind>/...).
func BlobFiles(t *testing.T, db storetest.Database, kind string) [][]byte {
	t.Helper()
	var out [][]byte
	root := filepath.Join(db.DataDir, "blobs", "tenants")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(p), "/"+kind+"/") {
			b, _ := os.ReadFile(p)
			out = append(out, b)
		}
		return nil
	})
	return out
}

// ScratchFiles lists the scratch files kept under the data folder (the
// processes' lock files aside).
func ScratchFiles(db storetest.Database) []string {
	var out []string
	filepath.WalkDir(filepath.Join(db.DataDir, "scratch"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".lock" {
			out = append(out, p)
		}
		return nil
	})
	return out
}
