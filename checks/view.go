package checks

import (
	"time"

	"github.com/kycd/kycd"
)

// View is a check as the checks API shows it: Upvest's fields, plus kycd's
// (created_at, decided_at, failure_reasons, superseded_by,
// evidence_file_id, core_processes).
type View struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	Type        string `json:"type"`
	ConfirmedAt string `json:"check_confirmed_at"`
	kycd.CheckData
	Status         string             `json:"status"`
	FailureReasons []kycd.CheckReason `json:"failure_reasons,omitempty"`
	EvidenceFileID string             `json:"evidence_file_id,omitempty"`
	SupersededBy   string             `json:"superseded_by,omitempty"`
	// CoreProcesses is what the check came to in each Core KYC process.
	CoreProcesses map[string]*kycd.CheckEffect `json:"core_processes,omitempty"`
	CreatedAt     string                       `json:"created_at"`
	DecidedAt     string                       `json:"decided_at,omitempty"`
}

// NewView returns a check as the API shows it. Without personal data (for
// the outbox copy of events, which is not sealed; deliveries fill it back
// in) it keeps the ids, type, status, times and reasons.
func NewView(c *kycd.Check, personal bool) *View {
	v := &View{ID: c.ID, UserID: c.UserID, Type: c.Type, ConfirmedAt: c.ConfirmedAt.UTC().Format(time.RFC3339),
		Status: c.Status, FailureReasons: c.Reasons, EvidenceFileID: c.EvidenceFileID, SupersededBy: c.SupersededBy,
		CoreProcesses: c.Effects, CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339Nano)}
	if len(v.CoreProcesses) == 0 {
		v.CoreProcesses = nil
	}
	if personal {
		v.CheckData = c.Data
	}
	if c.DecidedAt != nil {
		v.DecidedAt = c.DecidedAt.UTC().Format(time.RFC3339Nano)
	}
	return v
}
