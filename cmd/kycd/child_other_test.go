//go:build !linux

package main

import "os/exec"

// dieWithTest: only Linux can tie a child's life to its parent's.
func dieWithTest(*exec.Cmd) {}

// peakRSS: only Linux says (the tests that need it skip elsewhere).
func peakRSS(int) (peak, now uint64, ok bool) { return 0, 0, false }
