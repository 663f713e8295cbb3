package kycd

import "time"

// FilePurgeArgs is the periodic job that removes pending files whose upload
// window ended long ago: reservations nobody will ever fill.
type FilePurgeArgs struct{}

// Kind implements river.JobArgs.
func (FilePurgeArgs) Kind() string { return "file_purge" }

// EventPruneArgs is the periodic job that removes events (and their
// deliveries) older than the retention period, once they are delivered or
// given up on.
type EventPruneArgs struct{}

// Kind implements river.JobArgs.
func (EventPruneArgs) Kind() string { return "event_prune" }

// UserEraseArgs is the periodic job that erases the users closed longer
// ago than the retention period.
type UserEraseArgs struct{}

// Kind implements river.JobArgs.
func (UserEraseArgs) Kind() string { return "user_erase" }

// Schedule is how long a failing job waits before each retry: the first
// wait follows the first failed attempt, and after the last there is none.
type Schedule []time.Duration

// Or returns s, or def when s is empty.
func (s Schedule) Or(def Schedule) Schedule {
	if len(s) == 0 {
		return def
	}
	return s
}

// Next is the wait after the attempt-th failed attempt (1 is the first);
// ok is false when no retry is left.
func (s Schedule) Next(attempt int) (wait time.Duration, ok bool) {
	if attempt < 1 || attempt > len(s) {
		return 0, false
	}
	return s[attempt-1], true
}
