package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// KYCEnv is a running kycd with a tenant, a token and helpers for the KYC API.
type KYCEnv struct {
	*Proc
	T      *testing.T
	DB     storetest.Database
	Tenant Tenant
	Tok    string
	// Sent counts the sandbox messages read per destination.
	Sent map[string]int
}

// NewKYCEnv starts kycd on db with a tenant and a token of its client.
func NewKYCEnv(t *testing.T, db storetest.Database, flags ...string) *KYCEnv {
	k := Start(t, db, flags...)
	tn := k.NewTenant(t, "kyc")
	return &KYCEnv{Proc: k, T: t, DB: db, Tenant: tn, Tok: k.Token(t, tn, ""), Sent: map[string]int{}}
}

// Patch answers a KYC process of a user.
func (e *KYCEnv) Patch(user, process string, body any) *Response {
	e.T.Helper()
	return e.Call(e.T, "PATCH", "/core/kyc/processes/"+process, e.Tok, user, body)
}

// Overview is a user's KYC overview (detailed: the detailed query parameter, or "").
func (e *KYCEnv) Overview(user, detailed string) *Response {
	e.T.Helper()
	path := "/core/kyc"
	if detailed != "" {
		path += "?detailed=" + detailed
	}
	res := e.Call(e.T, "GET", path, e.Tok, user, nil)
	if res.Status != 200 {
		e.T.Fatalf("overview: %d %s", res.Status, res.Body)
	}
	return res
}

// Status is the status of a process (key) in a user's overview.
func (e *KYCEnv) Status(user, key string) string {
	e.T.Helper()
	s, _ := e.Overview(user, "").Get("processes." + key + ".status").(string)
	return s
}

// WaitStatus polls the overview until a process leaves running.
func (e *KYCEnv) WaitStatus(user, key string) string {
	e.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s := e.Status(user, key); s != "running" {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.T.Fatalf("%s still running after 30s", key)
	return ""
}

// Uploaded creates and uploads a file for a user.
func (e *KYCEnv) Uploaded(user, category string) string {
	e.T.Helper()
	id, url := CreateFile(e.T, e.Proc, e.Tok, user, category, "image/png")
	if res := Upload(e.T, e.Proc, url, PNGBytes("evidence")); res.Status != 204 && res.Status != 200 && res.Status != 201 {
		e.T.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	return id
}

// Events returns the types of a user's outbox events, in order.
func (e *KYCEnv) Events(user string) []string {
	e.T.Helper()
	conn := e.DB.Open(e.T)
	q := `SELECT type, payload FROM outbox_events WHERE entity_id = ? ORDER BY created_at, id`
	if e.DB.URL != "" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	rows, err := conn.Query(q, user)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, payload string
		if err := rows.Scan(&typ, &payload); err != nil {
			e.T.Fatal(err)
		}
		var data map[string]any
		_ = json.Unmarshal([]byte(payload), &data)
		if strings.HasPrefix(typ, "core.kyc.") {
			if data["userId"] != user || data["status"] == nil {
				e.T.Errorf("event %s data %s", typ, payload)
			}
			typ += "=" + data["status"].(string)
		}
		out = append(out, typ)
	}
	return out
}

func reasons(res *Response) []string {
	var out []string
	rs, _ := res.Get("details.reasons").([]any)
	for _, r := range rs {
		out = append(out, r.(string))
	}
	return out
}

// HasReason says whether an error response names the reason.
func HasReason(res *Response, reason string) bool {
	for _, r := range reasons(res) {
		if r == reason {
			return true
		}
	}
	return false
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// SandboxCode waits for the newest code sent to a destination.
func (e *KYCEnv) SandboxCode(t *testing.T, to string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if msgs := e.sandboxMessages(t, to); len(msgs) > e.Sent[to] {
			e.Sent[to] = len(msgs)
			if c := sixDigits.FindString(msgs[0]); c != "" {
				return c
			}
			t.Fatalf("no code in %q", msgs[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

func (e *KYCEnv) sandboxMessages(t *testing.T, to string) []string {
	t.Helper()
	res := e.Call(t, "GET", "/sandbox/messages?to="+strings.ReplaceAll(to, "+", "%2B"), e.Tok, "", nil)
	if res.Status != 200 {
		t.Fatalf("sandbox messages: %d %s", res.Status, res.Body)
	}
	var out []string
	for _, m := range res.JSON["messages"].([]any) {
		out = append(out, m.(map[string]any)["body"].(string))
	}
	return out
}

// Advance moves the sandbox clock and gets a fresh token (tokens age with it).
func (e *KYCEnv) Advance(t *testing.T, d string) {
	t.Helper()
	if res := e.Call(t, "POST", "/sandbox/clock", e.Tok, "", map[string]any{"advance": d}); res.Status != 200 {
		t.Fatalf("advance clock: %d %s", res.Status, res.Body)
	}
	e.Tok = e.Token(t, e.Tenant, "")
}

// IdentityDoc is the spec's partner-verified document submission.
func IdentityDoc(media []string, number, expires, given, family, birthdate string) map[string]any {
	var m []any
	for i, id := range media {
		ctx := []string{"photo-document-front", "photo-document-back", "photo-selfie"}[i%3]
		m = append(m, map[string]any{"context": ctx, "fileId": id})
	}
	doc := map[string]any{"type": "passport", "number": number, "country": "GB"}
	if expires != "" {
		doc["expiresAt"] = expires
	}
	return map[string]any{
		"type":  "document-submission",
		"input": map[string]any{"media": m},
		"output": map[string]any{"provider": "veriff", "document": doc,
			"person":     map[string]any{"givenName": given, "familyName": family, "birthdate": birthdate, "gender": "male"},
			"verifiedAt": "2020-01-01T00:00:00.000Z"},
	}
}
