package checks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
)

// TestEventRendersLate: a check's event carries the check as the store
// leaves it (its decision time, set in the transaction), not as it was when
// the change was built, and the same bytes as the view itself.
func TestEventRendersLate(t *testing.T) {
	c := &kycd.Check{ID: "c", TenantID: "t", UserID: "u", Type: kycd.CheckKYC, Status: kycd.CheckPassed, ConfirmedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	ev := Event(c, kycd.EventCheckPassed)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c.CreatedAt, c.DecidedAt = at, &at
	got, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(map[string]any{"check": NewView(c, false)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || !strings.Contains(string(got), "2026-03-04T05:06:07Z") {
		t.Errorf("payload %s, want %s", got, want)
	}
}
