package screening

import (
	"context"
	"slices"

	"github.com/kycd/kycd"
)

// BatchSize is how many users one re-screening job screens.
const BatchSize = 500

// StartRescreen starts the re-screening of a list version's delta: the
// cases of the listings it removed are closed (entry-removed) and every
// live user is screened against the listings it added or changed, in
// batches of BatchSize users, each its own job.
func (s *Service) StartRescreen(ctx context.Context, args kycd.ScreeningDeltaArgs) error {
	if s.off {
		return nil
	}
	kept, removed, err := s.delta(ctx, args.Source, args.Version)
	if err != nil {
		return err
	}
	changed := len(kept) > 0
	if _, err := s.Refresh(ctx); err != nil {
		return err
	}
	for ids := range slices.Chunk(removed, 500) {
		users, err := s.monitor.FindUsersWithHits(ctx, args.Source, ids, kycd.HitOpen)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := s.closeRemoved(ctx, u, args.Source, removed); err != nil && kycd.ErrorCode(err) != kycd.ENotFound {
				return err // a user closed meanwhile has nothing to close
			}
		}
	}
	// Users never screened (created before screening existed, or while it
	// was off) are screened whole: a delta alone would leave them pending.
	for after := (kycd.UserRef{}); ; {
		users, err := s.monitor.FindUnscreenedUsers(ctx, after, BatchSize)
		if err != nil || len(users) == 0 {
			if err != nil {
				return err
			}
			break
		}
		jobs := make([]kycd.JobArgs, len(users))
		for i, u := range users {
			jobs[i] = kycd.ScreenUserArgs{TenantID: u.TenantID, UserID: u.UserID}
		}
		if err := s.monitor.StartJobs(ctx, jobs); err != nil {
			return err
		}
		after = users[len(users)-1]
	}
	if !changed {
		return nil
	}
	// One job per batch of users; the batches are read here by their
	// bounds only, so starting them again (a retried job) starts the same
	// batches, which screen no user twice.
	var after kycd.UserRef
	var jobs []kycd.JobArgs
	for {
		users, err := s.monitor.FindLiveUsers(ctx, after, BatchSize)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			break
		}
		last := users[len(users)-1]
		jobs = append(jobs, kycd.ScreeningBatchArgs{Source: args.Source, Version: args.Version, AfterTenant: after.TenantID,
			AfterUser: after.UserID, UntilTenant: last.TenantID, UntilUser: last.UserID, Limit: BatchSize})
		after = last
		if len(jobs) == 100 {
			if err := s.monitor.StartJobs(ctx, jobs); err != nil {
				return err
			}
			jobs = jobs[:0]
		}
	}
	if len(jobs) > 0 {
		return s.monitor.StartJobs(ctx, jobs)
	}
	return nil
}

// RescreenBatch screens a batch of users against the listings a version
// added or changed (as they are now: a listing changed again since is
// screened as it is). Only users with a new possible match are written to.
func (s *Service) RescreenBatch(ctx context.Context, args kycd.ScreeningBatchArgs) error {
	if s.off {
		return nil
	}
	ids, _, err := s.delta(ctx, args.Source, args.Version)
	if err != nil {
		return err
	}
	if _, err := s.Refresh(ctx); err != nil {
		return err
	}
	c := s.current.Load()
	delta := &catalog{versions: c.versions, index: c.deltaIndex(args.Source, args.Version, ids), digests: c.digests}
	// The batch's users, read a page at a time with their data (users
	// never screened are left to their own whole screening, exempt ones
	// to their policy).
	until := kycd.UserRef{TenantID: args.UntilTenant, UserID: args.UntilUser}
	limit := max(args.Limit, 1)
	for after := (kycd.UserRef{TenantID: args.AfterTenant, UserID: args.AfterUser}); ; {
		users, err := s.monitor.FindScreenedUsers(ctx, after, until, limit)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := s.rescreen(ctx, delta, u, args); err != nil {
				return err
			}
		}
		if len(users) < limit {
			return nil
		}
		after = kycd.UserRef{TenantID: users[len(users)-1].TenantID, UserID: users[len(users)-1].ID}
	}
}

// rescreen screens one user against a delta; only a new possible match is
// written (a case opened or added to).
func (s *Service) rescreen(ctx context.Context, delta *catalog, u *kycd.User, args kycd.ScreeningBatchArgs) error {
	sub := subjectOf(u)
	if sub.Name == "" || !slices.ContainsFunc(delta.search(sub), func(m Match) bool { return m.Review }) {
		return nil // nothing in the delta resembles this user
	}
	ref := kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}
	err := s.kyc.RecordScreening(ctx, ref, func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error) {
		if p.Status == kycd.StatusExempt {
			return nil, nil
		}
		sc, err := s.screenSubject(ctx, delta, u, subjectOf(u))
		if err != nil || sc == nil || sc.Case == nil {
			return nil, err // nothing new to ask: leave the user as is
		}
		sc.Action, sc.Details["rescreen"] = "screening.rescreened", map[string]any{"source": args.Source, "version": args.Version}
		return sc, nil
	})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil // deleted meanwhile: nothing to screen
	}
	return err
}

// delta reads a version's delta: the ids of the listings it added or
// changed, and of those it removed.
func (s *Service) delta(ctx context.Context, source string, version int) (kept, removed []string, err error) {
	changes, err := s.lists.FindListChanges(ctx, source, version, kycd.ListChangeFilter{})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range changes {
		if c.Kind == kycd.ListRemoved {
			removed = append(removed, c.EntryID)
		} else {
			kept = append(kept, c.EntryID)
		}
	}
	return kept, removed, nil
}

// closeRemoved marks the delisted listings of a user's open case removed,
// and closes the case (entry-removed) when none of its listings is left;
// the screening process follows.
func (s *Service) closeRemoved(ctx context.Context, ref kycd.UserRef, source string, removed []string) error {
	return s.kyc.RecordScreening(ctx, ref, func(u *kycd.User, p *kycd.Process) (*kycd.ScreeningChange, error) {
		open, err := s.openCase(ctx, u)
		if err != nil || open == nil {
			return nil, err
		}
		known, err := s.cases.FindScreeningHits(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
		if err != nil {
			return nil, err
		}
		sc := &kycd.ScreeningChange{Case: open, Action: "screening.delisted",
			Details: map[string]any{"caseId": open.ID, "source": source}}
		left := 0
		for i := range open.Candidates {
			cand := &open.Candidates[i]
			if cand.Match.Source == source && slices.Contains(removed, cand.Match.EntryID) {
				cand.Removed = true
			}
			if !cand.Removed {
				left++
			}
		}
		after, changed := settleHits(known, kycd.HitRemoved, func(h kycd.ScreeningHit) bool {
			return h.Source == source && slices.Contains(removed, h.EntryID)
		})
		sc.Hits = changed
		if len(sc.Hits) == 0 {
			return nil, nil
		}
		now := s.clock.Now().UTC()
		actor := kycd.ActorFromContext(ctx).String()
		if left == 0 {
			open.Status, open.Outcome, open.Pending = kycd.CaseClosed, kycd.OutcomeEntryRemoved, nil
			open.History = append(open.History, kycd.CaseEntry{At: now, Action: "closed", Actor: actor, Outcome: kycd.OutcomeEntryRemoved})
			sc.Events = append(sc.Events, caseEvent(open, kycd.EventCaseClosed))
		} else {
			open.History = append(open.History, kycd.CaseEntry{At: now, Action: "candidates-removed", Actor: actor})
		}
		s.afterClose(sc, open, after, left > 0, now)
		return sc, nil
	})
}
