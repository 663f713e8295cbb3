package main

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes a child kycd die with the test process, so that a test
// binary killed by its timeout leaves no kycd behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
