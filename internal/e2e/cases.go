package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ScreeningUser is a user body of a person born on birthdate with a
// citizenship, living in Manchester.
func ScreeningUser(email, name, birthdate, citizenship string) map[string]any {
	body := NewUserBody(email)
	body["fullName"], body["birthdate"], body["primaryCitizenship"] = name, birthdate, citizenship
	return body
}

// JSONLImporter returns a function that imports its lines as the next
// version of the kycd-jsonl list named name, through the CLI.
func JSONLImporter(t *testing.T, k *Proc, name string) func(lines ...string) {
	path := filepath.Join(t.TempDir(), name+".jsonl")
	return func(lines ...string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := k.CLI(t, "screening", "import", "--source", "kycd-jsonl", "--path", path, "--allow-shrink"); err != nil {
			t.Fatalf("import: %q %v", out, err)
		}
	}
}

// ImportUN imports the bundled UN list's snapshot.
func (k *Proc) ImportUN(t *testing.T) {
	t.Helper()
	un := WriteSnapshotFile(t, "un", "consolidated.xml")
	if out, err := k.CLI(t, "screening", "import", "--source", "un", "--path", un); err != nil {
		t.Fatalf("import: %q %v", out, err)
	}
}

// CreateUserOf creates a user of a body and returns its id.
func CreateUserOf(t *testing.T, k *Proc, tok string, body map[string]any) string {
	t.Helper()
	res := k.Call(t, "POST", "/core/users", tok, "", body)
	if res.Status != 201 {
		t.Fatalf("create user: %d %s", res.Status, res.Body)
	}
	return res.Get("user.id").(string)
}

// ScreeningOf reads a user's screening process and summary.
func ScreeningOf(t *testing.T, k *Proc, tok, userID string) (status string, res *Response) {
	t.Helper()
	res = k.Call(t, "GET", "/core/kyc?detailed=screening", tok, userID, nil)
	if res.Status != 200 {
		t.Fatalf("kyc overview: %d %s", res.Status, res.Body)
	}
	s, _ := res.Get("processes.screening.status").(string)
	return s, res
}

// WaitScreening polls a user's screening process until its status is want.
func WaitScreening(t *testing.T, k *Proc, tok, userID, want string) *Response {
	t.Helper()
	var last *Response
	var s string
	WaitUntil(t, "screening "+want, func() bool {
		s, last = ScreeningOf(t, k, tok, userID)
		return s == want
	})
	return last
}
