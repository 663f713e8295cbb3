//go:build !linux

package bench

// machineTicks is not measured here: the bench reports no machine load.
func machineTicks() (busy, total int64, ok bool) { return 0, 0, false }
