package checks

import (
	"testing"

	"github.com/kycd/kycd"
)

func TestMayRecord(t *testing.T) {
	cases := []struct {
		scopes []string
		typ    string
		ok     bool
		need   string
	}{
		{nil, "", false, ScopeAdmin},
		{[]string{"checks:read"}, "", false, ScopeAdmin},
		{[]string{ScopeCompliance}, "", true, ""},
		{[]string{ScopeAdmin}, "", true, ""},
		{[]string{ScopeAdmin}, kycd.CheckKYC, true, ""},
		{[]string{ScopeAdmin}, kycd.CheckCompliance, false, ScopeCompliance},
		{[]string{ScopeCompliance}, kycd.CheckCompliance, true, ""},
		{[]string{ScopeCompliance}, kycd.CheckPOR, false, ScopeAdmin},
	}
	for _, c := range cases {
		ok, need := MayRecord(c.scopes, c.typ)
		if ok != c.ok || need != c.need {
			t.Errorf("MayRecord(%v, %q) = %v, %q; want %v, %q", c.scopes, c.typ, ok, need, c.ok, c.need)
		}
	}
}
