package kycd

// FilePurgeArgs is the periodic job that removes pending files whose upload
// window ended long ago: reservations nobody will ever fill.
type FilePurgeArgs struct{}

// Kind implements river.JobArgs.
func (FilePurgeArgs) Kind() string { return "file_purge" }
