package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kycd/kycd"
)

// TestIngestBackoff: an ingestion waits 5s × 2ⁿ after its n-th failed
// attempt, at most ten minutes; Deps.IngestRetryBase replaces the 5s.
func TestIngestBackoff(t *testing.T) {
	for _, c := range []struct {
		base    time.Duration
		attempt int
		want    time.Duration
	}{
		{0, 1, 10 * time.Second}, {0, 2, 20 * time.Second}, {0, 6, 320 * time.Second}, {0, 7, 10 * time.Minute}, {0, 25, 10 * time.Minute},
		{50 * time.Millisecond, 1, 100 * time.Millisecond}, {50 * time.Millisecond, 3, 400 * time.Millisecond},
	} {
		w := &ingest{d: Deps{IngestRetryBase: c.base}}
		before := time.Now()
		at := w.NextRetry(&river.Job[kycd.IngestArgs]{JobRow: &rivertype.JobRow{Attempt: c.attempt}})
		if got := at.Sub(before); got < c.want || got > c.want+time.Second {
			t.Errorf("base %v, attempt %d: waits %v, want %v", c.base, c.attempt, got, c.want)
		}
	}
}
