package kycd

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
