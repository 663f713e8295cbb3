package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening"
)

// Screening is the screening service as its jobs use it.
type Screening interface {
	Screen(ctx context.Context, ref kycd.UserRef) error
	StartRescreen(ctx context.Context, args kycd.ScreeningDeltaArgs) error
	RescreenBatch(ctx context.Context, args kycd.ScreeningBatchArgs) error
	Download(ctx context.Context, source string) (*screening.ImportResult, error)
}

// screenUser screens a user against the current lists. While no list is
// loaded (an operator who has not imported one yet) it waits and tries
// again: the user stays unscreened, never screened as clear.
type screenUser struct {
	river.WorkerDefaults[kycd.ScreenUserArgs]
	d Deps
}

// noListsWait is how long a screening waits for a list to be imported.
const noListsWait = 30 * time.Second

func (w *screenUser) Timeout(*river.Job[kycd.ScreenUserArgs]) time.Duration {
	return w.d.timeout(time.Minute)
}

func (w *screenUser) Work(ctx context.Context, job *river.Job[kycd.ScreenUserArgs]) error {
	err := w.d.Screening.Screen(ctx, kycd.UserRef{TenantID: job.Args.TenantID, UserID: job.Args.UserID})
	switch {
	case errors.Is(err, screening.ErrNoLists):
		return river.JobSnooze(noListsWait)
	case kycd.ErrorCode(err) == kycd.ENotFound:
		return nil // the user was deleted meanwhile: nothing to screen
	}
	return err
}

// screeningDelta starts the re-screening of a list version's delta.
type screeningDelta struct {
	river.WorkerDefaults[kycd.ScreeningDeltaArgs]
	d Deps
}

func (w *screeningDelta) Timeout(*river.Job[kycd.ScreeningDeltaArgs]) time.Duration {
	return w.d.timeout(5 * time.Minute)
}

func (w *screeningDelta) Work(ctx context.Context, job *river.Job[kycd.ScreeningDeltaArgs]) error {
	return w.d.Screening.StartRescreen(ctx, job.Args)
}

// screeningBatch re-screens a batch of users against a delta.
type screeningBatch struct {
	river.WorkerDefaults[kycd.ScreeningBatchArgs]
	d Deps
}

func (w *screeningBatch) Timeout(*river.Job[kycd.ScreeningBatchArgs]) time.Duration {
	return w.d.timeout(5 * time.Minute)
}

func (w *screeningBatch) Work(ctx context.Context, job *river.Job[kycd.ScreeningBatchArgs]) error {
	return w.d.Screening.RescreenBatch(ctx, job.Args)
}

// screeningDownload downloads and imports a configured list; a failure is
// retried with River's backoff, the current version staying meanwhile.
type screeningDownload struct {
	river.WorkerDefaults[kycd.ScreeningDownloadArgs]
	d Deps
}

func (w *screeningDownload) Timeout(*river.Job[kycd.ScreeningDownloadArgs]) time.Duration {
	return w.d.timeout(10 * time.Minute)
}

func (w *screeningDownload) Work(ctx context.Context, job *river.Job[kycd.ScreeningDownloadArgs]) error {
	if _, err := w.d.Screening.Download(ctx, job.Args.Source); err != nil {
		w.d.Logger.LogAttrs(ctx, slog.LevelError, "screening list download failed; the current version stays",
			slog.String("source", job.Args.Source), slog.Int("attempt", job.Attempt), slog.String("error", err.Error()))
		return err
	}
	return nil
}

// DownloadEvery is how often configured screening lists are downloaded.
const DownloadEvery = 24 * time.Hour

// ScreeningDownloads schedules the download of each configured list daily
// and at start, once per day however many workers schedule it.
func ScreeningDownloads(sources []string) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, s := range sources {
		args := kycd.ScreeningDownloadArgs{Source: s}
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(DownloadEvery), func() (river.JobArgs, *river.InsertOpts) {
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: DownloadEvery}}
		}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	return out
}
