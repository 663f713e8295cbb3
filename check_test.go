package kycd

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheckSupersedes: a passed KYC refresh supersedes the user's other
// passed KYC checks not superseded yet; a failed refresh, a plain KYC check
// and another type supersede nothing.
func TestCheckSupersedes(t *testing.T) {
	mine := []*Check{
		{ID: "k1", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed},
		{ID: "k2", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed, SupersededBy: "k0"},
		{ID: "k3", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckFailed},
		{ID: "p1", TenantID: "t", UserID: "u", Type: CheckPOR, Status: CheckPassed},
		{ID: "k4", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPending},
		{ID: "x1", TenantID: "t", UserID: "other", Type: CheckKYC, Status: CheckPassed},
		{ID: "r", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed},
	}
	refresh := &Check{ID: "r", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed, Data: CheckData{KYCUpdate: true}}
	if got := refresh.Supersedes(mine); !slices.Equal(got, []string{"k1"}) {
		t.Errorf("a passed refresh supersedes %v, want [k1]", got)
	}
	for _, c := range []*Check{
		{ID: "r", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckFailed, Data: CheckData{KYCUpdate: true}},
		{ID: "r", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed},
		{ID: "r", TenantID: "t", UserID: "u", Type: CheckPOR, Status: CheckPassed, Data: CheckData{KYCUpdate: true}},
	} {
		if got := c.Supersedes(mine); got != nil {
			t.Errorf("%s %s refresh=%v supersedes %v", c.Type, c.Status, c.Data.KYCUpdate, got)
		}
	}
}

// TestCheckEventRendersLate: a check's event carries the check as the store
// leaves it (its decision time, set in the transaction), not as it was when
// the change was built, and the same bytes as the view itself.
func TestCheckEventRendersLate(t *testing.T) {
	c := &Check{ID: "c", TenantID: "t", UserID: "u", Type: CheckKYC, Status: CheckPassed, ConfirmedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	ev := CheckEvent(c, EventCheckPassed)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c.CreatedAt, c.DecidedAt = at, &at
	got, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(map[string]any{"check": c.View(false)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || !strings.Contains(string(got), "2026-03-04T05:06:07Z") {
		t.Errorf("payload %s, want %s", got, want)
	}
}
