package kycd

import (
	"slices"
	"testing"
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
