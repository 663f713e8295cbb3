package sqlstore

import (
	"context"

	"github.com/kycd/kycd"
)

// SaveStepsAsOneGroup saves changes that processAlone accepts as one group of
// the step group (PostgreSQL), as if they had all been queued while another
// group ran, and returns each change's outcome.
func SaveStepsAsOneGroup(ctx context.Context, db *DB, changes []*kycd.ProcessChange) ([]error, error) {
	batch := make([]*queued[*processStep], len(changes))
	for i, c := range changes {
		sealed, err := db.sealProcesses(ctx, c)
		if err != nil {
			return nil, err
		}
		batch[i] = &queued[*processStep]{ctx: ctx, c: &processStep{change: c, sealed: sealed[0]}}
	}
	db.saveSteps(batch)
	errs := make([]error, len(batch))
	for i, q := range batch {
		errs[i] = q.err
	}
	return errs, nil
}
