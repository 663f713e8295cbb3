package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// DieWithTest makes a child kycd die with the test process, so that a test
// binary killed by its timeout leaves no kycd behind.
func DieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// PeakRSS returns a process's peak resident set size (VmHWM) and its
// current one (VmRSS), in bytes.
func PeakRSS(pid int) (peak, now uint64, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			peak = kb << 10
		case "VmRSS":
			now = kb << 10
		}
	}
	return peak, now, peak > 0
}
