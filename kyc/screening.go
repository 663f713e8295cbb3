package kyc

import (
	"context"
	"slices"

	"github.com/kycd/kycd"
)

// RecordScreening applies a change of a user's screening that fn computes
// from the user and the screening process as they are now (fn runs again
// when another change of the user won the race; a nil change means nothing
// to do). The process's status events follow as for every process.
func (s *Service) RecordScreening(ctx context.Context, ref kycd.UserRef, fn func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error)) error {
	u := &kycd.User{ID: ref.UserID, TenantID: ref.TenantID}
	_, _, err := s.applyWith(ctx, u, s.loadAny, func(st *state) (*change, error) {
		sc, err := fn(st.user, st.procs[kycd.ProcessScreening])
		if err != nil || sc == nil {
			return nil, err
		}
		p := st.editable(kycd.ProcessScreening)
		p.Status, p.Model, p.Output = sc.Status, kycd.ModelPlatform, sc.Output
		return &change{procs: []*kycd.Process{p}, kase: sc.Case, hits: sc.Hits, events: sc.Events, jobs: sc.Jobs, action: sc.Action, details: sc.Details}, nil
	})
	return err
}

// screeningJobs starts a screening of the user when a change alters what is
// screened: the name, birth date, citizenships, the nationalities a verified
// document proves, or type, or the identity (a verification gives the name
// on the document).
func (s *Service) screeningJobs(st *state, c *change) []kycd.JobArgs {
	if s.screeningOff || !s.policy.Applies(kycd.ProcessScreening, st.user) {
		return nil
	}
	screen := c.user != nil && !sameScreenedData(st.user, c.user)
	for _, p := range c.procs {
		if p.Code == kycd.ProcessIdentity && p.Status == kycd.StatusOK && st.procs[kycd.ProcessIdentity].Status != kycd.StatusOK {
			screen = true
		}
	}
	if !screen {
		return nil
	}
	// Until the screening runs, the user is unscreened (pending), unless a
	// case is open (running) or a match is confirmed (failed): those stay.
	if cur := st.procs[kycd.ProcessScreening]; cur.Status == kycd.StatusOK || cur.Status == kycd.StatusPending {
		p := st.editable(kycd.ProcessScreening)
		for _, q := range c.procs {
			if q.Code == kycd.ProcessScreening {
				p = q
			}
		}
		p.Status, p.Model, p.Output = kycd.StatusPending, kycd.ModelPlatform, nil
		c.put(p)
	}
	return []kycd.JobArgs{kycd.ScreenUserArgs{TenantID: st.user.TenantID, UserID: st.user.ID}}
}

// sameScreenedData reports whether two copies of a user agree on what
// screening looks at.
func sameScreenedData(a, b *kycd.User) bool {
	return a.Type == b.Type && a.FullName == b.FullName && a.Birthdate == b.Birthdate &&
		a.PrimaryCitizenship == b.PrimaryCitizenship && slices.Equal(a.OtherCitizenships, b.OtherCitizenships) &&
		slices.Equal(a.DocumentNationalities, b.DocumentNationalities)
}
