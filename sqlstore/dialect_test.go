package sqlstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kycd/kycd"
)

// TestListStatements: statements over a list of values (lookups by ids,
// deletes, the chained audit entries) have one text for any length of the
// list on PostgreSQL, so pgx prepares each once instead of once per length
// (up to 500 chaining statements per connection, each kept by the server);
// on SQLite they carry a placeholder per value.
func TestListStatements(t *testing.T) {
	entries := func(n int) ([]kycd.AuditEntry, []string, []string) {
		es, ats, ds := make([]kycd.AuditEntry, n), make([]string, n), make([]string, n)
		for i := range es {
			es[i] = kycd.AuditEntry{TenantID: "t", Seq: int64(i + 1), Actor: "a", Action: "x", Hash: fmt.Sprint(i)}
			ats[i], ds[i] = "2026-01-01T00:00:00Z", "{}"
		}
		return es, ats, ds
	}
	pg := &DB{dialect: postgresDialect{}}
	lite := &DB{dialect: sqliteDialect{}}
	var texts []string
	for _, n := range []int{1, 2, 500} {
		q, args := anyOf(pg.dialect, "id", make([]int64, n))
		if q != "id = ANY(?)" || len(args) != 1 {
			t.Fatalf("postgres, %d values: %q with %d arguments", n, q, len(args))
		}
		q, args = anyOf(lite.dialect, "id", make([]string, n))
		if strings.Count(q, "?") != n || len(args) != n || !strings.HasPrefix(q, "id IN (") {
			t.Fatalf("sqlite, %d values: %q with %d arguments", n, q, len(args))
		}
		es, ats, ds := entries(n)
		pq, pargs, err := pg.auditInsert(es, ats, ds)
		if err != nil || len(pargs) != 11 {
			t.Fatalf("postgres, %d entries: %d arguments, want one per column (%v)", n, len(pargs), err)
		}
		if seqs := pargs[1].([]int64); len(seqs) != n || seqs[n-1] != int64(n) {
			t.Fatalf("postgres, %d entries: seq column %v", n, seqs)
		}
		if hashes := pargs[10].([]*string); len(hashes) != n || *hashes[n-1] != fmt.Sprint(n-1) {
			t.Fatalf("postgres, %d entries: hash column %v", n, hashes)
		}
		texts = append(texts, pq)
		lq, largs, err := lite.auditInsert(es, ats, ds)
		if err != nil || strings.Count(lq, "?") != 11*n || len(largs) != 11*n || largs[11*n-1] != fmt.Sprint(n-1) {
			t.Fatalf("sqlite, %d entries: %d placeholders, %d arguments", n, strings.Count(lq, "?"), len(largs))
		}
	}
	if texts[0] != texts[1] || texts[1] != texts[2] {
		t.Fatalf("the postgres chaining statement changes with the batch size:\n%s\n%s", texts[0], texts[2])
	}
}
