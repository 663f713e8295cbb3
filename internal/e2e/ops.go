package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/kycd/kycd/sqlstore/storetest"
)

// CountRows runs a count on the test's database (conn from Database.Open), with
// ? placeholders on either dialect.
func CountRows(t *testing.T, db storetest.Database, conn *sql.DB, query string, args ...any) int {
	t.Helper()
	if db.URL != "" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int
	if err := conn.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
