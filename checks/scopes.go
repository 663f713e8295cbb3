package checks

import (
	"slices"

	"github.com/kycd/kycd"
)

// Scopes that record checks.
const (
	ScopeAdmin      = "checks:admin"
	ScopeCompliance = "checks:compliance"
)

// RecordScope is the scope that records checks of a type: compliance
// clearances are the compliance team's (checks:compliance), every other
// type is checks:admin's.
func RecordScope(typ string) string {
	if typ == kycd.CheckCompliance {
		return ScopeCompliance
	}
	return ScopeAdmin
}

// MayRecord reports whether a client holding scopes may record checks of a
// type or, when typ is "", of some type; when it may not, need is the scope
// it lacks (checks:admin when no type is named).
func MayRecord(scopes []string, typ string) (ok bool, need string) {
	if typ == "" {
		if slices.Contains(scopes, ScopeAdmin) || slices.Contains(scopes, ScopeCompliance) {
			return true, ""
		}
		return false, ScopeAdmin
	}
	need = RecordScope(typ)
	if slices.Contains(scopes, need) {
		return true, ""
	}
	return false, need
}
