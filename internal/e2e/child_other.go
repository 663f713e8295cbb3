//go:build !linux

package e2e

import "os/exec"

// DieWithTest: only Linux can tie a child's life to its parent's.
func DieWithTest(*exec.Cmd) {}

// PeakRSS: only Linux says (the tests that need it skip elsewhere).
func PeakRSS(int) (peak, now uint64, ok bool) { return 0, 0, false }
