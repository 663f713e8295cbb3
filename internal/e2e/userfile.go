package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// RowsOf counts the rows of an audit page's entries table.
func RowsOf(body string) int {
	_, table, ok := strings.Cut(body, "<caption>Entries, newest first</caption>")
	if !ok {
		return 0
	}
	table, _, _ = strings.Cut(table, "</table>")
	return strings.Count(table, "<tr") - 1 // the header's
}

// NextCode is the reviewer's TOTP code of the next time step: good for a
// second sign-in within the same 30 seconds (a code is accepted once).
func (r ReviewerCreds) NextCode(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCode(r.TOTPSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
