package kyc

import (
	"context"

	"github.com/kycd/kycd"
)

// expireBatch is how many expired results one sweep handles at most.
const expireBatch = 500

// ExpireProcesses finds verified results that expired (customer due
// diligence, self-categorization) and records their processes as pending,
// which announces the change (the work of the periodic ExpireArgs job).
// Reads already showed them pending; this records it and tells the partner.
// It returns how many it expired.
func (s *Service) ExpireProcesses(ctx context.Context) (int, error) {
	refs, err := s.store.FindExpiredProcesses(ctx, s.clock.Now(), expireBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		u := &kycd.User{ID: r.UserID, TenantID: r.TenantID}
		_, c, err := s.apply(ctx, u, func(st *state) (*change, error) {
			p := st.editable(r.Code)
			if p.Status != kycd.StatusOK || !expired(p.Output, st.now) {
				return nil, nil // renewed or changed meanwhile
			}
			p.Status = kycd.StatusPending
			c := &change{action: "kyc." + r.Code + ".expired",
				details: map[string]any{"expiresAt": p.Output["expiresAt"]}}
			c.put(p)
			return c, nil
		})
		if e, ok := kycd.AsError(err); ok && e.Code == kycd.ENotFound {
			continue // the user was deleted
		} else if err != nil {
			return n, err
		}
		if len(c.procs) > 0 {
			n++
		}
	}
	return n, nil
}

// ReopenProcess puts back to pending a process a provider verified
// (output.provider) and later rejected, with the reason in its output; it
// reports whether it changed anything.
func (s *Service) ReopenProcess(ctx context.Context, u *kycd.User, code, provider, reason string) (bool, error) {
	_, c, err := s.apply(ctx, u, func(st *state) (*change, error) {
		p := st.editable(code)
		if p.Status != kycd.StatusOK || p.Model != kycd.ModelPartner || p.Output["provider"] != provider {
			return nil, nil
		}
		p.Status = kycd.StatusPending
		p.Output = cloneMap(p.Output)
		// Uphold's vocabulary has the provider's rejection only for a
		// document submission; an electronic verification keeps no reason
		// (the audit trail records it either way).
		if p.Type == kycd.TypeDocumentSubmission {
			p.Output["reason"] = reason
		} else {
			delete(p.Output, "reason")
		}
		c := &change{action: "kyc." + code + ".reopened", details: map[string]any{"provider": provider, "reason": reason}}
		c.put(p)
		return c, nil
	})
	if err != nil {
		return false, err
	}
	return len(c.procs) > 0, nil
}
