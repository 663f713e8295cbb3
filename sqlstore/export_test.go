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

// KYCRead is one read of FindUserKYC's, as LoadKYCAsOneGroup reads it.
type KYCRead struct {
	TenantID, UserID string
	User             *kycd.User
	Processes        map[string]*kycd.Process
	Err              error
}

// LoadKYCAsOneGroup reads the users' KYC state as one group of the grouped
// reads (PostgreSQL), as if all had been queued while another group ran.
func LoadKYCAsOneGroup(ctx context.Context, db *DB, reads []*KYCRead) {
	batch := make([]*queued[*kycLoad], len(reads))
	for i, r := range reads {
		batch[i] = &queued[*kycLoad]{ctx: ctx, c: &kycLoad{tenantID: r.TenantID, userID: r.UserID}}
	}
	db.runLoads(batch)
	for i, q := range batch {
		reads[i].User, reads[i].Processes, reads[i].Err = q.c.user, q.c.procs, q.err
	}
}
