package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening"
)

// Screening is the screening service as its jobs use it.
type Screening interface {
	Screen(ctx context.Context, ref kycd.UserRef) error
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
	ctx = kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "system", ID: job.Kind})
	err := w.d.Screening.Screen(ctx, kycd.UserRef{TenantID: job.Args.TenantID, UserID: job.Args.UserID})
	switch {
	case errors.Is(err, screening.ErrNoLists):
		return river.JobSnooze(noListsWait)
	case kycd.ErrorCode(err) == kycd.ENotFound:
		return nil // the user was deleted meanwhile: nothing to screen
	}
	return err
}
